// The panel on a phone (390 × 844, an iPhone's viewport): the header and the navigation
// leave at least four fifths of the screen to the page on the dashboard, the orders, an
// order and a ticket; nothing runs off the side of the screen; every control in the
// header is reachable and labelled; accessibility on each page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openShop, hydrated, accessibilityProblems, watchProblems } from '../support.mjs';

const PHONE = { width: 390, height: 844 };
let shop, browser, close, problems, phone;
const pages = {};

before(async () => {
  ({ shop, browser, problems, close } = await openShop({ orders: 30 }));
  const [[id, number, email]] = shop.sql(
    "SELECT id, number, billing_email FROM orders WHERE billing_email <> '' ORDER BY id LIMIT 1");
  const response = await fetch(`${shop.base}/api/v1/support/tickets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ order_number: number, email, subject: 'Kargom nerede?', message: 'Siparişim gelmedi.', website: '' }),
  });
  assert.equal(response.status, 201);
  const [[ticket]] = shop.sql('SELECT id FROM tickets ORDER BY id DESC LIMIT 1');
  Object.assign(pages, { dashboard: '/admin', orders: '/admin/orders', 'an order': `/admin/orders/${id}`, 'a ticket': `/admin/support/${ticket}` });
  const context = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  phone = await context.newPage();
  watchProblems(phone, problems);
  await phone.goto(`${shop.base}/admin/login`);
  await hydrated(phone);
  await phone.getByLabel('Email').fill(shop.owner.email);
  await phone.getByLabel('Password').fill(shop.owner.password);
  await phone.getByRole('button', { name: 'Sign in' }).click();
  await phone.waitForURL(`${shop.base}/admin`);
});
after(async () => { await close?.(); });

/// How much of the screen's height the header and the navigation take, and how wide the
/// page is laid out (wider than the screen means sideways scrolling).
const frame = () => phone.evaluate(() => {
  const bottom = (selector) => document.querySelector(selector).getBoundingClientRect().bottom;
  return {
    chrome: Math.max(bottom('header.topbar'), bottom('nav[aria-label="Areas"]')),
    width: document.documentElement.scrollWidth,
  };
});

test('the header and navigation take at most a fifth of a phone screen', async () => {
  for (const [name, path] of Object.entries(pages)) {
    await phone.goto(`${shop.base}${path}`);
    await hydrated(phone);
    const { chrome, width } = await frame();
    assert.ok(chrome <= PHONE.height / 5, `${name}: the header and navigation end ${chrome} px down, over ${PHONE.height / 5}`);
    assert.ok(width <= PHONE.width, `${name}: the page is ${width} px wide on a ${PHONE.width} px screen`);
    assert.deepEqual(await accessibilityProblems(phone), [], name);
  }
  assert.deepEqual(problems, []);
});

test("the header's controls stay visible and labelled on a phone", async () => {
  await phone.goto(`${shop.base}/admin`);
  await hydrated(phone);
  for (const name of ['Dark theme', 'Sign out', 'Sign out everywhere']) {
    const button = phone.getByRole('button', { name, exact: true });
    assert.ok(await button.isVisible(), `${name} is on the screen`);
    const box = await button.boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `${name} fits across the screen`);
  }
  // Every area is in the navigation, reached by scrolling it sideways or with Tab.
  const areas = phone.locator('nav[aria-label="Areas"] a');
  assert.ok(await areas.count() >= 9);
  await areas.last().focus();
  assert.ok(await areas.last().isVisible(), 'the last area scrolls into view when it has the focus');
});
