// The store's pages against the WooCommerce stand-in: with no store, the way to the
// wizard; the wizard's checks saying what failed, its questions (demo data, the store's
// currency and time zone) asked before anything changes, and the import's progress once
// connected; the connection page with the sync's figures, Backroom's webhooks and its
// buttons; a store order's status change and refund made in the panel going to the store,
// shown while it has not taken them; disconnecting; who may see it; accessibility; no
// hydration errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openShop, hydrated, accessibilityProblems, startWooStore, waitFor } from '../support.mjs';

let shop, page, problems, signedInPage, close, store;
const agent = { name: 'Ada Kaya', email: 'ada@shop.example', password: 'a long agent password' };

before(async () => {
  ({ shop, page, problems, signedInPage, close } = await openShop({ orders: 20 }));
  shop.addUser(agent, 'agent');
  store = await startWooStore({ orders: 600 });
});
after(async () => {
  await store?.stop();
  await close?.();
});

const open = async (on, path) => {
  await on.goto(`${shop.base}${path}`);
  await hydrated(on);
};

test('with no store connected, the page leads to the wizard', async () => {
  await open(page, '/admin/store');
  await page.getByRole('heading', { name: 'No store is connected' }).waitFor();
  assert.deepEqual(await accessibilityProblems(page), []);
  await page.getByRole('link', { name: 'Connect a store' }).click();
  await page.waitForURL(`${shop.base}/admin/store/connect`);
  await page.getByRole('heading', { name: 'Connect your WooCommerce store' }).waitFor();
});

test('the wizard says which check failed and changes nothing', async () => {
  await open(page, '/admin/store/connect');
  assert.deepEqual(await accessibilityProblems(page), []);
  await page.getByLabel("The store's address").fill(store.base);
  await page.getByLabel('Consumer key').fill(store.consumerKey);
  await page.getByLabel('Consumer secret').fill('cs_not_the_secret');
  await page.getByRole('button', { name: 'Check and connect' }).click();
  const outcome = page.getByTestId('connect-outcome');
  await outcome.getByText('Not connected: fix what failed').waitFor();
  assert.match(await outcome.innerText(), /Failed: .*refused the key/);
  assert.match(await outcome.innerText(), /Passed: It is WooCommerce/);
  assert.deepEqual(shop.sql("SELECT state FROM woo_connection"), [['disconnected']]);
  assert.equal((await store.state()).counts.webhooks, 0, 'no webhook was made');
});

test('the wizard asks before clearing demo data, then connects and the import is followed to the end', async () => {
  await open(page, '/admin/store/connect');
  await page.getByLabel("The store's address").fill(store.base);
  await page.getByLabel('Consumer key').fill(store.consumerKey);
  await page.getByLabel('Consumer secret').fill(store.consumerSecret);
  await page.getByRole('button', { name: 'Check and connect' }).click();
  const questions = page.getByTestId('connect-questions');
  await questions.waitFor();
  const demo = questions.getByLabel(/holds demo data/);
  assert.equal(await demo.isChecked(), false);
  assert.deepEqual(shop.sql('SELECT COUNT(*) > 0 FROM orders'), [[1]], 'nothing was cleared before the answer');
  assert.deepEqual(await accessibilityProblems(page), []);
  for (const box of await questions.getByRole('checkbox').all()) await box.check();
  await page.getByRole('button', { name: 'Check and connect' }).click();
  await page.waitForURL(`${shop.base}/admin/store/import`);
  await hydrated(page);
  await page.getByTestId('import-state').filter({ hasText: 'Imported:' }).waitFor({ timeout: 60000 });
  assert.deepEqual(await accessibilityProblems(page), []);
  const kept = (await store.state()).counts;
  const orders = shop.sql('SELECT COUNT(*) FROM orders')[0][0];
  assert.ok(orders > 500 && orders <= 600, `the store's orders, not the demo's (${orders}; ${JSON.stringify(kept)})`);
  const ordersRow = page.getByRole('row', { name: /^Orders/ });
  assert.match(await ordersRow.innerText(), /Done\s*$/);
});

