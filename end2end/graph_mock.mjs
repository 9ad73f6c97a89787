// A stand-in for Meta's WhatsApp Cloud API (the Graph API) as Backroom uses it: the
// business's phone numbers, its message templates (paged), and template messages sent to
// a shopper who has not written in the last 24 hours, so only approved templates with the
// right parameters go out. It keeps every message it accepts and never deduplicates: a
// client that sends twice makes two messages, and the shopper gets both.
// It also plays Meta's side of the webhook: delivery statuses and inbound texts, posted to
// Backroom with the bytes escaped and signed as Meta does.
//
// Run: node end2end/graph_mock.mjs [--port N] [--token T] [--phone-number-id P]
//                                  [--waba-id W] [--latency MS]
// It prints "listening <port>" when ready (and nothing else on stdout). Graph requests are
// /v<major>.<minor>/... with "Authorization: Bearer <token>". Control endpoints (no auth):
//   GET  /_mock/state   -> { messages, requests }
//   POST /_mock/reset   -> forgets messages, requests and the script (keeps the configuration)
//   POST /_mock/config  { token?, phone_number_id?, waba_id?, latency_ms?, templates? }
//                       (templates replaces the whole list; a template without an id gets one)
//   POST /_mock/script  [{ match: "POST /messages", status?, body?, raw?, delay_ms?, commit? }]
//                       One-shot answers for the next authenticated requests whose method is
//                       the match's and whose path ends with the match's path, in order.
//                       `commit: true` accepts and keeps the message first (Meta has sent it)
//                       and then answers as scripted; a delay_ms longer than the client's
//                       timeout plays a timeout. Meta's answers a test will want:
//     throughput:  { "match": "POST /messages", "status": 429, "body": { "error": {
//                    "message": "(#130429) Rate limit hit", "type": "OAuthException",
//                    "code": 130429, "error_data": { "messaging_product": "whatsapp",
//                    "details": "Cloud API message throughput has been reached." },
//                    "fbtrace_id": "A1b2" } } }
//     undeliverable: status 400, code 131026, "(#131026) Message undeliverable"
//     24 h window:   status 400, code 131047, "(#131047) Re-engagement message"
//     Meta is down:  { "match": "POST /messages", "status": 500, "body": { "error": {
//                    "message": "An unknown error occurred", "type": "OAuthException",
//                    "code": 1, "is_transient": true } } }
//   POST /_mock/status  { webhook_url, app_secret, wamid, status: sent|delivered|read|failed,
//                         errors?, recipient_id?, timestamp? }
//   POST /_mock/inbound { webhook_url, app_secret, from, text, name?, id?, timestamp? }
//                       Both post one webhook delivery to webhook_url and answer
//                       { status, body } with Backroom's answer.
import http from 'node:http';
import { createHash, createHmac, randomBytes } from 'node:crypto';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);

const DISPLAY_PHONE_NUMBER = '+90 555 000 00 00';
const FBTRACE_ID = 'A1b2';

const placeholders = (text) => new Set([...String(text ?? '').matchAll(/\{\{(\d+)\}\}/g)].map((m) => m[1])).size;

function body(text, examples = []) {
  return examples.length ? { type: 'BODY', text, example: { body_text: [examples] } } : { type: 'BODY', text };
}

const cartButton = {
  type: 'BUTTONS',
  buttons: [{ type: 'URL', text: 'Sepete dön', url: 'https://backroom.example/r/{{1}}', example: ['https://backroom.example/r/abc'] }],
};

