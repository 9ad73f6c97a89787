// The team's accounts in a real browser, on a Backroom of this test's own that sends its
// email to a real SMTP server: the owner invites someone, who makes their account from the
// emailed link and lands in the panel with the role given; the owner changes that role in
// place; a forgotten password is reset from the sign-in page with the emailed link, which
// signs every browser out; the owner turns two-factor sign-in on with an authenticator
// app's code and is asked for the next code at sign-in. Each page passes axe; no
// hydration errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { openShop, startSmtpSink, hydrated, accessibilityProblems, waitFor, watchProblems } from '../support.mjs';

let shop, sink, browser, page, problems, close;
const invitee = { name: 'Deniz Kaya', email: 'deniz@shop.example', password: 'a password of my own' };

before(async () => {
  sink = await startSmtpSink();
  ({ shop, browser, page, problems, close } = await openShop({ orders: 10, smtpUrl: sink.url }));
});
after(async () => {
  await close?.();
  await sink?.stop();
});

/// The link in the latest email to `to` whose subject matches `subject`.
async function linkMailed(to, subject) {
  const mail = await waitFor(`an email to ${to}`, () =>
    sink.received().reverse().find((m) => m.rcpt_tos.includes(to) && subject.test(m.subject)));
  const link = /(http:\/\/\S+\?token=[a-z2-7]+)/.exec(mail.text);
  assert.ok(link, mail.text);
  return link[1];
}

/// The six digits an authenticator app shows for `secret` (base32), `offset` seconds
/// from now (RFC 6238: HMAC-SHA-1, 30-second steps).
function totp(secret, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const key = [];
  for (const c of secret.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      key.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor((Date.now() / 1000 + offset) / 30)));
  const mac = createHmac('sha1', Buffer.from(key)).update(counter).digest();
  const at = mac[19] & 15;
  const number = (((mac[at] & 127) << 24) | (mac[at + 1] << 16) | (mac[at + 2] << 8) | mac[at + 3]) % 1_000_000;
  return String(number).padStart(6, '0');
}

async function visitorPage() {
  const visitor = await (await browser.newContext()).newPage();
  watchProblems(visitor, problems);
  return visitor;
}

const section = (on, heading) => on.locator('section', { has: on.getByRole('heading', { name: heading }) });

test('an invited person makes their account from the emailed link, with the role given', async () => {
  await page.goto(`${shop.base}/admin/users`);
  await hydrated(page);
  const invite = section(page, 'Invite someone');
  await invite.getByLabel('Email').fill(invitee.email);
  await invite.getByLabel('Role').selectOption({ label: 'Support agent' });
  await invite.getByRole('button', { name: 'Send the invitation' }).click();
  await page.getByRole('status').filter({ hasText: `The invitation is on its way to ${invitee.email}` }).waitFor();
  await page.getByRole('cell', { name: invitee.email, exact: true }).waitFor();
  assert.deepEqual(await accessibilityProblems(page), [], '/admin/users with an invitation');

  const link = await linkMailed(invitee.email, /you are invited to Backroom/);
  const visitor = await visitorPage();
  await visitor.goto(link);
  await hydrated(visitor);
  await visitor.getByText('as support agent').waitFor();
  assert.deepEqual(await accessibilityProblems(visitor), [], '/admin/invitation');
  await visitor.getByLabel('Your name').fill(invitee.name);
  await visitor.getByLabel(/^Password/).fill(invitee.password);
  await visitor.getByRole('button', { name: 'Make my account' }).click();
  await visitor.waitForURL(`${shop.base}/admin`);
  await visitor.getByRole('heading', { name: 'Dashboard' }).waitFor();
  await visitor.context().close();
  assert.deepEqual(shop.sql(`SELECT name, role FROM users WHERE email = '${invitee.email}'`), [[invitee.name, 'agent']]);
});

