// The support pages in a real browser, on a Backroom of this test's own that sends its
// email to a real SMTP server: a customer's question, sent through the public form's
// API, lands unread in the inbox and in the navigation's count; the ticket page shows
// what the customer wrote as text; a reply reaches the customer's mailbox, an internal
// note reaches nobody; the status and the assignee change; the inbox's filters and
// cursor pages live in its address; the support form's settings name a bad origin; a
// support agent works tickets but not the settings; accessibility; no hydration errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openShop, startSmtpSink, hydrated, accessibilityProblems, waitFor } from '../support.mjs';

let shop, sink, page, problems, signedInPage, close;
/// The order the customer writes about, read from the test's database.
let order;
/// The ticket the customer's question became.
const ticket = {
  subject: 'Kargom nerede? Çığ gibi ürün: ğüşiöç ĞÜŞİÖÇ',
  message: 'Merhaba,\nsiparişim hâlâ gelmedi. <script>window.__pwned = true</script> <b>Teşekkürler</b>',
  reply: 'Merhaba, kargonuz yarın teslim edilecek. İyi günler!',
  note: 'Kargo firmasını aradım; depoda bekliyor. (iç not)',
};

before(async () => {
  sink = await startSmtpSink();
  ({ shop, page, problems, signedInPage, close } = await openShop({ orders: 30, smtpUrl: sink.url }));
  order = firstOrder();
});
after(async () => {
  await close?.();
  await sink?.stop();
});

/// An order with a billing email, as the customer's confirmation would show it.
function firstOrder() {
  const [[id, number, email, first, last]] = shop.sql(
    "SELECT id, number, billing_email, billing_first_name, billing_last_name FROM orders WHERE billing_email <> '' ORDER BY id LIMIT 1");
  return { id, number, email, name: `${first} ${last}`.trim() };
}

