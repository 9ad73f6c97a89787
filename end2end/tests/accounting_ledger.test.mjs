// Accounting sync end to end against the stand-in ledger (cari_mock.mjs): a manager
// configures it in the panel and tests the connection, syncs one order from its page and
// finds the requests in the log, then syncs the whole orders list in bulk and watches the
// progress page reach the end; the ledger ends up with one invoice per order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openShop, hydrated, startLedger, waitFor } from '../support.mjs';

const ORDERS = 40;
let shop, page, problems, close, ledger;

before(async () => {
  ledger = await startLedger({ latency: 20 });
  ({ shop, page, problems, close } = await openShop({ orders: ORDERS, env: { BACKROOM_ACCOUNTING_CONCURRENCY: '4' } }));
});
after(async () => {
  await close?.();
  await ledger?.stop();
});

const open = async (path) => {
  await page.goto(`${shop.base}${path}`);
  await hydrated(page);
};

test('the settings are saved and the connection test names the company', async () => {
  await open('/admin/accounting');
  await page.getByLabel('Send orders to the ledger').check();
  await page.getByLabel('Base URL').fill(ledger.base);
  await page.getByLabel('Company code').fill(ledger.company);
  await page.getByLabel('API key').fill(ledger.key);
  await page.getByRole('button', { name: 'Save accounting settings' }).click();
  await page.getByText(`A key ending in …${ledger.key.slice(-4)} is stored.`).waitFor();
  await page.getByRole('button', { name: 'Test connection' }).click();
  await page.getByTestId('connection-test').getByText(`Connected to Cari.com.tr: Örnek Ticaret A.Ş. (${ledger.company})`).waitFor();
});

test('Sync now on an order sends its invoice, and the log shows the requests', async () => {
  const [[id, number]] = shop.sql('SELECT id, number FROM orders ORDER BY id LIMIT 1');
  await open(`/admin/orders/${id}`);
  const section = page.locator('section[aria-labelledby="accounting-heading"]');
  await page.getByRole('button', { name: 'Sync now' }).click();
  const invoice = await waitFor('the ledger has the invoice', async () =>
    (await ledger.state()).invoices.find((i) => i.siparis_no === number));
  assert.equal(invoice.referans, `backroom-order-${id}`);
  await waitFor('the order page shows it synced', async () => {
    await open(`/admin/orders/${id}`);
    return (await section.innerText()).includes(invoice.numara) && (await section.innerText()).toLowerCase().includes('synced');
  });
  await open(`/admin/accounting/log?order=${id}`);
  const log = await page.locator('section[aria-labelledby="log-heading"]').innerText();
  assert.match(log, /invoice\.create/);
  assert.match(log, /customer\.(create|update)/);
  assert.equal(log.includes(ledger.key), false, 'the key is never in the log');
});

test('a bulk sync of every order runs to the end with its progress on screen', async () => {
  await open('/admin/orders');
  await page.getByRole('button', { name: 'Sync all matching to accounting' }).click();
  await page.waitForURL(/\/admin\/accounting\/bulk\/\d+$/);
  await hydrated(page);
  const progress = page.locator('progress#bulk-progress');
  const finished = page.getByText(/Finished: \d+ synced, 1 skipped\./);
  await finished.waitFor({ timeout: 60000 });
  const synced = Number((await finished.innerText()).match(/Finished: (\d+) synced/)[1]);
  assert.ok(synced >= ORDERS / 2, `most orders match the list's default filters: ${synced}`);
  assert.equal(await progress.getAttribute('value'), String(synced + 1));
  assert.equal(await progress.getAttribute('max'), String(synced + 1));
  const state = await ledger.state();
  assert.equal(state.invoices.length, synced + 1, 'one invoice per order, the one synced before skipped');
  assert.equal(new Set(state.invoices.map((i) => i.referans)).size, synced + 1, 'no order twice');
  assert.deepEqual(problems, []);
});
