// The panel in a real browser: first run with demo data, the dashboard's figures,
// hydration, sign-out, a wrong password, sign-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, watchProblems, accessibilityProblems as axeProblems, hydrated as hydratedPage } from '../support.mjs';

const BASE = process.env.BACKROOM_URL ?? 'http://127.0.0.1:3000';
const OWNER = { name: 'Ayşe Yılmaz', email: 'ayse@shop.example', password: 'a long owner password' };
let browser, page;
const problems = [];

before(async () => {
  browser = await launch();
  page = await (await browser.newContext()).newPage();
  watchProblems(page, problems);
});
after(async () => { await browser?.close(); });

const accessibilityProblems = (on = page) => axeProblems(on);
const hydrated = () => hydratedPage(page);

test('first run creates the owner with demo data and lands on the dashboard', async () => {
  await page.goto(`${BASE}/admin`);
  assert.match(page.url(), /\/admin\/setup$/);
  await hydrated();
  assert.deepEqual(await accessibilityProblems(), [], '/admin/setup');
  await page.getByLabel('Shop name').fill('Anadolu Home');
  await page.getByLabel('Your name').fill(OWNER.name);
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel(/^Password/).fill(OWNER.password);
  await page.getByLabel(/Load demo data/).check();
  await page.getByRole('button', { name: 'Create the owner account' }).click();
  await page.waitForURL(`${BASE}/admin`, { timeout: 30000 });
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
});

test('the dashboard shows the demo figures', async () => {
  await page.reload();
  await hydrated();
  const week = await page.getByTestId('week-revenue').textContent();
  assert.match(week, /TRY$/);
  assert.notEqual(week.trim(), '0.00 TRY', 'demo orders of the last 7 days count');
  const rows = await page.locator('table tbody tr').count();
  assert.equal(rows, 8, 'the latest orders are listed');
  assert.equal(await page.locator('nav[aria-label="Areas"] a').count() >= 9, true);
  assert.match(await page.locator('header .brand').textContent(), /Anadolu Home/);
});

test('the chart switch works, which proves the page hydrated', async () => {
  const caption = page.getByTestId('chart-caption');
  assert.equal((await caption.textContent()).trim(), 'Revenue per day, last 7 days');
  await page.getByRole('button', { name: 'Orders', exact: true }).click();
  await page.waitForFunction(() =>
    document.querySelector('[data-testid="chart-caption"]').textContent.startsWith('Orders per day'));
  assert.equal(await page.getByRole('button', { name: 'Orders', exact: true }).getAttribute('aria-pressed'), 'true');
  await page.getByRole('button', { name: 'Dark theme' }).click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.equal(await page.locator('.theme-toggle').getAttribute('aria-pressed'), 'true');
});

test('the chosen theme is remembered across a reload', async () => {
  await page.reload();
  await hydrated();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await page.getByRole('button', { name: 'Light theme' }).waitFor({ timeout: 5000 });
  await page.getByRole('button', { name: 'Light theme' }).click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
});

test('an area that is not built yet says so', async () => {
  await page.getByRole('link', { name: 'Products' }).click();
  await page.getByText('This area is not built yet.').waitFor();
});

test('signing out returns to the sign-in page', async () => {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(`${BASE}/admin/login`);
  await page.goto(`${BASE}/admin`);
  assert.match(page.url(), /\/admin\/login$/);
});

test('a wrong password shows the generic error', async () => {
  await hydrated();
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password').fill('not my password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal((await alert.textContent()).trim(), 'the email or password is not right');
});

