// The orders list and one order's page in a real browser, on a Backroom of this test's
// own: filters kept in the address, search as you type, keyboard navigation, cursor
// pages, bad filters said plainly, a status change, a refund of one line, a note, the CSV
// exports, accessibility, and no hydration errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openShop, hydrated, accessibilityProblems } from '../support.mjs';

let backroom, page, problems, signedInPage, close;
/// The order the tests work on: the newest completed one, found on the list.
let order;

before(async () => {
  ({ shop: backroom, page, problems, signedInPage, close } = await openShop({ orders: 300 }));
});
after(async () => {
  await close?.();
});

const text = async (locator) => (await locator.textContent()).trim();
const rows = () => page.locator('#orders-rows tr');
const rowIds = () => rows().evaluateAll((trs) => trs.map((tr) => tr.dataset.id));
const focusedId = () => page.evaluate(() => document.activeElement?.id ?? '');
const highlightedId = () => page.evaluate(() => document.querySelector('#orders-rows tr.highlighted')?.dataset.id ?? '');
const open = async (path) => {
  await page.goto(`${backroom.base}${path}`);
  await hydrated(page);
};

test('the list filters by status from its address, and shows each order with its badge', async () => {
  await page.getByRole('link', { name: 'Orders', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Orders' }).waitFor();
  await open('/admin/orders?status=completed');
  assert.equal(await page.getByLabel('Shipped / completed', { exact: true }).isChecked(), true);
  assert.equal(await page.getByLabel('Failed', { exact: true }).isChecked(), false);
  assert.equal(await rows().count(), 25, 'a full page of completed demo orders');
  for (const badge of await page.locator('#orders-rows .badge').allTextContents()) assert.equal(badge, 'Shipped / completed');
  const first = rows().first();
  order = {
    id: await first.getAttribute('data-id'),
    number: (await text(first.locator('a'))).replace(/^#/, ''),
    email: await text(first.locator('td').nth(4)),
  };
  assert.match(order.email, /@example\.com$/);
  assert.match(await text(first.locator('td').nth(7)), /^[\d,]+\.\d\d TRY$/);
});

test('ticking a second status applies at once and keeps both in the address', async () => {
  await page.getByLabel('Cancelled', { exact: true }).check();
  await page.waitForURL((url) => url.searchParams.get('status') === 'completed,cancelled');
  await page.reload();
  await hydrated(page);
  assert.equal(await page.getByLabel('Cancelled', { exact: true }).isChecked(), true);
  for (const badge of await page.locator('#orders-rows .badge').allTextContents()) {
    assert.ok(['Shipped / completed', 'Cancelled'].includes(badge), badge);
  }
});

test('the search runs as it is typed and finds the order by its email; a reload keeps it', async () => {
  await open('/admin/orders');
  await page.getByLabel('Search').pressSequentially(order.email, { delay: 15 });
  await page.waitForURL((url) => url.searchParams.get('search') === order.email);
  await page.locator(`#orders-rows tr[data-id="${order.id}"]`).waitFor();
  // A pause in the typing longer than the search's own (a busy machine) searches for what
  // was typed so far, whose rows include this order too: wait for the whole email's rows.
  await page.waitForFunction(
    (email) => [...document.querySelectorAll('#orders-rows td:nth-child(5)')].every((td) => td.textContent === email),
    order.email,
  );
  for (const email of await page.locator('#orders-rows td:nth-child(5)').allTextContents()) assert.equal(email, order.email);
  await page.reload();
  await hydrated(page);
  assert.equal(await page.getByLabel('Search').inputValue(), order.email);
  await page.locator(`#orders-rows tr[data-id="${order.id}"]`).waitFor();
});

test('the keyboard walks the rows: j/k and the arrows move, / goes to the search, Enter opens', async () => {
  await open('/admin/orders?status=completed');
  const ids = await rowIds();
  await page.getByRole('heading', { level: 1, name: 'Orders' }).click();
  await page.keyboard.press('j');
  assert.equal(await highlightedId(), ids[0]);
  assert.equal(await focusedId(), `order-link-${ids[0]}`);
  await page.keyboard.press('j');
  await page.keyboard.press('ArrowDown');
  assert.equal(await highlightedId(), ids[2]);
  await page.keyboard.press('k');
  assert.equal(await highlightedId(), ids[1]);
  await page.keyboard.press('ArrowUp');
  assert.equal(await focusedId(), `order-link-${ids[0]}`);
  await page.keyboard.press('/');
  assert.equal(await focusedId(), 'orders-search');
  await page.keyboard.type('jk');
  assert.equal(await page.getByLabel('Search').inputValue(), 'jk', 'keys typed in the search are the search’s');
  assert.equal(await focusedId(), 'orders-search');
  await page.waitForURL((url) => url.searchParams.get('search') === 'jk');
  await page.getByLabel('Search').fill('');
  await page.waitForURL((url) => !url.searchParams.has('search'));
  await page.waitForFunction((want) => document.querySelector('#orders-rows tr')?.dataset.id === want, ids[0]);
  await page.getByRole('heading', { level: 1, name: 'Orders' }).click();
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${backroom.base}/admin/orders/${ids[1]}`);
  await page.getByRole('heading', { level: 1, name: /^Order #/ }).waitFor();
});

test('cursor pages go forward, back, and survive a reload', async () => {
  await open('/admin/orders');
  const first = await rowIds();
  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL((url) => url.searchParams.has('cursor'));
  await page.waitForFunction((before) => document.querySelector('#orders-rows tr')?.dataset.id !== before, first[0]);
  const second = await rowIds();
  assert.equal(second.some((id) => first.includes(id)), false, 'the second page is other orders');
  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL((url) => url.searchParams.has('prev'));
  await page.waitForFunction((before) => document.querySelector('#orders-rows tr')?.dataset.id !== before, second[0]);
  await page.reload();
  await hydrated(page);
  const third = await rowIds();
  assert.equal(third.some((id) => second.includes(id)), false);
  await page.getByRole('link', { name: 'Previous page' }).click();
  await page.waitForFunction((want) => document.querySelector('#orders-rows tr')?.dataset.id === want, second[0]);
  await page.getByRole('link', { name: 'First page' }).click();
  await page.waitForFunction((want) => document.querySelector('#orders-rows tr')?.dataset.id === want, first[0]);
  assert.equal(await page.getByRole('link', { name: 'First page' }).count(), 0);
});

test("bad filters show the backend's reason instead of failing", async () => {
  for (const [query, says] of [
    ['status=shipped', /unknown order status "shipped"/],
    ['cursor=not-a-cursor', /cursor is not one we gave out/],
    [`search=${'a'.repeat(101)}`, /at most 100 characters/],
    ['from=2025-02-01&to=2025-01-01', /from must not be after to/],
  ]) {
    await open(`/admin/orders?${query}`);
    assert.match(await text(page.getByRole('alert')), says, query);
  }
});

test('the list and its filters pass an accessibility check', async () => {
  await open('/admin/orders?status=processing');
  assert.deepEqual(await accessibilityProblems(page), [], '/admin/orders');
});

test('the order page shows the order whole and passes an accessibility check', async () => {
  await open(`/admin/orders?search=${encodeURIComponent(order.email)}`);
  await page.locator(`#order-link-${order.id}`).click();
  await page.waitForURL(`${backroom.base}/admin/orders/${order.id}`);
  await page.getByRole('heading', { level: 1, name: `Order #${order.number}` }).waitFor();
  await hydrated(page);
  // Back to the list as it was left.
  await page.locator(`.back-link a[href="/admin/orders?search=${encodeURIComponent(order.email)}"]`).waitFor();
  assert.equal(await text(page.getByTestId('order-status')), 'Shipped / completed');
  for (const heading of ['Billing address', 'Shipping address', 'Items', 'Totals', 'Change the status', 'Refund', 'Notes']) {
    await page.getByRole('heading', { name: heading, exact: true }).waitFor();
  }
  await page.getByText(order.email, { exact: true }).first().waitFor();
  assert.deepEqual(await accessibilityProblems(page), [], `/admin/orders/${order.id}`);
});

test('the status moves only where the policy allows; reopening needs a reason, which the note keeps', async () => {
  // From completed the only move is back to processing, and it needs a reason: the field
  // says so, and the backend refuses without one even when the browser's check is bypassed.
  assert.deepEqual(await page.getByLabel('New status').locator('option').allTextContents(), ['Processing (needs a reason)']);
  const reason = page.getByLabel('Reason (required for this change)');
  assert.equal(await reason.getAttribute('required'), '');
  await reason.evaluate((input) => input.removeAttribute('required'));
  await page.getByRole('button', { name: 'Change status' }).click();
  assert.match(await text(page.getByRole('alert')), /needs a reason/);
  assert.equal(await text(page.getByTestId('order-status')), 'Shipped / completed');

  await reason.fill('The customer wants another colour');
  await page.getByRole('button', { name: 'Change status' }).click();
  await page.getByRole('status').filter({ hasText: 'The order is now Processing.' }).waitFor();
  await page.getByTestId('order-status').filter({ hasText: 'Processing' }).waitFor();
  await page.getByTestId('notes').getByText(/Status changed from Shipped \/ completed to Processing by .*Reason: The customer wants another colour/).waitFor();
  assert.equal(await page.getByRole('alert').count(), 0, 'the earlier error is gone');

  assert.deepEqual(await page.getByLabel('New status').locator('option').allTextContents(), ['Shipped / completed', 'On hold', 'Cancelled']);
  await page.getByLabel('New status').selectOption('completed');
  await page.getByRole('button', { name: 'Change status' }).click();
  await page.getByRole('status').filter({ hasText: 'The order is now Shipped / completed.' }).waitFor();
  await page.getByTestId('order-status').filter({ hasText: 'Shipped / completed' }).waitFor();
});

test('refunding one line previews the totals, then shows the refund and what remains', async () => {
  const before = await text(page.getByTestId('refundable'));
  const refund = page.getByRole('region', { name: 'Refund', exact: true });
  assert.equal(await page.getByLabel(/^Amount to refund \(TRY/).isVisible(), false, 'the amount-only field waits for its choice');
  const quantity = refund.locator('input[id^="refund-quantity-"]').first();
  const amount = refund.locator('input[id^="refund-amount-"]').first();
  await quantity.fill('1');
  assert.match(await amount.inputValue(), /^\d+\.\d\d$/, 'the amount follows the quantity');
  const line = await amount.inputValue();
  await page.getByTestId('preview-refund').filter({ hasText: line.replace(/\B(?=(\d{3})+(?!\d))/g, ',') }).waitFor();
  const remaining = await text(page.getByTestId('preview-remaining'));
  assert.notEqual(remaining, before);
  await page.getByLabel('Reason (optional)').last().fill('Arrived broken');
  await page.getByLabel('Restock the refunded items').check();
  await page.getByRole('button', { name: 'Refund', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'The refund is made.' }).waitFor();
  await page.getByTestId('refundable').filter({ hasText: remaining }).waitFor();
  const refunds = page.getByTestId('refunds');
  await refunds.getByText('Arrived broken').waitFor();
  assert.match(await text(refunds.locator('tbody tr').first()), /1 × .+Yes$/);
  assert.notEqual(await text(page.getByTestId('refunded')), '0.00 TRY');
  assert.match(await text(page.locator('#items-heading + .table-wrap tbody tr').first().locator('td').last()), /^1 item, /);
});

test('an amount refund written with a comma is read as decimals, and too much is refused by the backend', async () => {
  await page.getByLabel('An amount only').check();
  const amount = page.getByLabel(/^Amount to refund \(TRY/);
  await amount.fill('1,50');
  assert.equal(await text(page.getByTestId('preview-refund')), '1.50 TRY');
  await amount.fill('999999999');
  await page.getByText(/That is more than the .* that remains refundable\./).waitFor();
  await page.getByRole('button', { name: 'Refund', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: /only .* remains refundable on this order/ }).waitFor();
});

test('notes are added, private or to the customer, newest first', async () => {
  const newest = () => page.getByTestId('notes').locator('li').first();
  await page.getByLabel('Note', { exact: true }).fill('Customer called: leave it with the neighbour.');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.getByRole('status').filter({ hasText: 'The private note is added.' }).waitFor();
  await newest().filter({ hasText: 'Customer called: leave it with the neighbour.' }).waitFor();
  assert.match(await text(newest()), /· Private/);

  await page.getByLabel('Note', { exact: true }).fill('Your parcel leaves today.');
  await page.getByLabel('Note to the customer (emailed)').check();
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.getByRole('status').filter({ hasText: 'emailed to the customer' }).waitFor();
  await newest().filter({ hasText: 'Your parcel leaves today.' }).waitFor();
  assert.match(await text(newest()), /· To the customer/);
  assert.equal(await page.getByLabel('Note', { exact: true }).inputValue(), '', 'the form starts afresh');
});

test("the customer's details are edited from the keyboard, kept as typed, and a bad one is refused with its reason", async () => {
  const form = page.locator('#customer-edit-form');
  const toggle = page.getByRole('button', { name: "Edit the customer's details" });
  const opened = async () => {
    if ((await toggle.getAttribute('aria-expanded')) !== 'true') {
      await toggle.focus();
      await page.keyboard.press('Enter');
    }
    await page.getByLabel('Billing phone').waitFor();
  };
  await opened();
  await page.getByLabel('Billing phone').fill(' 0532 987 65 43 ');
  await page.getByLabel('Shipping town / city').fill('Kadıköy');
  await page.getByLabel('Billing phone').press('Enter');
  await page.getByRole('status').filter({ hasText: "The customer's details are saved." }).waitFor();
  await page.getByRole('region', { name: 'Billing address' }).getByRole('link', { name: '0532 987 65 43', exact: true }).waitFor();
  await page.getByRole('region', { name: 'Shipping address' }).getByText(/Kadıköy/).waitFor();

  await opened();
  assert.equal(await page.getByLabel('Billing phone').inputValue(), '0532 987 65 43', 'the form starts from the saved details');
  await page.getByLabel('Billing country code (such as TR)').fill('T1');
  await page.getByRole('button', { name: 'Save customer details' }).click();
  await form.getByRole('alert').filter({ hasText: 'two letters' }).waitFor();
  assert.deepEqual(await accessibilityProblems(page), [], 'the open form');
});

test('an unpaid order offers no refund form, and says why', async () => {
  await open('/admin/orders?status=pending');
  await rows().first().locator('a').click();
  await page.getByRole('heading', { level: 2, name: 'Refund', exact: true }).waitFor();
  assert.equal(await text(page.getByTestId('no-refund')), 'This order is pending payment: only paid orders can be refunded.');
  assert.equal(await page.getByRole('button', { name: 'Refund', exact: true }).count(), 0);
});

test('an unknown order says so, with a way back', async () => {
  await open('/admin/orders/987654321');
  await page.getByRole('heading', { level: 1, name: 'Order not found' }).waitFor();
  await page.getByRole('link', { name: 'Back to orders' }).last().click();
  await page.waitForURL(/\/admin\/orders/);
});

test('all matching orders and a selection export as CSV with a byte-order mark', async () => {
  await open('/admin/orders?status=completed');
  const header = '"number","date","status","customer","email","phone","items","total","currency","payment method"';
  const csv = async (link) => {
    const response = await page.request.get(`${backroom.base}${await link.getAttribute('href')}`);
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-type'], /^text\/csv/);
    const body = await response.body();
    assert.deepEqual([...body.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte-order mark');
    return body.subarray(3).toString('utf8').trimEnd().split('\r\n');
  };
  const all = await csv(page.getByRole('link', { name: 'Export all matching as CSV' }));
  assert.equal(all[0], header);
  const ours = all.find((line) => line.startsWith(`"${order.number}",`));
  assert.ok(ours, 'the refunded, completed order is in the export');
  assert.match(ours, new RegExp(`^"${order.number}","\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d","completed",".+","${order.email}","'?\\+?[\\d ]+","\\d+","\\d+\\.\\d\\d","TRY",".+"$`));
  assert.ok(all.slice(1).every((line) => line.includes('"completed"')), 'only completed orders');

  assert.equal(await page.getByRole('button', { name: 'Export selected as CSV' }).isDisabled(), true);
  const ids = await rowIds();
  await page.getByLabel(`Select order ${await text(rows().nth(0).locator('a'))}`).check();
  await rows().nth(1).locator('input[type="checkbox"]').check();
  await page.getByText('2 orders selected.').waitFor();
  const selected = await csv(page.getByRole('link', { name: 'Export selected as CSV' }));
  assert.equal(selected.length, 3, 'the header and two orders');
  const exported = new Set(selected.slice(1).map((line) => line.split(',')[0].replaceAll('"', '')));
  const numbers = await Promise.all([0, 1].map(async (i) => (await text(rows().nth(i).locator('a'))).replace(/^#/, '')));
  assert.deepEqual(exported, new Set(numbers));
  assert.ok(ids.length > 2);
});

test('the export is recorded in the audit log', async () => {
  await open('/admin/audit?action=orders.export');
  await page.getByRole('cell', { name: 'orders.export' }).first().waitFor();
});

test('a support agent reads orders, but changes and exports none', async () => {
  const agent = { name: 'Deniz Kaya', email: 'deniz@shop.example', password: 'a long agent password' };
  backroom.addUser(agent, 'agent');
  const theirs = await signedInPage(agent);
  await theirs.goto(`${backroom.base}/admin/orders?status=completed`);
  await hydrated(theirs);
  await theirs.locator(`#order-link-${order.id}`).waitFor();
  assert.equal(await theirs.getByRole('link', { name: 'Export all matching as CSV' }).count(), 0);
  assert.equal(await theirs.locator('#orders-rows input[type="checkbox"]').count(), 0);
  assert.equal((await theirs.request.get(`${backroom.base}/admin/orders.csv`)).status(), 403);
  await theirs.goto(`${backroom.base}/admin/orders/${order.id}`);
  await hydrated(theirs);
  await theirs.getByRole('heading', { level: 2, name: 'Items' }).waitFor();
  for (const form of ['Change the status', 'Add a note', 'Refund']) {
    assert.equal(await theirs.getByRole('heading', { name: form, exact: true }).count(), 0, form);
  }
  await theirs.context().close();
});

test('no page reported a hydration error or a panic', () => {
  assert.deepEqual(problems, []);
});
