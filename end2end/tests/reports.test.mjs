// Sales reports and payment transactions in a real browser, on a Backroom of this test's
// own: periods kept in the address, a custom range, the chart switch, a bad range, the
// CSV export, transactions filtered and paged, accessibility, and no hydration errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openShop, hydrated, accessibilityProblems } from '../support.mjs';

let backroom, page, problems, close;

before(async () => {
  ({ shop: backroom, page, problems, close } = await openShop({ orders: 600 }));
});
after(async () => {
  await close?.();
});

const text = async (locator) => (await locator.textContent()).trim();
const figure = (key) => page.getByTestId(`figure-${key}`);
const periodLink = (name) => page.getByRole('navigation', { name: 'Period' }).getByRole('link', { name, exact: true });
/// A day `n` days before today, `YYYY-MM-DD` (UTC; the tests allow for the shop's zone).
const daysAgo = (n) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/// Waits until the figure `key` shows something other than `before` (the page refetches
/// after the address changes, showing "Loading…" in between).
const figureChanges = (key, before) => page.waitForFunction(([key, before]) => {
  const shown = document.querySelector(`[data-testid="figure-${key}"]`);
  return shown && shown.textContent.trim() !== before;
}, [key, before]);

test('the reports page opens on the last 30 days: figures against the previous period, a chart, top products', async () => {
  await page.getByRole('link', { name: 'Reports', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Sales reports' }).waitFor();
  await hydrated(page);
  assert.equal(await periodLink('30 days').getAttribute('aria-current'), 'page');
  for (const key of ['gross', 'refunds', 'net', 'orders', 'items', 'average']) {
    await figure(key).waitFor();
    assert.match(await text(page.getByTestId(`change-${key}`)), /^(▲ up|▼ down)? ?[\d.]+%$|^no change|^—/);
  }
  assert.match(await text(figure('gross')), /TRY$/);
  assert.notEqual(await text(figure('orders')), '0', 'demo orders of the last 30 days count');
  assert.match(await text(page.getByTestId('report-period')), /compared with .* midnight to midnight in [\w/]+\.$/);
  const products = await page.getByRole('region', { name: 'Top products' }).locator('tbody tr').count();
  assert.ok(products > 0 && products <= 10, `${products} top products`);
});

test('switching from 7 to 90 days changes the figures, and the address keeps the period', async () => {
  await periodLink('7 days').click();
  await page.waitForURL(/\/admin\/reports\?period=7d$/);
  await page.waitForFunction(() =>
    document.querySelector('[data-testid="chart-caption"]')?.textContent.startsWith('Gross sales per day, ')
    && document.querySelectorAll('.chart-numbers tbody tr').length === 7);
  const week = await text(figure('orders'));
  await periodLink('90 days').click();
  await page.waitForURL(/\/admin\/reports\?period=90d$/);
  await figureChanges('orders', week);
  const quarter = await text(figure('orders'));
  assert.ok(Number(quarter) > Number(week), `90 days (${quarter} orders) hold more than 7 (${week})`);
  assert.equal(await periodLink('90 days').getAttribute('aria-current'), 'page');
  assert.equal(await periodLink('7 days').getAttribute('aria-current'), null);

  await page.reload();
  await hydrated(page);
  assert.equal(await text(figure('orders')), quarter, 'a reload shows the same period');
  assert.equal(await page.locator('.chart-numbers tbody tr').count(), 90);
});

test('a custom range shows exactly those days', async () => {
  const [from, to] = [daysAgo(20), daysAgo(14)];
  await page.getByLabel('From (day)').fill(from);
  await page.getByLabel('To (day, included)').fill(to);
  await page.getByRole('button', { name: 'Show range' }).click();
  await page.waitForURL(new RegExp(`/admin/reports\\?from=${from}&to=${to}$`));
  await page.getByTestId('report-period').filter({ hasText: `${from} to ${to}, compared with` }).waitFor();
  assert.equal(await page.locator('.chart-numbers tbody tr').count(), 7);
  for (const name of ['Today', '7 days', '30 days', '90 days']) {
    assert.equal(await periodLink(name).getAttribute('aria-current'), null, `${name} is not the period shown`);
  }
});

test('the chart switches from gross sales to orders, which proves the page hydrated', async () => {
  const caption = page.getByTestId('chart-caption');
  assert.match(await text(caption), /^Gross sales per day, /);
  await page.getByRole('button', { name: 'Orders', exact: true }).click();
  await page.waitForFunction(() =>
    document.querySelector('[data-testid="chart-caption"]').textContent.startsWith('Orders per day'));
  assert.equal(await page.getByRole('button', { name: 'Orders', exact: true }).getAttribute('aria-pressed'), 'true');
  assert.equal(await page.getByRole('button', { name: 'Gross sales', exact: true }).getAttribute('aria-pressed'), 'false');
  assert.match(await page.getByRole('img', { name: /^Orders per day/ }).getAttribute('aria-label'), /^Orders per day, /);
  // The numbers behind the bars, for anyone who cannot see them.
  await page.getByText('The numbers behind the chart').click();
  const numbers = page.locator('.chart-numbers table');
  assert.deepEqual(await numbers.locator('thead th').allTextContents(), ['Day', 'Gross sales', 'Net sales', 'Orders']);
  assert.equal(await numbers.locator('tbody tr').count(), 7);
});

test('a bad period shows the reason', async () => {
  await page.getByLabel('From (day)').fill(daysAgo(3));
  await page.getByLabel('To (day, included)').fill(daysAgo(5));
  await page.getByRole('button', { name: 'Show range' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal(await text(alert), 'from must not be after to');

  for (const [query, says] of [
    ['period=1y', 'the period must be today, 7d, 30d or 90d'],
    ['from=2020-01-01&to=2026-01-01', 'a report covers at most 732 days'],
    ['from=01.01.2026&to=2026-01-31', 'from must be a day such as 2026-11-01'],
  ]) {
    await page.goto(`${backroom.base}/admin/reports?${query}`);
    await hydrated(page);
    assert.equal(await text(page.getByRole('alert')), says, query);
  }
  // The choice stays on the page, so the way out is one click.
  await periodLink('Today').click();
  await page.waitForURL(/\/admin\/reports\?period=today$/);
  await figure('gross').waitFor();
});

test('the CSV export has a row per day, a blank line, the totals and the previous period', async () => {
  await periodLink('7 days').click();
  await page.waitForURL(/period=7d$/);
  const link = page.getByRole('link', { name: 'Export CSV' });
  await page.waitForFunction(() => document.querySelector('a[download]')?.getAttribute('href').endsWith('period=7d'));
  const href = await link.getAttribute('href');
  assert.equal(href, '/admin/reports/sales.csv?period=7d');
  const response = await page.request.get(new URL(href, backroom.base).href);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-type'], /^text\/csv/);
  assert.match(response.headers()['content-disposition'], /^attachment; filename="backroom-sales-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv"$/);
  const body = (await response.body()).toString('utf8');
  assert.ok(body.startsWith('\ufeff'), 'a byte-order mark, so spreadsheets read UTF-8');
  const lines = body.slice(1).split('\r\n');
  assert.equal(lines[0], '"day","orders","items","gross","refunds","net","average order value","currency"');
  for (const day of lines.slice(1, 8)) {
    assert.match(day, /^"\d{4}-\d{2}-\d{2}","\d+","\d+","\d+\.\d{2}","\d+\.\d{2}","'?-?\d+\.\d{2}","\d+\.\d{2}","TRY"$/);
  }
  assert.equal(lines[8], '', 'a blank line after the seven days');
  assert.match(lines[9], /^"total \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}","\d+",/);
  assert.match(lines[10], /^"previous period \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}","\d+",/);
  const orders = lines.slice(1, 8).reduce((sum, line) => sum + Number(line.split(',')[1].replaceAll('"', '')), 0);
  assert.equal(String(orders), lines[9].split(',')[1].replaceAll('"', ''), 'the total is the sum of the days');

  // Who took a copy of the figures is in the audit log.
  await page.goto(`${backroom.base}/admin/audit?action=reports.`);
  await page.getByRole('cell', { name: 'reports.export' }).first().waitFor();
});

test('transactions filter by gateway and status, and page on with the cursor in the address', async () => {
  await page.getByRole('link', { name: 'Transactions', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Transactions' }).waitFor();
  await hydrated(page);
  await page.getByLabel('Gateway').fill('iyzico');
  await page.getByLabel('Status').selectOption('succeeded');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/\/admin\/transactions\?gateway=iyzico&status=succeeded$/);
  const onlyIyzico = () => page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('table tbody tr')];
    return rows.length === 25 && rows.every((r) => r.cells[2].textContent === 'iyzico' && r.cells[6].textContent === 'succeeded');
  });
  await onlyIyzico();
  const firstId = () => text(page.locator('table tbody tr').first().locator('td').nth(3));
  const pageOne = await firstId();
  assert.match(await page.locator('table tbody tr').first().getByRole('link').getAttribute('href'), /^\/admin\/orders\/\d+$/);
  assert.equal(await page.getByRole('link', { name: 'First page' }).count(), 0, 'already on the first page');

  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL(/\/admin\/transactions\?gateway=iyzico&status=succeeded&cursor=[\w-]+$/);
  await page.waitForFunction((before) => {
    const cell = document.querySelector('table tbody tr td:nth-child(4)');
    return cell && cell.textContent.trim() !== before;
  }, pageOne);
  await onlyIyzico();
  const pageTwo = await firstId();
  await page.reload();
  await hydrated(page);
  assert.equal(await firstId(), pageTwo, 'a reload shows the same page');
  assert.equal(await page.getByLabel('Gateway').inputValue(), 'iyzico', 'the form shows the filters in force');

  await page.getByRole('link', { name: 'First page' }).click();
  await page.waitForURL(/\/admin\/transactions\?gateway=iyzico&status=succeeded$/);
  await page.waitForFunction((first) => document.querySelector('table tbody tr td:nth-child(4)')?.textContent.trim() === first, pageOne);
});

test('a bad transactions filter shows the reason', async () => {
  await page.goto(`${backroom.base}/admin/transactions?order=ORD-7`);
  await hydrated(page);
  assert.equal(await text(page.getByRole('alert')), 'the order must be an order ID such as 1042');
});

test('the reports and transactions pages pass an accessibility check, with no hydration errors', async () => {
  for (const path of ['/admin/reports?period=90d', '/admin/transactions?status=succeeded']) {
    await page.goto(`${backroom.base}${path}`);
    await hydrated(page);
    // The first table in view (the chart's numbers stay folded away).
    await page.locator('.card.table-wrap tbody tr').first().waitFor();
    assert.deepEqual(await accessibilityProblems(page), [], path);
  }
  assert.deepEqual(problems, []);
});
