// What the browser tests share: Chromium launched as these machines need it, a Backroom
// of a test's own (fresh SQLite database, demo shop, an owner), signing in, the three
// together for a test file, hydration, and the accessibility check.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

export const BIN = process.env.BACKROOM_BIN
  ?? join(process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache/backroom/target'), 'release/backroom');

export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/// Collects hydration mismatches and WebAssembly panics (they show up as console errors).
export function watchProblems(page, problems) {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /hydrat|panicked|Content Security Policy/i.test(m.text())) problems.push(m.text().split('\n')[0]);
  });
}

export const hydrated = (page) => page.waitForSelector('body[data-hydrated="true"]', { timeout: 15000 });

/// Serious and critical accessibility problems on the page, as readable lines.
export async function accessibilityProblems(page) {
  const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/// Runs `backroom` with `args` against the test's database; fails with its output.
export function backroom(env, args, input) {
  const run = spawnSync(BIN, args, { env, input, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`backroom ${args.join(' ')}: ${run.stderr || run.stdout}`);
  return run.stdout;
}

/// A Backroom of the test's own: a fresh SQLite database with `orders` demo orders and an
/// owner, served on a free port. `addUser(user, role)` adds another user (name, email,
/// password); `sql(statement)` runs SQL on its database and answers the rows (arrays);
/// `stop()` ends it and removes its data.
export async function startBackroom({ orders = 300, seed = 7, smtpUrl = '', env: extra = {} } = {}) {
  const data = mkdtempSync(join(tmpdir(), 'backroom-e2e-'));
  const port = await freePort();
  const env = {
    ...process.env,
    BACKROOM_ADDR: `127.0.0.1:${port}`,
    BACKROOM_DATA_DIR: data,
    BACKROOM_DATABASE_URL: `sqlite://${data}/backroom.db`,
    BACKROOM_LOG: 'warn',
    BACKROOM_SMTP_URL: smtpUrl,
    ...extra,
  };
  const addUser = (user, role) =>
    backroom(env, ['user', 'add', '--email', user.email, '--role', role, '--name', user.name, '--password-stdin'], user.password);
  const owner = { name: 'Elif Şahin', email: 'elif@shop.example', password: 'a long owner password' };
  addUser(owner, 'owner');
  backroom(env, ['demo', '--orders', String(orders), '--seed', String(seed)]);
  const server = spawn(BIN, ['serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr.on('data', (chunk) => { log += chunk; });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch { /* not up yet */ }
    if (i > 100) {
      server.kill('SIGTERM');
      rmSync(data, { recursive: true, force: true });
      throw new Error(`backroom did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const sql = (statement) => {
    const run = spawnSync('python3', ['-c',
      'import json,sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchall(); c.commit(); print(json.dumps(r))',
      join(data, 'backroom.db'), statement], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${statement}: ${run.stderr}`);
    return JSON.parse(run.stdout);
  };
  return {
    base,
    env,
    owner,
    addUser,
    sql,
    log: () => log,
    stop: async () => {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/// Signs `user` in on `page` and waits for the dashboard.
export async function signIn(page, base, user) {
  await page.goto(`${base}/admin/login`);
  await hydrated(page);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/admin`);
}

/// What a browser test file works with: a Backroom of its own (`options` as for
/// `startBackroom`), Chromium, and a `page` signed in as the owner. `signedInPage(user)`
/// opens another, in a browser context of its own; the hydration errors and panics of every
/// page opened here land in `problems`. `close()` ends the browser and the Backroom.
export async function openShop(options) {
  const shop = await startBackroom(options);
  let browser;
  try {
    browser = await launch();
    const problems = [];
    const signedInPage = async (user) => {
      const page = await (await browser.newContext()).newPage();
      watchProblems(page, problems);
      await signIn(page, shop.base, user);
      return page;
    };
    const page = await signedInPage(shop.owner);
    const close = async () => {
      await browser.close();
      await shop.stop();
    };
    return { shop, browser, page, problems, signedInPage, close };
  } catch (e) {
    await browser?.close();
    await shop.stop();
    throw e;
  }
}

/// Polls `check` (sync or async) until it answers something truthy, which it returns;
/// fails after `timeout` ms saying what it waited for.
export async function waitFor(what, check, timeout = 20000) {
  const end = Date.now() + timeout;
  for (;;) {
    const found = await check();
    if (found) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/// A real SMTP server on loopback (aiosmtpd; server/tests/smtp/smtp_sink.py). `received()` is
/// every message so far, parsed: rcpt_tos, from, to, subject, text, html.
export async function startSmtpSink() {
  const dir = mkdtempSync(join(tmpdir(), 'backroom-smtp-'));
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'server', 'tests', 'smtp', 'smtp_sink.py');
  const sink = spawn('python3', [script, '--dir', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    sink.stdout.once('data', (line) => resolve(Number(String(line).trim().replace('port ', ''))));
    sink.once('exit', (code) => reject(new Error(`the SMTP sink exited (${code}); is aiosmtpd installed?`)));
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))),
    stop: async () => {
      sink.stdin.end();
      sink.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/// Starts one of the stand-ins for outside services in end2end/ (`script`, with `args`),
/// which prints `listening PORT` once it serves; answers the process and the port.
export async function startStandIn(script, args) {
  const child = spawn('node', [join(dirname(fileURLToPath(import.meta.url)), script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const started = /^listening (\d+)\n/.exec(out);
      if (started) resolve(Number(started[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  });
  return { child, port };
}

/// The WooCommerce stand-in (woo_mock.mjs) with `orders` generated orders: `base`, the
/// read/write key it knows (`consumerKey`, `consumerSecret`), `state()`, `control(path,
/// body)` for its /_mock/ endpoints.
export async function startWooStore({ orders = 300, seed = 7 } = {}) {
  const { child, port } = await startStandIn('woo_mock.mjs', ['--orders', String(orders), '--seed', String(seed)]);
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    consumerKey: 'ck_ff2a9b1394e11555ffd57c9e67a395797dfa89b4',
    consumerSecret: 'cs_e9b3dbcbae3634b5f2e03d89f2b03c59deb6762f',
    state: async () => (await fetch(`${base}/_mock/state`)).json(),
    control: async (path, body) => (await fetch(`${base}/_mock/${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    })).json(),
    /// The REST object of `kind` (`orders`, …) with `id`, as the store keeps it.
    object: async (kind, id) => (await fetch(`${base}/_mock/${kind}/${id}`)).json(),
    stop: async () => {
      child.kill('SIGTERM');
    },
  };
}

/// The stand-in accounting ledger (cari_mock.mjs) on a free port: `base` for the settings,
/// its `key` and `company`, `state()` for what it holds and was sent.
export async function startLedger({ latency = 0 } = {}) {
  const key = 'e2e-ledger-key-0123456789';
  const company = 'FIRMA1';
  const { child: ledger, port } = await startStandIn('cari_mock.mjs', ['--key', key, '--company', company, '--latency', String(latency)]);
  return {
    base: `http://127.0.0.1:${port}/api`,
    key,
    company,
    state: async () => (await fetch(`http://127.0.0.1:${port}/_mock/state`)).json(),
    stop: async () => {
      ledger.kill('SIGTERM');
    },
  };
}

/// The stand-in for Meta's Graph API (graph_mock.mjs) on a free port: `base` for the
/// WhatsApp settings, the account it knows (`token`, `phoneNumberId`, `wabaId`), and
/// `state()` for the messages it accepted and every request it was sent.
export async function startGraph() {
  const account = { token: 'test-graph-token-0123456789', phoneNumberId: '1234567890', wabaId: '9876543210' };
  const { child: graph, port } = await startStandIn('graph_mock.mjs',
    ['--token', account.token, '--phone-number-id', account.phoneNumberId, '--waba-id', account.wabaId]);
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    ...account,
    state: async () => (await fetch(`${base}/_mock/state`)).json(),
    stop: async () => {
      graph.kill('SIGTERM');
    },
  };
}
