// New orders appear in the open panel without a reload: an order written straight into
// the database (as another process or a WooCommerce sync would) shows up on the
// dashboard and on the orders list while they are open.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openShop, hydrated } from '../support.mjs';

let shop, page, problems, close;

before(async () => {
  ({ shop, page, problems, close } = await openShop({ orders: 50 }));
});
after(async () => {
  await close?.();
});

/// Inserts a paid order placed now, numbered `number`, into the test's SQLite database.
function placeOrder(number) {
  shop.sql(`INSERT INTO orders (number, status, currency, billing_first_name, billing_last_name, total, items_count, created_at, updated_at)
    VALUES ('${number}', 'processing', 'TRY', 'Canlı', 'Sipariş', 43210, 1, strftime('%s','now'), strftime('%s','now'))`);
}

test('a new order appears on the open dashboard without a reload', async () => {
  // The stream counts only orders newer than when it connected: wait until it has.
  const connected = page.waitForResponse((r) => r.url().endsWith('/admin/live'));
  await page.goto(`${shop.base}/admin`);
  await hydrated(page);
  await connected;
  const before = page.url();
  placeOrder('777001');
  await page.getByRole('link', { name: '#777001' }).waitFor({ timeout: 10000 });
  assert.equal(page.url(), before);
});

test('a new order appears on the open orders list without a reload', async () => {
  const connected = page.waitForResponse((r) => r.url().endsWith('/admin/live'));
  await page.goto(`${shop.base}/admin/orders`);
  await hydrated(page);
  await connected;
  placeOrder('777002');
  await page.getByRole('link', { name: /777002/ }).first().waitFor({ timeout: 10000 });
});

test('no page reported a hydration error or a panic', () => {
  assert.deepEqual(problems, []);
});