test('the owner changes a role in place', async () => {
  await page.reload();
  await hydrated(page);
  await page.getByLabel(`Role of ${invitee.email}`, { exact: true }).selectOption({ label: 'Shop manager' });
  await page.getByRole('button', { name: `Change the role of ${invitee.email}` }).click();
  await waitFor('the new role', () => shop.sql(`SELECT role FROM users WHERE email = '${invitee.email}'`)[0][0] === 'manager');
  await page.reload();
  await hydrated(page);
  assert.equal(await page.getByLabel(`Role of ${invitee.email}`, { exact: true }).inputValue(), 'manager');
  assert.equal(await page.getByRole('heading', { name: 'Invitations not yet accepted' }).count(), 0);
});

test('a forgotten password is reset from the sign-in page with the emailed link', async () => {
  const visitor = await visitorPage();
  await visitor.goto(`${shop.base}/admin/login`);
  await hydrated(visitor);
  await visitor.getByRole('link', { name: 'Forgot your password?' }).click();
  await visitor.waitForURL(`${shop.base}/admin/forgot-password`);
  await hydrated(visitor);
  assert.deepEqual(await accessibilityProblems(visitor), [], '/admin/forgot-password');
  await visitor.getByLabel('Email').fill(shop.owner.email);
  await visitor.getByRole('button', { name: 'Send the link' }).click();
  await visitor.getByRole('status').filter({ hasText: 'If an account has this address' }).waitFor();

  const link = await linkMailed(shop.owner.email, /reset your Backroom password/);
  await visitor.goto(link);
  await hydrated(visitor);
  await visitor.getByText(`For ${shop.owner.email}.`).waitFor();
  assert.deepEqual(await accessibilityProblems(visitor), [], '/admin/reset-password');
  const password = 'the owner remembers this one';
  await visitor.getByLabel(/^New password/).fill(password);
  await visitor.getByRole('button', { name: 'Set the password' }).click();
  await visitor.waitForURL(`${shop.base}/admin/login?reset=done`);
  await visitor.getByRole('status').filter({ hasText: 'Your new password is set' }).waitFor();
  await hydrated(visitor);
  await visitor.getByLabel('Email').fill(shop.owner.email);
  await visitor.getByLabel('Password').fill(password);
  await visitor.getByRole('button', { name: 'Sign in' }).click();
  await visitor.waitForURL(`${shop.base}/admin`);

  // The owner's other browser was signed out; the link does not work twice.
  await page.goto(`${shop.base}/admin`);
  assert.match(page.url(), /\/admin\/login$/);
  const again = await visitorPage();
  await again.goto(link);
  await hydrated(again);
  await again.getByText('This link has expired or was already used.').waitFor();
  await again.context().close();
  // The owner goes on in the browser they reset the password in.
  page = visitor;
  shop.owner.password = password;
});

test('the owner turns two-factor sign-in on, and the next sign-in asks for a code', async () => {
  await page.goto(`${shop.base}/admin/access`);
  await hydrated(page);
  const twoFactor = page.locator('section[aria-labelledby="two-factor-heading"]');
  await twoFactor.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  const secret = (await twoFactor.locator('code.secret').textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await twoFactor.getByRole('img', { name: 'QR code with your authenticator secret' }).waitFor();
  await twoFactor.getByLabel('Code from the app').fill(totp(secret));
  await twoFactor.getByLabel('Your password', { exact: true }).fill(shop.owner.password);
  await twoFactor.getByRole('button', { name: 'Turn it on' }).click();
  await twoFactor.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
  assert.equal(await twoFactor.locator('.recovery-codes li').count(), 10);
  await twoFactor.getByText(/^On: signing in asks for a code/).waitFor();
  assert.deepEqual(await accessibilityProblems(page), [], '/admin/access with two-factor sign-in on');

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(`${shop.base}/admin/login`);
  await hydrated(page);
  await page.getByLabel('Email').fill(shop.owner.email);
  await page.getByLabel('Password').fill(shop.owner.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/admin\/sign-in-code/);
  await hydrated(page);
  assert.deepEqual(await accessibilityProblems(page), [], '/admin/sign-in-code');
  await page.getByLabel('Code').fill(totp(secret, 30));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${shop.base}/admin`);
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
});

test('no page reported a hydration error or a panic', () => {
  assert.deepEqual(problems, []);
});