test('the right password signs in', async () => {
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${BASE}/admin`);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
});

test("settings save, and the owner's other pages open", async () => {
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Store name').fill('Anadolu Home & Garden');
  await page.getByRole('button', { name: 'Save settings' }).click();
  assert.equal((await page.getByRole('status').textContent()).trim(), 'Settings saved.');
  for (const area of ['Users', 'Background jobs', 'Audit log']) {
    await page.getByRole('link', { name: area, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: area }).waitFor();
  }
  await page.getByRole('cell', { name: 'panel.sign_in' }).first().waitFor();
  await page.reload();
  await hydrated();
  assert.match(await page.locator('header .brand').textContent(), /Anadolu Home & Garden/);
});

test('the dashboard, settings, users and sign-in pages pass an accessibility check', async () => {
  for (const path of ['/admin', '/admin/settings', '/admin/users']) {
    await page.goto(`${BASE}${path}`);
    await hydrated();
    assert.deepEqual(await accessibilityProblems(), [], path);
  }
  const visitor = await (await browser.newContext()).newPage();
  await visitor.goto(`${BASE}/admin/login`);
  assert.deepEqual(await accessibilityProblems(visitor), [], '/admin/login');
  await visitor.context().close();
});

test('a connection key is shown once, copied, listed by its last four, and works on the API', async () => {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  await page.goto(`${BASE}/admin/access`);
  await hydrated();
  const keys = page.getByRole('region', { name: 'Connection keys' });
  await keys.getByLabel('Label').fill('Ayşe’s phone');
  await keys.getByLabel('Scope').selectOption('read');
  await keys.getByRole('button', { name: 'Create key' }).click();
  const secret = (await page.locator('#new-secret').textContent()).trim();
  assert.match(secret, /^brk_[a-z2-7]{58}$/);
  assert.equal(await page.locator('.qr svg').count(), 1, 'a QR code for the app to scan');
  await page.locator('#copy-secret').click();
  await page.locator('.copy-status').filter({ hasText: 'Copied' }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, secret);
  assert.deepEqual(await accessibilityProblems(), [], '/admin/access with the copy screen open');
  await page.getByRole('button', { name: 'Done' }).click();

  // Shown once: after a reload the key is nowhere on the page, only its last four.
  await page.reload();
  await hydrated();
  assert.equal(await page.locator('#new-secret').count(), 0);
  assert.equal((await page.content()).includes(secret), false);
  await keys.getByText(`…${secret.slice(-4)}`).first().waitFor();

  const me = () => fetch(`${BASE}/api/v1/me`, {
    headers: { authorization: `Bearer ${copied}`, 'x-backroom-timestamp': String(Math.floor(Date.now() / 1000)) },
  });
  const response = await me();
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.user.email, OWNER.email);
  assert.deepEqual([body.credential.label, body.credential.scope], ['Ayşe’s phone', 'read']);

  await keys.getByRole('button', { name: /^Revoke connection key Ayşe’s phone/ }).click();
  await keys.locator('tr.revoked').first().waitFor();
  const revoked = await me();
  assert.equal(revoked.status, 401);
  assert.equal((await revoked.json()).error.code, 'key_revoked');
});

test('the security settings refuse a bad CIDR with the reason, and save good ones', async () => {
  await page.goto(`${BASE}/admin/security`);
  await hydrated();
  await page.getByLabel(/^IP allowlist/).fill('10.0.0.0/8\n10.0.0/8');
  await page.getByRole('button', { name: 'Save security settings' }).click();
  await page.getByRole('alert').filter({ hasText: '"10.0.0/8" is not' }).waitFor();
  await page.getByLabel(/^IP allowlist/).fill('');
  await page.getByLabel('Rate limit per credential (requests per minute)').fill('240');
  await page.getByRole('button', { name: 'Save security settings' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await page.goto(`${BASE}/admin/audit?action=security.`);
  await hydrated();
  await page.getByRole('cell', { name: 'security.update' }).first().waitFor();
});

test('the access, security and audit pages pass an accessibility check', async () => {
  for (const path of ['/admin/access', '/admin/security', '/admin/audit']) {
    await page.goto(`${BASE}${path}`);
    await hydrated();
    assert.deepEqual(await accessibilityProblems(), [], path);
  }
});

test('changing the password asks the current one first, and the new one signs in', async () => {
  await page.goto(`${BASE}/admin/access`);
  await hydrated();
  const section = page.locator('section[aria-labelledby="password-heading"]');
  await section.getByLabel('Current password').fill('not my password');
  await section.getByLabel(/^New password/).fill('a newer owner password');
  await section.getByRole('button', { name: 'Change password' }).click();
  await section.getByRole('alert').filter({ hasText: 'the current password is not right' }).waitFor();
  await section.getByLabel('Current password').fill(OWNER.password);
  await section.getByRole('button', { name: 'Change password' }).click();
  await section.getByRole('status').filter({ hasText: /^Your password is changed/ }).waitFor();
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(`${BASE}/admin/login`);
  await hydrated();
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password').fill('a newer owner password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${BASE}/admin`);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
});

test('no page reported a hydration error or a panic', () => {
  assert.deepEqual(problems, []);
});
