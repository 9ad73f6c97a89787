// The support form as a customer meets it: the one-line snippet on a plain storefront
// page served from another origin shows the form in an iframe; the right order and email
// get a confirmation and an acknowledgement email; a wrong pair gets the uniform message;
// the form works without JavaScript; the shop's manager sees the ticket and replies, and
// the reply reaches the SMTP server. The embed page's weight over the wire is measured.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get } from 'node:http';
import { launch, startBackroom, startSmtpSink, signIn, hydrated, accessibilityProblems, watchProblems, waitFor } from '../support.mjs';

let sink, shop, storefront, storefrontUrl, browser;
const problems = [];

const sql = (statement) => shop.sql(statement);

before(async () => {
  sink = await startSmtpSink();
  shop = await startBackroom({ orders: 40, smtpUrl: sink.url });
  // A storefront on another origin: a plain page with the snippet pasted in.
  storefront = createServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Anadolu Home — Help</title></head>
      <body><main><h1>Help</h1><p>Questions about an order? Write to us:</p>
      <script src="${shop.base}/support.js" async></script></main></body></html>`);
  });
  await new Promise((r) => storefront.listen(0, '127.0.0.1', r));
  storefrontUrl = `http://127.0.0.1:${storefront.address().port}`;
  sql(`UPDATE support_settings SET embed_origins = '${storefrontUrl}' WHERE id = 1`);
  sql("UPDATE mail_settings SET notify_address = 'destek@anadolu.example' WHERE id = 1");
  browser = await launch();
});
after(async () => {
  await browser?.close();
  storefront?.close();
  await shop?.stop();
  await sink?.stop();
});

test('the snippet shows the form in an iframe on another origin, and a right pair gets a confirmation', async () => {
  const page = await (await browser.newContext()).newPage();
  watchProblems(page, problems);
  await page.goto(storefrontUrl);
  const frame = page.frameLocator('iframe[title="Contact us about an order"]');
  await frame.getByLabel('Order number').waitFor();
  const [[number, email]] = sql('SELECT number, billing_email FROM orders ORDER BY id LIMIT 1');

  // A wrong pair: the uniform message, the typed values kept.
  await frame.getByLabel('Order number').fill(number);
  await frame.getByLabel('Email address').fill('someone.else@example.com');
  await frame.getByLabel('Subject').fill('Kargom nerede?');
  await frame.getByLabel('Message').fill('Siparişim hâlâ gelmedi <b>lütfen</b> yardım edin.');
  await frame.getByRole('button', { name: 'Send' }).click();
  const alert = frame.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /could not find an order with that number and email address/);
  assert.equal(await frame.getByLabel('Subject').inputValue(), 'Kargom nerede?');

  // The right pair (the email in other letters' case): a confirmation with the reference.
  await frame.getByLabel('Email address').fill(email.toUpperCase());
  await frame.getByRole('button', { name: 'Send' }).click();
  const confirmation = frame.getByRole('status');
  await confirmation.waitFor();
  const reference = (await frame.locator('.reference').textContent()).trim();
  assert.match(reference, /^T-[2-9A-Z]{6}$/);
  const [[subject, status]] = sql(`SELECT subject, status FROM tickets WHERE reference = '${reference}'`);
  assert.deepEqual([subject, status], ['Kargom nerede?', 'open']);
  // The frame grew to fit the form (the page heard its height).
  const height = await page.locator('iframe').evaluate((f) => f.getBoundingClientRect().height);
  assert.ok(height > 150, `frame height ${height}`);

  // The acknowledgement reaches the customer; the notice reaches the shop.
  const ack = await waitFor('the acknowledgement', () => sink.received().find((m) => m.rcpt_tos[0] === email && m.subject.includes(reference)));
  assert.match(ack.text, /Siparişim hâlâ gelmedi <b>lütfen<\/b> yardım edin\./);
  assert.match(ack.html, /&lt;b&gt;lütfen&lt;\/b&gt;/);
  await waitFor('the shop notice', () => sink.received().find((m) => m.rcpt_tos[0] === 'destek@anadolu.example'));
  await page.context().close();
});

test('the form works without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${shop.base}/support`);
  const [[number, email]] = sql('SELECT number, billing_email FROM orders ORDER BY id LIMIT 1 OFFSET 1');
  await page.getByLabel('Order number').fill(number);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Subject').fill('İade');
  await page.getByLabel('Message').fill('Ürün kırık geldi.');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('status').waitFor();
  assert.match(await page.locator('.reference').textContent(), /^T-/);
  await context.close();
});

test('the support page passes an accessibility check', async () => {
  // (axe runs as a script, so not in the page above.)
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${shop.base}/support`);
  assert.deepEqual(await accessibilityProblems(page), []);
  await page.context().close();
});

test('a page that is not listed cannot frame the form', async () => {
  const page = await (await browser.newContext()).newPage();
  sql("UPDATE support_settings SET embed_origins = 'https://elsewhere.example' WHERE id = 1");
  const embedAnswered = page.waitForResponse((r) => r.url().endsWith('/support/embed'));
  await page.goto(storefrontUrl);
  // The browser receives the form, then refuses to render it in a frame its
  // frame-ancestors policy does not allow: the frame holds an error page instead.
  await embedAnswered;
  const frame = await (await page.locator('iframe').elementHandle()).contentFrame();
  await frame.waitForLoadState('load');
  const fields = await frame.locator('#order_number').count();
  assert.equal(fields, 0);
  sql(`UPDATE support_settings SET embed_origins = '${storefrontUrl}' WHERE id = 1`);
  await page.context().close();
});

test('the manager sees the ticket, replies, and the reply reaches the customer by email', async () => {
  const page = await (await browser.newContext()).newPage();
  watchProblems(page, problems);
  await signIn(page, shop.base, shop.owner);
  await page.goto(`${shop.base}/admin/support`);
  await hydrated(page);
  await page.getByRole('link', { name: 'Kargom nerede?' }).click();
  await page.getByText('Siparişim hâlâ gelmedi <b>lütfen</b> yardım edin.').waitFor();
  const [[reference, email]] = sql("SELECT reference, customer_email FROM tickets WHERE subject = 'Kargom nerede?'");
  await page.getByLabel('Reply', { exact: true }).fill('Merhaba, kargonuz yarın elinizde olacak.');
  await page.getByRole('button', { name: 'Send reply' }).click();
  const reply = await waitFor('the reply', () =>
    sink.received().find((m) => m.rcpt_tos[0] === email && m.subject.includes(`[${reference}] Re:`)));
  assert.match(reply.text, /kargonuz yarın elinizde olacak/);
  await page.context().close();
});

test('the embed page weighs little over the wire', async () => {
  const gzipped = (path) => new Promise((resolve, reject) => {
    get(`${shop.base}${path}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => { bytes += chunk.length; });
      res.on('end', () => resolve({ bytes, encoding: res.headers['content-encoding'], status: res.statusCode }));
    }).on('error', reject);
  });
  const html = await gzipped('/support/embed');
  const script = await gzipped('/support-form.js');
  assert.equal(html.status, 200);
  assert.equal(html.encoding, 'gzip');
  const total = html.bytes + script.bytes;
  console.log(`embed weight over the wire (gzip): page ${html.bytes} B + script ${script.bytes} B = ${total} B`);
  assert.ok(total < 30 * 1024, `${total} bytes`);
});

test('no page reported a hydration error or a panic', () => {
  assert.deepEqual(problems, []);
});