test('the connection page shows the store, the sync and its webhooks, and its buttons work', async () => {
  await open(page, '/admin/store');
  await page.getByRole('heading', { name: 'Keeping in step' }).waitFor();
  assert.deepEqual(await accessibilityProblems(page), []);
  const webhooks = (await store.state()).webhooks;
  assert.ok(webhooks.length >= 4);
  for (const hook of webhooks) await page.getByRole('row', { name: new RegExp(`^${hook.topic.replace('.', '\\.')}`) }).waitFor();

  await page.getByRole('button', { name: 'Reconcile now' }).click();
  await page.getByRole('status').filter({ hasText: /^Reconciled: \d+ changed/ }).waitFor();
  assert.notEqual(await page.getByTestId('last-reconcile').innerText(), 'none yet');

  await page.getByRole('button', { name: 'Re-check' }).click();
  await page.getByRole('status').filter({ hasText: 'Every check passed' }).waitFor();

  // A webhook WooCommerce disabled is made active again by the next pass, and said so.
  const disabled = webhooks.find((w) => w.topic === 'order.updated');
  await store.control(`webhooks/${disabled.id}`, { status: 'disabled' });
  await page.getByRole('button', { name: 'Reconcile now' }).click();
  await page.getByRole('region', { name: 'Needs your attention' }).getByText(/order\.updated/).waitFor();
  assert.equal((await store.state()).webhooks.find((w) => w.id === disabled.id).status, 'active');
});

test('the pace is saved', async () => {
  await open(page, '/admin/store');
  await page.getByLabel('Reconcile every (minutes)').fill('15');
  await page.getByLabel('Requests at once while importing').fill('4');
  await page.getByRole('button', { name: 'Save the pace' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved the pace.' }).waitFor();
  assert.deepEqual(shop.sql('SELECT reconcile_minutes, concurrency FROM woo_connection'), [[15, 4]]);
  assert.equal(await page.getByLabel('Reconcile every (minutes)').inputValue(), '15');
});

test("a store order's status change and refund go to the store, shown until it takes them", async () => {
  const [[id]] = shop.sql("SELECT id FROM orders WHERE status = 'processing' AND payment_method IN ('iyzico', 'paytr') ORDER BY id DESC LIMIT 1");
  await store.control('config', { latency_ms: 1500 });
  await open(page, `/admin/orders/${id}`);
  await page.getByLabel('New status').selectOption('on-hold');
  await page.getByRole('button', { name: 'Change status' }).click();
  const withStore = page.getByRole('region', { name: 'With the store' });
  await withStore.getByText(/Status Processing → On hold .* Waiting for the store/).waitFor();
  assert.deepEqual(await accessibilityProblems(page), []);
  await waitFor('the store to take the change', async () => (await store.object('orders', id)).status === 'on-hold');
  await store.control('config', { latency_ms: 0 });

  await waitFor('the change to be confirmed', async () =>
    shop.sql(`SELECT state FROM store_writes WHERE order_id = ${id}`).flat().join() === 'confirmed');
  await open(page, `/admin/orders/${id}`);
  assert.equal(await withStore.count(), 0, 'nothing waits for the store');

  // The refund asks where the money goes back from, and is made by the store.
  const refund = page.getByRole('region', { name: 'Refund', exact: true });
  await refund.getByLabel('An amount only').check();
  await refund.getByLabel(/^Amount to refund \(/).fill('5');
  await refund.getByText('Choose how the money goes back to the customer.').waitFor();
  assert.equal(await refund.getByRole('button', { name: 'Refund', exact: true }).isDisabled(), true);
  await refund.getByLabel(/^Through .*: the store asks it to pay the customer back$/).check();
  assert.deepEqual(await accessibilityProblems(page), []);
  await refund.getByRole('button', { name: 'Refund', exact: true }).click();
  await page.getByRole('status').filter({ hasText: 'The refund is sent to the store' }).waitFor();
  await waitFor('the store to make the refund', async () => (await store.object('orders', id)).refunds.length === 1);
  assert.equal((await store.object('orders', id)).refunds[0].total, '-5.00');
  await waitFor('the refund to be in Backroom', async () => shop.sql(`SELECT COUNT(*) FROM refunds WHERE order_id = ${id}`)[0][0] === 1);
});

test('an agent may not see the store', async () => {
  const agentPage = await signedInPage(agent);
  assert.equal(await agentPage.getByRole('navigation', { name: 'Areas' }).getByRole('link', { name: 'Store' }).count(), 0);
  await open(agentPage, '/admin/store');
  await agentPage.getByRole('alert').filter({ hasText: 'not allowed' }).waitFor();
  await agentPage.close();
});

test('disconnecting asks for a tick, removes the webhooks and keeps the data', async () => {
  await open(page, '/admin/store');
  const orders = shop.sql('SELECT COUNT(*) FROM orders')[0][0];
  await page.getByRole('checkbox', { name: /^Disconnect:/ }).check();
  await page.getByRole('button', { name: 'Disconnect the store' }).click();
  await page.getByRole('status').filter({ hasText: /^Disconnected; \d+ webhooks removed/ }).waitFor();
  await page.getByRole('heading', { name: 'No store is connected' }).waitFor();
  await waitFor('the webhooks to go', async () => (await store.state()).counts.webhooks === 0);
  assert.deepEqual(shop.sql('SELECT COUNT(*) FROM orders'), [[orders]]);
});

test('no hydration errors or panics on any page', () => {
  assert.deepEqual(problems, []);
});