const defaultTemplates = () => [
  { name: 'cart_reminder_1', language: 'tr', status: 'APPROVED', category: 'MARKETING',
    components: [body('Merhaba {{1}}, sepetinizde {{2}} tutarında ürün bekliyor.', ['Ayşe', '249,90 ₺']), cartButton] },
  { name: 'cart_reminder_2', language: 'tr', status: 'APPROVED', category: 'MARKETING',
    components: [body('{{1}}, sepetiniz hâlâ sizi bekliyor. {{2}} kodu ile %{{3}} indirim!', ['Ayşe', 'SEPET10', '10']), cartButton] },
  { name: 'cart_reminder_3', language: 'tr', status: 'APPROVED', category: 'MARKETING',
    components: [body('Son hatırlatma {{1}}: sepetiniz yakında silinecek.', ['Ayşe']), cartButton] },
  { name: 'order_processing', language: 'tr', status: 'APPROVED', category: 'UTILITY',
    components: [body('Merhaba {{1}}, {{2}} numaralı siparişiniz hazırlanıyor.', ['Ayşe', '1042'])] },
  { name: 'order_completed', language: 'tr', status: 'APPROVED', category: 'UTILITY',
    components: [body('{{1}} numaralı siparişiniz teslim edildi. Toplam: {{2}}. Teşekkürler {{3}}!', ['1042', '249,90 ₺', 'Ayşe'])] },
  { name: 'order_cancelled', language: 'tr', status: 'APPROVED', category: 'UTILITY',
    components: [body('{{1}} numaralı siparişiniz iptal edildi.', ['1042'])] },
  { name: 'hello_world', language: 'en_US', status: 'APPROVED', category: 'UTILITY', components: [body('Hello World')] },
  { name: 'old_promo', language: 'tr', status: 'REJECTED', category: 'MARKETING', components: [body('Eski {{1}}', ['kampanya'])] },
];

// Meta's template ids are long decimal strings; tests may bring their own.
const withIds = (templates) => templates.map((t, i) => ({ id: String(1_000_000_000_000_001 + i), ...t }));

const config = {
  token: args.token ?? 'test-graph-token-0123456789',
  phone_number_id: args['phone-number-id'] ?? '1234567890',
  waba_id: args['waba-id'] ?? '9876543210',
  latency_ms: Number(args.latency ?? 0),
  templates: withIds(defaultTemplates()),
};

let state;
let script;
function reset() {
  state = { messages: [], requests: [] };
  script = [];
}
reset();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function send(res, status, answer) {
  const text = typeof answer === 'string' ? answer : JSON.stringify(answer);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(text);
}

/// Meta's error shape. WhatsApp errors carry error_data; plain Graph errors do not.
function graphError(code, message, { details, subcode, type = 'OAuthException' } = {}) {
  const error = { message, type, code };
  if (subcode !== undefined) error.error_subcode = subcode;
  if (details !== undefined) error.error_data = { messaging_product: 'whatsapp', details };
  error.fbtrace_id = FBTRACE_ID;
  return { error };
}

const invalid = (details) => [400, graphError(100, '(#100) Invalid parameter', { details })];

const noSuchObject = (method, id) => [400, graphError(100,
  `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
  { subcode: 33, type: 'GraphMethodException' })];

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function phoneNumber() {
  return { id: config.phone_number_id, display_phone_number: DISPLAY_PHONE_NUMBER, verified_name: 'Backroom Demo Shop', quality_rating: 'GREEN' };
}

const cursor = (index) => Buffer.from(`cursor:${index}`).toString('base64');
function fromCursor(text) {
  const match = Buffer.from(String(text), 'base64').toString('utf8').match(/^cursor:(\d+)$/);
  return match ? Number(match[1]) : null;
}

function templatePage(version, query, host) {
  const limit = Math.max(1, Number.parseInt(query.limit ?? '25', 10) || 25);
  let start = 0;
  if (query.after !== undefined) {
    const last = fromCursor(query.after);
    if (last === null) return invalid('after: not a cursor this API gave');
    start = last + 1;
  }
  // As Meta does, `fields` picks what each template carries; the id always comes along.
  const fields = query.fields ? query.fields.split(',').map((f) => f.trim()).filter(Boolean) : null;
  const shown = (t) => (fields ? Object.fromEntries(Object.entries(t).filter(([k]) => k === 'id' || fields.includes(k))) : t);
  const page = config.templates.slice(start, start + limit);
  if (page.length === 0) return [200, { data: [] }];
  const end = start + page.length - 1;
  const answer = { data: page.map(shown), paging: { cursors: { before: cursor(start), after: cursor(end) } } };
  if (end + 1 < config.templates.length) {
    const next = new URL(`http://${host}/${version}/${config.waba_id}/message_templates`);
    for (const [k, v] of Object.entries(query)) if (k !== 'after') next.searchParams.set(k, v);
    next.searchParams.set('limit', String(limit));
    next.searchParams.set('after', cursor(end));
    answer.paging.next = next.toString();
  }
  return [200, answer];
}