/// Sends the support form as the customer's browser would; answers the JSON reply.
async function writeIn(subject, message) {
  const response = await fetch(`${shop.base}/api/v1/support/tickets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ order_number: order.number, email: order.email, subject, message, website: '' }),
  });
  const body = await response.json();
  assert.equal(response.status, 201, JSON.stringify(body));
  return body;
}

const open = async (path) => {
  await page.goto(`${shop.base}${path}`);
  await hydrated(page);
};
const rows = () => page.locator('#tickets-rows tr');
const rowIds = () => rows().evaluateAll((trs) => trs.map((tr) => tr.dataset.id));
const supportLink = () => page.locator('nav[aria-label="Areas"] a[href="/admin/support"]');
/// What a sighted reader sees of `locator`: its text without the parts only screen readers get.
const visibleText = (locator) => locator.evaluate((element) => {
  const copy = element.cloneNode(true);
  copy.querySelectorAll('.visually-hidden').forEach((hidden) => hidden.remove());
  return copy.textContent.trim();
});
const mailTo = (address) => sink.received().filter((m) => m.rcpt_tos.includes(address));

/// Waits for an email to `address` that `matches`; fails after `ms`.
function mailArrives(address, matches) {
  return waitFor(`an email to ${address}`, () => mailTo(address).find(matches));
}

test('the inbox starts empty and says so', async () => {
  await supportLink().click();
  await page.getByRole('heading', { level: 1, name: 'Support' }).waitFor();
  await page.getByText('No tickets yet.').waitFor();
  assert.equal(await page.getByRole('link', { name: 'Support', exact: true }).count(), 1, 'no count when nothing is unread');
});

test("a customer's question becomes an unread ticket in the inbox and in the navigation's count", async () => {
  const answer = await writeIn(ticket.subject, ticket.message);
  ticket.reference = answer.reference;
  assert.match(ticket.reference, /^T-[2-9A-HJKMNP-Z]{6}$/);
  await open('/admin/support');
  const row = rows().filter({ hasText: ticket.reference });
  assert.equal(await rows().count(), 1);
  ticket.id = await row.getAttribute('data-id');
  await row.getByRole('link', { name: ticket.subject }).waitFor();
  assert.equal((await row.locator('.unread-marker').textContent()).trim(), 'Unread', 'unread is said in words');
  await row.getByRole('link', { name: `#${order.number}` }).waitFor();
  assert.equal(await row.getByRole('link', { name: `#${order.number}` }).getAttribute('href'), `/admin/orders/${order.id}`);
  assert.equal((await row.locator('.badge.ticket-open').textContent()).trim(), 'Open');
  assert.match(await row.textContent(), new RegExp(order.email.replace(/[.+]/g, '\\$&')));
  assert.match(await row.textContent(), /Unassigned/);
  assert.match(await row.locator('td').last().textContent(), /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  await page.getByRole('link', { name: 'Support (1 unread)', exact: true }).waitFor();
  assert.equal(await visibleText(supportLink()), 'Support (1)');
  assert.deepEqual(await accessibilityProblems(page), []);
  // The customer was told the reference by email.
  await mailArrives(order.email, (m) => m.subject.includes(ticket.reference));
});

test('the filters live in the address, and the form puts them there', async () => {
  await open('/admin/support?status=closed');
  await page.getByText('No tickets match these filters.').waitFor();
  assert.equal(await page.getByLabel('Status', { exact: true }).inputValue(), 'closed');
  await page.getByLabel('Status', { exact: true }).selectOption('open');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL((url) => url.searchParams.get('status') === 'open');
  await rows().first().waitFor();
  await open(`/admin/support?search=${ticket.reference}`);
  assert.equal(await rows().count(), 1);
  assert.equal(await page.getByLabel('Search').inputValue(), ticket.reference);
  await open('/admin/support?assignee=none');
  assert.equal(await rows().count(), 1);
  await page.getByLabel('Assignee').selectOption('me');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL((url) => url.searchParams.get('assignee') === 'me');
  await page.getByText('No tickets match these filters.').waitFor();
  await page.reload();
  await hydrated(page);
  assert.equal(await page.getByLabel('Assignee').inputValue(), 'me');
  await open('/admin/support?status=waiting');
  await page.getByRole('alert').filter({ hasText: 'unknown ticket status' }).waitFor();
});

test('the ticket page shows what the customer wrote as text, with the order, and marks it read', async () => {
  await open('/admin/support');
  await page.getByRole('link', { name: ticket.subject }).click();
  await page.waitForURL(`${shop.base}/admin/support/${ticket.id}`);
  await page.getByRole('heading', { level: 1, name: ticket.subject }).waitFor();
  assert.match(await page.locator('.ticket-head').textContent(), new RegExp(ticket.reference));
  assert.equal((await page.locator('.ticket-head .badge').textContent()).trim(), 'Open');
  assert.match(await page.locator('.ticket-facts').first().textContent(), new RegExp(order.email.replace(/[.+]/g, '\\$&')));
  const orderLink = page.getByRole('link', { name: `#${order.number}` });
  assert.equal(await orderLink.getAttribute('href'), `/admin/orders/${order.id}`);
  assert.match(await page.locator('section', { has: orderLink }).textContent(), /Total[\d.,]+ [A-Z]{3} \(\d+ items?\)/);
  const first = page.locator('.thread li').first();
  assert.equal(await first.getAttribute('data-kind'), 'customer');
  assert.equal(await first.locator('.message-body').textContent(), ticket.message, 'the message exactly as written');
  assert.equal(await page.locator('.thread script, .thread b').count(), 0, 'no markup from the customer');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  // Opened: no longer unread, in the navigation nor in the inbox.
  await page.getByRole('link', { name: 'Support', exact: true }).waitFor();
  assert.deepEqual(await accessibilityProblems(page), []);
  await open('/admin/support');
  assert.equal(await page.locator('#tickets-rows .unread-marker').count(), 0);
});

test('a reply is emailed to the customer and joins the thread', async () => {
  await open(`/admin/support/${ticket.id}`);
  await page.getByLabel('Reply', { exact: true }).fill(ticket.reply);
  assert.match(await page.locator('#reply-hint').textContent(), /Emailed to/);
  await page.getByRole('button', { name: 'Send reply' }).click();
  await page.getByRole('status').filter({ hasText: 'queued to be emailed' }).waitFor();
  const reply = page.locator('.thread li[data-kind="reply"]');
  await reply.waitFor();
  assert.equal(await reply.locator('.message-body').textContent(), ticket.reply);
  assert.match(await reply.locator('.message-meta').textContent(), /Reply — email(ed| queued)/);
  assert.equal(await page.getByLabel('Reply', { exact: true }).inputValue(), '', 'the form is emptied once sent');
  assert.equal((await page.locator('.ticket-head .badge').textContent()).trim(), 'Waiting for the customer');
  const mail = await mailArrives(order.email, (m) => m.subject.includes(ticket.reference) && m.text?.includes(ticket.reply));
  assert.match(mail.subject, /Re: /);
  assert.ok(mail.subject.includes(ticket.subject), mail.subject);
  // Once the outbox has it as sent, the page says so.
  await waitFor('the reply marked sent', () => shop.sql("SELECT COUNT(*) FROM mail_outbox WHERE kind = 'ticket.reply' AND state = 'sent'")[0][0] > 0);
  await page.reload();
  await hydrated(page);
  assert.match(await page.locator('.thread li[data-kind="reply"] .message-meta').textContent(), /Reply — emailed/, 'the reply is shown as emailed');
});

test('an internal note is labelled as such and never emailed', async () => {
  const before = mailTo(order.email).length;
  await page.getByLabel('Note', { exact: true }).fill(ticket.note);
  await page.getByRole('button', { name: 'Add internal note' }).click();
  await page.getByRole('status').filter({ hasText: 'internal note is added' }).waitFor();
  const note = page.locator('.thread li[data-kind="note"]');
  await note.waitFor();
  assert.equal(await note.locator('.message-body').textContent(), ticket.note);
  assert.match(await note.locator('.message-meta').textContent(), /Internal note — not emailed/);
  assert.deepEqual(await page.locator('.thread li').evaluateAll((lis) => lis.map((li) => li.dataset.kind)), ['customer', 'reply', 'note'],
    'the thread runs oldest first');
  // Nothing is waiting in the outbox, so nothing more can arrive.
  await waitFor('an empty outbox queue', () => shop.sql("SELECT COUNT(*) FROM mail_outbox WHERE state = 'queued'")[0][0] === 0);
  assert.equal(mailTo(order.email).length, before);
  assert.equal(sink.received().some((m) => m.text?.includes(ticket.note) || m.html?.includes('depoda bekliyor')), false);
});

test('the status and the assignee change, and the inbox shows both', async () => {
  await page.getByLabel('Status', { exact: true }).selectOption('resolved');
  await page.getByRole('button', { name: 'Change status' }).click();
  await page.getByRole('status').filter({ hasText: 'The ticket is now resolved.' }).waitFor();
  await page.locator('.ticket-head .badge', { hasText: 'Resolved' }).waitFor();
  await page.getByLabel('Assign to').selectOption({ label: shop.owner.name });
  await page.getByRole('button', { name: 'Assign' }).click();
  await page.getByRole('status').filter({ hasText: `The ticket is assigned to ${shop.owner.name}.` }).waitFor();
  await page.locator('.ticket-facts dd', { hasText: shop.owner.name }).waitFor();
  await page.reload();
  await hydrated(page);
  assert.equal(await page.getByLabel('Status', { exact: true }).inputValue(), 'resolved');
  assert.equal(await page.getByLabel('Assign to').locator('option:checked').textContent(), shop.owner.name);
  await open('/admin/support?assignee=me&status=resolved');
  const row = rows().filter({ hasText: ticket.reference });
  assert.match(await row.textContent(), new RegExp(shop.owner.name));
  assert.equal((await row.locator('.badge.ticket-resolved').textContent()).trim(), 'Resolved');
});

test('an unknown ticket says so, with the way back', async () => {
  for (const id of ['999999', 'nonsense']) {
    await open(`/admin/support/${id}`);
    await page.getByRole('heading', { level: 1, name: 'Ticket not found' }).waitFor();
  }
  await page.locator('.card').getByRole('link', { name: 'Back to the inbox' }).click();
  await page.waitForURL(`${shop.base}/admin/support`);
});

test("the support form's settings name a malformed origin and save good ones", async () => {
  await open('/admin/support');
  await page.getByRole('link', { name: 'Support form settings' }).click();
  await page.getByRole('heading', { level: 1, name: 'Support form settings' }).waitFor();
  const origins = page.getByLabel('Origins that may embed the form (one a line)');
  await origins.fill('https://shop.example\nshop.example/iletisim');
  await page.getByRole('button', { name: 'Save support settings' }).click();
  await page.getByRole('alert').filter({ hasText: '“shop.example/iletisim” is not an origin' }).waitFor();
  await origins.fill('https://shop.example/\nhttp://127.0.0.1:8080');
  await page.getByLabel('Messages per hour from one address').fill('200');
  await page.getByLabel('Messages per day about one order').fill('200');
  await page.getByRole('button', { name: 'Save support settings' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await page.reload();
  await hydrated(page);
  assert.equal(await origins.inputValue(), 'https://shop.example\nhttp://127.0.0.1:8080');
  assert.equal(await page.getByLabel('Messages per hour from one address').inputValue(), '200');
  assert.deepEqual(await accessibilityProblems(page), []);
});

test('cursor pages go forward and back, and survive a reload', async () => {
  // The limits were raised above: one customer writes many times.
  for (let i = 1; i <= 26; i++) await writeIn(`Soru ${i}`, `Soru numarası ${i}`);
  await open('/admin/support');
  assert.equal(await rows().count(), 25);
  const first = await rowIds();
  // The first ticket was read and resolved; the 26 new ones are unread.
  await page.getByRole('link', { name: 'Support (26 unread)', exact: true }).waitFor();
  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL((url) => url.searchParams.has('cursor'));
  await page.waitForFunction((before) => document.querySelector('#tickets-rows tr')?.dataset.id !== before, first[0]);
  const second = await rowIds();
  assert.equal(second.length, 2, '27 tickets: 25 and 2');
  assert.equal(second.some((id) => first.includes(id)), false);
  assert.ok(second.includes(ticket.id), 'the oldest activity is last');
  await page.reload();
  await hydrated(page);
  assert.deepEqual(await rowIds(), second);
  assert.equal(await page.getByRole('link', { name: 'Next page' }).count(), 0);
  await page.getByRole('link', { name: 'First page' }).click();
  await page.waitForURL((url) => !url.searchParams.has('cursor'));
  await page.waitForFunction((want) => document.querySelector('#tickets-rows tr')?.dataset.id === want, first[0]);
});

test('a support agent works tickets, but not the support settings', async () => {
  const agent = { name: 'Deniz Yılmaz', email: 'deniz@shop.example', password: 'a long agent password' };
  shop.addUser(agent, 'agent');
  const agentPage = await signedInPage(agent);
  try {
    await agentPage.goto(`${shop.base}/admin/support`);
    await hydrated(agentPage);
    assert.equal(await agentPage.locator('#tickets-rows tr').count(), 25);
    assert.equal(await agentPage.getByRole('link', { name: 'Support form settings' }).count(), 0);
    await agentPage.goto(`${shop.base}/admin/support/${ticket.id}`);
    await hydrated(agentPage);
    await agentPage.getByLabel('Assign to').selectOption({ label: agent.name });
    await agentPage.getByRole('button', { name: 'Assign' }).click();
    await agentPage.getByRole('status').filter({ hasText: `The ticket is assigned to ${agent.name}.` }).waitFor();
    await agentPage.goto(`${shop.base}/admin/support/settings`);
    await hydrated(agentPage);
    await agentPage.getByRole('alert').filter({ hasText: 'not allowed' }).waitFor();
  } finally {
    await agentPage.context().close();
  }
});

test('no page reported a hydration error or a panic', () => {
  assert.deepEqual(problems, []);
});
