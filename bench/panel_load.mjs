// The panel's first visit on a phone: for each page, a browser with an empty cache opens
// it over a 4G-like network with the CPU slowed down, and we record what it downloaded
// (WebAssembly and JavaScript, as sent: gzipped) and when the page became interactive
// (hydrated). Run through bench/panel_load.sh, which builds and starts the release build.
import { startBackroom, launch, signIn } from '../end2end/support.mjs';

// Chrome DevTools' "Fast 4G" preset (what DevTools applies: 9 Mbit/s down and 1.5 Mbit/s
// up at 90 %, 60 ms round trips scaled to request-level latency) and Lighthouse's 4x CPU
// slowdown of a mid-range phone.
const NETWORK = { offline: false, latency: 165, downloadThroughput: (9_000_000 * 0.9) / 8, uploadThroughput: (1_500_000 * 0.9) / 8 };
const CPU_SLOWDOWN = 4;
const RUNS = Number(process.env.RUNS ?? 3);
const BUDGET_KB = 400;
const BUDGET_MS = 1500;

const shop = await startBackroom({ orders: Number(process.env.ORDERS ?? 2000) });
const browser = await launch();
try {
  const setup = await (await browser.newContext()).newPage();
  await signIn(setup, shop.base, shop.owner);
  const [[orderId]] = shop.sql('SELECT id FROM orders ORDER BY id DESC LIMIT 1');
  const storage = await setup.context().storageState();
  await setup.context().close();
  const pages = [
    ['sign-in', '/admin/login', false],
    ['dashboard', '/admin', true],
    ['orders', '/admin/orders', true],
    ['an order', `/admin/orders/${orderId}`, true],
    ['reports', '/admin/reports', true],
    ['transactions', '/admin/transactions', true],
    ['support inbox', '/admin/support', true],
    ['WhatsApp setup', '/admin/whatsapp', true],
    ['WhatsApp settings', '/admin/whatsapp/settings', true],
    ['accounting', '/admin/accounting', true],
    ['access & keys', '/admin/access', true],
    ['security', '/admin/security', true],
    ['audit log', '/admin/audit', true],
  ];
  console.log(`network: ${NETWORK.latency} ms, ${(NETWORK.downloadThroughput * 8 / 1e6).toFixed(1)} Mbit/s down; CPU ${CPU_SLOWDOWN}x slower; median of ${RUNS} cold visits`);
  console.log('page                 wasm+js gz   requests   interactive');
  let over = 0;
  for (const [name, path, signedIn] of pages) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await visit(browser, shop.base + path, signedIn ? storage : undefined));
    runs.sort((a, b) => a.ms - b.ms);
    const { kb, requests, ms } = runs[Math.floor(runs.length / 2)];
    const missed = [kb > BUDGET_KB && 'size', ms > BUDGET_MS && 'time'].filter(Boolean);
    if (missed.length) over++;
    console.log(`${name.padEnd(20)} ${kb.toFixed(0).padStart(7)} KB ${String(requests).padStart(10)} ${ms.toFixed(0).padStart(10)} ms${missed.length ? `  over the ${missed.join(' and ')} budget` : ''}`);
  }
  console.log(`budget: ${BUDGET_KB} KB and ${BUDGET_MS} ms per page; ${over} of ${pages.length} pages over`);
} finally {
  await browser.close();
  await shop.stop();
}

/// One cold visit: bytes of code received (as encoded on the wire), how many requests
/// fetched code, and milliseconds from navigation start to the page's hydration.
async function visit(browser, url, storageState) {
  const context = await browser.newContext({ storageState, viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', NETWORK);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  const code = new Map();
  let bytes = 0;
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    if (/\.(wasm|js)(\?|$)/.test(new URL(response.url).pathname)) code.set(requestId, response.url);
  });
  cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
    if (code.has(requestId)) bytes += encodedDataLength;
  });
  // Record the moment the page marks itself hydrated, measured from navigation start.
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.hydrated === 'true') {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
  });
  await page.goto(url);
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 60000 });
  const ms = await page.evaluate(() => window.__hydratedAt);
  await context.close();
  return { kb: bytes / 1024, requests: code.size, ms };
}
