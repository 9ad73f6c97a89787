// The accounting pages of the panel, without a ledger: "Sync now" before anything is set
// up says so; the settings refuse a bad field with the backend's reason, keep the API key
// out of sight, and say why a connection test failed; a paused sync is explained and
// lifted by saving; who sees which page; the log's filters live in its address;
// accessibility; no hydration errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openShop, hydrated, accessibilityProblems } from '../support.mjs';

let shop, page, problems, signedInPage, close;
const manager = { name: 'Mert Demir', email: 'mert@shop.example', password: 'a long manager password' };
const agent = { name: 'Ada Kaya', email: 'ada@shop.example', password: 'a long agent password' };
const key = 'panel-test-key-7f3c9d';

before(async () => {
  ({ shop, page, problems, signedInPage, close } = await openShop({ orders: 20 }));
  shop.addUser(manager, 'manager');
  shop.addUser(agent, 'agent');
});
after(async () => {
  await close?.();
});

const open = async (on, path) => {
  await on.goto(`${shop.base}${path}`);
  await hydrated(on);
};
const firstOrderId = () => shop.sql('SELECT id FROM orders ORDER BY id LIMIT 1')[0][0];

test('before accounting is set up, Sync now on an order says so', async () => {
  await open(page, `/admin/orders/${firstOrderId()}`);
  const section = page.locator('section[aria-labelledby="accounting-heading"]');
  await section.getByText('Not sent to the ledger.').waitFor();
  await section.getByRole('button', { name: 'Sync now' }).click();
  await section.getByRole('alert').filter({ hasText: 'accounting sync is not set up' }).waitFor();
});

test('the settings refuse a bad prefix with the reason, and store the key without showing it', async () => {
  await open(page, '/admin/accounting');
  assert.deepEqual(await accessibilityProblems(page), []);
  await page.getByLabel('Base URL').fill('http://127.0.0.1:9');
  await page.getByLabel('Company code').fill('FIRMA1');
  await page.getByLabel('API key').fill(key);
  await page.getByLabel('Invoice prefix').fill('W B');
  await page.getByRole('button', { name: 'Save accounting settings' }).click();
  await page.getByRole('alert').filter({ hasText: 'the invoice prefix is 1 to 16 letters' }).waitFor();

  await page.getByLabel('Invoice prefix').fill('WEB');
  await page.getByLabel('Shipped / completed').check();
  await page.getByRole('button', { name: 'Save accounting settings' }).click();
  await page.getByText(`A key ending in …${key.slice(-4)} is stored.`).waitFor();
  assert.equal(await page.getByLabel('API key').inputValue(), '', 'a saved key leaves the field');
  await page.reload();
  await hydrated(page);
  assert.equal(await page.getByLabel('Shipped / completed').isChecked(), true);
  assert.equal(await page.getByLabel('Invoice prefix').inputValue(), 'WEB');
  assert.equal((await page.content()).includes(key), false, 'the key is never sent to the browser');
});

test('a connection test that fails says why', async () => {
  await open(page, '/admin/accounting');
  await page.getByRole('button', { name: 'Test connection' }).click();
  const answer = page.getByTestId('connection-test');
  await answer.getByText('Not connected:').waitFor();
  assert.notEqual((await answer.innerText()).replace('Not connected:', '').trim(), '');
});

test('a paused sync is explained at the top, and saving the settings lifts the pause', async () => {
  shop.sql("UPDATE accounting_settings SET paused_reason = 'Cari.com.tr refused the API key (401)'");
  await open(page, '/admin/accounting');
  const banner = page.getByRole('region', { name: 'Syncing is paused' });
  await banner.getByText('Cari.com.tr refused the API key (401)').waitFor();
  assert.match(await banner.innerText(), /saving resumes syncing/);
  await page.getByRole('button', { name: 'Save accounting settings' }).click();
  await page.getByText('Saved.').waitFor();
  assert.equal(await banner.count(), 0);
  assert.deepEqual(shop.sql('SELECT paused_reason FROM accounting_settings'), [[null]]);
});

test('the errors and log page keeps its filters in the address and passes an accessibility check', async () => {
  await open(page, '/admin/accounting/log');
  await page.getByText('None: every document was sent or is on its way.').waitFor();
  // The connection test above left a failed request in the log.
  await page.getByLabel('Errors only').check();
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/\/admin\/accounting\/log\?errors=1$/);
  await page.locator('.log-entry').first().waitFor();
  assert.equal(await page.locator('.log-entry').count(), await page.locator('.log-entry.log-failed').count());
  await page.reload();
  await hydrated(page);
  assert.equal(await page.getByLabel('Errors only').isChecked(), true);
  assert.deepEqual(await accessibilityProblems(page), []);
  await open(page, '/admin/accounting/log?order=ORD-7');
  await page.getByText('the order must be an order ID such as 1042').waitFor();
});

test('shop managers reach the errors page, not the settings; support agents neither', async () => {
  const managers = await signedInPage(manager);
  const link = managers.locator('nav[aria-label="Areas"] a', { hasText: 'Accounting' });
  assert.equal(await link.getAttribute('href'), '/admin/accounting/log');
  await open(managers, '/admin/accounting');
  await managers.getByText('you are not allowed to do this').waitFor();
  await open(managers, '/admin/accounting/bulk/999');
  await managers.getByText('There is no bulk sync at this address.').waitFor();
  assert.deepEqual(await accessibilityProblems(managers), []);

  const agents = await signedInPage(agent);
  assert.equal(await agents.locator('nav[aria-label="Areas"] a', { hasText: 'Accounting' }).count(), 0);
  await open(agents, '/admin/accounting/log');
  await agents.getByText('you are not allowed to do this').waitFor();
  await open(agents, `/admin/orders/${firstOrderId()}`);
  await agents.getByRole('heading', { name: 'Accounting' }).waitFor();
  assert.equal(await agents.getByRole('button', { name: 'Sync now' }).count(), 0);
});

test('no page reported a hydration error or a panic', () => {
  assert.deepEqual(problems, []);
});
