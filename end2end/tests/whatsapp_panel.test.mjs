// The WhatsApp pages end to end against the stand-in Graph API (graph_mock.mjs): an owner
// walks the setup wizard — the account saved without its secrets coming back, the webhook
// to paste at Meta with copy buttons, live checks before and after Meta verifies the
// webhook, templates fetched and mapped with exactly their parameters, a test send that
// reaches Meta as sent — then sets up recovery and the click-to-chat widget (previewed
// before saving), sees the widget on a storefront page of its own, and a cart captured at
// that storefront in the carts, the messages and the dashboard. Then, at the WooCommerce
// stand-in's storefront (woo_mock.mjs), shoppers at the classic and at the block checkout
// tick the consent box the snippet adds and their carts are captured from the Store API;
// their recovery links put the carts back in a new browser and go on to the checkout, and
// a cart whose products are gone leaves a clear message on the shop. Accessibility on each
// page; no hydration errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { openShop, hydrated, accessibilityProblems, startGraph, startWooStore, waitFor } from '../support.mjs';

let shop, page, browser, problems, close, graph, storefront, store;
const phone = '+90 532 123 45 67';
const widget = { phone: '90 555 000 00 00', text: 'Merhaba, bir sorum var', label: 'Ask us on WhatsApp' };

/// A shop page of its own, on another origin, with the widget's snippet as the panel gives it.
function startStorefront(backroom) {
  const html = `<!DOCTYPE html>
<html lang="tr">
<head><meta charset="utf-8"><title>Örnek Mağaza</title></head>
<body>
  <header><a href="/">Örnek Mağaza</a> <a href="/cart">Sepet</a></header>
  <main><h1>Bahçe mobilyaları</h1><p>Teak bank, 249,90 ₺.</p></main>
  <script src="${backroom}/whatsapp-widget.js" data-backroom="${backroom}" async></script>
</body>
</html>`;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      origin: `http://127.0.0.1:${server.address().port}`,
      stop: () => new Promise((done) => server.close(done)),
    }));
  });
}

before(async () => {
  graph = await startGraph();
  ({ shop, page, browser, problems, close } = await openShop({ orders: 10, env: { BACKROOM_WHATSAPP_SHORT_DELAYS: 'true' } }));
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: shop.base });
  storefront = await startStorefront(shop.base);
});
after(async () => {
  await close?.();
  await graph?.stop();
  await storefront?.stop();
  await store?.stop();
});

const open = async (path) => {
  await page.goto(`${shop.base}${path}`);
  await hydrated(page);
};
const section = (heading) => page.locator(`section[aria-labelledby="${heading}"]`);
const verifyToken = () => shop.sql('SELECT verify_token FROM whatsapp_settings')[0][0];