// Shaped as Meta's are: a small binary record of the recipient and a message id, in base64.
let sequence = 0;
function wamid(digits, prefix = 'wamid.') {
  sequence += 1;
  const id = (randomBytes(5).toString('hex') + sequence.toString(16).padStart(8, '0')).toUpperCase();
  const record = Buffer.concat([
    Buffer.from([0x1c, 0x18, digits.length]), Buffer.from(digits),
    Buffer.from([0x15, 0x02, 0x00, 0x11, 0x18, 0x12]), Buffer.from(id), Buffer.from([0x00]),
  ]);
  return prefix + record.toString('base64');
}

const SESSION_TYPES = ['text', 'image', 'audio', 'video', 'document', 'sticker', 'location', 'contacts', 'interactive', 'reaction'];

/// Why these parameters cannot fill the template, or null.
function badParameters(parameters) {
  for (const p of parameters) {
    if (p?.type !== 'text') continue;
    if (typeof p.text !== 'string' || p.text.trim() === '') {
      return [400, graphError(131008, '(#131008) Required parameter is missing', { details: 'Parameter of type text is missing text value' })];
    }
    // Meta refuses these in template parameters; a name typed with a newline would hit it.
    if (/[\n\t]| {5}/.test(p.text)) {
      return [400, graphError(132018, '(#132018) There was an issue with the parameters in your template.',
        { details: 'Param text cannot have new-line/tab characters or more than 4 consecutive spaces' })];
    }
  }
  return null;
}

const mismatch = (details) => [400, graphError(132000, '(#132000) Number of parameters does not match the expected number of params', { details })];

// A template message to a number outside the 24 hour window: only approved templates,
// every placeholder filled.
function sendMessage(version, message) {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return invalid('the request body is not a JSON object');
  if (message.messaging_product !== 'whatsapp') return invalid('messaging_product must be "whatsapp"');
  if (typeof message.to !== 'string' || !/^\+?\d+$/.test(message.to)) return invalid('to must be a phone number: digits with an optional leading +');
  const type = message.type ?? 'text';
  if (SESSION_TYPES.includes(type)) {
    return [400, graphError(131047, '(#131047) Re-engagement message', {
      details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
    })];
  }
  if (type !== 'template') return invalid(`type: unknown message type ${JSON.stringify(type)}`);
  const { name, language, components = [] } = message.template ?? {};
  if (typeof name !== 'string' || typeof language?.code !== 'string') return invalid('template.name and template.language.code are required');
  if (!Array.isArray(components)) return invalid('template.components must be a list');
  const template = config.templates.find((t) => t.name === name && t.language === language.code && t.status === 'APPROVED');
  if (!template) {
    return [404, graphError(132001, '(#132001) Template name does not exist in the translation',
      { details: `template name (${name}) does not exist in ${language.code}` })];
  }
  const sent = (kind) => components.filter((c) => String(c?.type).toLowerCase() === kind);
  for (const part of template.components) {
    const kind = String(part.type).toLowerCase();
    if (kind !== 'header' && kind !== 'body') continue;
    const expected = part.format && part.format !== 'TEXT' ? 0 : placeholders(part.text);
    const parameters = sent(kind)[0]?.parameters ?? [];
    if (!Array.isArray(parameters) || parameters.length !== expected) {
      return mismatch(`${kind}: number of localizable_params (${Array.isArray(parameters) ? parameters.length : 0}) does not match the expected number of params (${expected})`);
    }
    const bad = badParameters(parameters);
    if (bad) return bad;
  }
  const buttons = template.components.find((c) => c.type === 'BUTTONS')?.buttons ?? [];
  const dynamic = buttons.map((b, i) => (b.type === 'URL' && placeholders(b.url) > 0 ? i : -1)).filter((i) => i >= 0);
  for (const index of dynamic) {
    const given = sent('button').find((c) => String(c.sub_type).toLowerCase() === 'url' && String(c.index) === String(index));
    const parameters = Array.isArray(given?.parameters) ? given.parameters : [];
    if (parameters.length !== 1) {
      return mismatch(`button at index ${index} (URL): number of localizable_params (${parameters.length}) does not match the expected number of params (1)`);
    }
    const bad = badParameters(parameters);
    if (bad) return bad;
  }
  const stray = sent('button').find((c) => !dynamic.includes(Number(c.index)));
  if (stray) return mismatch(`button at index ${stray.index}: the template has no button there that takes parameters`);

  const digits = message.to.replace(/^\+/, '');
  const id = wamid(digits);
  state.messages.push({ wamid: id, to: message.to, wa_id: digits, template: name, language: language.code,
    category: template.category, version, body: message, at: Date.now() });
  return [200, { messaging_product: 'whatsapp', contacts: [{ input: message.to, wa_id: digits }], messages: [{ id }] }];
}

