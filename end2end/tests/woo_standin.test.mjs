// The WooCommerce stand-in checked against what WooCommerce itself does (the facts and test
// vectors in the shared WooCommerce reference): OAuth 1.0a as WC_REST_Authentication
// verifies it, WordPress's pagination and argument errors, exclusive second-granular date
// filters, money as strings, and webhooks as WC_Webhook sends them. It starts its own
// stand-in and needs no Backroom.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';
import { oauthBaseString, oauthSignature } from '../woo_mock.mjs';
import { startStandIn } from '../support.mjs';

const KEY = 'ck_ff2a9b1394e11555ffd57c9e67a395797dfa89b4';
const SECRET = 'cs_e9b3dbcbae3634b5f2e03d89f2b03c59deb6762f';

let child;
let base;
let received = [];
let answer = () => 200;
let receiver;
let hookUrl;

before(async () => {
  let port;
  ({ child, port } = await startStandIn('woo_mock.mjs', ['--orders', '400', '--seed', '11']));
  base = `http://127.0.0.1:${port}`;
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const hit = { method: req.method, url: req.url, httpVersion: req.httpVersion, headers: req.headers, raw: Buffer.concat(chunks) };
      received.push(hit);
      const status = answer(hit);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${receiver.address().port}/woo`;
});

after(async () => {
  child?.kill('SIGTERM');
  await new Promise((resolve) => receiver?.close(resolve));
});

// An OAuth 1.0a client written from the reference, independently of the stand-in.
const enc = (s) => encodeURIComponent(String(s)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
function sign(method, url, params, secret, algorithm = 'HMAC-SHA256') {
  const pairs = Object.keys(params).filter((k) => k !== 'oauth_signature').sort()
    .map((k) => enc(`${enc(k)}=${enc(params[k])}`)).join('%26');
  const baseString = `${method}&${enc(url)}&${pairs}`;
  return { baseString, signature: createHmac(algorithm === 'HMAC-SHA1' ? 'sha1' : 'sha256', `${secret}&`).update(baseString).digest('base64') };
}

/// A request signed with one-legged OAuth in the query string (how Backroom talks over HTTP).
async function api(method, path, { query = {}, json, key = KEY, secret = SECRET, timestamp, nonce, tamper = false, oauth = true, headers = {} } = {}) {
  const url = `${base}/wp-json/wc/v3${path}`;
  const params = { ...query };
  if (oauth) {
    Object.assign(params, {
      oauth_consumer_key: key, oauth_nonce: nonce ?? randomBytes(12).toString('hex'), oauth_signature_method: 'HMAC-SHA256',
      oauth_timestamp: String(timestamp ?? Math.floor(Date.now() / 1000)),
    });
    params.oauth_signature = sign(method, url, params, secret).signature + (tamper ? 'x' : '');
  }
  const qs = Object.entries(params).map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  const res = await fetch(`${url}${qs ? `?${qs}` : ''}`, {
    method, headers: { ...(json ? { 'content-type': 'application/json' } : {}), ...headers }, body: json ? JSON.stringify(json) : undefined, redirect: 'manual',
  });
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, body };
}
async function control(method, path, json) {
  const res = await fetch(`${base}/_mock${path}`, { method, headers: { 'content-type': 'application/json' }, body: json === undefined ? undefined : JSON.stringify(json) });
  return res.json();
}
const state = () => control('GET', '/state');
const reset = async (config = {}) => {
  await control('POST', '/reset');
  await control('POST', '/config', { is_ssl: false, strip_authorization: false, timezone: 'Europe/Istanbul', now: null, home_url: null, ...config });
  received = [];
  answer = () => 200;
};
const someOrder = async (filter = () => true, query = {}) => {
  const { body } = await api('GET', '/orders', { query: { per_page: '100', _fields: 'id,status,payment_method,total,customer_id', ...query } });
  return body.find(filter);
};
const waitFor = async (predicate, ms = 3000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return predicate();
};

test('the OAuth base string and signature match the reference vector', async () => {
  const params = {
    per_page: '100', modified_after: '2024-01-01T00:00:00', oauth_consumer_key: 'ck_test', oauth_nonce: 'abc123',
    oauth_signature_method: 'HMAC-SHA256', oauth_timestamp: '1700000000',
  };
  const expected = 'GET&http%3A%2F%2Fshop.example%2Fwp-json%2Fwc%2Fv3%2Forders&modified_after%3D2024-01-01T00%253A00%253A00%26oauth_consumer_key%3Dck_test%26oauth_nonce%3Dabc123%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1700000000%26per_page%3D100';
  assert.equal(oauthBaseString('GET', 'http://shop.example/wp-json/wc/v3/orders', params), expected);
  assert.equal(oauthSignature(expected, 'cs_test'), 'pXorw3DGMNORSdsucWGIIj48nSlb1TyycJZFONENxFU=');
  assert.equal(sign('GET', 'http://shop.example/wp-json/wc/v3/orders', params, 'cs_test').baseString, expected);

  // The running store signs with its own home URL: at 1700000000 the vector's request passes.
  await reset({ home_url: 'http://shop.example', now: '2023-11-14T22:13:20Z' });
  await control('POST', '/keys', { consumer_key: 'ck_test', consumer_secret: 'cs_test', permissions: 'read' });
  const qs = `${Object.entries(params).map(([k, v]) => `${k}=${enc(v)}`).join('&')}&oauth_signature=${enc('pXorw3DGMNORSdsucWGIIj48nSlb1TyycJZFONENxFU=')}`;
  const ok = await fetch(`${base}/wp-json/wc/v3/orders?${qs}`);
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).length, 100);
  const replay = await fetch(`${base}/wp-json/wc/v3/orders?${qs}`);
  assert.deepEqual(await replay.json(), { code: 'woocommerce_rest_authentication_error', message: 'Invalid nonce - nonce has already been used.', data: { status: 401 } });
  await control('DELETE', '/keys/ck_test');
});

test('a signed request is accepted; a wrong signature, an old timestamp and a reused nonce are refused', async () => {
  await reset();
  assert.equal((await api('GET', '/orders')).status, 200);
  const bad = await api('GET', '/orders', { tamper: true });
  assert.equal(bad.status, 401);
  assert.deepEqual(bad.body, { code: 'woocommerce_rest_authentication_error', message: 'Invalid signature - provided signature does not match.', data: { status: 401 } });
  const old = await api('GET', '/orders', { timestamp: Math.floor(Date.now() / 1000) - 16 * 60 });
  assert.equal(old.body.message, 'Invalid timestamp.');
  const nonce = randomBytes(8).toString('hex');
  assert.equal((await api('GET', '/orders', { nonce })).status, 200);
  const again = await api('GET', '/orders', { nonce });
  assert.equal(again.status, 401);
  assert.equal(again.body.message, 'Invalid nonce - nonce has already been used.');
  const unknown = await api('GET', '/orders', { key: 'ck_nobody' });
  assert.equal(unknown.body.message, 'Consumer key is invalid.');
  const partial = await fetch(`${base}/wp-json/wc/v3/orders?oauth_consumer_key=${KEY}&oauth_nonce=x`);
  assert.deepEqual(await partial.json(), { code: 'woocommerce_rest_authentication_missing_parameter', message: 'Missing OAuth parameters oauth_timestamp, oauth_signature, oauth_signature_method', data: { status: 401 } });
  // Arrays are signed as WooCommerce joins them (status%5B0%5D), not as OAuth libraries do.
  const listUrl = `${base}/wp-json/wc/v3/orders`;
  const signPairs = (pairs) => {
    const sorted = [...pairs].sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : 1));
    const baseString = `GET&${enc(listUrl)}&${sorted.map(([k, v]) => enc(`${enc(k)}=${enc(v)}`)).join('%26')}`;
    return createHmac('sha256', `${SECRET}&`).update(baseString).digest('base64');
  };
  const oauthPairs = () => [['oauth_consumer_key', KEY], ['oauth_nonce', randomBytes(8).toString('hex')], ['oauth_signature_method', 'HMAC-SHA256'], ['oauth_timestamp', String(Math.floor(Date.now() / 1000))]];
  const withArray = async (pairs) => {
    const all = [...pairs, ...oauthPairs()];
    const qs = [...all, ['oauth_signature', signPairs(all)]].map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
    return fetch(`${listUrl}?${qs}`);
  };
  const wcStyle = await withArray([['status[0]', 'processing'], ['status[1]', 'on-hold'], ['_fields', 'status']]);
  assert.equal(wcStyle.status, 200);
  assert.ok((await wcStyle.json()).every((o) => ['processing', 'on-hold'].includes(o.status)));
  const libraryStyle = await withArray([['status[]', 'processing'], ['status[]', 'on-hold']]);
  assert.equal(libraryStyle.status, 401);
  // OAuth in the Authorization header works too, and so does HMAC-SHA1.
  const url = `${base}/wp-json/wc/v3/orders`;
  const params = { per_page: '5', oauth_consumer_key: KEY, oauth_nonce: randomBytes(8).toString('hex'), oauth_signature_method: 'HMAC-SHA1', oauth_timestamp: String(Math.floor(Date.now() / 1000)) };
  const { signature } = sign('GET', url, params, SECRET, 'HMAC-SHA1');
  const header = `OAuth ${Object.entries({ ...params, oauth_signature: signature }).filter(([k]) => k.startsWith('oauth_')).map(([k, v]) => `${k}="${enc(v)}"`).join(', ')}`;
  const viaHeader = await fetch(`${url}?per_page=5`, { headers: { authorization: header } });
  assert.equal(viaHeader.status, 200);
  assert.equal((await viaHeader.json()).length, 5);
});

test('Basic auth and query-string keys only count when the store believes it is on HTTPS', async () => {
  await reset();
  const basic = { authorization: `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}` };
  const plain = await api('GET', '/orders', { oauth: false, headers: basic });
  assert.equal(plain.status, 401);
  assert.deepEqual(plain.body, { code: 'woocommerce_rest_cannot_view', message: 'Sorry, you cannot list resources.', data: { status: 401 } });
  const queryPlain = await api('GET', '/orders', { oauth: false, query: { consumer_key: KEY, consumer_secret: SECRET } });
  assert.equal(queryPlain.body.code, 'woocommerce_rest_cannot_view');

  await control('POST', '/config', { is_ssl: true });
  assert.equal((await api('GET', '/orders', { oauth: false, headers: basic })).status, 200);
  assert.equal((await api('GET', '/orders', { oauth: false, query: { consumer_key: KEY, consumer_secret: SECRET } })).status, 200);
  const wrong = await api('GET', '/orders', { oauth: false, headers: { authorization: `Basic ${Buffer.from(`${KEY}:nope`).toString('base64')}` } });
  assert.deepEqual(wrong.body, { code: 'woocommerce_rest_authentication_error', message: 'Consumer secret is invalid.', data: { status: 401 } });

  // A host that strips Authorization leaves only the query string.
  await control('POST', '/config', { strip_authorization: true });
  assert.equal((await api('GET', '/orders', { oauth: false, headers: basic })).body.code, 'woocommerce_rest_cannot_view');
  assert.equal((await api('GET', '/orders', { oauth: false, query: { consumer_key: KEY, consumer_secret: SECRET } })).status, 200);
  await reset();
});

test('a read-only key may read but not write', async () => {
  await reset();
  const key = await control('POST', '/keys', { permissions: 'read' });
  const order = await someOrder();
  assert.equal((await api('GET', `/orders/${order.id}`, { key: key.consumer_key, secret: key.consumer_secret })).status, 200);
  const write = await api('PUT', `/orders/${order.id}`, { key: key.consumer_key, secret: key.consumer_secret, json: { status: 'completed' } });
  assert.equal(write.status, 401);
  assert.deepEqual(write.body, { code: 'woocommerce_rest_authentication_error', message: 'The API key provided does not have write permissions.', data: { status: 401 } });
});

test('per_page above 100 is refused the way WordPress refuses arguments', async () => {
  await reset();
  const res = await api('GET', '/orders', { query: { per_page: '101' } });
  assert.equal(res.status, 400);
  assert.deepEqual(res.body, {
    code: 'rest_invalid_param', message: 'Invalid parameter(s): per_page',
    data: { status: 400, params: { per_page: 'per_page must be between 1 (inclusive) and 100 (inclusive)' }, details: { per_page: { code: 'rest_out_of_bounds', message: 'per_page must be between 1 (inclusive) and 100 (inclusive)', data: null } } },
  });
  const status = await api('GET', '/orders', { query: { status: 'sent' } });
  assert.equal(status.body.code, 'rest_invalid_param');
  assert.match(status.body.data.params.status, /^status\[0\] is not one of any, trash, pending, .* and shipped\.$/);
});

test('pages carry X-WP-Total, X-WP-TotalPages and a Link with WordPress defaults and the OAuth parameters', async () => {
  await reset();
  const { body: all } = await api('GET', '/orders', { query: { per_page: '100', status: 'any', _fields: 'id' } });
  const first = await api('GET', '/orders', { query: { per_page: '25' } });
  const total = Number(first.headers.get('x-wp-total'));
  assert.ok(total > 300);
  assert.equal(Number(first.headers.get('x-wp-totalpages')), Math.ceil(total / 25));
  assert.equal(first.body.length, 25);
  const link = first.headers.get('link');
  assert.match(link, /^<http:\/\/127\.0\.0\.1:\d+\/wp-json\/wc\/v3\/orders\?per_page=25&oauth_consumer_key=ck_[0-9a-f]+&oauth_nonce=[0-9a-f]+&oauth_signature_method=HMAC-SHA256&oauth_timestamp=\d+&oauth_signature=[^&]+&status%5B0%5D=any&dp=2&context=view&page=2>; rel="next"$/);
  const second = await api('GET', '/orders', { query: { per_page: '25', page: '2' } });
  // A page given in the request keeps its place; WordPress only swaps its value.
  assert.match(second.headers.get('link'), /^<[^>]*\?per_page=25&page=1&oauth_[^>]*&status%5B0%5D=any&dp=2&context=view>; rel="prev", <[^>]*\?per_page=25&page=3&[^>]*>; rel="next"$/);
  const beyond = await api('GET', '/orders', { query: { per_page: '25', page: '999' } });
  assert.deepEqual(beyond.body, []);
  assert.equal(beyond.headers.get('x-wp-total'), String(total));
  // Default order is date descending; ids sorted ascending on request; trash is not in "any".
  const ids = (await api('GET', '/orders', { query: { per_page: '100', orderby: 'id', order: 'asc', _fields: 'id,status' } })).body;
  assert.deepEqual(ids.map((o) => o.id), [...ids.map((o) => o.id)].sort((a, b) => a - b));
  assert.ok(all.every((o) => Object.keys(o).join() === 'id'));
  const trash = await api('GET', '/orders', { query: { status: 'trash', _fields: 'id,status' } });
  assert.ok(trash.body.every((o) => o.status === 'trash'));
});

test('modified_after is exclusive and second-granular; dates_are_gmt chooses the column (reference vector at UTC+2)', async () => {
  await reset();
  const order = await someOrder((o) => o.status === 'processing');
  await control('POST', '/config', { timezone: 'UTC+2', now: '2000-02-01T10:00:00Z' });
  const changed = await control('POST', `/orders/${order.id}`, { status: 'completed' });
  assert.equal(changed.date_modified_gmt, '2000-02-01T10:00:00');
  assert.equal(changed.date_modified, '2000-02-01T12:00:00');
  const ts = Date.parse('2000-02-01T10:00:00Z') / 1000;
  const count = async (query) => (await api('GET', '/orders', { timestamp: ts, query: { include: String(order.id), _fields: 'id', ...query } })).body.length;
  assert.equal(await count({ modified_after: '2000-02-01T11:00:00', dates_are_gmt: 'false' }), 1);
  assert.equal(await count({ modified_after: '2000-02-01T11:00:00', dates_are_gmt: 'true' }), 0);
  assert.equal(await count({ modified_after: '2000-02-01T10:00:00', dates_are_gmt: 'true' }), 0);
  assert.equal(await count({ modified_after: '2000-02-01T09:59:59', dates_are_gmt: 'true' }), 1);
  assert.equal(await count({ modified_before: '2000-02-01T10:00:00', dates_are_gmt: 'true' }), 0);
  assert.equal(await count({ modified_before: '2000-02-01T10:00:01', dates_are_gmt: 'true' }), 1);
  assert.equal(await count({ modified_after: '2000-02-01T11:59:59' }), 1);
  assert.equal(await count({ modified_after: '2000-02-01T12:00:00' }), 0);
  // Customers have no modified_after: WordPress ignores the unknown argument.
  const customers = await api('GET', '/customers', { timestamp: ts, query: { modified_after: '2099-01-01T00:00:00', per_page: '5' } });
  assert.equal(customers.body.length, 5);
  await reset();
});

test('money is strings, with the quirks a running store showed', async () => {
  await reset();
  const res = await api('GET', '/orders', { query: { per_page: '100' } });
  assert.match(res.text, /\\\//);
  assert.match(res.text, /\\u00[0-9a-f]{2}/);
  for (const o of res.body) {
    for (const k of ['total', 'total_tax', 'shipping_total', 'shipping_tax', 'discount_total', 'cart_tax']) assert.match(o[k], /^-?\d+\.\d{2}$/, `${k} of ${o.id}`);
    for (const l of o.line_items) {
      assert.equal(typeof l.price, 'number');
      assert.match(l.total, /^\d+\.\d{2}$/);
      for (const t of l.taxes) assert.match(t.total, /^\d+(\.\d{1,6})?$/);
    }
    for (const s of o.shipping_lines) for (const t of s.taxes) assert.equal(t.subtotal, '');
    for (const r of o.refunds) assert.match(r.total, /^-\d+\.\d{2}$/);
    assert.ok('date_created_gmt' in o && 'date_modified_gmt' in o && 'date_paid_gmt' in o && 'date_completed_gmt' in o);
  }
  const withFraction = res.body.flatMap((o) => o.line_items).some((l) => !Number.isInteger(l.price * 100));
  assert.ok(withFraction, 'prices include tax, so some line prices have long fractions');
  const guests = res.body.filter((o) => o.customer_id === 0);
  assert.ok(guests.length > 0 && guests.length < res.body.length);
  assert.ok(res.body.some((o) => o.line_items.some((l) => l.meta_data.some((m) => m.key === '_reduced_stock'))));
  assert.ok(res.body.every((o) => o.currency === 'TRY' && o.prices_include_tax === true));
});

test('a webhook delivery carries the exact headers and a signature over the raw bytes', async () => {
  await reset();
  const created = await api('POST', '/webhooks', { json: { name: 'Backroom', topic: 'order.updated', delivery_url: hookUrl, secret: 'my-webhook-secret' } });
  assert.equal(created.status, 201);
  assert.equal(created.body.secret, undefined);
  assert.match(created.headers.get('location'), /\/wp-json\/wc\/v3\/webhooks\/\d+$/);
  assert.equal(created.body.status, 'active');
  // The ping went out during the request: form-encoded, unsigned, HTTP/1.0.
  assert.equal(received.length, 1);
  const ping = received[0];
  assert.equal(ping.raw.toString(), `webhook_id=${created.body.id}`);
  assert.equal(ping.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(ping.headers['user-agent'], 'WooCommerce/9.8.5 Hookshot (WordPress/6.8.1)');
  assert.deepEqual(Object.keys(ping.headers).filter((h) => h.startsWith('x-wc-')), []);
  assert.equal(ping.httpVersion, '1.0');
  assert.equal((await state()).webhooks[0].pending_delivery, false);

  const order = await someOrder((o) => o.status === 'processing');
  await control('POST', `/orders/${order.id}`, { status: 'completed' });
  assert.equal(received.length, 1, 'nothing is sent until Action Scheduler runs');
  const run = await control('POST', '/deliver');
  assert.equal(run.delivered, 1);
  const hit = received[1];
  assert.equal(hit.method, 'POST');
  assert.equal(hit.httpVersion, '1.0');
  assert.equal(hit.headers['content-type'], 'application/json');
  assert.equal(hit.headers['x-wc-webhook-source'], `${base}/`);
  assert.equal(hit.headers['x-wc-webhook-topic'], 'order.updated');
  assert.equal(hit.headers['x-wc-webhook-resource'], 'order');
  assert.equal(hit.headers['x-wc-webhook-event'], 'updated');
  assert.equal(hit.headers['x-wc-webhook-id'], String(created.body.id));
  assert.match(hit.headers['x-wc-webhook-delivery-id'], /^[0-9a-f]{32}$/);
  assert.equal(hit.headers['user-agent'], 'WooCommerce/9.8.5 Hookshot (WordPress/6.8.1)');
  assert.equal(hit.headers['x-wc-webhook-signature'], createHmac('sha256', 'my-webhook-secret').update(hit.raw).digest('base64'));
  const text = hit.raw.toString('utf8');
  assert.match(text, /\\\//, 'slashes are escaped as WordPress encodes them');
  assert.doesNotMatch(text, /[^\x00-\x7f]/, 'non-ASCII arrives as \\uXXXX');
  const payload = JSON.parse(text);
  assert.equal(payload.id, order.id);
  assert.equal(payload.status, 'completed');
  assert.ok(payload._links.self[0].href.endsWith(`/wc/v3/orders/${order.id}`));
  // The reference's signature vector, through the same signer.
  const { webhookSignature } = await import('../woo_mock.mjs');
  assert.equal(webhookSignature('{"id":123,"status":"processing"}', 'my-webhook-secret'), 'zBe7g+Ha9D+2meCJMfa/T5Wkg1Ct845po8EcJIrPHOU=');
});

test('a ping that does not get exactly 200 leaves the webhook pending, and every save pings again', async () => {
  await reset();
  answer = (hit) => (hit.headers['x-wc-webhook-id'] ? 200 : 202);
  const created = await api('POST', '/webhooks', { json: { topic: 'order.updated', delivery_url: hookUrl, secret: 's3cret' } });
  assert.equal(created.status, 201, 'creation succeeds whatever the ping got');
  assert.match(created.body.name, /^Webhook created on [A-Z][a-z]{2} \d{2}, \d{4} @ \d{2}:\d{2} [AP]M$/);
  let hook = (await state()).webhooks[0];
  assert.equal(hook.pending_delivery, true);
  const order = await someOrder((o) => o.status === 'processing');
  await control('POST', `/orders/${order.id}`, { status: 'on-hold' });
  await control('POST', '/deliver');
  assert.deepEqual(received.map((h) => (h.headers['x-wc-webhook-id'] ? 'delivery' : 'ping')), ['ping', 'delivery', 'ping']);
  answer = () => 200;
  await control('POST', `/orders/${order.id}`, { status: 'processing' });
  await control('POST', '/deliver');
  assert.deepEqual(received.slice(3).map((h) => (h.headers['x-wc-webhook-id'] ? 'delivery' : 'ping')), ['delivery', 'ping']);
  hook = (await state()).webhooks[0];
  assert.equal(hook.pending_delivery, false);
  await control('POST', `/orders/${order.id}`, { status: 'completed' });
  await control('POST', '/deliver');
  assert.equal(received.length, 6, 'once the ping got 200, deliveries come alone');
});

test('the seventh failure in a row disables the webhook; a 302 counts as delivered', async () => {
  await reset();
  answer = (hit) => (hit.headers['x-wc-webhook-id'] ? 500 : 200);
  const created = await api('POST', '/webhooks', { json: { topic: 'order.updated', delivery_url: hookUrl, secret: 'x' } });
  const { body: orders } = await api('GET', '/orders', { query: { per_page: '10', status: 'processing', _fields: 'id' } });
  for (let i = 0; i < 7; i++) {
    await control('POST', `/orders/${orders[i].id}`, { customer_note: `değişiklik ${i}` });
    await control('POST', '/deliver');
    const hook = (await state()).webhooks[0];
    assert.equal(hook.status, i < 6 ? 'active' : 'disabled', `after failure ${i + 1}`);
    assert.equal(hook.failure_count, Math.min(i + 1, 6));
  }
  assert.equal((await api('GET', `/webhooks/${created.body.id}`)).body.status, 'disabled');
  const before = received.length;
  await control('POST', `/orders/${orders[7].id}`, { customer_note: 'sonra' });
  assert.equal((await control('POST', '/deliver')).delivered, 0);
  assert.equal(received.length, before);
  // Re-activated by hand, the counter is not reset: one more failure disables it again.
  await api('PUT', `/webhooks/${created.body.id}`, { json: { status: 'active' } });
  answer = (hit) => (hit.headers['x-wc-webhook-id'] ? 302 : 200);
  await control('POST', `/orders/${orders[8].id}`, { customer_note: 'yönlendirme' });
  await control('POST', '/deliver');
  assert.equal((await state()).webhooks[0].failure_count, 0);
});

test('trashing sends order.deleted with only the id; a force delete sends nothing', async () => {
  await reset();
  await api('POST', '/webhooks', { json: { topic: 'order.deleted', delivery_url: hookUrl, secret: 'x' } });
  const [a, b] = (await api('GET', '/orders', { query: { per_page: '2', status: 'completed', _fields: 'id' } })).body;
  received = [];
  const trashed = await api('DELETE', `/orders/${a.id}`);
  assert.equal(trashed.status, 200);
  assert.equal(trashed.body.status, 'completed', 'the answer is the order as it was before');
  assert.equal((await api('DELETE', `/orders/${a.id}`)).body.code, 'woocommerce_rest_already_trashed');
  assert.equal((await api('DELETE', `/orders/${b.id}`, { query: { force: 'true' } })).status, 200);
  assert.equal((await api('GET', `/orders/${b.id}`)).status, 404);
  const run = await control('POST', '/deliver');
  assert.equal(run.delivered, 1);
  assert.equal(received.length, 1);
  assert.equal(received[0].raw.toString(), `{"id":${a.id}}`);
  assert.equal(received[0].headers['x-wc-webhook-event'], 'deleted');
  assert.equal((await api('GET', `/orders/${a.id}`)).body.status, 'trash');
});

test('changes while a delivery is pending are coalesced; the payload is the state when it runs', async () => {
  await reset();
  await api('POST', '/webhooks', { json: { topic: 'order.updated', delivery_url: hookUrl, secret: 'x' } });
  const order = await someOrder((o) => o.status === 'processing');
  received = [];
  await control('POST', `/orders/${order.id}`, { status: 'shipped' });
  await api('PUT', `/orders/${order.id}`, { json: { status: 'completed' } });
  await control('POST', `/orders/${order.id}`, { status: 'cancelled' });
  const s = await state();
  assert.equal(s.queue.length, 1);
  assert.equal(s.queue[0].coalesced, 2);
  await control('POST', '/deliver');
  assert.equal(received.length, 1);
  assert.equal(JSON.parse(received[0].raw).status, 'cancelled');
  // A stale payload on demand: the state before the last change.
  await control('POST', '/faults', { deliveries: { stale: 1, duplicate: 1 } });
  await control('POST', `/orders/${order.id}`, { status: 'processing' });
  await control('POST', '/deliver');
  assert.equal(received.length, 3);
  assert.equal(JSON.parse(received[1].raw).status, 'cancelled');
  assert.equal(received[1].headers['x-wc-webhook-delivery-id'], received[2].headers['x-wc-webhook-delivery-id']);
});

test('refund errors come back as HTTP 500 with a bare number as data; a manual refund keeps its meta', async () => {
  await reset();
  const order = await someOrder((o) => o.payment_method === 'cod' && o.status === 'completed');
  const gateway = await api('POST', `/orders/${order.id}/refunds`, { json: { amount: '10.00', reason: 'deneme' } });
  assert.equal(gateway.status, 500);
  assert.deepEqual(gateway.body, { code: 'woocommerce_rest_cannot_create_order_refund', message: 'The payment gateway for this order does not support automatic refunds.', data: 500 });
  const tooMuch = await api('POST', `/orders/${order.id}/refunds`, { json: { amount: '999999.00', api_refund: false } });
  assert.deepEqual(tooMuch.body, { code: 'woocommerce_rest_cannot_create_order_refund', message: 'Invalid refund amount.', data: 500 });
  const negative = await api('POST', `/orders/${order.id}/refunds`, { json: { amount: '-1', api_refund: false } });
  assert.deepEqual([negative.status, negative.body.data], [500, 400]);
  const missing = await api('POST', '/orders/1/refunds', { json: { amount: '1.00', api_refund: false } });
  assert.deepEqual([missing.status, missing.body.code, missing.body.data], [500, 'woocommerce_rest_invalid_order_id', 404]);
  const ok = await api('POST', `/orders/${order.id}/refunds`, { json: { amount: '10.00', reason: 'Kısmi iade', api_refund: false, meta_data: [{ key: 'backroom_refund_id', value: 'r-1' }] } });
  assert.equal(ok.status, 201);
  assert.equal(ok.body.amount, '10.00');
  assert.equal(ok.body.refunded_payment, false);
  const mine = (await api('GET', `/orders/${order.id}/refunds`)).body.find((r) => r.meta_data.some((m) => m.key === 'backroom_refund_id' && m.value === 'r-1'));
  assert.equal(mine.id, ok.body.id);
  const after = (await api('GET', `/orders/${order.id}`)).body;
  assert.ok(after.refunds.some((r) => r.id === ok.body.id && r.total === '-10.00'));
  const card = await someOrder((o) => o.payment_method === 'iyzico' && o.status === 'completed');
  await control('POST', '/faults', { gateway_refund_errors: 1, gateway_refund_message: 'iyzico: İade reddedildi' });
  const declined = await api('POST', `/orders/${card.id}/refunds`, { json: { amount: '1.00' } });
  assert.deepEqual(declined.body, { code: 'woocommerce_rest_cannot_create_order_refund', message: 'iyzico: İade reddedildi', data: 500 });
  assert.equal((await api('GET', `/orders/${ok.body.id}`)).body.code, 'woocommerce_rest_shop_order_invalid_id', 'a refund is not an order');
  const all = await api('GET', '/refunds', { query: { per_page: '5' } });
  assert.equal(all.status, 200);
  assert.ok(Number(all.headers.get('x-wp-total')) >= 1);
});

test('a duplicate coupon code gets WooCommerce\'s error', async () => {
  await reset();
  const first = await api('POST', '/coupons', { json: { code: 'SEPETTE20', discount_type: 'percent', amount: '20' } });
  assert.equal(first.status, 201);
  assert.equal(first.body.code, 'sepette20');
  const again = await api('POST', '/coupons', { json: { code: 'sepette20', amount: '5' } });
  assert.deepEqual(again.body, { code: 'woocommerce_rest_coupon_code_already_exists', message: 'The coupon code already exists', data: { status: 400 } });
  const empty = await api('POST', '/coupons', { json: { code: '' } });
  assert.equal(empty.body.code, 'woocommerce_rest_empty_coupon_code');
  const numeric = await api('POST', '/coupons', { json: { code: 'x1', amount: 5 } });
  assert.equal(numeric.body.code, 'rest_invalid_param', 'amount must be a string');
  const byCode = await api('GET', '/coupons', { query: { code: 'SEPETTE20' } });
  assert.deepEqual(byCode.body.map((c) => c.id), [first.body.id]);
});

test('a client can detect WooCommerce, its version, HPOS and the site time zone', async () => {
  await reset();
  const index = await (await fetch(`${base}/wp-json/`)).json();
  assert.ok(index.namespaces.includes('wc/v3'));
  assert.equal(index.timezone_string, 'Europe/Istanbul');
  assert.equal(index.gmt_offset, 3);
  const status = await api('GET', '/system_status', { query: { _fields: 'environment.version,environment.wp_cron,settings.currency,settings.order_datastore,settings.HPOS_enabled' } });
  assert.deepEqual(status.body, {
    environment: { version: '9.8.5', wp_cron: true },
    settings: { currency: 'TRY', order_datastore: 'Automattic\\WooCommerce\\Internal\\DataStores\\Orders\\OrdersTableDataStore', HPOS_enabled: true },
  });
  const anonymous = await fetch(`${base}/wp-json/wc/v3/system_status`);
  assert.equal(anonymous.status, 401);
});

test('faults: 429 with Retry-After, a Cloudflare challenge, a dropped connection', async () => {
  await reset();
  await control('POST', '/faults', { requests: [{ kind: '429', count: 1, retry_after: 7 }, { kind: 'waf', count: 1, match: '/products' }, { kind: 'drop', count: 1, match: 'GET /wp-json/wc/v3/coupons' }] });
  const limited = await api('GET', '/orders');
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '7');
  const waf = await api('GET', '/products');
  assert.equal(waf.status, 403);
  assert.match(waf.text, /Just a moment\.\.\./);
  assert.equal(waf.headers.get('cf-mitigated'), 'challenge');
  await assert.rejects(api('GET', '/coupons'));
  assert.equal((await api('GET', '/orders')).status, 200);
});

test('a million orders: pages of 100 come fast and memory stays bounded', async (t) => {
  const seeded = await control('POST', '/seed', { orders: 1_000_000, seed: 3 });
  t.diagnostic(`seeding 1,000,000 orders took ${seeded.took_ms} ms`);
  const first = await api('GET', '/orders', { query: { per_page: '100', orderby: 'id', order: 'asc' } });
  assert.ok(Number(first.headers.get('x-wp-total')) > 990_000);
  assert.equal(first.body.length, 100);
  await api('GET', '/orders', { query: { per_page: '100', page: '2', dates_are_gmt: 'true', modified_after: '2000-01-01T00:00:00' } });
  const pages = 100;
  const started = performance.now();
  for (let i = 0; i < pages; i++) {
    const res = await api('GET', '/orders', { query: { per_page: '100', orderby: 'id', order: 'asc', page: String(1 + i * 97) } });
    assert.equal(res.body.length, 100);
  }
  const byId = performance.now() - started;
  const again = performance.now();
  for (let i = 0; i < pages; i++) await api('GET', '/orders', { query: { per_page: '100', page: String(1 + i * 89), dates_are_gmt: 'true', modified_after: '2000-01-01T00:00:00' } });
  const byDate = performance.now() - again;
  const rate = (ms) => `${Math.round((pages * 1000) / ms)} pages/s (${Math.round((pages * 100 * 1000) / ms)} orders/s)`;
  t.diagnostic(`seen by this client (signing, fetching and parsing included): orderby=id ${rate(byId)}; by date with a modified_after window ${rate(byDate)}`);
  const { requests } = await control('GET', '/state?requests=200&deliveries=0');
  const served = requests.filter((r) => r.path === '/wp-json/wc/v3/orders').map((r) => r.duration_ms).sort((a, b) => a - b);
  const median = served[Math.floor(served.length / 2)];
  const p95 = served[Math.floor(served.length * 0.95)];
  t.diagnostic(`time the stand-in took to produce a page of 100 (of ${served.length}): median ${median} ms, p95 ${p95} ms`);
  assert.ok(byId < 10_000, `100 pages by id took ${Math.round(byId)} ms`);
  assert.ok(byDate < 10_000, `100 pages by date took ${Math.round(byDate)} ms`);
  assert.ok(median < 20, `a page of 100 took ${median} ms to produce`);
  const { memory_rss: rss } = await control('GET', '/state?deliveries=0&requests=0');
  t.diagnostic(`stand-in resident memory: ${Math.round(rss / 1e6)} MB`);
  assert.ok(rss < 600e6);
});