test('the wizard saves the account, keeps its secrets out of sight and shows the webhook to paste at Meta', async () => {
  await open('/admin/whatsapp');
  assert.deepEqual(await accessibilityProblems(page), []);
  // What Meta charges is said as it is: per delivered template, no free allowance.
  const pricing = await page.locator('#whatsapp-pricing').innerText();
  assert.match(pricing, /charges per delivered template message/);
  assert.match(pricing, /Cart reminders are marketing messages/);
  assert.doesNotMatch(await page.locator('main').innerText(), /1,000 free conversations/);
  const account = section('step-credentials');
  assert.equal(await account.getByLabel('Graph API version').inputValue(), 'v23.0');
  await account.getByLabel('Phone Number ID').fill(graph.phoneNumberId);
  await account.getByLabel('WhatsApp Business Account ID').fill(graph.wabaId);
  await account.getByLabel('Access token').fill(graph.token);
  await account.getByLabel('App secret').fill('e2e-app-secret');
  await account.getByText('Advanced').click();
  assert.equal(await account.getByLabel('Graph API base URL').inputValue(), 'https://graph.facebook.com');
  await account.getByLabel('Graph API base URL').fill(graph.base);
  await account.getByRole('button', { name: 'Save the account' }).click();
  await account.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal(await account.getByText('Saved — leave empty to keep it.').count(), 2);
  assert.equal(await account.getByLabel('Access token').inputValue(), '', 'a saved token leaves the field');
  await page.reload();
  await hydrated(page);
  assert.equal(await section('step-credentials').getByLabel('Phone Number ID').inputValue(), graph.phoneNumberId);
  assert.equal((await page.content()).includes(graph.token), false, 'the token is never sent to the browser');
  assert.equal((await page.content()).includes('e2e-app-secret'), false, 'nor the app secret');

  const webhook = section('step-webhook');
  assert.equal(await webhook.getByLabel('Callback URL').inputValue(), `${shop.base}/webhooks/whatsapp`);
  assert.equal(await webhook.getByLabel('Verify token').inputValue(), verifyToken());
  assert.match(verifyToken(), /^[0-9a-f]{32}$/);
  await webhook.getByRole('button', { name: 'Copy the callback URL' }).click();
  await webhook.getByRole('button', { name: 'Copied the callback URL' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${shop.base}/webhooks/whatsapp`);
  await webhook.getByRole('button', { name: 'Copy the verify token' }).click();
  await webhook.getByRole('button', { name: 'Copied the verify token' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), verifyToken());
  assert.match(await webhook.getByTestId('webhook-state').innerText(), /Not verified/);
});

test('the live checks find the token and the number, and the webhook once Meta has verified it', async () => {
  await open('/admin/whatsapp');
  const checks = section('step-checks');
  await checks.getByRole('button', { name: 'Run live checks' }).click();
  const results = checks.getByTestId('checks');
  await results.getByText('Meta accepted the access token.').waitFor();
  const first = await results.innerText();
  assert.match(first, /OK\s+phone number: \+90 555 000 00 00 \(Backroom Demo Shop\) is in this account\./);
  assert.match(first, /OK\s+app secret/);
  assert.match(first, /Problem\s+webhook: The webhook is not verified yet/);

  const verification = await fetch(`${shop.base}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${verifyToken()}&hub.challenge=123`);
  assert.equal(verification.status, 200);
  assert.equal(await verification.text(), '123');

  await checks.getByRole('button', { name: 'Run live checks' }).click();
  await results.getByText('Meta verified the webhook.').waitFor();
  assert.doesNotMatch(await results.innerText(), /Problem/);
  await section('step-webhook').getByTestId('webhook-state').getByText('Meta verified the webhook on').waitFor();
});

test('templates come from Meta, and each message gets exactly as many parameters as its template has', async () => {
  await open('/admin/whatsapp');
  const templates = section('step-templates');
  await templates.getByRole('button', { name: 'Refresh from Meta' }).click();
  await templates.getByText('8 templates fetched from Meta.').waitFor();
  const rejected = templates.getByRole('row').filter({ hasText: 'old_promo' });
  assert.match(await rejected.innerText(), /rejected/);

  const processing = templates.getByRole('group', { name: 'Order is processing' });
  const template = processing.getByLabel('Template');
  const offered = await template.locator('option').allInnerTexts();
  assert.ok(offered.includes('order_processing (tr)') && offered.includes('— none —'));
  assert.equal(offered.some((o) => o.startsWith('old_promo')), false, 'only approved templates are offered');
  const parameters = processing.getByRole('combobox', { name: /^Parameter/ });
  assert.equal(await parameters.count(), 0, 'no template, no parameters');
  await template.selectOption({ label: 'order_completed (tr)' });
  await waitFor('three parameters', async () => (await parameters.count()) === 3);
  await template.selectOption({ label: 'order_processing (tr)' });
  await waitFor('two parameters', async () => (await parameters.count()) === 2);
  const fields = await processing.getByLabel('Parameter {{1}}').locator('option').allInnerTexts();
  assert.ok(fields.includes('Order number') && !fields.includes('Cart total'), `an order message offers order fields: ${fields}`);
  await processing.getByLabel('Parameter {{1}}').selectOption({ label: 'First name' });
  await processing.getByLabel('Parameter {{2}}').selectOption({ label: 'Order number' });

  // A recovery message needs the link button an order template does not have: refused, said.
  const first = templates.getByRole('group', { name: 'Cart recovery, first message' });
  await first.getByLabel('Template').selectOption({ label: 'order_processing (tr)' });
  await templates.getByRole('button', { name: 'Save the mapping' }).click();
  await templates.getByRole('alert').filter({ hasText: 'needs a link button' }).waitFor();
  await first.getByLabel('Template').selectOption({ label: 'cart_reminder_1 (tr)' });
  await first.getByLabel('Parameter {{2}}').selectOption({ label: 'Cart total' });
  await templates.getByRole('button', { name: 'Save the mapping' }).click();
  await templates.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  const mapping = JSON.parse(shop.sql('SELECT config FROM whatsapp_settings')[0][0]).mapping;
  assert.deepEqual(mapping.map((m) => [m.template, m.language, m.parameters]), [
    ['cart_reminder_1', 'tr', ['first_name', 'cart_total']],
    ['order_processing', 'tr', ['first_name', 'order_number']],
  ]);

  // The form cannot send a wrong count; a request that does is refused with the reason.
  const forged = await page.evaluate(async () => {
    const answer = await fetch('/api/save_whatsapp_mapping', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mapping: [{ purpose: 'order_processing', template: 'order_processing', language: 'tr', parameters: ['first_name'] }] }),
    });
    return { status: answer.status, body: await answer.text() };
  });
  assert.equal(forged.status, 400);
  assert.match(forged.body, /has 2 parameter\(s\) and 1 were mapped/);

  await page.reload();
  await hydrated(page);
  const reloaded = section('step-templates').getByRole('group', { name: 'Order is processing' });
  assert.equal(await reloaded.getByRole('combobox', { name: /^Parameter/ }).count(), 2);
  assert.equal(await reloaded.getByLabel('Parameter {{2}}').inputValue(), 'order_number');
  assert.deepEqual(await accessibilityProblems(page), []);
});

test('a test send reaches Meta with the template, its language and its three values', async () => {
  await open('/admin/whatsapp');
  const test = section('step-test');
  await test.getByLabel('Send to (phone)').fill(phone);
  await test.getByLabel('Template').selectOption({ label: 'order_completed (tr)' });
  await test.getByLabel('Value of {{1}}').fill('1042');
  await test.getByLabel('Value of {{2}}').fill('249,90 ₺');
  await test.getByLabel('Value of {{3}}').fill('Ayşe');
  await test.getByRole('button', { name: 'Send test' }).click();
  const answer = test.getByTestId('test-send');
  await answer.getByText("Sent — Meta's id: wamid.").waitFor();
  const { messages } = await graph.state();
  assert.equal(messages.length, 1);
  const [sent] = messages;
  assert.equal((await answer.innerText()).trim(), `Sent — Meta's id: ${sent.wamid}`);
  assert.equal(sent.body.to, '905321234567');
  assert.equal(sent.body.type, 'template');
  assert.equal(sent.body.template.name, 'order_completed');
  assert.deepEqual(sent.body.template.language, { code: 'tr' });
  assert.deepEqual(sent.body.template.components, [
    { type: 'body', parameters: [{ type: 'text', text: '1042' }, { type: 'text', text: '249,90 ₺' }, { type: 'text', text: 'Ayşe' }] },
  ]);

  await test.getByLabel('Template').selectOption({ label: 'hello_world (en_US)' });
  await test.getByLabel('Send to (phone)').fill('call me');
  await test.getByRole('button', { name: 'Send test' }).click();
  await answer.getByText('“call me” is not a phone number').waitFor();
});

test('recovery and the widget are set up, the widget previewed before it is saved', async () => {
  await open('/admin/whatsapp/settings');
  assert.deepEqual(await accessibilityProblems(page), []);
  await page.getByLabel('Send recovery messages for abandoned carts').check();
  await page.getByLabel("First message, minutes after the shopper's last change").fill('0');
  await page.getByLabel('From', { exact: true }).fill('00:00');
  await page.getByLabel('Until', { exact: true }).fill('00:00');
  await page.getByLabel("The shop's origins").fill(storefront.origin);

  const snippet = `<script src="${shop.base}/whatsapp-capture.js" data-backroom="${shop.base}" async></script>`;
  assert.equal(await page.getByLabel('Checkout snippet').inputValue(), snippet);
  await page.getByRole('button', { name: 'Copy the checkout snippet' }).click();
  await page.getByRole('button', { name: 'Copied the checkout snippet' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), snippet);

  const preview = page.getByTestId('widget-preview');
  await page.getByLabel('Show the WhatsApp button on the shop').check();
  await page.getByLabel('Phone shoppers write to').fill(widget.phone);
  await page.getByLabel('Prefilled message').fill(widget.text);
  await page.getByLabel('Button label').fill(widget.label);
  const drawn = preview.getByRole('link', { name: widget.label });
  await drawn.waitFor();
  assert.equal(await drawn.getAttribute('href'), `https://wa.me/905550000000?text=${encodeURIComponent(widget.text)}`);
  await page.getByLabel('Bottom left').check();
  await page.getByLabel('Show a message instead').check();
  await page.getByLabel('The message outside the hours').fill('We answer from 09:00 on weekdays.');
  await page.getByLabel('As outside the opening hours').check();
  await preview.getByRole('button', { name: widget.label }).waitFor();
  await page.getByLabel('As outside the opening hours').uncheck();
  await drawn.waitFor();
  assert.equal(JSON.parse(shop.sql('SELECT config FROM whatsapp_settings')[0][0]).widget?.enabled ?? false, false, 'a preview saves nothing');

  await page.getByLabel('Monday').fill('9 to 6');
  await page.getByRole('button', { name: 'Save WhatsApp settings' }).click();
  await page.getByRole('alert').filter({ hasText: '“9 to 6” is not opening hours such as 09:00-18:00' }).waitFor();
  await page.getByLabel('Monday').fill('');
  await page.getByRole('button', { name: 'Save WhatsApp settings' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  const config = JSON.parse(shop.sql('SELECT config FROM whatsapp_settings')[0][0]);
  assert.deepEqual(config.widget.enabled, true);
  assert.equal(config.widget.phone, '905550000000');
  assert.equal(config.widget.position, 'left');
  assert.deepEqual(config.shop_origins, [storefront.origin]);
  assert.equal(config.recovery.first_delay_minutes, 0);
  assert.equal(config.mapping.length, 2, 'the mapping stays as the wizard saved it');

  const widgetSnippet = `<script src="${shop.base}/whatsapp-widget.js" data-backroom="${shop.base}" async></script>`;
  assert.equal(await page.getByLabel('Widget snippet').inputValue(), widgetSnippet);
  await page.reload();
  await hydrated(page);
  assert.equal(await page.getByLabel('Button label').inputValue(), widget.label);
  await preview.getByRole('link', { name: widget.label }).waitFor();
});

test("the widget is on the shop's page, reachable with the keyboard, with its label", async () => {
  const shopper = await (await browser.newContext()).newPage();
  await shopper.goto(`${storefront.origin}/`);
  const link = shopper.getByRole('link', { name: widget.label });
  await link.waitFor();
  assert.equal(await link.isVisible(), true);
  assert.equal(await link.getAttribute('href'), `https://wa.me/905550000000?text=${encodeURIComponent(widget.text)}`);
  assert.equal((await link.innerText()).trim(), widget.label);
  let focused = false;
  for (let i = 0; i < 6 && !focused; i++) {
    await shopper.keyboard.press('Tab');
    focused = await link.evaluate((a) => a.getRootNode().activeElement === a);
  }
  assert.equal(focused, true, 'Tab reaches the WhatsApp link');
  assert.deepEqual(await accessibilityProblems(shopper), []);
  await shopper.close();
});

test('a cart captured at the shop is messaged, and shows in the carts, the messages and the dashboard', async () => {
  const capture = await fetch(`${shop.base}/api/v1/carts/capture`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: storefront.origin },
    body: JSON.stringify({
      phone: '0532 765 43 21',
      name: 'Ayşe Yılmaz',
      email: 'ayse@example.com',
      consent: true,
      lines: [{ name: 'Teak bank', quantity: 1, price_minor: 24990 }],
      total_minor: 24990,
      currency: 'TRY',
      restore_url: `${storefront.origin}/cart?restore=1`,
    }),
  });
  assert.equal(capture.status, 200, await capture.text());
  await waitFor('the first recovery message', async () => (await graph.state()).messages.some((m) => m.template === 'cart_reminder_1'));
  await waitFor('the cart records it', () => shop.sql("SELECT steps_sent FROM whatsapp_carts WHERE phone = '+905327654321'")[0]?.[0] === 1);

  await open('/admin/whatsapp/carts');
  assert.deepEqual(await accessibilityProblems(page), []);
  const row = page.getByRole('row').filter({ hasText: '+905327654321' });
  assert.match(await row.innerText(), /Ayşe Yılmaz/);
  assert.match(await row.innerText(), /Open/);
  await page.getByLabel('State').selectOption({ label: 'Recovered' });
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/state=recovered/);
  await page.getByText('No carts match this filter.').waitFor();
  await page.getByRole('link', { name: 'Clear filters' }).click();
  await row.getByRole('link', { name: /^Cart \d+$/ }).click();
  await page.getByRole('heading', { level: 1, name: /^Cart \d+$/ }).waitFor();
  await hydrated(page);
  const timeline = section('timeline-heading');
  await timeline.getByText('message 1 sent').waitFor();
  assert.match(await timeline.innerText(), /captured/);
  assert.match(await section('lines-heading').innerText(), /Teak bank/);
  assert.deepEqual(await accessibilityProblems(page), []);

  await open('/admin/whatsapp/messages');
  assert.deepEqual(await accessibilityProblems(page), []);
  const log = await page.locator('table').innerText();
  assert.match(log, /Cart recovery, first message/);
  assert.match(log, /Test send/);
  assert.match(log, /order_completed/);
  await open('/admin/whatsapp/messages?state=failed');
  await page.getByText('No messages match this filter.').waitFor();
  const csv = await page.evaluate(async () => (await fetch('/admin/whatsapp/messages.csv')).text());
  assert.match(csv, /\+905321234567/);

  await open('/admin/whatsapp/recovery?period=7d');
  assert.deepEqual(await accessibilityProblems(page), []);
  assert.equal(await page.getByTestId('figure-captured').innerText(), '1');
  assert.equal(await page.getByTestId('figure-messaged').innerText(), '1');
  assert.equal(await page.getByTestId('figure-conversion').innerText(), '0.0%');
  assert.match(await section('steps-heading').innerText(), /First\s+1/);
  await page.getByRole('link', { name: 'This month' }).click();
  await page.waitForURL(/period=month/);
  assert.equal(await page.getByRole('link', { name: 'This month' }).getAttribute('aria-current'), 'page');
  assert.deepEqual(problems, []);
});

/// The token in the link button of the first recovery message to `to` (digits).
async function recoveryToken(to) {
  let message;
  await waitFor(`the first recovery message to ${to}`, async () => {
    message = (await graph.state()).messages.find((m) => m.to === to && m.template === 'cart_reminder_1');
    return Boolean(message);
  });
  return message.body.template.components.find((c) => c.type === 'button').parameters[0].text;
}

const shoppers = {
  classic: { phone: '0532 111 22 33', digits: '905321112233', email: 'elif@example.com' },
  block: { phone: '0532 444 55 66', digits: '905324445566', email: 'can@example.com' },
};
const products = ['Yün Atkı', 'Seramik Kupa – El Yapımı'];

test("at the store's classic and block checkout the snippet adds its consent box and captures the cart from the Store API", async () => {
  store = await startWooStore({ orders: 0 });
  await store.control('config', { storefront_backroom: shop.base });
  await open('/admin/whatsapp/settings');
  await page.getByLabel("The shop's origins (one a line)").fill(`${storefront.origin}\n${store.base}`);
  await page.getByRole('button', { name: 'Save WhatsApp settings' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

  for (const [kind, who] of Object.entries(shoppers)) {
    await store.control('config', { checkout: kind });
    const shopper = await (await browser.newContext()).newPage();
    await shopper.goto(`${store.base}/`);
    for (const [n, name] of products.entries()) {
      await shopper.getByRole('button', { name: `Sepete ekle: ${name}` }).click();
      await shopper.getByText(`Sepete eklendi (${n + 1})`).waitFor();
    }
    await shopper.goto(`${store.base}/checkout/`);
    const consent = shopper.getByLabel('Remind me of my cart on WhatsApp');
    await consent.waitFor();
    await shopper.getByLabel('Ad', { exact: true }).fill('Elif');
    await shopper.getByLabel('Soyad').fill('Şahin');
    await shopper.getByLabel('E-posta adresi').fill(who.email);
    await shopper.getByLabel('Telefon').fill(who.phone);
    // The box the snippet added comes next with the keyboard, and nothing left before it was ticked.
    await shopper.keyboard.press('Tab');
    assert.equal(await consent.evaluate((box) => document.activeElement === box), true, `${kind}: Tab reaches the consent box`);
    await shopper.waitForTimeout(1200);
    assert.equal(shop.sql(`SELECT COUNT(*) FROM whatsapp_carts WHERE phone = '+${who.digits}'`)[0][0], 0, `${kind}: nothing before consent`);
    await shopper.keyboard.press('Space');
    await waitFor(`the ${kind} checkout's cart in Backroom`, () => shop.sql(`SELECT COUNT(*) FROM whatsapp_carts WHERE phone = '+${who.digits}'`)[0][0] === 1);
    const [[lines, total, restore]] = shop.sql(`SELECT lines, total_minor, restore_url FROM whatsapp_carts WHERE phone = '+${who.digits}'`);
    const captured = JSON.parse(lines);
    assert.deepEqual(captured.map((l) => [l.name, l.quantity]), products.map((name) => [name, 1]), kind);
    assert.ok(captured.every((l) => l.product_id > 0 && l.price_minor > 0), lines);
    assert.equal(total, captured.reduce((sum, l) => sum + l.price_minor, 0));
    assert.equal(restore, `${store.base}/checkout/`);
    await shopper.context().close();
  }
});

test('a recovery link puts the cart back at the store and goes on to its checkout; products gone are said on the shop', async () => {
  // The block checkout's shopper, in a new browser with an empty cart.
  const token = await recoveryToken(shoppers.block.digits);
  let shopper = await (await browser.newContext()).newPage();
  await shopper.goto(`${shop.base}/r/${token}`);
  await shopper.waitForURL(`${store.base}/checkout/`);
  const summary = shopper.locator('.wc-block-components-order-summary');
  for (const name of products) await summary.getByText(`${name} × 1`).waitFor();
  await shopper.getByLabel('Remind me of my cart on WhatsApp').waitFor();
  // Following the link again puts nothing in twice.
  await shopper.goto(`${shop.base}/r/${token}`);
  await shopper.waitForURL(`${store.base}/checkout/`);
  await summary.getByText(`${products[1]} × 1`).waitFor();
  assert.equal(await summary.getByText(`${products[0]} × 2`).count(), 0);
  await shopper.context().close();

  // The classic checkout's shopper; one of the products has sold out meanwhile.
  await store.control('config', { checkout: 'classic' });
  const soldOut = JSON.parse(shop.sql(`SELECT lines FROM whatsapp_carts WHERE phone = '+${shoppers.classic.digits}'`)[0][0])[0];
  await store.control(`products/${soldOut.product_id}`, { stock_quantity: 0 });
  const classic = await recoveryToken(shoppers.classic.digits);
  // Her cart has a recovery coupon, made in the store for her e-mail alone.
  const coupon = await store.control('coupons', {
    code: 'geri-gel-e2e', discount_type: 'percent', amount: '10', usage_limit: 1, email_restrictions: [shoppers.classic.email],
  });
  shop.sql(`UPDATE whatsapp_carts SET coupon_code = 'GERI-GEL-E2E', coupon_percent = 10, coupon_woo_id = ${coupon.id}, coupon_expires_at = ${Math.floor(Date.now() / 1000) + 86400} WHERE phone = '+${shoppers.classic.digits}'`);
  shopper = await (await browser.newContext()).newPage();
  await shopper.goto(`${shop.base}/r/${classic}`);
  await shopper.waitForURL(`${store.base}/checkout/`);
  const review = shopper.locator('#order_review');
  await review.getByText(products[1]).waitFor();
  assert.equal(await review.getByText(products[0]).count(), 0);
  // The checkout knows her e-mail, so the coupon kept for it is applied.
  await review.getByText('Kupon: geri-gel-e2e').waitFor();
  assert.equal(await shopper.getByLabel('E-posta adresi').inputValue(), shoppers.classic.email);
  const missing = shopper.getByRole('status').filter({ hasText: 'Some products of your saved cart are no longer available' });
  await missing.waitFor();
  assert.match(await missing.innerText(), new RegExp(products[0]));
  await shopper.context().close();

  // Both gone: the shopper stays on the shop, told so.
  const [[rest]] = shop.sql(`SELECT lines FROM whatsapp_carts WHERE phone = '+${shoppers.classic.digits}'`);
  await store.control(`products/${JSON.parse(rest)[1].product_id}`, { stock_quantity: 0 });
  shopper = await (await browser.newContext()).newPage();
  await shopper.goto(`${shop.base}/r/${classic}`);
  await shopper.getByRole('status').filter({ hasText: 'Sorry, the products in your saved cart are no longer available.' }).waitFor();
  assert.equal(new URL(shopper.url()).pathname, '/');
  assert.equal(new URL(shopper.url()).hash, '', 'the token leaves the address bar');
  await shopper.context().close();
  assert.deepEqual(problems, []);
});
