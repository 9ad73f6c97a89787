// What a new user sees after `make run` (scripts/run_check.sh starts it): the panel's first
// page, the first-run setup on a fresh shop, arrives, hydrates, and logs no console error
// at all; the panel's WebAssembly is sent compressed.
import assert from 'node:assert/strict';
import { launch, hydrated } from './support.mjs';

const base = process.env.BACKROOM_URL;
const browser = await launch();
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} for ${r.url()}`); });
  await page.goto(`${base}/admin`);
  assert.match(page.url(), /\/admin\/setup$/, 'a fresh shop asks for its owner first');
  await hydrated(page);
  await page.getByRole('button', { name: 'Create the owner account' }).waitFor();
  await new Promise((r) => setTimeout(r, 500)); // late errors (effects, resources)
  assert.deepEqual(errors, []);
  const wasm = await fetch(`${base}/pkg/backroom.wasm`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-encoding'), 'gzip');
  console.log('make run: the setup page hydrated in Chromium with no console error');
} finally {
  await browser.close();
}
