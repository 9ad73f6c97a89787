// A refund made in the panel shows in today's sales report: find an order by its
// customer's email, refund part of it, and see today's refunds grow by that much.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openShop, hydrated } from '../support.mjs';

let shop, page, problems, close;

before(async () => {
  ({ shop, page, problems, close } = await openShop({ orders: 200 }));
});
after(async () => {
  await close?.();
});

/// A completed order's number and email, from the test's database.
function completedOrder() {
  return shop.sql("SELECT number, billing_email FROM orders WHERE status = 'completed' AND refunded_total = 0 ORDER BY id DESC LIMIT 1")[0];
}

/// Today's refunds as the report shows them, in minor units.
async function refundsToday() {
  await page.goto(`${shop.base}/admin/reports?period=today`);
  await hydrated(page);
  const text = await page.getByTestId('figure-refunds').textContent();
  return Math.round(Number(text.replace(/[^0-9.,-]/g, '').replace(/,/g, '')) * 100);
}

test('a refund made on the order page shows in today\'s report', async () => {
  const before = await refundsToday();
  const [number, email] = completedOrder();
  await page.goto(`${shop.base}/admin/orders`);
  await hydrated(page);
  await page.getByLabel(/^Search/).fill(email);
  await page.getByRole('link', { name: new RegExp(`#?${number}\\b`) }).first().click();
  await page.getByRole('heading', { name: 'Refund', exact: true }).waitFor();
  await hydrated(page);
  await page.getByLabel('An amount only').check();
  await page.getByLabel(/^Amount to refund \(/).fill('12.34');
  await page.getByLabel('Reason (optional)').last().fill('Geç teslimat');
  await page.getByRole('button', { name: 'Refund', exact: true }).click();
  await page.getByRole('cell', { name: 'Geç teslimat' }).waitFor();
  assert.equal(await refundsToday(), before + 1234);
});

test('no page reported a hydration error or a panic', () => {
  assert.deepEqual(problems, []);
});