// What Graph answers to a request that passed authentication.
function act(method, version, parts, query, message, host) {
  const [id, edge] = parts;
  if (parts.length === 2 && edge === 'phone_numbers' && method === 'GET') {
    return id === config.waba_id ? [200, { data: [phoneNumber()] }] : noSuchObject(method, id);
  }
  if (parts.length === 2 && edge === 'message_templates' && method === 'GET') {
    return id === config.waba_id ? templatePage(version, query, host) : noSuchObject(method, id);
  }
  if (parts.length === 2 && edge === 'messages' && method === 'POST') {
    return id === config.phone_number_id ? sendMessage(version, message) : noSuchObject(method, id);
  }
  if (parts.length === 1 && method === 'GET') {
    return id === config.phone_number_id ? [200, phoneNumber()] : noSuchObject(method, id);
  }
  return [400, graphError(2500, `Unknown path components: /${parts.join('/')}`)];
}

// Meta writes every character above ASCII as \uXXXX (lower-case hex, UTF-16 units), so the
// signed bytes differ from what a re-serialiser would produce.
const escapeLikeMeta = (json) => json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

async function deliver(webhookUrl, appSecret, payload) {
  const text = escapeLikeMeta(JSON.stringify(payload));
  const bytes = Buffer.from(text, 'utf8');
  const signature = createHmac('sha256', String(appSecret)).update(bytes).digest('hex');
  const answer = await fetch(webhookUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'facebookexternalua',
      'x-hub-signature': `sha1=${createHmac('sha1', String(appSecret)).update(bytes).digest('hex')}`,
      'x-hub-signature-256': `sha256=${signature}`,
    },
    body: bytes,
  });
  return { status: answer.status, body: await answer.text() };
}

function envelope(value) {
  return {
    object: 'whatsapp_business_account',
    entry: [{
      id: config.waba_id,
      changes: [{
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: DISPLAY_PHONE_NUMBER.replace(/\D/g, ''), phone_number_id: config.phone_number_id },
          ...value,
        },
        field: 'messages',
      }],
    }],
  };
}

const now = () => String(Math.floor(Date.now() / 1000));

