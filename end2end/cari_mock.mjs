// A stand-in for the Cari.com.tr API, playing the contract documented in
// backend/src/accounting/cari.rs: customers (cariler), invoices (faturalar) and credit
// notes (iade-faturalari), behind a bearer key and a company code. It keeps what it is
// sent, so tests can check the exact payloads, and it never deduplicates: a client that
// creates twice gets two invoices, as it would from a careless ledger.
//
// Run: node end2end/cari_mock.mjs [--port N] [--key K] [--company C] [--latency MS]
// It prints "listening <port>" when ready. Control endpoints (no auth):
//   GET  /_mock/state   -> { customers, invoices, credit_notes, requests }
//   POST /_mock/reset   -> forgets everything (keeps the configuration)
//   POST /_mock/config  { key?, company?, latency_ms? }
//   POST /_mock/script  [{ match: "POST /v1/faturalar", status?, body?, raw?, delay_ms?,
//                          commit?, retry_after? }] — one-shot answers for the next
//                          matching requests, in order. `commit: true` does the real work
//                          first (so the ledger has the invoice) and then answers as
//                          scripted (a timeout after the ledger acted, a lost answer).
import http from 'node:http';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);

const config = {
  key: args.key ?? 'test-api-key-0123456789',
  company: args.company ?? 'FIRMA1',
  latency_ms: Number(args.latency ?? 0),
};

let state;
let script;
function reset() {
  state = { customers: [], invoices: [], credit_notes: [], requests: [] };
  script = [];
}
reset();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(text);
}

const error = (kod, mesaj) => ({ hata: { kod, mesaj } });

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

const money = /^-?\d+\.\d{2}$/;

function invalidDocument(body, needsLines) {
  if (typeof body !== 'object' || body === null) return 'the body is not a JSON object';
  if (!body.referans) return 'referans is required';
  if (!money.test(body.genel_toplam ?? '')) return 'genel_toplam must be a decimal string such as 10.00';
  if (needsLines && (!Array.isArray(body.satirlar) || body.satirlar.length === 0)) return 'satirlar must list the lines';
  if (!body.cari_id) return 'cari_id is required';
  return null;
}

// The ledger itself: answers a request that passed authentication.
function act(method, path, query, body) {
  const collections = { '/v1/faturalar': ['invoices', 'faturalar', 'F'], '/v1/iade-faturalari': ['credit_notes', 'iade_faturalari', 'I'] };
  if (method === 'GET' && path === '/v1/firma') return [200, { firma_kodu: config.company, unvan: 'Örnek Ticaret A.Ş.' }];
  if (path === '/v1/cariler' && method === 'GET') {
    const [field, value] = Object.entries(query)[0] ?? [];
    const found = state.customers.filter((c) => field && c[field] === value);
    return [200, { cariler: found.map((c) => ({ id: c.id, unvan: c.unvan })) }];
  }
  if (path === '/v1/cariler' && method === 'POST') {
    if (!body || !body.unvan) return [422, error('gecersiz', 'unvan is required')];
    const id = `C-${state.customers.length + 1}`;
    state.customers.push({ ...body, id, updates: 0 });
    return [201, { id }];
  }
  const customer = path.match(/^\/v1\/cariler\/([^/]+)$/);
  if (customer && method === 'PUT') {
    const found = state.customers.find((c) => c.id === decodeURIComponent(customer[1]));
    if (!found) return [404, error('bulunamadi', 'no such customer')];
    Object.assign(found, body, { id: found.id, updates: found.updates + 1 });
    return [200, { id: found.id }];
  }
  for (const [base, [key, listName, letter]] of Object.entries(collections)) {
    if (path === base && method === 'GET') {
      const found = state[key].filter((d) => d.referans === query.referans);
      return [200, { [listName]: found.map((d) => ({ id: d.id, numara: d.numara })) }];
    }
    if (path === base && method === 'POST') {
      const invalid = invalidDocument(body, key === 'invoices');
      if (invalid) return [422, error('gecersiz', invalid)];
      const id = `${letter}-${state[key].length + 1}`;
      const numara = body.numara ?? `${letter}${String(state[key].length + 1).padStart(6, '0')}`;
      state[key].push({ ...body, id, numara, updates: 0 });
      return [201, { id, numara }];
    }
    const one = path.match(new RegExp(`^${base}/([^/]+)$`));
    if (one && method === 'PUT') {
      const found = state[key].find((d) => d.id === decodeURIComponent(one[1]));
      if (!found) return [404, error('bulunamadi', 'no such document')];
      Object.assign(found, body, { id: found.id, numara: found.numara, updates: found.updates + 1 });
      return [200, { id: found.id, numara: found.numara }];
    }
  }
  return [404, error('bulunamadi', `no endpoint ${method} ${path}`)];
}

async function control(req, res, path) {
  if (req.method === 'GET' && path === '/_mock/state') return send(res, 200, state);
  if (req.method === 'POST' && path === '/_mock/reset') {
    reset();
    return send(res, 200, { ok: true });
  }
  const body = JSON.parse((await readBody(req)) || 'null');
  if (req.method === 'POST' && path === '/_mock/config') {
    Object.assign(config, body);
    return send(res, 200, config);
  }
  if (req.method === 'POST' && path === '/_mock/script') {
    script.push(...body);
    return send(res, 200, { queued: script.length });
  }
  return send(res, 404, error('bulunamadi', 'no such control'));
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://mock');
  const path = url.pathname.replace(/^\/api/, '');
  if (path.startsWith('/_mock/')) return control(req, res, path);
  const raw = await readBody(req);
  let body = null;
  if (raw) {
    try {
      body = JSON.parse(raw);
    } catch {
      return send(res, 400, error('gecersiz_json', 'the body is not JSON'));
    }
  }
  const query = Object.fromEntries(url.searchParams);
  state.requests.push({ method: req.method, path, query, body, company: req.headers['x-firma-kodu'] ?? null, at: Date.now() });
  if (config.latency_ms > 0) await sleep(config.latency_ms);

  const index = script.findIndex((s) => s.match === `${req.method} ${path}`);
  const scripted = index >= 0 ? script.splice(index, 1)[0] : null;

  if (req.headers.authorization !== `Bearer ${config.key}`) {
    return send(res, 401, error('yetkisiz', 'API anahtarı geçersiz'));
  }
  if (req.headers['x-firma-kodu'] !== config.company) {
    return send(res, path === '/v1/firma' ? 404 : 401, error('firma_bulunamadi', 'firma kodu bulunamadı'));
  }
  if (!scripted) {
    const [status, answer] = act(req.method, path, query, body);
    return send(res, status, answer);
  }
  const done = scripted.commit ? act(req.method, path, query, body) : null;
  if (scripted.delay_ms) await sleep(scripted.delay_ms);
  if (res.destroyed || req.socket.destroyed) return;
  const headers = scripted.retry_after ? { 'retry-after': String(scripted.retry_after) } : {};
  if (scripted.raw !== undefined) return send(res, scripted.status ?? 200, String(scripted.raw), headers);
  if (scripted.status === undefined && done) return send(res, done[0], done[1], headers);
  return send(res, scripted.status ?? 200, scripted.body ?? {}, headers);
});

server.keepAliveTimeout = 60_000;
server.listen(Number(args.port ?? 0), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