function statusDelivery(request) {
  const sent = state.messages.find((m) => m.wamid === request.wamid);
  const recipient = request.recipient_id ?? sent?.wa_id;
  if (!recipient) return null;
  const category = String(sent?.category ?? 'MARKETING').toLowerCase();
  const timestamp = String(request.timestamp ?? now());
  const status = { id: request.wamid, status: request.status, timestamp, recipient_id: recipient };
  const opaque = sent?.body?.biz_opaque_callback_data;
  if (opaque !== undefined) status.biz_opaque_callback_data = opaque;
  if (request.status === 'failed') {
    status.errors = request.errors ?? [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable',
      error_data: { details: 'Message Undeliverable.' }, href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/' }];
  } else {
    const conversation = { id: createHash('sha256').update(`conversation:${recipient}`).digest('hex').slice(0, 32), origin: { type: category } };
    if (request.status === 'sent') conversation.expiration_timestamp = String(Number(timestamp) + 86_400);
    status.conversation = conversation;
    status.pricing = { billable: true, pricing_model: 'PMP', category };
    if (request.errors) status.errors = request.errors;
  }
  return envelope({ statuses: [status] });
}

function inboundDelivery(request) {
  const from = String(request.from);
  return envelope({
    contacts: [{ profile: { name: request.name ?? 'Ayşe' }, wa_id: from }],
    messages: [{ from, id: request.id ?? wamid(from, 'wamid.in'), timestamp: String(request.timestamp ?? now()), type: 'text', text: { body: String(request.text) } }],
  });
}

async function control(req, res, path) {
  if (req.method === 'GET' && path === '/_mock/state') return send(res, 200, state);
  if (req.method === 'POST' && path === '/_mock/reset') {
    reset();
    return send(res, 200, { ok: true });
  }
  let body;
  try {
    body = JSON.parse((await readBody(req)) || 'null');
  } catch {
    return send(res, 400, { error: 'the control body is not JSON' });
  }
  if (req.method === 'POST' && path === '/_mock/config') {
    const { templates, ...rest } = body ?? {};
    Object.assign(config, rest);
    if (templates !== undefined) config.templates = withIds(templates);
    return send(res, 200, config);
  }
  if (req.method === 'POST' && path === '/_mock/script') {
    script.push(...(Array.isArray(body) ? body : [body]));
    return send(res, 200, { queued: script.length });
  }
  if (req.method === 'POST' && (path === '/_mock/status' || path === '/_mock/inbound')) {
    if (!body?.webhook_url || body.app_secret === undefined) return send(res, 400, { error: 'webhook_url and app_secret are required' });
    const payload = path === '/_mock/status' ? statusDelivery(body) : inboundDelivery(body);
    if (!payload) return send(res, 404, { error: `no message ${body.wamid}: pass recipient_id to report on a message the mock did not send` });
    try {
      return send(res, 200, await deliver(body.webhook_url, body.app_secret, payload));
    } catch (e) {
      return send(res, 502, { error: `the webhook could not be reached: ${e.cause?.message ?? e.message}` });
    }
  }
  return send(res, 404, { error: 'no such control' });
}

function scriptedFor(method, path) {
  const index = script.findIndex((s) => {
    const [m, suffix] = String(s.match).includes(' ') ? String(s.match).split(' ', 2) : [null, String(s.match)];
    return (m === null || m === method) && path.endsWith(suffix);
  });
  return index >= 0 ? script.splice(index, 1)[0] : null;
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://mock');
  const path = url.pathname;
  if (path.startsWith('/_mock/')) return control(req, res, path);
  const raw = await readBody(req);
  let body = null;
  let unparsable = false;
  if (raw) {
    try {
      body = JSON.parse(raw);
    } catch {
      unparsable = true;
    }
  }
  const query = Object.fromEntries(url.searchParams);
  const versioned = path.match(/^\/(v\d+\.\d+)\/(.*)$/);
  const version = versioned ? versioned[1] : null;
  state.requests.push({ method: req.method, path, query, version, authorization: req.headers.authorization ?? null, body, at: Date.now() });
  if (config.latency_ms > 0) await sleep(config.latency_ms);

  if (req.headers.authorization !== `Bearer ${config.token}`) {
    return send(res, 401, graphError(190, 'Invalid OAuth access token - Cannot parse access token'));
  }
  const scripted = scriptedFor(req.method, path);
  const answer = () => {
    if (!versioned) return [400, graphError(2500, `Unknown path components: ${path}`)];
    if (unparsable) return invalid('the request body is not JSON');
    return act(req.method, version, versioned[2].split('/').filter(Boolean), query, body, req.headers.host);
  };
  if (!scripted) {
    const [status, text] = answer();
    return send(res, status, text);
  }
  const done = scripted.commit ? answer() : null;
  if (scripted.delay_ms) await sleep(scripted.delay_ms);
  if (res.destroyed || req.socket.destroyed) return;
  if (scripted.raw !== undefined) return send(res, scripted.status ?? 200, String(scripted.raw));
  if (scripted.status === undefined && done) return send(res, done[0], done[1]);
  return send(res, scripted.status ?? 200, scripted.body ?? {});
});

server.keepAliveTimeout = 60_000;
server.listen(Number(args.port ?? 0), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
