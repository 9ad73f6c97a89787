// A stand-in for a WooCommerce shop as Backroom talks to it: the WordPress REST API under
// /wp-json/wc/v3 (orders, notes, refunds, products, variations, categories, tags,
// attributes, customers, coupons, webhooks, system_status) and the webhooks such a shop
// sends. It follows WooCommerce's code where its docs disagree: WordPress's argument errors,
// Link headers built by add_query_arg(), exclusive second-granular date filters, refund
// errors as HTTP 500 with a bare number as data, authentication exactly as
// WC_REST_Authentication does it, and WC_Webhook's delivery (Action Scheduler queue,
// payload built when the delivery runs, one HTTP/1.0 POST, no retries, the failure
// counter, the unsigned form-encoded ping). The shop is Turkish: TRY, Europe/Istanbul,
// prices include 20 % KDV, HPOS on, WooCommerce 9.8.5 on WordPress 6.8.1.
//
// Orders and customers are generated from (seed, number) when asked for, never stored;
// only what changes after seeding is kept. A million orders cost about 13 MB of index (the
// process stays under 200 MB) and a page of 100 takes a few milliseconds to produce.
//
// Run: node end2end/woo_mock.mjs [--port N] [--orders N] [--seed N] [--customers N]
//                                [--products N] [--coupons N] [--anchor ISO-DATE]
//                                [--consumer-key CK] [--consumer-secret CS]
//                                [--latency MS] [--ssl true] [--home URL] [--demo true]
// It prints "listening <port>" when ready and nothing else on stdout. --orders defaults to
// 300, --seed to 1; --anchor is when the newest generated order was placed (default: at
// start); --home is the home URL WordPress believes it has (default http://127.0.0.1:<port>;
// OAuth signatures and links use it, so sign with the same URL). --demo true runs the
// webhook queue every 5 s and has a shopper check out every 20 s (`make store`).
// The default key is read_write:
//   consumer_key    ck_ff2a9b1394e11555ffd57c9e67a395797dfa89b4
//   consumer_secret cs_e9b3dbcbae3634b5f2e03d89f2b03c59deb6762f
//
// Authentication, as WooCommerce does it: over plain HTTP only one-legged OAuth 1.0a works
// (query string or "Authorization: OAuth …", HMAC-SHA1/HMAC-SHA256, ±15 min, nonces
// remembered per key and timestamp). Basic auth and ?consumer_key=&consumer_secret= count
// only when the store believes it is on HTTPS (config is_ssl); otherwise the request is
// anonymous and gets 401 woocommerce_rest_cannot_view.
//
// Control endpoints (no authentication, plain JSON):
//   GET  /_mock/state[?deliveries=N&requests=N]
//        -> { config, seed, counts: { orders, orders_by_status, orders_generated, orders_changed,
//             first_order_id, last_order_id, products, variations, coupons, customers, webhooks,
//             pending_deliveries }, webhooks: [{ id, name, status, topic, delivery_url, secret,
//             failure_count, pending_delivery, api_version, user_id, date_created_gmt,
//             date_modified_gmt }], queue: [{ action_id, webhook_id, topic, arg, scheduled_gmt,
//             coalesced }], coalesced, deliveries: [{ kind: "delivery"|"ping", action_id,
//             webhook_id, topic, arg, url, at, request: { method, http_version, headers, body },
//             response: { status, body } | null, error, duration_ms, duplicate, stale, dropped }],
//             requests: [{ method, path, query, auth: none|basic|query|oauth1, key, status,
//             fault, at, duration_ms }], faults, keys, memory_rss }
//        (the last 100 deliveries and 200 requests unless asked; logs keep 500 and 1000)
//   POST /_mock/reset   back to the freshly seeded shop: changes, webhooks, queue, logs and
//                       faults forgotten; configuration and keys kept
//   POST /_mock/config  { home_url?, is_ssl?, strip_authorization?, trust_forwarded_proto?,
//                         latency_ms?, page_latency_ms?, wc_version?, wp_version?, php_version?,
//                         mysql_version?, currency?, currency_symbol?, timezone? (IANA name or
//                         "UTC+2"), prices_include_tax?, hpos?, hpos_sync?, wp_cron?,
//                         deliver_async?, auto_deliver_ms?, max_delivery_failures?,
//                         delivery_timeout_ms?, ping_timeout_ms?, safe_urls?,
//                         rest_trash_crossfire?, now? (ISO date freezing the store's clock, or
//                         null), request_log_limit?, delivery_log_limit? } -> the configuration
//        strip_authorization: the host drops the Authorization header (Basic and OAuth-by-header
//          stop working; the query string still does). trust_forwarded_proto: X-Forwarded-Proto:
//          https makes is_ssl() true. latency_ms delays every API request, page_latency_ms every
//          collection page on top. auto_deliver_ms: run the delivery queue every N ms (0: only on
//          /_mock/deliver). deliver_async: false delivers right after the request, as with the
//          woocommerce_webhook_deliver_async filter off. safe_urls: refuse loopback/private hosts
//          and ports other than 80/443/8080 as wp_safe_remote_request() does (off by default, so
//          local receivers work). rest_trash_crossfire (default true): a trash through REST
//          reaches every webhook on wp_trash_post (product.deleted and coupon.deleted alike);
//          false filters by post type as wp-admin does.
//   POST /_mock/seed    { orders?, products?, customers?, coupons?, seed?, anchor? } -> a new
//                       shop (as reset, with these numbers) and { seed, counts, took_ms }
//   GET  /_mock/keys    -> [{ key_id, user_id, description, permissions, consumer_key,
//                         consumer_secret, last_access }]
//   POST /_mock/keys    { permissions?: read|write|read_write, consumer_key?, consumer_secret?,
//                         description? } -> the key (new, or the existing one with that
//                         consumer_key updated: e.g. the default key made read-only)
//   DELETE /_mock/keys/<consumer_key>
//   GET  /_mock/faults  -> the faults still armed
//   POST /_mock/faults  { requests?: [{ kind, count?: 1, match?: "GET /wp-json/wc/v3/orders" or
//                           "/orders", retry_after?, status?, location?, delay_ms?, body?,
//                           headers? }],
//                         deliveries?: { drop?: N, duplicate?: N, stale?: N, reorder?:
//                           "reverse"|"shuffle" }, gateway_refund_errors?: N,
//                         gateway_refund_message?, clear?: true } -> the faults
//        Request faults answer the next `count` REST requests whose "METHOD path?query"
//        contains `match` (any request without one):
//          "429"      nginx "429 Too Many Requests" page, Retry-After: retry_after (30)
//          "waf"      403 Cloudflare "Just a moment..." challenge page, cf-mitigated: challenge
//          "503"      WordPress maintenance page, Retry-After: retry_after (600)
//          "500"      WordPress's critical-error JSON (code internal_server_error)
//          "502"      nginx "502 Bad Gateway" page
//          "redirect" `status` (301) to `location` (the same URL on https)
//          "drop"     the connection is closed without an answer
//          "slow"     delay_ms (5000) before the normal answer
//          "custom"   { status, body (string: HTML, object: JSON), headers }
//        Delivery faults apply to the next deliveries the queue runs: drop (never sent),
//        duplicate (sent twice, same X-WC-Webhook-Delivery-ID), stale (built from the object
//        as it was before its last change); reorder shuffles or reverses the pending queue
//        once. gateway_refund_errors: the next N gateway refunds fail with
//        gateway_refund_message (HTTP 500, data 500).
//   POST /_mock/webhooks/<id> { status } as on the admin's webhook screen -> the webhook
//   POST /_mock/deliver { limit? } -> { delivered, results: [delivery records], pending }
//                       runs the Action Scheduler queue now (oldest first)
//   Changes "made in wp-admin" (they bump date_modified and queue webhooks as WooCommerce
//   does; a note alone changes neither). Bodies take the REST fields; answers are the REST
//   object; errors are WooCommerce's:
//     POST   /_mock/orders                 { …order fields, status?, line_items: [{ product_id |
//                                            variation_id | sku, quantity }], created_via? }
//     POST   /_mock/orders/<id>             { status?, …fields, note?, note_to_customer?,
//                                            date_modified_gmt? (sets it instead of now) }
//     POST   /_mock/orders/<id>/notes       { note, customer_note? }
//     POST   /_mock/orders/<id>/refunds     { amount, reason?, line_items?, api_refund?: false,
//                                            api_restock?: true, meta_data? }
//     POST   /_mock/orders/<id>/trash       POST /_mock/orders/<id>/untrash
//     DELETE /_mock/orders/<id>             (for good: no webhook)
//     POST   /_mock/products | /_mock/products/<id> | …/<id>/trash | …/<id>/untrash,
//     DELETE /_mock/products/<id>           (a variation id works too)
//     POST   /_mock/coupons | /_mock/coupons/<id> | …/trash | …/untrash, DELETE /_mock/coupons/<id>
//     POST   /_mock/customers | /_mock/customers/<id>, DELETE /_mock/customers/<id>
//     GET    /_mock/<orders|products|coupons|customers>/<id>   the REST object, no key needed
//   POST /_mock/checkout { line_items, payment_method?: iyzico|paytr|bacs|cod, customer_id?,
//                          billing?, shipping?, draft? } a shopper at the block checkout: a
//                          checkout-draft order, then (unless draft) paid by card
//                          (processing), awaiting a transfer (on-hold) or cash on delivery.
//
// Where the reference was silent the stand-in chose: checkout-draft orders are listed by
// status=any and reach order.updated but not order.created (woocommerce_new_order fires
// when they stop being drafts); creating an order fires order.created and order.updated (it
// is saved twice); notes, stock changes and refund deletion (before WooCommerce 11.2) do not
// touch date_modified; the site time zone is in the /wp-json/ index (gmt_offset,
// timezone_string), not in system_status; API messages are in English (the key's user
// locale), order notes in Turkish; WordPress itself would refuse loopback delivery URLs.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createStorefront } from './woo_storefront.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => (arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs), []),
);
const flag = (value) => value === 'true' || value === '1' || value === 'yes';

export const DEFAULT_CONSUMER_KEY = 'ck_ff2a9b1394e11555ffd57c9e67a395797dfa89b4';
export const DEFAULT_CONSUMER_SECRET = 'cs_e9b3dbcbae3634b5f2e03d89f2b03c59deb6762f';

const defaultConfig = () => ({
  home_url: args.home ?? null,
  is_ssl: flag(args.ssl),
  strip_authorization: false,
  trust_forwarded_proto: false,
  latency_ms: Number(args.latency ?? 0),
  page_latency_ms: 0,
  wc_version: '9.8.5',
  wp_version: '6.8.1',
  php_version: '8.2.28',
  mysql_version: '8.0.36',
  currency: 'TRY',
  currency_symbol: '₺',
  timezone: 'Europe/Istanbul',
  prices_include_tax: true,
  hpos: true,
  hpos_sync: false,
  wp_cron: true,
  deliver_async: true,
  auto_deliver_ms: 0,
  max_delivery_failures: 5,
  delivery_timeout_ms: 60_000,
  ping_timeout_ms: 5_000,
  safe_urls: false,
  rest_trash_crossfire: true,
  now: null,
  request_log_limit: 1000,
  delivery_log_limit: 500,
  storefront_backroom: null,
  checkout: 'classic',
});
const config = defaultConfig();

// ---------------------------------------------------------------------------------------------
// Encodings, exactly as PHP and WordPress produce them.

const ESCAPED = new Map();
const escapeUnit = (c) => {
  let e = ESCAPED.get(c);
  if (e === undefined) {
    e = c === 0x2f ? '\\/' : `\\u${c.toString(16).padStart(4, '0')}`;
    ESCAPED.set(c, e);
  }
  return e;
};

/// wp_json_encode() with WordPress's default flags: "/" as "\/" and everything above ASCII as
/// \uXXXX (UTF-16 units, lower-case hex). Webhook signatures are computed over these bytes.
export function wpJsonEncode(value, pretty = false) {
  const json = JSON.stringify(value, null, pretty ? 4 : undefined);
  let out = '';
  let last = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x2f || c >= 0x80) {
      out += json.slice(last, i) + escapeUnit(c);
      last = i + 1;
    }
  }
  return last === 0 ? json : out + json.slice(last);
}

const UNRESERVED = new Uint8Array(256);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') UNRESERVED[c.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';

/// PHP's rawurlencode(), byte for byte (RFC 3986: only A-Z a-z 0-9 - . _ ~ stay).
export function rawurlencode(text) {
  const bytes = Buffer.from(String(text), 'utf8');
  let out = '';
  for (const b of bytes) out += UNRESERVED[b] ? String.fromCharCode(b) : `%${HEX[b >> 4]}${HEX[b & 15]}`;
  return out;
}

/// PHP's urlencode(): like rawurlencode but "~" is escaped and a space becomes "+".
function urlencode(text) {
  const bytes = Buffer.from(String(text), 'utf8');
  let out = '';
  for (const b of bytes) {
    if (b === 0x20) out += '+';
    else if (UNRESERVED[b] && b !== 0x7e) out += String.fromCharCode(b);
    else out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

/// PHP's urldecode() (plus as space) or rawurldecode(); malformed escapes stay as they are.
function phpUrldecode(text, plusIsSpace = true) {
  let s = String(text);
  if (plusIsSpace) s = s.replace(/\+/g, ' ');
  if (!s.includes('%')) return s;
  const bytes = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else for (const b of Buffer.from(s[i], 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

/// parse_str() as PHP fills $_GET: "a[]=1&a[]=2" and "a[x]=1" nest, dots and spaces in names
/// become underscores, later duplicates win. Nested values are Maps so their order survives.
export function parsePhpQuery(query) {
  const root = new Map();
  if (!query) return root;
  for (const part of String(query).split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = phpUrldecode(eq < 0 ? part : part.slice(0, eq));
    const value = phpUrldecode(eq < 0 ? '' : part.slice(eq + 1));
    const open = key.indexOf('[');
    let base = open > 0 ? key.slice(0, open) : key;
    const path = [];
    if (open > 0) {
      let rest = key.slice(open);
      let m;
      while ((m = /^\[([^\]]*)\]/.exec(rest))) {
        path.push(m[1]);
        rest = rest.slice(m[0].length);
      }
      if (path.length === 0) base = key;
    }
    base = base.replace(/^ +/, '').replace(/[ .[]/g, '_');
    if (!base) continue;
    if (path.length === 0) {
      root.set(base, value);
      continue;
    }
    let node = root.get(base);
    if (!(node instanceof Map)) {
      node = new Map();
      root.set(base, node);
    }
    for (let i = 0; i < path.length; i++) {
      let k = path[i];
      if (k === '') {
        let next = 0;
        for (const existing of node.keys()) if (/^\d+$/.test(existing)) next = Math.max(next, Number(existing) + 1);
        k = String(next);
      }
      if (i === path.length - 1) node.set(k, value);
      else {
        let child = node.get(k);
        if (!(child instanceof Map)) {
          child = new Map();
          node.set(k, child);
        }
        node = child;
      }
    }
  }
  return root;
}

/// A parsed query as plain values: sequential nested maps become arrays.
function plainParam(value) {
  if (!(value instanceof Map)) return value;
  const keys = [...value.keys()];
  if (keys.every((k, i) => k === String(i))) return [...value.values()].map(plainParam);
  return Object.fromEntries([...value].map(([k, v]) => [k, plainParam(v)]));
}

/// WordPress's build_query(): no encoding at all, except that nested keys get "%5B…%5D".
function buildQueryRaw(pairs, prefix = '') {
  const out = [];
  for (const [k, v] of pairs) {
    const key = prefix ? `${prefix}%5B${k}%5D` : k;
    if (v === null || v === undefined) continue;
    if (v instanceof Map) out.push(buildQueryRaw(v, key));
    else if (Array.isArray(v)) out.push(buildQueryRaw(v.map((x, i) => [String(i), x]), key));
    else out.push(`${key}=${v === false ? '0' : v === true ? '1' : v}`);
  }
  return out.filter(Boolean).join('&');
}

const byteOrder = (a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/// The OAuth 1.0a string WooCommerce signs (WC_REST_Authentication::check_oauth_signature):
/// top-level keys sorted by raw bytes, keys and values rawurlencoded, each "k=v" rawurlencoded
/// again and joined with "%26"; nested arrays become key%5Bi%5D. `params` is a Map (as from
/// parsePhpQuery) or a plain object; oauth_signature is left out.
export function oauthBaseString(method, url, params) {
  const map = params instanceof Map ? params : new Map(Object.entries(params));
  const encodeLeaves = (v) => (v instanceof Map ? new Map([...v].map(([k, x]) => [k, encodeLeaves(x)])) : rawurlencode(v));
  const pairs = [];
  const join = (key, value) => {
    if (value instanceof Map) for (const [k, v] of value) join(`${key}%5B${k}%5D`, v);
    else pairs.push(rawurlencode(`${key}=${value}`));
  };
  for (const key of [...map.keys()].filter((k) => k !== 'oauth_signature').sort(byteOrder)) {
    join(rawurlencode(key), encodeLeaves(map.get(key)));
  }
  return `${String(method).toUpperCase()}&${rawurlencode(url)}&${pairs.join('%26')}`;
}

/// base64(HMAC(base string, consumer_secret + "&")), the key WooCommerce uses (no token secret).
export function oauthSignature(baseString, consumerSecret, method = 'HMAC-SHA256') {
  const algorithm = method === 'HMAC-SHA1' ? 'sha1' : 'sha256';
  return createHmac(algorithm, `${consumerSecret}&`).update(baseString).digest('base64');
}

function sameString(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: every generated object is a pure function of (seed, its number).

function mix32(x) {
  let a = x | 0;
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  return (a ^ (a >>> 16)) >>> 0;
}
const hash3 = (seed, n, salt) => mix32(seed ^ mix32(n + Math.imul(salt, 0x9e3779b1) | 0));
const unit = (seed, n, salt) => hash3(seed, n, salt) / 4294967296;

class Rng {
  constructor(state) {
    this.s = state >>> 0 || 1;
  }
  next() {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n) {
    return Math.floor(this.next() * n);
  }
  pick(list) {
    return list[this.int(list.length)];
  }
  chance(p) {
    return this.next() < p;
  }
  digits(n) {
    let s = '';
    for (let i = 0; i < n; i++) s += this.int(10);
    return s;
  }
  alnum(n) {
    const set = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    let s = '';
    for (let i = 0; i < n; i++) s += set[this.int(set.length)];
    return s;
  }
  hex(n) {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }
}

// ---------------------------------------------------------------------------------------------
// Time: the store's clock (real, or frozen by /_mock/config {now}) and its time zone.

const nowSec = () => (config.now ? Math.floor(Date.parse(config.now) / 1000) : Math.floor(Date.now() / 1000));

let tzFixed = null;
let tzFormat = null;

/// Accepts an IANA name or WordPress's manual offsets ("UTC", "UTC+2", "UTC-3.5").
function setTimezone(name) {
  const manual = /^UTC(?:([+-])(\d{1,2})(?:[.:](\d+))?)?$/.exec(name);
  if (manual) {
    const hours = Number(manual[2] ?? 0) + (manual[3] ? Number(`0.${manual[3]}`) : 0);
    tzFixed = Math.round((manual[1] === '-' ? -1 : 1) * hours * 3600);
    tzFormat = null;
  } else {
    tzFormat = new Intl.DateTimeFormat('en-US', {
      timeZone: name, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    tzFixed = null;
  }
  tzHours.fill(TZ_UNKNOWN);
}

/// Seconds the site's wall clock is ahead of UTC at `sec`, cached per hour (time zones
/// change offset on the hour) for 1970–2089.
const TZ_UNKNOWN = -0x80000000;
let tzHours = new Int32Array(1 << 20).fill(TZ_UNKNOWN);
function tzOffset(sec) {
  if (tzFixed !== null) return tzFixed;
  const hour = Math.floor(sec / 3600);
  const cached = hour >= 0 && hour < tzHours.length ? tzHours[hour] : TZ_UNKNOWN;
  if (cached !== TZ_UNKNOWN) return cached;
  const p = {};
  for (const { type, value } of tzFormat.formatToParts(new Date(hour * 3_600_000))) p[type] = value;
  const offset = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) / 1000 - hour * 3600;
  if (hour >= 0 && hour < tzHours.length) tzHours[hour] = offset;
  return offset;
}
const localWallToUtc = (wall) => wall - tzOffset(wall - tzOffset(wall));
const iso = (sec) => new Date(sec * 1000).toISOString().slice(0, 19);
const dateGmt = (sec) => (sec === null || sec === undefined ? null : iso(sec));
const dateLocal = (sec) => (sec === null || sec === undefined ? null : iso(sec + tzOffset(sec)));

const REST_DATE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?([Zz]|[+-]\d{2}(?::\d{2})?)?$/;

/// rest_parse_date() plus what WP_Date_Query does with it: the value as a site-local wall
/// clock (seconds), to be compared with either the local or the GMT column.
function queryWallClock(text) {
  const m = REST_DATE.exec(String(text));
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000;
  if (Number.isNaN(wall)) return null;
  if (!m[7]) return wall;
  let offset = 0;
  if (!/[Zz]/.test(m[7])) {
    const [hh, mm = '0'] = m[7].slice(1).split(':');
    offset = (m[7][0] === '-' ? -1 : 1) * (Number(hh) * 3600 + Number(mm) * 60);
  }
  const instant = wall - offset;
  return instant + tzOffset(instant);
}

/// A date a client sent for a writable field ("date_created", "date_expires"): no offset
/// means site time, as WC_Data::set_date_prop reads it. Returns UTC seconds.
function parseInputDate(text, gmt = false) {
  const m = REST_DATE.exec(String(text)) ?? /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text));
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)) / 1000;
  if (m[7]) return Math.floor(Date.parse(String(text).replace(' ', 'T')) / 1000);
  return gmt ? wall : localWallToUtc(wall);
}

// ---------------------------------------------------------------------------------------------
// Money: WooCommerce keeps six decimals inside and formats with number_format() on the way out.

function roundDp(x, dp) {
  const f = 10 ** dp;
  const r = Math.round(Math.abs(x) * f * (1 + Number.EPSILON)) / f;
  return x < 0 && r !== 0 ? -r : r;
}
const round6 = (x) => roundDp(x, 6);
/// wc_format_decimal($x, $dp): a string with exactly dp decimals.
const money = (x, dp = 2) => {
  const r = roundDp(Number(x) || 0, dp);
  return (r === 0 ? 0 : r).toFixed(dp);
};
/// A raw stored amount as PHP casts a float to a string ("99.666667", "100").
const rawAmount = (x) => String(round6(Number(x) || 0));

const md5 = (text) => createHash('md5').update(text).digest('hex');
const sha1 = (text) => createHash('sha1').update(text).digest('hex');

// ---------------------------------------------------------------------------------------------
// The shop's vocabulary: order statuses (core, block checkout's draft, and one an extension
// registers), gateways, tax rates, shipping, and the people and places orders come from.

const ORDER_STATUSES = ['pending', 'processing', 'on-hold', 'completed', 'cancelled', 'refunded', 'failed', 'checkout-draft', 'shipped'];
const TRASH = 9;
const DELETED = 255;
const STATUS_CODE = Object.fromEntries([...ORDER_STATUSES, 'trash'].map((s, i) => [s, i]));
const STATUS_LABEL = {
  pending: 'Ödeme bekleniyor', processing: 'Hazırlanıyor', 'on-hold': 'Beklemede', completed: 'Tamamlandı', cancelled: 'İptal edildi',
  refunded: 'İade edildi', failed: 'Başarısız', 'checkout-draft': 'Taslak', shipped: 'Kargoya verildi', trash: 'Çöp',
};
const STOCK_REDUCING = ['processing', 'completed', 'on-hold', 'shipped'];

const GATEWAYS = {
  iyzico: { title: 'Kredi/Banka Kartı (iyzico)', refunds: true },
  paytr: { title: 'PayTR ile Öde', refunds: true },
  bacs: { title: 'Havale/EFT', refunds: false },
  cod: { title: 'Kapıda Ödeme', refunds: false },
};

const TAX_RATES = {
  1: { id: 1, label: 'KDV', code: 'TR-KDV-1', percent: 20 },
  2: { id: 2, label: 'İndirimli KDV', code: 'TR-İNDIRIMLI KDV-1', percent: 10 },
};
const rateFor = (taxStatus, taxClass) => (taxStatus === 'none' ? 0 : taxClass === 'reduced-rate' ? 2 : 1);

const SHIPPING_METHODS = {
  flat_rate: { instance_id: '1', title: 'Yurtiçi Kargo', net: 41.58 },
  free_shipping: { instance_id: '2', title: 'Ücretsiz Kargo', net: 0 },
  local_pickup: { instance_id: '3', title: 'Mağazadan Teslim Al', net: 0 },
};
const FREE_SHIPPING_FROM = 150000; // kuruş, tax included
const COD_FEE = 24.9;

const FEMALE = ['Ayşe', 'Fatma', 'Zeynep', 'Elif', 'Emine', 'Hatice', 'Merve', 'Büşra', 'Özge', 'Gülşen', 'Şule', 'İpek', 'Çağla', 'Ebru', 'Nur', 'Damla', 'Sevgi', 'Ece', 'Buket', 'Derya'];
const MALE = ['Mehmet', 'Mustafa', 'Ahmet', 'Ali', 'Hüseyin', 'Hasan', 'İbrahim', 'Murat', 'Emre', 'Burak', 'Oğuz', 'Çağrı', 'Serkan', 'Barış', 'Gökhan', 'Ömer', 'Uğur', 'Kerem', 'Tolga', 'Yiğit'];
const SURNAMES = ['Yılmaz', 'Kaya', 'Demir', 'Şahin', 'Çelik', 'Yıldız', 'Yıldırım', 'Öztürk', 'Aydın', 'Özdemir', 'Arslan', 'Doğan', 'Kılıç', 'Aslan', 'Çetin', 'Kara', 'Koç', 'Kurt', 'Özkan', 'Şimşek', 'Polat', 'Erdoğan', 'Güneş', 'Aksoy', 'Uçar', 'Acar', 'Bulut', 'Karakaş', 'Tekin', 'Akgül'];
const PLACES = [
  ['Kadıköy', 'TR34', '34710'], ['Beşiktaş', 'TR34', '34353'], ['Üsküdar', 'TR34', '34662'], ['Şişli', 'TR34', '34381'],
  ['Bakırköy', 'TR34', '34142'], ['Ataşehir', 'TR34', '34758'], ['Çankaya', 'TR06', '06690'], ['Keçiören', 'TR06', '06280'],
  ['Karşıyaka', 'TR35', '35560'], ['Bornova', 'TR35', '35040'], ['Konak', 'TR35', '35250'], ['Nilüfer', 'TR16', '16110'],
  ['Osmangazi', 'TR16', '16040'], ['Muratpaşa', 'TR07', '07100'], ['Konyaaltı', 'TR07', '07070'], ['Tepebaşı', 'TR26', '26010'],
  ['Odunpazarı', 'TR26', '26020'], ['Ortahisar', 'TR61', '61030'], ['Şahinbey', 'TR27', '27010'], ['Bodrum', 'TR48', '48400'],
  ['Fethiye', 'TR48', '48300'], ['Kayapınar', 'TR21', '21070'], ['Merkezefendi', 'TR20', '20010'], ['Atakum', 'TR55', '55200'],
];
const STREETS = ['Bağdat Cad. No:#/$', 'Atatürk Mah. Cumhuriyet Sk. No:#/$', 'İnönü Blv. No:# Kat:$', 'Fevzi Çakmak Cad. #/$',
  'Gazi Mustafa Kemal Blv. No:#', 'Şehit Özcan Sk. No:# Daire $', 'Çiçek Sokağı No:#', 'İstiklal Cad. No:#/$'];
const BUILDINGS = ['', '', '', 'Güneş Apt.', 'Lale Sitesi B Blok', 'Deniz Apt. Kat 3', 'Yeşilvadi Konutları'];
const MAIL_DOMAINS = ['gmail.com', 'gmail.com', 'gmail.com', 'hotmail.com', 'outlook.com', 'yandex.com', 'icloud.com'];
const COMPANIES = ['Yıldız Tekstil Ltd. Şti.', 'Akdeniz Gıda A.Ş.', 'Öz Ege Mimarlık', 'Çınar Eğitim Kurumları'];
const FOREIGNERS = [
  { first: 'Jürgen', last: 'Müller', mail: 'j.mueller', country: 'DE', city: 'München', state: 'DE-BY', postcode: '80331', street: 'Leopoldstraße 12', phone: '+49 89 1234567' },
  { first: 'Νίκος', last: 'Παπαδόπουλος', mail: 'nikos.pap', country: 'GR', city: 'Θεσσαλονίκη', state: 'B', postcode: '546 22', street: 'Τσιμισκή 45', phone: '+30 231 012 3456' },
  { first: 'Олег', last: 'Петров', mail: 'oleg.petrov', country: 'TR', city: 'Muratpaşa', state: 'TR07', postcode: '07100', street: 'Lara Cad. No:88 D:3', phone: '+7 916 123-45-67' },
  { first: 'محمد', last: 'العلي', mail: 'm.alali', country: 'TR', city: 'Başakşehir', state: 'TR34', postcode: '34480', street: 'Mimar Sinan Cad. No:5/2', phone: '+90 555 111 22 33' },
  { first: 'Zoë', last: 'Dupont-Lefèvre', mail: 'zoe.dupont', country: 'FR', city: 'Lyon', state: '', postcode: '69002', street: "12 rue de l'Arbre Sec", phone: '+33 4 72 00 00 00' },
  { first: 'Søren', last: 'Nørgaard', mail: 'soren.n', country: 'DK', city: 'København', state: '', postcode: '1050', street: 'Østergade 7', phone: '+45 33 12 34 56' },
  { first: '伟', last: '李', mail: 'li.wei', country: 'TR', city: 'Beyoğlu', state: 'TR34', postcode: '34430', street: 'Boğazkesen Cad. No:21', phone: '+86 138 0013 8000' },
];
const USER_AGENTS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
];
const CUSTOMER_NOTES = [
  "Lütfen 18:00'den sonra teslim edin / kapıcıya bırakabilirsiniz.",
  'Hediye paketi yapılabilir mi? Fiyat etiketi olmasın.',
  'Zili çalmayın, bebek uyuyor :)',
  'Fatura şirket adına kesilsin (vergi no: 1234567890).',
  'Kargo şubesinden teslim alacağım.',
];
const TRANSLIT = { ç: 'c', ğ: 'g', ı: 'i', İ: 'i', ö: 'o', ş: 's', ü: 'u', Ç: 'c', Ğ: 'g', Ö: 'o', Ş: 's', Ü: 'u', â: 'a', î: 'i', û: 'u' };
const ascii = (text) => String(text).replace(/[çğıİöşüÇĞÖŞÜâîû]/g, (c) => TRANSLIT[c]).toLowerCase().replace(/[^a-z0-9]+/g, '');
/// sanitize_title(): remove_accents() then lower-case, dashes for everything else.
const slugify = (text) => String(text).replace(/&amp;|&/g, ' ').replace(/[çğıİöşüÇĞÖŞÜâîû]/g, (c) => TRANSLIT[c]).normalize('NFD')
  .replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');

function phoneNumber(r) {
  const d = (n) => r.digits(n);
  switch (r.int(6)) {
    case 0: return `0532 ${d(3)} ${d(2)} ${d(2)}`;
    case 1: return `+90 5${d(2)} ${d(3)} ${d(2)} ${d(2)}`;
    case 2: return `05${d(9)}`;
    case 3: return `5${d(2)}-${d(3)}-${d(4)}`;
    case 4: return `+905${d(9)}`;
    default: return `(0535) ${d(3)} ${d(4)}`;
  }
}

/// A person with a billing address; `tag` makes e-mail addresses of customers unique.
function identity(r, tag = '') {
  if (r.chance(0.08)) {
    const f = r.pick(FOREIGNERS);
    return {
      first: f.first, last: f.last, company: '', email: `${f.mail}${tag}@${r.pick(MAIL_DOMAINS)}`, phone: f.phone,
      address: { address_1: f.street, address_2: '', city: f.city, state: f.state, postcode: f.postcode, country: f.country },
    };
  }
  const first = r.chance(0.55) ? r.pick(FEMALE) : r.pick(MALE);
  const last = r.pick(SURNAMES);
  const [city, state, postcode] = r.pick(PLACES);
  const street = r.pick(STREETS).replace('#', String(1 + r.int(180))).replace('$', String(1 + r.int(24)));
  return {
    first, last, company: r.chance(0.07) ? r.pick(COMPANIES) : '',
    email: `${ascii(first)}.${ascii(last)}${tag || r.int(100)}@${r.pick(MAIL_DOMAINS)}`,
    phone: phoneNumber(r),
    address: { address_1: street, address_2: r.pick(BUILDINGS), city, state, postcode, country: 'TR' },
  };
}

// ---------------------------------------------------------------------------------------------
// The catalogue. Prices are what the merchant typed (tax included), in kuruş.

const CATEGORY_DEFS = [
  [15, 'Kategorilenmemiş', 0], [16, 'Giyim', 0], [17, 'Kadın', 16], [18, 'Erkek', 16], [19, 'Ayakkabı', 0], [20, 'Aksesuar', 0],
  [21, 'Ev &amp; Yaşam', 0], [22, 'Kozmetik', 0], [23, 'Kitap &amp; Kırtasiye', 0],
];
const TAG_DEFS = [[24, 'Yeni Sezon'], [25, 'İndirim'], [26, 'El Yapımı'], [27, 'Organik'], [28, 'Hediye']];
const ATTRIBUTE_DEFS = [
  [1, 'Renk', 'pa_renk', ['Siyah', 'Beyaz', 'Kırmızı', 'Lacivert', 'Bej']],
  [2, 'Beden', 'pa_beden', ['XS', 'S', 'M', 'L', 'XL']],
  [3, 'Numara', 'pa_numara', ['36', '37', '38', '39', '40', '41', '42', '43', '44']],
];
const PRODUCT_DEFS = [
  { name: 'Pamuklu Basic Tişört', cats: [17, 18], tags: [24], price: 24990, sku: 'TSH-BASIC', vary: { pa_renk: ['Siyah', 'Beyaz', 'Lacivert'], pa_beden: ['S', 'M', 'L'] }, stock: 'variations' },
  { name: 'Keten Gömlek', cats: [18], price: 64990, sale: 54990, sku: 'GML-KETEN', vary: { pa_renk: ['Beyaz', 'Bej'], pa_beden: ['M', 'L', 'XL'] } },
  { name: 'Deri Sneaker', cats: [19], price: 189900, sku: 'AYK-SNK', vary: { pa_numara: ['38', '39', '40', '41', '42', '43'] }, stock: 'variations' },
  { name: 'Yün Atkı', cats: [20], price: 34990, sku: 'AKS-ATKI', stock: 42 },
  { name: 'Seramik Kupa – El Yapımı', cats: [21], tags: [26, 28], price: 18900, sku: 'EV-KUPA', stock: 120 },
  { name: 'Bambu Kesme Tahtası', cats: [21], price: 27990, sku: 'EV-TAHTA', stock: 35 },
  { name: 'Organik Zeytinyağlı Sabun', cats: [22], tags: [27], price: 8990, sku: 'KZM-SABUN', stock: 300 },
  { name: 'Lavanta Kolonyası 400 ml', cats: [22], price: 12990, sku: 'KZM-KOLONYA', stock: 80 },
  { name: "Türk Kahvesi Fincan Takımı (6'lı)", cats: [21], tags: [28], price: 89900, sku: 'EV-FINCAN', stock: 12 },
  { name: 'Kadın Trençkot', cats: [17], tags: [24], price: 249900, sku: 'KDN-TRENC', vary: { pa_renk: ['Bej', 'Siyah'], pa_beden: ['XS', 'S', 'M', 'L'] } },
  { name: 'Erkek Chino Pantolon', cats: [18], price: 79990, sku: 'ERK-CHINO', vary: { pa_beden: ['S', 'M', 'L', 'XL'] }, stock: 'variations' },
  { name: 'Kanvas Tote Çanta', cats: [20], tags: [25], price: 19990, sale: 14990, sku: 'AKS-TOTE', stock: 64 },
  { name: 'Polarize Güneş Gözlüğü', cats: [20], price: 129900, sku: 'AKS-GOZLUK', stock: 9 },
  { name: 'A5 Noktalı Defter', cats: [23], price: 7490, sku: 'KRT-DEFTER', stock: 500 },
  { name: 'Antep Fıstığı 500 g', cats: [21], tags: [27], price: 45900, sku: 'GDA-FISTIK', stock: 40, taxClass: 'reduced-rate' },
  { name: 'Kürk Mantolu Madonna – Sabahattin Ali', cats: [23], price: 9500, sku: 'KTP-KMM', stock: 25, taxClass: 'reduced-rate' },
  { name: 'Hediye Kartı 500 ₺', cats: [15], tags: [28], price: 50000, sku: 'HEDIYE-500', virtual: true, taxStatus: 'none' },
  { name: 'Bitkisel Çay Seti', cats: [21], price: 23990, sku: 'GDA-CAY', stock: 0 },
  { name: 'Deri Cüzdan', cats: [20], price: 54990, sku: 'AKS-CUZDAN', vary: { pa_renk: ['Siyah', 'Lacivert'] } },
  { name: 'Yoga Matı 6 mm', cats: [21], price: 69900, sku: 'SPR-YOGA', stock: 0, backorders: 'notify' },
  { name: 'Sonbahar Koleksiyonu Ön İnceleme', cats: [17], price: 99900, sku: '', status: 'draft' },
  { name: 'Kurumsal Toplu Sipariş Paketi', cats: [15], price: 999900, sku: 'KRM-PAKET', status: 'private' },
];
/// A product the shop deleted for good long ago; old orders still name it.
const GONE_PRODUCT = { id: 99, name: 'Eski Model Termos 500 ml', price: 32990 };

const COUPON_DEFS = [
  { code: 'hosgeldin10', discount_type: 'percent', amount: '10', description: 'Yeni üyelere %10 indirim', individual_use: true, usage_limit_per_user: 1 },
  { code: 'vip15', discount_type: 'percent', amount: '15', description: 'VIP müşterilere %15', minimum_amount: '1000.00' },
  { code: 'kargobedava', discount_type: 'fixed_cart', amount: '0', description: 'Ücretsiz kargo', free_shipping: true, minimum_amount: '500.00' },
  { code: 'sepet50', discount_type: 'fixed_cart', amount: '50', description: '750 ₺ üzeri 50 ₺ indirim', minimum_amount: '750.00' },
  { code: 'yaz2024', discount_type: 'percent', amount: '20', description: 'Yaz kampanyası', expires: '2024-09-01T00:00:00' },
  { code: 'dogumgunu100', discount_type: 'fixed_cart', amount: '100', description: 'Doğum günü hediyesi', usage_limit: 1 },
  { code: 'kitap5', discount_type: 'fixed_product', amount: '5', description: 'Kitaplarda 5 ₺', productSkus: ['KTP-KMM'] },
  { code: 'kis-taslak', discount_type: 'percent', amount: '25', description: 'Henüz yayında değil', status: 'draft' },
];
/// Coupons old orders used (percent ones, so totals stay simple to derive).
const ORDER_COUPONS = ['hosgeldin10', 'vip15'];

// ---------------------------------------------------------------------------------------------
// The store. Orders and customers are never materialised: each is a pure function of (seed,
// number), and only what changed after seeding is kept. A million orders cost four typed
// arrays (status, created, modified, customer: 13 bytes each) that the list filters scan.

const DAY = 86400;
let S = null;

const keys = new Map();
let nextKeyId = 1;
function addKey({ consumer_key: ck, consumer_secret: cs, permissions = 'read_write', description = '' } = {}) {
  const key = {
    key_id: nextKeyId++, user_id: 1, description: description || `Backroom - API (${new Date().toISOString().slice(0, 10)})`,
    permissions, consumer_key: ck || `ck_${randomBytes(20).toString('hex')}`, consumer_secret: cs || `cs_${randomBytes(20).toString('hex')}`,
    nonces: new Map(), last_access: null,
  };
  keys.set(key.consumer_key, key);
  return key;
}
addKey({
  consumer_key: args['consumer-key'] ?? DEFAULT_CONSUMER_KEY, consumer_secret: args['consumer-secret'] ?? DEFAULT_CONSUMER_SECRET,
  permissions: 'read_write', description: 'Backroom',
});

const seedDefaults = () => {
  const orders = Number(args.orders ?? 300);
  return {
    orders, products: Number(args.products ?? PRODUCT_DEFS.length), coupons: Number(args.coupons ?? COUPON_DEFS.length),
    customers: Number(args.customers ?? Math.min(200_000, Math.max(40, Math.round(orders / 6)))), seed: Number(args.seed ?? 1), anchor: args.anchor ?? null,
  };
};

const priceString = (kurus) => (kurus % 100 === 0 ? String(kurus / 100) : (kurus / 100).toFixed(2));
const toKurus = (text) => (text === '' || text === null || text === undefined || Number.isNaN(Number(text)) ? null : Math.round(Number(text) * 100));
let listeningPort = 80;
const homeUrl = () => (config.home_url ?? `http://127.0.0.1:${listeningPort}`).replace(/\/+$/, '');
/// rest_url(): the home URL on https when WordPress believes the request is.
const restUrl = (path = '') => `${homeUrl().replace(/^http:/, config.is_ssl ? 'https:' : 'http:')}/wp-json${path}`;
const upload = (file, created) => `/wp-content/uploads/${iso(created).slice(0, 4)}/${iso(created).slice(5, 7)}/${file}`;

function seedStore(params) {
  const p = { ...seedDefaults(), ...params };
  const anchor = p.anchor ? Math.floor(Date.parse(p.anchor) / 1000) : nowSec();
  const n = Math.max(0, Math.floor(p.orders));
  const span = Math.min(1100 * DAY, Math.max(30 * DAY, n * 2160));
  S = {
    seed: p.seed >>> 0, params: p, anchor, span, start: anchor - span,
    nextPostId: 100, nextTermId: 60, nextPostMetaId: 5000, version: 0, listCache: new Map(),
    webhooks: new Map(), nextWebhookId: 1, queue: [], nextActionId: 1, deliveries: [], requests: [], coalesced: 0,
    faults: emptyFaults(), prev: new Map(), salt: sha1(`salt:${p.seed}`),
  };
  S.customers = { count: Math.max(0, Math.floor(p.customers)), overrides: new Map(), created: new Map(), deleted: new Set() };
  S.customers.nextId = S.customers.count + 2;
  buildTerms();
  buildProducts(Math.max(0, Math.floor(p.products)));
  buildCoupons(Math.max(0, Math.floor(p.coupons)));
  S.orderBase = Math.ceil((S.nextPostId + 1) / 1000) * 1000;
  seedOrderIndex(n);
  S.nextPostId = S.orderBase + 2 * n + 2;
  S.nextItemId = 16 * n + 1;
  S.nextItemMetaId = 40 * n + 1;
  S.nextOrderMetaId = 8 * n + 1;
  S.nextNoteId = 6 * n + 1;
  S.createdRefunds = new Map();
}

function buildTerms() {
  S.categories = new Map();
  CATEGORY_DEFS.forEach(([id, name, parent], i) => S.categories.set(id, {
    id, name, slug: id === 15 ? 'uncategorized' : slugify(name), parent, description: '', display: 'default', image: null, menu_order: i, count: 0,
  }));
  S.tags = new Map();
  for (const [id, name] of TAG_DEFS) S.tags.set(id, { id, name, slug: slugify(name), description: '', count: 0 });
  S.attributes = new Map();
  let termId = 40;
  for (const [id, name, slug, terms] of ATTRIBUTE_DEFS) {
    const attr = { id, name, slug, type: 'select', order_by: 'menu_order', has_archives: false, terms: new Map() };
    terms.forEach((t, i) => {
      const tid = termId++;
      attr.terms.set(tid, { id: tid, name: t, slug: slugify(t), description: '', menu_order: i, count: 0 });
    });
    S.attributes.set(id, attr);
  }
  S.nextTermId = Math.max(S.nextTermId, termId + 10);
}

const attributeBySlug = (slug) => [...S.attributes.values()].find((a) => a.slug === slug);
const termByName = (attr, name) => [...attr.terms.values()].find((t) => t.name === name || t.slug === name);

function buildProducts(count) {
  S.products = new Map();
  S.variations = new Map();
  const defs = [];
  for (let i = 0; i < count; i++) {
    if (i < PRODUCT_DEFS.length) defs.push(PRODUCT_DEFS[i]);
    else {
      const r = new Rng(hash3(S.seed, i, 0xbeef));
      defs.push({ name: `Ürün ${i + 1} – ${r.pick(['Klasik', 'Modern', 'Doğal', 'Premium'])}`, cats: [r.pick([16, 19, 20, 21, 22])], price: 2990 + 1000 * r.int(120), sku: `URN-${String(i + 1).padStart(5, '0')}`, stock: r.int(90) });
    }
  }
  defs.forEach((def, i) => {
    const r = new Rng(hash3(S.seed, i, 0x9a));
    const id = S.nextPostId++;
    const imageId = S.nextPostId++;
    const created = S.start - 120 * DAY + i * 3 * 3600;
    const slug = slugify(def.name);
    const managed = typeof def.stock === 'number';
    const product = {
      id, name: def.name, slug, type: def.vary ? 'variable' : 'simple', status: def.status ?? 'publish', featured: i < 3, catalog_visibility: 'visible',
      description: `<p>${def.name}. Türkiye'de üretildi; iade süresi 14 gündür.</p>`, short_description: `<p>${def.name}</p>`,
      sku: def.sku, global_unique_id: '', regular_price: def.vary ? '' : priceString(def.price), sale_price: def.vary || !def.sale ? '' : priceString(def.sale),
      date_on_sale_from: null, date_on_sale_to: null, virtual: Boolean(def.virtual), downloadable: false, tax_status: def.taxStatus ?? 'taxable', tax_class: def.taxClass ?? '',
      manage_stock: managed, stock_quantity: managed ? def.stock : null, stock_status: 'instock', backorders: def.backorders ?? 'no', low_stock_amount: null,
      sold_individually: false, weight: def.virtual ? '' : String(0.2 + r.int(20) / 10), dimensions: def.virtual ? { length: '', width: '', height: '' } : { length: String(10 + r.int(40)), width: String(5 + r.int(30)), height: String(1 + r.int(15)) },
      shipping_class: '', shipping_class_id: 0, reviews_allowed: true, average_rating: (3.5 + r.int(16) / 10).toFixed(2), rating_count: r.int(60),
      upsell_ids: [], cross_sell_ids: [], parent_id: 0, purchase_note: '', categories: [...def.cats], tags: [...(def.tags ?? [])],
      images: def.virtual || def.status === 'draft' ? [] : [{ id: imageId, src: upload(`${slug}.jpg`, created), name: slug, alt: def.name, created }],
      attributes: [], default_attributes: [], variations: [], menu_order: 0, meta: [], created, modified: Math.min(S.anchor, created + r.int(300) * DAY),
      total_sales: 0, trashedFrom: null, basePrice: def.sale ?? def.price,
    };
    if (!managed && def.stock === 0) product.stock_status = 'outofstock';
    if (def.vary) {
      const dims = Object.entries(def.vary);
      dims.forEach(([taxonomy, options], position) => {
        const attr = attributeBySlug(taxonomy);
        product.attributes.push({ id: attr.id, name: attr.name, slug: attr.slug, position, visible: true, variation: true, options: [...options] });
      });
      const combos = dims.reduce((acc, [taxonomy, options]) => acc.flatMap((c) => options.map((o) => [...c, [taxonomy, o]])), [[]]);
      combos.forEach((combo, k) => {
        const vid = S.nextPostId++;
        const stock = def.stock === 'variations' ? r.int(40) : null;
        const variation = {
          id: vid, parent_id: id, type: 'variation', status: 'publish', description: '', sku: `${def.sku}-${combo.map(([, o]) => slugify(o).toUpperCase()).join('-')}`,
          global_unique_id: '', regular_price: priceString(def.price), sale_price: def.sale ? priceString(def.sale) : '', date_on_sale_from: null, date_on_sale_to: null,
          virtual: false, downloadable: false, tax_status: 'taxable', tax_class: 'parent', manage_stock: stock !== null, stock_quantity: stock,
          stock_status: stock === null && r.chance(0.1) ? 'outofstock' : 'instock', backorders: 'no', low_stock_amount: null, weight: '', dimensions: { length: '', width: '', height: '' },
          shipping_class: '', shipping_class_id: 0, image: null, menu_order: k, meta: [], created: created + 60 + k, modified: product.modified, trashedFrom: null,
          attributes: combo.map(([taxonomy, option]) => {
            const attr = attributeBySlug(taxonomy);
            return { id: attr.id, name: attr.name, option };
          }),
        };
        S.variations.set(vid, variation);
        product.variations.push(vid);
      });
    }
    S.products.set(id, product);
  });
  // What old orders could have bought, frozen at seed time: orders keep names and prices.
  S.sellable = [];
  for (const p of S.products.values()) {
    if (p.status !== 'publish') continue;
    if (p.type === 'variable') {
      for (const vid of p.variations) {
        const v = S.variations.get(vid);
        S.sellable.push({ product_id: p.id, variation_id: vid, name: `${p.name} - ${v.attributes.map((a) => a.option).join(', ')}`, unit: toKurus(v.sale_price || v.regular_price), rate: rateFor(p.tax_status, p.tax_class), tax_class: '', managed: v.manage_stock, attrs: v.attributes, virtual: false });
      }
    } else {
      S.sellable.push({ product_id: p.id, variation_id: 0, name: p.name, unit: toKurus(p.sale_price || p.regular_price), rate: rateFor(p.tax_status, p.tax_class), tax_class: p.tax_class, managed: p.manage_stock, attrs: [], virtual: p.virtual });
    }
  }
  S.sellableWeights = S.sellable.map((s) => (s.unit > 100000 ? 1 : 3));
}

function buildCoupons(count) {
  S.coupons = new Map();
  const skuToId = (sku) => [...S.products.values()].find((p) => p.sku === sku)?.id;
  for (let i = 0; i < count; i++) {
    const def = i < COUPON_DEFS.length ? COUPON_DEFS[i] : { code: `kupon${i + 1}`, discount_type: 'percent', amount: String(5 + (i % 4) * 5), description: 'Kampanya' };
    const id = S.nextPostId++;
    const created = S.start - 100 * DAY + i * DAY;
    const used = ORDER_COUPONS.includes(def.code) ? Math.round(S.params.orders * 0.06) : def.code === 'dogumgunu100' ? 1 : 0;
    S.coupons.set(id, {
      id, code: def.code, amount: def.amount, status: def.status ?? 'publish', created, modified: created + 3600, discount_type: def.discount_type,
      description: def.description, expires: def.expires ? parseInputDate(def.expires) : null, usage_count: used, individual_use: Boolean(def.individual_use),
      product_ids: (def.productSkus ?? []).map(skuToId).filter(Boolean), excluded_product_ids: [], usage_limit: def.usage_limit ?? null,
      usage_limit_per_user: def.usage_limit_per_user ?? null, limit_usage_to_x_items: null, free_shipping: Boolean(def.free_shipping),
      product_categories: [], excluded_product_categories: [], exclude_sale_items: false, minimum_amount: def.minimum_amount ?? '0.00',
      maximum_amount: '0.00', email_restrictions: [], used_by: def.code === 'dogumgunu100' ? ['ayse.yilmaz@gmail.com'] : [], meta: [], trashedFrom: null,
    });
  }
}
const couponByCode = (code, { published = true } = {}) => {
  const wanted = String(code).trim().toLowerCase();
  return [...S.coupons.values()].find((c) => c.code === wanted && (!published || c.status === 'publish')) ?? null;
};

// ---------------------------------------------------------------------------------------------
// Customers (WordPress users): 1 is the shop owner, 2… are customers generated on demand.

const ADMIN = () => ({
  id: 1, created: S.start - 400 * DAY, modified: S.start - 300 * DAY, email: 'elif@shop.example', first_name: 'Elif', last_name: 'Şahin',
  role: 'administrator', username: 'elif', billing: emptyAddress(true), shipping: emptyAddress(false), is_paying_customer: false, meta: [],
});
function emptyAddress(billing) {
  const a = { first_name: '', last_name: '', company: '', address_1: '', address_2: '', city: '', postcode: '', country: '', state: '' };
  if (billing) a.email = '';
  a.phone = '';
  return a;
}
const registration = (uid) => S.start - 90 * DAY + Math.floor(((uid - 2) / Math.max(1, S.customers.count)) * (S.span + 90 * DAY) * 0.95);

function genCustomer(uid) {
  const r = new Rng(hash3(S.seed, uid, 0xc057));
  const who = identity(r, String(uid));
  const created = registration(uid) + r.int(3600);
  const billing = {
    first_name: who.first, last_name: who.last, company: who.company, address_1: who.address.address_1, address_2: who.address.address_2,
    city: who.address.city, postcode: who.address.postcode, country: who.address.country, state: who.address.state, email: who.email.toLowerCase(), phone: who.phone,
  };
  const shipping = r.chance(0.75) ? { ...billing, phone: '' } : emptyAddress(false);
  delete shipping.email;
  return {
    id: uid, created, modified: created + Math.floor(Math.max(0, S.anchor - created) * r.next() * r.next()), email: who.email.toLowerCase(), first_name: who.first, last_name: who.last,
    role: 'customer', username: `${ascii(who.first) || 'musteri'}${ascii(who.last)}${uid}`, billing, shipping, is_paying_customer: r.chance(0.8),
    meta: r.chance(0.3) ? [{ id: 100000 + uid, key: 'wc_last_active', value: String(Math.min(S.anchor, created + r.int(400) * DAY) - (Math.min(S.anchor, created + r.int(400) * DAY) % DAY)) }] : [],
  };
}
/// The customer as generated, ignoring later edits (orders copy the address they had then).
const baseCustomer = (uid) => (uid >= 2 && uid < S.customers.count + 2 ? genCustomer(uid) : null);
function customerRecord(uid) {
  const C = S.customers;
  if (C.deleted.has(uid)) return null;
  if (C.overrides.has(uid)) return C.overrides.get(uid);
  if (C.created.has(uid)) return C.created.get(uid);
  if (uid === 1) return ADMIN();
  return baseCustomer(uid);
}
function customerIds() {
  const C = S.customers;
  const ids = [1];
  for (let uid = 2; uid < C.count + 2; uid++) if (!C.deleted.has(uid)) ids.push(uid);
  for (const uid of C.created.keys()) if (!C.deleted.has(uid)) ids.push(uid);
  return ids;
}

// ---------------------------------------------------------------------------------------------
// Orders: the index the list endpoint scans, and the generator behind it.

const STATUS_TABLES = [
  [2 * 3600, [['pending', 0.18], ['processing', 0.45], ['on-hold', 0.12], ['checkout-draft', 0.08], ['failed', 0.04], ['cancelled', 0.01], ['completed', 0.12]]],
  [3 * DAY, [['processing', 0.35], ['shipped', 0.25], ['completed', 0.2], ['on-hold', 0.06], ['pending', 0.04], ['cancelled', 0.04], ['failed', 0.03], ['checkout-draft', 0.02], ['refunded', 0.01]]],
  [Infinity, [['completed', 0.852], ['cancelled', 0.045], ['refunded', 0.035], ['failed', 0.02], ['pending', 0.012], ['trash', 0.006], ['checkout-draft', 0.005], ['shipped', 0.01], ['processing', 0.008], ['on-hold', 0.007]]],
].map(([age, table]) => {
  let sum = 0;
  return [age, table.map(([s, w]) => [STATUS_CODE[s], (sum += w)])];
});
function genStatusCode(u, age) {
  const table = STATUS_TABLES.find(([limit]) => age < limit)[1];
  const x = u * table[table.length - 1][1];
  for (const [code, upto] of table) if (x < upto) return code;
  return table[table.length - 1][0];
}
const MOD_DELAY = { 0: [0, 60], 1: [60, 900], 2: [30, 300], 3: [2 * DAY, 4 * DAY], 4: [3600, 3 * DAY], 5: [5 * DAY, 15 * DAY], 6: [20, 100], 7: [0, 600], 8: [DAY, DAY], 9: [10 * DAY, 50 * DAY] };

function seedOrderIndex(n) {
  const cap = n + 1024;
  const O = {
    gen: n, count: n, cap, base: S.orderBase, status: new Uint8Array(cap), created: new Uint32Array(cap), modified: new Uint32Array(cap),
    customer: new Int32Array(cap), createdIds: [], slotOf: new Map(), records: new Map(),
  };
  S.orders = O;
  const step = S.span / Math.max(1, n);
  const { seed, anchor, start } = S;
  const C = S.customers.count;
  const regStart = start - 90 * DAY;
  const regSpan = (S.span + 90 * DAY) * 0.95;
  for (let i = 0; i < n; i++) {
    const created = Math.floor(start + (i + 0.1 + 0.8 * unit(seed, i, 1)) * step);
    const code = genStatusCode(unit(seed, i, 2), anchor - created);
    const [lo, width] = MOD_DELAY[code];
    O.status[i] = code;
    O.created[i] = created;
    O.modified[i] = Math.min(anchor, created + Math.floor(lo + width * unit(seed, i, 4)));
    if (C > 0 && unit(seed, i, 3) < 0.62) {
      const eligible = Math.min(C, Math.max(1, Math.floor(((created - regStart) / regSpan) * C) + 1));
      O.customer[i] = 2 + Math.floor(unit(seed, i, 5) * eligible);
    }
  }
}

function growOrders() {
  const O = S.orders;
  if (O.count < O.cap) return;
  const cap = O.cap * 2;
  for (const [name, Type] of [['status', Uint8Array], ['created', Uint32Array], ['modified', Uint32Array], ['customer', Int32Array]]) {
    const next = new Type(cap);
    next.set(O[name]);
    O[name] = next;
  }
  O.cap = cap;
}

/// The slot an order id lives in, or -1. Generated orders have even offsets from the base;
/// the odd ones are their refunds.
function orderSlot(id) {
  const O = S.orders;
  const n = Number(id);
  if (!Number.isInteger(n)) return -1;
  const created = O.slotOf.get(n);
  if (created !== undefined) return O.status[created] === DELETED ? -1 : created;
  const offset = n - O.base;
  if (offset < 0 || offset % 2 !== 0 || offset / 2 >= O.gen) return -1;
  return O.status[offset / 2] === DELETED ? -1 : offset / 2;
}
const slotId = (slot) => (slot < S.orders.gen ? S.orders.base + 2 * slot : S.orders.createdIds[slot - S.orders.gen]);
const orderRecord = (slot) => S.orders.records.get(slot) ?? genOrder(slot);
function orderById(id) {
  const slot = orderSlot(id);
  return slot < 0 ? null : orderRecord(slot);
}

const trashedFrom = (slot) => (unit(S.seed, slot, 6) < 0.7 ? 'completed' : 'cancelled');
/// Whether a generated order has a refund, and when: cheap enough to scan a million.
function generatedRefund(slot) {
  const O = S.orders;
  const code = O.status[slot];
  const was = code === TRASH ? trashedFrom(slot) : ORDER_STATUSES[code];
  if (was === 'refunded') return { id: O.base + 2 * slot + 1, full: true, created: O.modified[slot] - 30 };
  if ((was === 'completed' || was === 'shipped') && unit(S.seed, slot, 0x52) < 0.05) {
    return { id: O.base + 2 * slot + 1, full: false, created: O.modified[slot] - 60 - Math.floor(3000 * unit(S.seed, slot, 0x53)) };
  }
  return null;
}

function pickSellable(r) {
  const total = S.sellableWeights.reduce((a, b) => a + b, 0);
  let x = r.next() * total;
  for (let i = 0; i < S.sellable.length; i++) {
    x -= S.sellableWeights[i];
    if (x < 0) return S.sellable[i];
  }
  return S.sellable[S.sellable.length - 1];
}

const wcVersionAt = (age) => (age > 600 * DAY ? '8.2.1' : age > 300 * DAY ? '8.9.3' : age > 90 * DAY ? '9.3.3' : config.wc_version);
const orderAddress = (who, withEmail) => {
  const a = { first_name: who.first, last_name: who.last, company: who.company, address_1: who.address.address_1, address_2: who.address.address_2, city: who.address.city, state: who.address.state, postcode: who.address.postcode, country: who.address.country };
  if (withEmail) a.email = who.email;
  a.phone = withEmail ? who.phone : '';
  return a;
};
const blankOrderAddress = (withEmail) => {
  const a = { first_name: '', last_name: '', company: '', address_1: '', address_2: '', city: '', state: '', postcode: '', country: '' };
  if (withEmail) a.email = '';
  a.phone = '';
  return a;
};

function genOrder(slot) {
  const O = S.orders;
  const { seed } = S;
  const r = new Rng(hash3(seed, slot, 0x51));
  const id = O.base + 2 * slot;
  const code = O.status[slot];
  const created = O.created[slot];
  const modified = O.modified[slot];
  const age = S.anchor - created;
  const status = code === TRASH ? 'trash' : ORDER_STATUSES[code];
  const was = code === TRASH ? trashedFrom(slot) : status;
  const customerId = O.customer[slot];
  const c = customerId ? baseCustomer(customerId) : null;
  const who = c
    ? { first: c.first_name, last: c.last_name, company: c.billing.company, email: c.email, phone: c.billing.phone, address: c.billing }
    : identity(new Rng(hash3(seed, slot, 0x77)));

  let pm;
  if (was === 'on-hold') pm = 'bacs';
  else if (was === 'failed') pm = r.chance(0.7) ? 'iyzico' : 'paytr';
  else {
    const u = r.next();
    pm = u < 0.55 ? 'iyzico' : u < 0.7 ? 'bacs' : u < 0.87 ? 'cod' : 'paytr';
  }
  const itemBase = 16 * slot + 1;
  const itemMetaBase = 40 * slot + 1;
  let itemMeta = itemMetaBase;
  const reduced = STOCK_REDUCING.includes(was) || (was === 'refunded') || (was === 'cancelled' && r.chance(0.3));
  const lineCount = 1 + (r.chance(0.45) ? 1 + (r.chance(0.35) ? 1 + (r.chance(0.25) ? 1 : 0) : 0) : 0);
  const lines = [];
  const taken = new Set();
  for (let k = 0; k < lineCount; k++) {
    let pick = k === 0 && age > S.span / 2 && r.chance(0.01) ? null : pickSellable(r);
    if (pick && taken.has(pick.variation_id || pick.product_id)) continue;
    const quantity = 1 + (r.chance(0.2) ? r.int(3) : 0);
    if (!pick) pick = { product_id: GONE_PRODUCT.id, variation_id: 0, name: GONE_PRODUCT.name, unit: GONE_PRODUCT.price, rate: 1, tax_class: '', managed: true, attrs: [], virtual: false };
    taken.add(pick.variation_id || pick.product_id);
    const meta = pick.attrs.map((a) => ({ id: itemMeta++, key: attributeBySlug(`pa_${slugify(a.name)}`)?.slug ?? a.name, value: slugify(a.option) }));
    if (reduced && pick.managed) meta.push({ id: itemMeta++, key: '_reduced_stock', value: String(quantity) });
    lines.push({
      id: itemBase + k, name: pick.name, product_id: pick.product_id, variation_id: pick.variation_id, quantity, tax_class: pick.tax_class,
      rate: pick.rate, unit: pick.unit, disc: 0, fixedNet: null, meta, virtual: pick.virtual,
    });
  }
  const rec = {
    id, parent_id: 0, status, was: code === TRASH ? was : null, currency: config.currency, version: wcVersionAt(age), prices_include_tax: true,
    created, modified, paid: null, completed: null, customer_id: customerId, order_key: `wc_order_${r.alnum(13)}`,
    billing: orderAddress(who, true), shipping: null, payment_method: pm, payment_method_title: GATEWAYS[pm].title, transaction_id: '',
    ip: r.chance(0.8) ? `88.${230 + r.int(20)}.${r.int(256)}.${r.int(256)}` : `2a02:ff0:${r.hex(4)}:${r.hex(4)}::${r.hex(2)}`,
    ua: r.pick(USER_AGENTS), created_via: 'checkout', customer_note: r.chance(0.1) ? r.pick(CUSTOMER_NOTES) : '', cart_hash: '',
    meta: [], lines, shipping_lines: [], fee_lines: [], coupon_lines: [], tax_line_ids: { 1: itemBase + 8, 2: itemBase + 9 },
    refunds: [], notes: [], stock_reduced: reduced,
  };
  const via = r.next();
  rec.created_via = was === 'checkout-draft' ? 'store-api' : via < 0.5 ? 'checkout' : via < 0.9 ? 'store-api' : via < 0.97 ? 'admin' : 'rest-api';
  if (rec.created_via === 'checkout' || rec.created_via === 'store-api') rec.cart_hash = r.hex(32);
  const virtualOnly = lines.every((l) => l.virtual);
  if (!virtualOnly) {
    rec.shipping = r.chance(0.1) ? orderAddress(identity(new Rng(hash3(seed, slot, 0x78))), false) : orderAddress(who, false);
    rec.shipping.phone = '';
  } else rec.shipping = blankOrderAddress(false);
  if (r.chance(0.12)) {
    const coupon = couponByCode(r.pick(ORDER_COUPONS));
    if (coupon) {
      const pct = Number(coupon.amount) / 100;
      for (const l of lines) l.disc = Math.round(l.unit * l.quantity * pct);
      rec.coupon_lines.push({ id: itemBase + 6, code: coupon.code, coupon_id: coupon.id, discount_type: coupon.discount_type, nominal: Number(coupon.amount), free_shipping: coupon.free_shipping, meta_id: itemMeta++ });
    }
  }
  const gross = lines.reduce((sum, l) => sum + l.unit * l.quantity - l.disc, 0);
  if (!virtualOnly) {
    const method = gross >= FREE_SHIPPING_FROM ? 'free_shipping' : r.chance(0.05) ? 'local_pickup' : 'flat_rate';
    const m = SHIPPING_METHODS[method];
    rec.shipping_lines.push({ id: itemBase + 4, method_id: method, method_title: m.title, instance_id: m.instance_id, net: m.net, meta_id: itemMeta++ });
  }
  if (pm === 'cod') rec.fee_lines.push({ id: itemBase + 5, name: 'Kapıda Ödeme Hizmet Bedeli', amount: COD_FEE, total: COD_FEE, tax_status: 'none', tax_class: '' });
  computeTotals(rec);

  const paidStatuses = ['processing', 'completed', 'shipped', 'refunded'];
  if (paidStatuses.includes(was)) rec.paid = Math.min(modified, created + 20 + r.int(280));
  if (was === 'completed') rec.completed = modified;
  if (was === 'refunded') rec.completed = Math.min(modified - 120, created + 2 * DAY + r.int(2 * DAY));
  if (code === TRASH && was === 'completed') rec.completed = Math.min(modified, created + 3 * DAY);
  if (rec.paid && (pm === 'iyzico' || pm === 'paytr')) rec.transaction_id = pm === 'iyzico' ? r.digits(8) : `PTR${r.alnum(12).toUpperCase()}`;

  let metaId = 8 * slot + 1;
  rec.meta.push({ id: metaId++, key: 'is_vat_exempt', value: 'no' });
  if (rec.created_via === 'checkout' || rec.created_via === 'store-api') {
    const source = r.pick(['typein', 'organic', 'utm', 'referral']);
    rec.meta.push({ id: metaId++, key: '_wc_order_attribution_source_type', value: source });
    rec.meta.push({ id: metaId++, key: '_wc_order_attribution_utm_source', value: source === 'typein' ? '(direct)' : source === 'utm' ? 'instagram' : 'google' });
    rec.meta.push({ id: metaId++, key: '_wc_order_attribution_device_type', value: rec.ua.includes('Mobile') ? 'Mobile' : 'Desktop' });
  }
  if (code === TRASH) {
    rec.meta.push({ id: metaId++, key: '_wp_trash_meta_status', value: `wc-${was}` });
    rec.meta.push({ id: metaId++, key: '_wp_trash_meta_time', value: String(modified) });
  }

  let noteId = 6 * slot + 1;
  const note = (at, text, customerNote = false, author = 'system') => rec.notes.push({ id: noteId++, author, created: at, note: text, customer_note: customerNote });
  const change = (from, to) => `Sipariş durumu ${STATUS_LABEL[from]} konumundan ${STATUS_LABEL[to]} konumuna değiştirildi.`;
  if (was === 'on-hold') note(created + 5, `Havale/EFT ödemesi bekleniyor ${change('pending', 'on-hold')}`);
  if (was === 'failed') note(created + 30, `${GATEWAYS[pm].title}: Kart reddedildi (Yetersiz bakiye). ${change('pending', 'failed')}`);
  if (was === 'cancelled') note(modified, `Ödenmemiş sipariş zaman aşımı nedeniyle iptal edildi. ${change('pending', 'cancelled')}`);
  if (rec.paid) note(rec.paid, `${GATEWAYS[pm].title} ile ödeme alındı${rec.transaction_id ? ` (İşlem No: ${rec.transaction_id})` : ''}. ${change('pending', 'processing')}`);
  if (was === 'shipped') note(modified, `Kargo takip numarası: YK${r.digits(10)} (Yurtiçi Kargo) ${change('processing', 'shipped')}`, true, 'Elif Şahin');
  if (rec.completed) note(rec.completed, change('processing', 'completed'), false, 'Elif Şahin');
  if (r.chance(0.08) && rec.paid) note(rec.paid + 3600, 'Merhaba, siparişiniz yarın kargoya verilecek. Teşekkür ederiz!', true, 'Elif Şahin');

  const plan = generatedRefund(slot);
  if (plan) {
    const refund = { id: plan.id, parent: id, created: plan.created, reason: plan.full ? 'Müşteri ürünü iade etti' : 'Kusurlu ürün', refunded_by: 1, refunded_payment: GATEWAYS[pm].refunds, meta: [], lines: [], shipping_lines: [], fee_lines: [] };
    let refundItem = itemBase + 10;
    const rmeta = () => itemMeta++;
    const picks = plan.full ? lines.map((l) => [l, l.quantity]) : [[lines[0], 1]];
    for (const [l, qty] of picks) {
      refund.lines.push({ id: refundItem++, refunded_item_id: l.id, name: l.name, product_id: l.product_id, variation_id: l.variation_id, quantity: -qty, tax_class: l.tax_class, rate: l.rate,
        total: -round6((l.total * qty) / l.quantity), total_tax: -round6((l.total_tax * qty) / l.quantity), subtotal: -round6((l.total * qty) / l.quantity), subtotal_tax: -round6((l.total_tax * qty) / l.quantity), meta_id: rmeta() });
    }
    if (plan.full) {
      for (const s of rec.shipping_lines) if (s.net > 0) refund.shipping_lines.push({ id: refundItem++, refunded_item_id: s.id, method_id: s.method_id, method_title: s.method_title, instance_id: s.instance_id, net: -s.net, tax: -s.tax, meta_id: rmeta() });
      for (const f of rec.fee_lines) refund.fee_lines.push({ id: refundItem++, refunded_item_id: f.id, name: f.name, amount: -f.amount, total: -f.total, tax_status: 'none', tax_class: '', meta_id: rmeta() });
    }
    refund.amount = plan.full ? rec.totals.total : roundDp(-refund.lines.reduce((s, l) => s + l.total + l.total_tax, 0), 2);
    refund.tax_line_ids = { 1: refundItem++, 2: refundItem++ };
    refund.meta.push({ id: 8 * slot + 7, key: '_refund_reason_code', value: plan.full ? 'customer_return' : 'defect' });
    computeRefundTotals(refund);
    rec.refunds.push(refund);
    note(plan.created, `İade edildi: ${tryMoney(refund.amount)} – ${refund.reason}`);
    if (plan.full) note(plan.created + 30, change(was === 'refunded' && rec.completed ? 'completed' : 'processing', 'refunded'));
  }
  rec.notes.sort((a, b) => a.created - b.created || a.id - b.id);
  return rec;
}

/// How the shop prints an amount (right-side symbol, Turkish separators).
const tryMoney = (x) => `${Number(x).toFixed(2).replace('.', ',').replace(/\B(?=(\d{3})+(?!\d))/g, '.')} ${config.currency_symbol}`;

function computeTotals(rec) {
  let cartNet = 0, cartTax = 0, discNet = 0, discTax = 0, shipNet = 0, shipTax = 0, fees = 0, feeTax = 0;
  const perRate = {};
  const include = rec.prices_include_tax;
  for (const l of rec.lines) {
    const p = l.rate ? TAX_RATES[l.rate].percent / 100 : 0;
    let subNet, subTax, net, tax;
    if (l.fixedNet !== null && l.fixedNet !== undefined) {
      net = round6(l.fixedNet);
      tax = round6(net * p);
      subNet = round6(l.fixedSubtotal ?? net);
      subTax = round6(subNet * p);
    } else {
      const gross = l.unit * l.quantity;
      const after = gross - l.disc;
      if (include) {
        subNet = round6(gross / 100 / (1 + p));
        subTax = round6(gross / 100 - subNet);
        net = round6(after / 100 / (1 + p));
        tax = round6(after / 100 - net);
      } else {
        subNet = gross / 100;
        subTax = round6(subNet * p);
        net = after / 100;
        tax = round6(net * p);
      }
    }
    Object.assign(l, { subtotal: subNet, subtotal_tax: subTax, total: net, total_tax: tax });
    cartNet += net;
    cartTax += tax;
    discNet += subNet - net;
    discTax += subTax - tax;
    if (l.rate) (perRate[l.rate] ??= { tax: 0, ship: 0 }).tax += tax;
  }
  for (const s of rec.shipping_lines) {
    s.tax = s.net > 0 ? round6(s.net * 0.2) : 0;
    shipNet += s.net;
    shipTax += s.tax;
    if (s.tax) (perRate[1] ??= { tax: 0, ship: 0 }).ship += s.tax;
  }
  for (const f of rec.fee_lines) {
    fees += f.total;
    feeTax += f.total_tax ?? 0;
  }
  const discounted = rec.coupon_lines.length || 1;
  for (const c of rec.coupon_lines) {
    c.discount = discNet / discounted;
    c.discount_tax = discTax / discounted;
  }
  rec.totals = {
    discount_total: discNet, discount_tax: discTax, shipping_total: shipNet, shipping_tax: shipTax, cart_tax: cartTax,
    total: roundDp(cartNet + cartTax + shipNet + shipTax + fees + feeTax, 2), total_tax: cartTax + shipTax + feeTax,
  };
  rec.tax_lines = Object.entries(perRate).map(([rate, t]) => ({ id: rec.tax_line_ids[rate] ?? (rec.tax_line_ids[rate] = S.nextItemId++), rate_id: Number(rate), tax_total: t.tax, shipping_tax_total: t.ship }));
}

function computeRefundTotals(refund) {
  const perRate = {};
  for (const l of refund.lines) if (l.rate) (perRate[l.rate] ??= { tax: 0, ship: 0 }).tax += l.total_tax;
  for (const s of refund.shipping_lines) if (s.tax) (perRate[1] ??= { tax: 0, ship: 0 }).ship += s.tax;
  refund.tax_lines = Object.entries(perRate).map(([rate, t]) => ({ id: refund.tax_line_ids[rate] ?? (refund.tax_line_ids[rate] = S.nextItemId++), rate_id: Number(rate), tax_total: t.tax, shipping_tax_total: t.ship }));
}

const refundedAmount = (rec) => rec.refunds.reduce((sum, r) => sum + r.amount, 0);
const remainingRefund = (rec) => roundDp(rec.totals.total - refundedAmount(rec), 2);

// ---------------------------------------------------------------------------------------------
// Responses, field for field and in WooCommerce's order (webhook payloads are these too).

const versionCache = new Map();
const versionAtLeast = (version, wanted) => {
  const key = `${version}|${wanted}`;
  if (!versionCache.has(key)) versionCache.set(key, compareVersions(version, wanted));
  return versionCache.get(key);
};
const compareVersions = (version, wanted) => {
  const a = String(version).split('.').map(Number);
  const b = String(wanted).split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
};
const ALL_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/// WordPress 6.7 adds the methods the current user may use to every "self" link.
const selfLink = (path, allow = ALL_METHODS) => [versionAtLeast(config.wp_version, '6.7') ? { href: restUrl(path), targetHints: { allow } } : { href: restUrl(path) }];
const link = (path) => [{ href: restUrl(path) }];

function metaDisplay(m) {
  if (m.key.startsWith('pa_')) {
    const attr = attributeBySlug(m.key);
    const term = attr && termByName(attr, m.value);
    return { id: m.id, key: m.key, value: m.value, display_key: attr?.name ?? m.key, display_value: term?.name ?? m.value };
  }
  return { id: m.id, key: m.key, value: m.value, display_key: m.key, display_value: m.value };
}

function productForItem(l) {
  if (l.variation_id) {
    const v = S.variations.get(l.variation_id);
    return v ? { sku: v.sku || S.products.get(v.parent_id)?.sku || '', image: productImage(S.products.get(v.parent_id)), parent: S.products.get(v.parent_id) } : null;
  }
  const p = S.products.get(l.product_id);
  return p ? { sku: p.sku, image: productImage(p), parent: null } : null;
}
const productImage = (p) => p?.images?.[0] ?? null;

function renderLineItem(l, dp) {
  const product = productForItem(l);
  const image = product?.image;
  return {
    id: l.id, name: l.name, product_id: l.product_id, variation_id: l.variation_id, quantity: l.quantity, tax_class: l.tax_class,
    subtotal: money(l.subtotal, dp), subtotal_tax: money(l.subtotal_tax, dp), total: money(l.total, dp), total_tax: money(l.total_tax, dp),
    taxes: l.rate ? [{ id: l.rate, total: rawAmount(l.total_tax), subtotal: rawAmount(l.subtotal_tax) }] : [],
    meta_data: (l.meta ?? []).map(metaDisplay).concat(l.refunded_item_id ? [metaDisplay({ id: l.meta_id, key: '_refunded_item_id', value: String(l.refunded_item_id) })] : []),
    sku: product ? product.sku : null,
    price: l.quantity ? l.total / l.quantity : 0,
    image: { id: product ? (image ? image.id : '') : 0, src: image ? homeUrl() + image.src : '' },
    parent_name: product?.parent ? product.parent.name : null,
  };
}

function renderTaxLines(lines, dp) {
  return lines.map((t) => ({
    id: t.id, rate_code: TAX_RATES[t.rate_id].code, rate_id: t.rate_id, label: TAX_RATES[t.rate_id].label, compound: false,
    tax_total: money(t.tax_total, dp), shipping_tax_total: money(t.shipping_tax_total, dp), rate_percent: TAX_RATES[t.rate_id].percent, meta_data: [],
  }));
}

function renderShippingLines(rec, lines, dp) {
  const items = rec.lines.map((l) => `${l.name} &times; ${Math.abs(l.quantity)}`).join(', ');
  return lines.map((s) => ({
    id: s.id, method_title: s.method_title, method_id: s.method_id, instance_id: s.instance_id, total: money(s.net, dp), total_tax: money(s.tax, dp),
    taxes: s.tax ? [{ id: 1, total: rawAmount(s.tax), subtotal: '' }] : [], tax_status: 'taxable',
    meta_data: s.refunded_item_id ? [metaDisplay({ id: s.meta_id, key: '_refunded_item_id', value: String(s.refunded_item_id) })] : [metaDisplay({ id: s.meta_id, key: 'Ürünler', value: items })],
  }));
}

const renderFeeLines = (lines, dp) => lines.map((f) => ({
  id: f.id, name: f.name, tax_class: f.tax_class, tax_status: f.tax_status, amount: String(f.amount), total: money(f.total, dp), total_tax: money(f.total_tax ?? 0, dp),
  taxes: [], meta_data: f.refunded_item_id ? [metaDisplay({ id: f.meta_id, key: '_refunded_item_id', value: String(f.refunded_item_id) })] : [],
}));

function renderOrder(rec, dp = 2) {
  const t = rec.totals;
  const refunds = [...rec.refunds].sort((a, b) => b.created - a.created || b.id - a.id);
  const needsPayment = ['pending', 'failed'].includes(rec.status) && t.total > 0;
  return {
    id: rec.id, parent_id: rec.parent_id, status: rec.status, currency: rec.currency, version: rec.version, prices_include_tax: rec.prices_include_tax,
    date_created: dateLocal(rec.created), date_modified: dateLocal(rec.modified),
    discount_total: money(t.discount_total, dp), discount_tax: money(t.discount_tax, dp), shipping_total: money(t.shipping_total, dp), shipping_tax: money(t.shipping_tax, dp),
    cart_tax: money(t.cart_tax, dp), total: money(t.total, dp), total_tax: money(t.total_tax, dp), customer_id: rec.customer_id, order_key: rec.order_key,
    billing: { ...rec.billing }, shipping: { ...rec.shipping }, payment_method: rec.payment_method, payment_method_title: rec.payment_method_title,
    transaction_id: rec.transaction_id, customer_ip_address: rec.ip, customer_user_agent: rec.ua, created_via: rec.created_via, customer_note: rec.customer_note,
    date_completed: dateLocal(rec.completed), date_paid: dateLocal(rec.paid), cart_hash: rec.cart_hash, number: String(rec.id),
    meta_data: rec.meta.map((m) => ({ id: m.id, key: m.key, value: m.value })),
    line_items: rec.lines.map((l) => renderLineItem(l, dp)),
    tax_lines: renderTaxLines(rec.tax_lines, dp),
    shipping_lines: renderShippingLines(rec, rec.shipping_lines, dp),
    fee_lines: renderFeeLines(rec.fee_lines, dp),
    coupon_lines: rec.coupon_lines.map((c) => {
      const info = JSON.stringify([c.coupon_id, c.code, c.discount_type, c.nominal]);
      return {
        id: c.id, code: c.code, discount: money(c.discount, dp), discount_tax: money(c.discount_tax, dp), meta_data: [metaDisplay({ id: c.meta_id, key: 'coupon_info', value: info })],
        discount_type: c.discount_type, nominal_amount: c.nominal, free_shipping: c.free_shipping,
      };
    }),
    refunds: refunds.map((r) => ({ id: r.id, reason: r.reason || '', total: `-${money(r.amount, dp)}` })),
    payment_url: `${homeUrl()}/odeme/order-pay/${rec.id}/?pay_for_order=true&key=${rec.order_key}`,
    is_editable: ['pending', 'on-hold', 'auto-draft', 'checkout-draft'].includes(rec.status),
    needs_payment: needsPayment, needs_processing: rec.lines.some((l) => !l.virtual),
    date_created_gmt: dateGmt(rec.created), date_modified_gmt: dateGmt(rec.modified), date_completed_gmt: dateGmt(rec.completed), date_paid_gmt: dateGmt(rec.paid),
    currency_symbol: config.currency_symbol,
  };
}
function orderLinks(rec) {
  const links = { self: selfLink(`/wc/v3/orders/${rec.id}`), collection: link('/wc/v3/orders') };
  if (rec.customer_id) links.customer = link(`/wc/v3/customers/${rec.customer_id}`);
  if (rec.parent_id) links.up = link(`/wc/v3/orders/${rec.parent_id}`);
  return links;
}

function renderRefund(ref, dp = 2) {
  const owner = { lines: ref.lines };
  return {
    id: ref.id, date_created: dateLocal(ref.created), date_created_gmt: dateGmt(ref.created), amount: money(ref.amount, dp), reason: ref.reason || '',
    refunded_by: ref.refunded_by, refunded_payment: ref.refunded_payment, meta_data: ref.meta.map((m) => ({ id: m.id, key: m.key, value: m.value })),
    line_items: ref.lines.map((l) => renderLineItem(l, dp)), shipping_lines: renderShippingLines(owner, ref.shipping_lines, dp),
    tax_lines: renderTaxLines(ref.tax_lines, dp), fee_lines: renderFeeLines(ref.fee_lines, dp),
  };
}
const refundLinks = (ref) => ({
  self: selfLink(`/wc/v3/orders/${ref.parent}/refunds/${ref.id}`, ['GET', 'DELETE']), collection: link(`/wc/v3/orders/${ref.parent}/refunds`), up: link(`/wc/v3/orders/${ref.parent}`),
});

const renderNote = (n) => ({ id: n.id, author: n.author, date_created: dateLocal(n.created), date_created_gmt: dateGmt(n.created), note: n.note, customer_note: n.customer_note });
const noteLinks = (orderId, n) => ({
  self: selfLink(`/wc/v3/orders/${orderId}/notes/${n.id}`, ['GET', 'DELETE']), collection: link(`/wc/v3/orders/${orderId}/notes`), up: link(`/wc/v3/orders/${orderId}`),
});

// Products ------------------------------------------------------------------------------------

const currencyHtml = (kurus) => {
  const amount = (kurus / 100).toFixed(2).replace('.', ',').replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `<span class="woocommerce-Price-amount amount"><bdi>${amount}&nbsp;<span class="woocommerce-Price-currencySymbol">&#8378;</span></bdi></span>`;
};
function priceHtml(regular, price, range) {
  if (range) return range[0] === range[1] ? currencyHtml(range[0]) : `${currencyHtml(range[0])} &ndash; ${currencyHtml(range[1])}`;
  if (price === null) return '';
  if (regular !== null && price < regular) {
    return `<del aria-hidden="true">${currencyHtml(regular)}</del> <span class="screen-reader-text">Original price was: ${currencyHtml(regular).replace(/<[^>]+>/g, '')}.</span><ins aria-hidden="true">${currencyHtml(price)}</ins><span class="screen-reader-text">Current price is: ${currencyHtml(price).replace(/<[^>]+>/g, '')}.</span>`;
  }
  return currencyHtml(price);
}
function stockStatus(item) {
  if (item.manage_stock) return item.stock_quantity > 0 ? 'instock' : item.backorders !== 'no' ? 'onbackorder' : 'outofstock';
  return item.stock_status;
}
const renderImage = (img) => (img ? {
  id: img.id, date_created: dateLocal(img.created), date_created_gmt: dateGmt(img.created), date_modified: dateLocal(img.created), date_modified_gmt: dateGmt(img.created),
  src: homeUrl() + img.src, name: img.name, alt: img.alt,
} : null);
const permalink = (p) => (p.status === 'publish' ? `${homeUrl()}/urun/${p.slug}/` : `${homeUrl()}/?post_type=product&p=${p.id}`);

function renderProduct(p) {
  const variable = p.type === 'variable';
  const children = variable ? p.variations.map((id) => S.variations.get(id)).filter((v) => v && v.status === 'publish') : [];
  const childPrices = children.map((v) => toKurus(v.sale_price || v.regular_price)).filter((x) => x !== null);
  const regular = toKurus(p.regular_price);
  const sale = toKurus(p.sale_price);
  const price = variable ? (childPrices.length ? Math.min(...childPrices) : null) : sale ?? regular;
  const status = variable ? (children.some((v) => stockStatus(v) === 'instock') ? 'instock' : children.some((v) => stockStatus(v) === 'onbackorder') ? 'onbackorder' : 'outofstock') : stockStatus(p);
  const related = [...S.products.values()].filter((o) => o.id !== p.id && o.status === 'publish' && o.categories.some((c) => p.categories.includes(c))).slice(0, 5).map((o) => o.id);
  return {
    id: p.id, name: p.name, slug: p.slug, permalink: permalink(p), date_created: dateLocal(p.created), date_created_gmt: dateGmt(p.created),
    date_modified: dateLocal(p.modified), date_modified_gmt: dateGmt(p.modified), type: p.type, status: p.status, featured: p.featured,
    catalog_visibility: p.catalog_visibility, description: p.description, short_description: p.short_description, sku: p.sku,
    price: price === null ? '' : variable ? priceString(price) : sale !== null ? p.sale_price : p.regular_price,
    regular_price: p.regular_price, sale_price: p.sale_price,
    date_on_sale_from: dateLocal(p.date_on_sale_from), date_on_sale_from_gmt: dateGmt(p.date_on_sale_from), date_on_sale_to: dateLocal(p.date_on_sale_to), date_on_sale_to_gmt: dateGmt(p.date_on_sale_to),
    on_sale: variable ? children.some((v) => v.sale_price !== '') : sale !== null && regular !== null && sale < regular,
    purchasable: price !== null && p.status === 'publish', total_sales: p.total_sales, virtual: p.virtual, downloadable: p.downloadable,
    downloads: [], download_limit: -1, download_expiry: -1, external_url: '', button_text: '', tax_status: p.tax_status, tax_class: p.tax_class,
    manage_stock: p.manage_stock, stock_quantity: p.stock_quantity, backorders: p.backorders, backorders_allowed: p.backorders !== 'no',
    backordered: p.manage_stock && p.stock_quantity <= 0 && p.backorders !== 'no', low_stock_amount: p.low_stock_amount, sold_individually: p.sold_individually,
    weight: p.weight, dimensions: { ...p.dimensions }, shipping_required: !p.virtual, shipping_taxable: !p.virtual && p.tax_status === 'taxable',
    shipping_class: p.shipping_class, shipping_class_id: p.shipping_class_id, reviews_allowed: p.reviews_allowed, average_rating: p.average_rating,
    rating_count: p.rating_count, upsell_ids: p.upsell_ids, cross_sell_ids: p.cross_sell_ids, parent_id: p.parent_id, purchase_note: p.purchase_note,
    categories: p.categories.map((id) => S.categories.get(id)).filter(Boolean).map((c) => ({ id: c.id, name: c.name, slug: c.slug })),
    tags: p.tags.map((id) => S.tags.get(id)).filter(Boolean).map((t) => ({ id: t.id, name: t.name, slug: t.slug })),
    images: p.images.map(renderImage),
    attributes: p.attributes.map((a) => ({ id: a.id, name: a.name, position: a.position, visible: a.visible, variation: a.variation, options: a.options })),
    default_attributes: p.default_attributes, variations: variable ? [...p.variations] : [], grouped_products: [], menu_order: p.menu_order,
    price_html: priceHtml(variable ? null : regular, price, variable && childPrices.length ? [Math.min(...childPrices), Math.max(...childPrices)] : null),
    related_ids: related, meta_data: p.meta.map((m) => ({ id: m.id, key: m.key, value: m.value })), stock_status: status, has_options: variable,
    post_password: '', global_unique_id: p.global_unique_id,
  };
}
const productLinks = (p) => {
  const links = { self: selfLink(`/wc/v3/products/${p.id}`), collection: link('/wc/v3/products') };
  if (p.parent_id) links.up = link(`/wc/v3/products/${p.parent_id}`);
  return links;
};

function variationView(v) {
  const parent = S.products.get(v.parent_id);
  const managed = v.manage_stock || (v.manage_stock === 'parent' && parent?.manage_stock);
  const regular = toKurus(v.regular_price);
  const sale = toKurus(v.sale_price);
  const taxClass = v.tax_class === 'parent' ? parent?.tax_class ?? '' : v.tax_class;
  const query = v.attributes.map((a) => `attribute_${attributeBySlug(`pa_${slugify(a.name)}`)?.slug ?? slugify(a.name)}=${slugify(a.option)}`).join('&');
  return { parent, managed: Boolean(managed), regular, sale, taxClass, query, name: `${parent?.name ?? ''} - ${v.attributes.map((a) => a.option).join(', ')}` };
}
function renderVariation(v) {
  const x = variationView(v);
  return {
    id: v.id, date_created: dateLocal(v.created), date_created_gmt: dateGmt(v.created), date_modified: dateLocal(v.modified), date_modified_gmt: dateGmt(v.modified),
    description: v.description, permalink: `${homeUrl()}/urun/${x.parent?.slug}/?${x.query}`, sku: v.sku || x.parent?.sku || '', global_unique_id: v.global_unique_id,
    price: v.sale_price || v.regular_price, regular_price: v.regular_price, sale_price: v.sale_price,
    date_on_sale_from: dateLocal(v.date_on_sale_from), date_on_sale_from_gmt: dateGmt(v.date_on_sale_from), date_on_sale_to: dateLocal(v.date_on_sale_to), date_on_sale_to_gmt: dateGmt(v.date_on_sale_to),
    on_sale: x.sale !== null && x.regular !== null && x.sale < x.regular, status: v.status, purchasable: (v.sale_price || v.regular_price) !== '' && v.status === 'publish',
    virtual: v.virtual, downloadable: v.downloadable, downloads: [], download_limit: -1, download_expiry: -1, tax_status: v.tax_status, tax_class: x.taxClass,
    manage_stock: x.managed, stock_quantity: v.manage_stock === true ? v.stock_quantity : x.managed ? x.parent.stock_quantity : null, stock_status: stockStatus(v),
    backorders: v.backorders, backorders_allowed: v.backorders !== 'no', backordered: x.managed && v.stock_quantity <= 0 && v.backorders !== 'no', low_stock_amount: v.low_stock_amount,
    weight: v.weight || x.parent?.weight || '', dimensions: { ...v.dimensions }, shipping_class: v.shipping_class, shipping_class_id: v.shipping_class_id,
    image: renderImage(v.image ?? productImage(x.parent)), attributes: v.attributes.map((a) => ({ id: a.id, name: a.name, option: a.option })), menu_order: v.menu_order,
    meta_data: v.meta.map((m) => ({ id: m.id, key: m.key, value: m.value })), name: x.name, parent_id: v.parent_id,
  };
}
const variationLinks = (v) => ({
  self: selfLink(`/wc/v3/products/${v.parent_id}/variations/${v.id}`), collection: link(`/wc/v3/products/${v.parent_id}/variations`), up: link(`/wc/v3/products/${v.parent_id}`),
});
/// A variation fetched as /products/<id>: the product shape, type "variation".
function renderVariationAsProduct(v) {
  const x = variationView(v);
  const base = renderProduct({
    ...x.parent, id: v.id, name: x.name, slug: `${x.parent.slug}-${v.attributes.map((a) => slugify(a.option)).join('-')}`, type: 'variation', status: v.status, featured: false,
    description: v.description, short_description: '', sku: v.sku || x.parent.sku, regular_price: v.regular_price, sale_price: v.sale_price, tax_class: x.taxClass,
    manage_stock: x.managed, stock_quantity: v.stock_quantity, stock_status: v.stock_status, backorders: v.backorders, parent_id: v.parent_id, categories: [], tags: [],
    images: [v.image ?? productImage(x.parent)].filter(Boolean), attributes: [], variations: [], meta: v.meta, created: v.created, modified: v.modified, menu_order: v.menu_order,
  });
  base.permalink = `${homeUrl()}/urun/${x.parent.slug}/?${x.query}`;
  base.attributes = v.attributes.map((a) => ({ id: a.id, name: a.name, option: a.option }));
  return base;
}

// Customers, coupons, webhooks, terms --------------------------------------------------------

function renderCustomer(c) {
  return {
    id: c.id, date_created: dateLocal(c.created), date_created_gmt: dateGmt(c.created), date_modified: dateLocal(c.modified), date_modified_gmt: dateGmt(c.modified),
    email: c.email, first_name: c.first_name, last_name: c.last_name, role: c.role, username: c.username, billing: { ...c.billing }, shipping: { ...c.shipping },
    is_paying_customer: c.is_paying_customer, avatar_url: `https://secure.gravatar.com/avatar/${md5(c.email.trim().toLowerCase())}?s=96&d=mm&r=g`,
    meta_data: c.meta.map((m) => ({ id: m.id, key: m.key, value: m.value })),
  };
}
const customerLinks = (c) => ({ self: selfLink(`/wc/v3/customers/${c.id}`), collection: link('/wc/v3/customers') });

function renderCoupon(c) {
  return {
    id: c.id, code: c.code, amount: money(c.amount, 2), status: c.status, date_created: dateLocal(c.created), date_created_gmt: dateGmt(c.created),
    date_modified: dateLocal(c.modified), date_modified_gmt: dateGmt(c.modified), discount_type: c.discount_type, description: c.description,
    date_expires: dateLocal(c.expires), date_expires_gmt: dateGmt(c.expires), usage_count: c.usage_count, individual_use: c.individual_use,
    product_ids: c.product_ids, excluded_product_ids: c.excluded_product_ids, usage_limit: c.usage_limit, usage_limit_per_user: c.usage_limit_per_user,
    limit_usage_to_x_items: c.limit_usage_to_x_items, free_shipping: c.free_shipping, product_categories: c.product_categories,
    excluded_product_categories: c.excluded_product_categories, exclude_sale_items: c.exclude_sale_items, minimum_amount: money(c.minimum_amount, 2),
    maximum_amount: money(c.maximum_amount, 2), email_restrictions: c.email_restrictions, used_by: c.used_by, meta_data: c.meta.map((m) => ({ id: m.id, key: m.key, value: m.value })),
  };
}
const couponLinks = (c) => ({ self: selfLink(`/wc/v3/coupons/${c.id}`), collection: link('/wc/v3/coupons') });

function renderWebhook(w) {
  const [resource, event = ''] = w.topic.split('.');
  return {
    id: w.id, name: w.name, status: w.status, topic: w.topic, resource, event, hooks: webhookHooks(w), delivery_url: w.delivery_url,
    date_created: dateLocal(w.created), date_created_gmt: dateGmt(w.created), date_modified: dateLocal(w.modified), date_modified_gmt: dateGmt(w.modified),
  };
}
const webhookLinks = (w) => ({ self: selfLink(`/wc/v3/webhooks/${w.id}`), collection: link('/wc/v3/webhooks') });

function termCount(kind, id) {
  let n = 0;
  for (const p of S.products.values()) if (p.status === 'publish' && p[kind].includes(id)) n++;
  return n;
}
const renderCategory = (c) => ({
  id: c.id, name: c.name, slug: c.slug, parent: c.parent, description: c.description, display: c.display, image: c.image, menu_order: c.menu_order, count: termCount('categories', c.id),
});
const categoryLinks = (c) => {
  const links = { self: selfLink(`/wc/v3/products/categories/${c.id}`), collection: link('/wc/v3/products/categories') };
  if (c.parent) links.up = link(`/wc/v3/products/categories/${c.parent}`);
  return links;
};
const renderTag = (t) => ({ id: t.id, name: t.name, slug: t.slug, description: t.description, count: termCount('tags', t.id) });
const tagLinks = (t) => ({ self: selfLink(`/wc/v3/products/tags/${t.id}`), collection: link('/wc/v3/products/tags') });
const renderAttribute = (a) => ({ id: a.id, name: a.name, slug: a.slug, type: a.type, order_by: a.order_by, has_archives: a.has_archives });
const attributeLinks = (a) => ({ self: selfLink(`/wc/v3/products/attributes/${a.id}`), collection: link('/wc/v3/products/attributes') });
const renderTerm = (t) => ({ id: t.id, name: t.name, slug: t.slug, description: t.description, menu_order: t.menu_order, count: t.count });
const termLinks = (attr, t) => ({ self: selfLink(`/wc/v3/products/attributes/${attr.id}/terms/${t.id}`), collection: link(`/wc/v3/products/attributes/${attr.id}/terms`) });

// ---------------------------------------------------------------------------------------------
// The REST layer: WordPress's argument validation, error shape, pagination headers and links,
// _fields, and WooCommerce's authentication.

class RestError extends Error {
  constructor(code, message, data) {
    super(message);
    this.code = code;
    this.data = data;
  }
}
const restError = (code, message, status, extra = {}) => new RestError(code, message, { status, ...extra });
/// WP_Error with a bare number as data (the refunds controller does this): HTTP 500 on the wire.
const intError = (code, message, data) => new RestError(code, message, data);
const errorStatus = (e) => (e.data && typeof e.data === 'object' && Number.isInteger(e.data.status) ? e.data.status : 500);
const errorBody = (e) => ({ code: e.code, message: e.message, data: e.data ?? null });

/// wp_sprintf()'s %l: "a", "a and b", "a, b, and c".
const wpList = (items) => (items.length < 3 ? items.join(' and ') : `${items.slice(0, -1).join(', ')}, and ${items[items.length - 1]}`);
const isNumeric = (v) => (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v));
const isIntLike = (v) => isNumeric(v) && Number.isInteger(Number(v));
const isBoolLike = (v) => typeof v === 'boolean' || (typeof v === 'string' && ['true', 'false', '0', '1'].includes(v.toLowerCase())) || v === 0 || v === 1;
const toBool = (v) => (typeof v === 'boolean' ? v : typeof v === 'string' ? !['false', '0', ''].includes(v.toLowerCase()) : Boolean(v));
const parseList = (v) => {
  if (Array.isArray(v)) return v;
  if (v && typeof v === 'object') return Object.values(v);
  if (typeof v === 'string') return v.split(/[\s,]+/).filter((x) => x !== '');
  return v === undefined || v === null ? [] : [v];
};
const idList = (v) => [...new Set(parseList(v).map((x) => Math.abs(parseInt(x, 10)) || 0))];

function checkValue(name, value, spec) {
  const bad = (code, message) => ({ code, message });
  switch (spec.type) {
    case 'integer': {
      if (!isIntLike(value)) return bad('rest_invalid_type', `${name} is not of type integer.`);
      const n = Number(value);
      if (spec.minimum !== undefined && spec.maximum !== undefined && (n < spec.minimum || n > spec.maximum)) {
        return bad('rest_out_of_bounds', `${name} must be between ${spec.minimum} (inclusive) and ${spec.maximum} (inclusive)`);
      }
      if (spec.minimum !== undefined && spec.maximum === undefined && n < spec.minimum) return bad('rest_out_of_bounds', `${name} must be greater than or equal to ${spec.minimum}`);
      return null;
    }
    case 'number':
      return isNumeric(value) ? null : bad('rest_invalid_type', `${name} is not of type number.`);
    case 'boolean':
      return isBoolLike(value) ? null : bad('rest_invalid_type', `${name} is not of type boolean.`);
    case 'string':
      if (typeof value !== 'string') return bad('rest_invalid_type', `${name} is not of type string.`);
      if (spec.enum && !spec.enum.includes(value)) return bad('rest_not_in_enum', `${name} is not one of ${wpList(spec.enum)}.`);
      if (spec.format === 'date-time' && queryWallClock(value) === null) return bad('rest_invalid_date', 'Invalid date.');
      if (spec.format === 'email' && value !== '' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) return bad('rest_invalid_email', 'Invalid email address.');
      return null;
    case 'array': {
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && spec.items?.type !== 'object' && Object.keys(value).some((k) => !/^\d+$/.test(k))) {
        return bad('rest_invalid_type', `${name} is not of type array.`);
      }
      const list = parseList(value);
      for (let i = 0; i < list.length; i++) {
        const problem = spec.items ? checkValue(`${name}[${i}]`, list[i], spec.items) : null;
        if (problem) return problem;
      }
      return null;
    }
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? null : bad('rest_invalid_type', `${name} is not of type object.`);
    default:
      return null;
  }
}

function sanitizeValue(spec, value) {
  if (spec.sanitize === 'absint') return Math.abs(parseInt(value, 10)) || 0;
  if (spec.sanitize === 'ids') return idList(value);
  switch (spec.type) {
    case 'integer': return Math.trunc(Number(value));
    case 'number': return Number(value);
    case 'boolean': return toBool(value);
    case 'array': return parseList(value).map((x) => (spec.items ? sanitizeValue(spec.items, x) : x));
    case 'string': return spec.sanitize === 'text' ? String(value).replace(/<[^>]*>/g, '').trim() : value;
    default: return value;
  }
}

/// WP_REST_Request::has_valid_params() and sanitize_params(): missing required arguments
/// first, then every invalid one at once.
function parseArgs(specs, params) {
  const missing = Object.entries(specs).filter(([name, spec]) => spec.required && params[name] === undefined).map(([name]) => name);
  if (missing.length) throw restError('rest_missing_callback_param', `Missing parameter(s): ${missing.join(', ')}`, 400, { params: missing });
  const invalid = {};
  const details = {};
  const out = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (params[name] === undefined) {
      if ('default' in spec) out[name] = sanitizeValue(spec, spec.default);
      continue;
    }
    const problem = checkValue(name, params[name], spec);
    if (problem) {
      invalid[name] = problem.message;
      details[name] = { code: problem.code, message: problem.message, data: null };
    } else out[name] = sanitizeValue(spec, params[name]);
  }
  if (Object.keys(invalid).length) {
    throw restError('rest_invalid_param', `Invalid parameter(s): ${Object.keys(invalid).join(', ')}`, 400, { params: invalid, details });
  }
  return out;
}

const DATE_ARG = { type: 'string', format: 'date-time' };
const IDS_ARG = { type: 'array', items: { type: 'integer' }, default: [], sanitize: 'ids' };
const CONTEXT_ARG = { type: 'string', enum: ['view', 'edit'], default: 'view' };
const PAGING_ARGS = {
  context: CONTEXT_ARG, page: { type: 'integer', default: 1, minimum: 1, sanitize: 'absint' },
  per_page: { type: 'integer', default: 10, minimum: 1, maximum: 100, sanitize: 'absint' }, search: { type: 'string', sanitize: 'text' },
};
const CRUD_ARGS = {
  ...PAGING_ARGS, after: DATE_ARG, before: DATE_ARG, modified_after: DATE_ARG, modified_before: DATE_ARG, dates_are_gmt: { type: 'boolean', default: false },
  exclude: IDS_ARG, include: IDS_ARG, offset: { type: 'integer', sanitize: 'absint' }, order: { type: 'string', default: 'desc', enum: ['asc', 'desc'] },
  orderby: { type: 'string', default: 'date', enum: ['date', 'id', 'include', 'title', 'slug', 'modified'] },
};
const HIERARCHY_ARGS = { parent: IDS_ARG, parent_exclude: IDS_ARG };
const ORDER_LIST_ARGS = {
  ...CRUD_ARGS, ...HIERARCHY_ARGS,
  status: { type: 'array', items: { type: 'string', enum: ['any', 'trash', ...ORDER_STATUSES] }, default: 'any' },
  customer: { type: 'integer' }, product: { type: 'integer' }, dp: { type: 'integer', default: 2 },
  order_item_display_meta: { type: 'boolean', default: false }, include_meta: { type: 'array', items: { type: 'string' }, default: [] },
  exclude_meta: { type: 'array', items: { type: 'string' }, default: [] }, created_via: { type: 'array', items: { type: 'string' } },
};
const REFUND_LIST_ARGS = { ...CRUD_ARGS, ...HIERARCHY_ARGS, dp: { type: 'integer', default: 2 } };
const PRODUCT_ORDERBY = ['date', 'modified', 'id', 'include', 'title', 'slug', 'price', 'popularity', 'rating', 'menu_order'];
const PRODUCT_LIST_ARGS = {
  ...CRUD_ARGS, ...HIERARCHY_ARGS, orderby: { type: 'string', default: 'date', enum: PRODUCT_ORDERBY }, slug: { type: 'string' },
  status: { type: 'string', default: 'any', enum: ['any', 'future', 'trash', 'draft', 'pending', 'private', 'publish'] },
  type: { type: 'string', enum: ['simple', 'grouped', 'external', 'variable'] }, sku: { type: 'string' }, featured: { type: 'boolean' },
  category: { type: 'string' }, tag: { type: 'string' }, on_sale: { type: 'boolean' }, min_price: { type: 'string' }, max_price: { type: 'string' },
  stock_status: { type: 'string', enum: ['instock', 'outofstock', 'onbackorder'] },
};
const VARIATION_LIST_ARGS = { ...CRUD_ARGS, ...HIERARCHY_ARGS, sku: { type: 'string' }, on_sale: { type: 'boolean' }, stock_status: PRODUCT_LIST_ARGS.stock_status, status: { type: 'string', default: 'any', enum: ['any', 'draft', 'pending', 'private', 'publish', 'trash'] } };
const COUPON_LIST_ARGS = { ...CRUD_ARGS, code: { type: 'string' } };
const CUSTOMER_LIST_ARGS = {
  ...PAGING_ARGS, exclude: IDS_ARG, include: IDS_ARG, offset: { type: 'integer', sanitize: 'absint' },
  order: { type: 'string', default: 'asc', enum: ['asc', 'desc'] }, orderby: { type: 'string', default: 'name', enum: ['id', 'include', 'name', 'registered_date'] },
  email: { type: 'string', format: 'email' }, role: { type: 'string', default: 'customer', enum: ['all', 'administrator', 'editor', 'author', 'contributor', 'subscriber', 'customer', 'shop_manager'] },
};
const WEBHOOK_LIST_ARGS = {
  ...PAGING_ARGS, after: DATE_ARG, before: DATE_ARG, exclude: IDS_ARG, include: IDS_ARG, offset: { type: 'integer', sanitize: 'absint' },
  order: { type: 'string', default: 'desc', enum: ['asc', 'desc'] }, orderby: { type: 'string', default: 'date', enum: ['date', 'id', 'title'] },
  status: { type: 'string', default: 'all', enum: ['all', 'active', 'paused', 'disabled'] },
};
const TERM_LIST_ARGS = {
  ...PAGING_ARGS, exclude: IDS_ARG, include: IDS_ARG, offset: { type: 'integer', sanitize: 'absint' }, order: { type: 'string', default: 'asc', enum: ['asc', 'desc'] },
  orderby: { type: 'string', default: 'name', enum: ['id', 'include', 'name', 'slug', 'term_group', 'description', 'count'] }, hide_empty: { type: 'boolean', default: false },
  parent: { type: 'integer' }, product: { type: 'integer' }, slug: { type: 'string' },
};
const DELETE_ARGS = { force: { type: 'boolean', default: false } };
const DP_ARGS = { context: CONTEXT_ARG, dp: { type: 'integer', default: 2 } };

/// The GET parameters as WordPress holds them after sanitising (they feed the Link header).
function sanitizedGet(ctx, specs) {
  for (const [name, spec] of Object.entries(specs)) {
    if (!ctx.get.has(name)) continue;
    const raw = plainParam(ctx.get.get(name));
    if (checkValue(name, raw, spec)) continue;
    ctx.get.set(name, sanitizeValue(spec, raw));
  }
}
/// Request-parameter writes the controllers make (status, dp, context) land in the GET
/// parameters unless the request declared a JSON body.
function setRequestParam(ctx, name, value, { moveToEnd = false } = {}) {
  if (ctx.jsonContent) return;
  if (moveToEnd) ctx.get.delete(name);
  ctx.get.set(name, value);
}
const toQueryValue = (v) => (Array.isArray(v) ? new Map(v.map((x, i) => [String(i), toQueryValue(x)])) : v && typeof v === 'object' && !(v instanceof Map) ? new Map(Object.entries(v).map(([k, x]) => [k, toQueryValue(x)])) : v);
const urlencodeDeep = (v) => (v instanceof Map ? new Map([...v].map(([k, x]) => [k, urlencodeDeep(x)])) : urlencode(v));

/// add_query_arg( 'page', $n, add_query_arg( $request->get_query_params(), rest_url( $base ) ) ):
/// the first call writes raw values, the second parses them back and urlencodes them.
function pageUrl(ctx, path, page) {
  const first = buildQueryRaw(new Map([...ctx.get].map(([k, v]) => [k, toQueryValue(v)])));
  const parsed = urlencodeDeep(parsePhpQuery(first));
  parsed.set('page', String(page));
  const query = buildQueryRaw(parsed);
  return `${restUrl(path)}${query ? `?${query}` : ''}`;
}
function pageLinks(ctx, path, page, maxPages) {
  const links = [];
  if (page > 1) links.push(`<${pageUrl(ctx, path, Math.min(page - 1, maxPages))}>; rel="prev"`);
  if (maxPages > page) links.push(`<${pageUrl(ctx, path, page + 1)}>; rel="next"`);
  return links.join(', ');
}

/// rest_filter_response_fields(): "a,b.c" keeps those keys; lists inside are not descended into.
function filterFields(data, fieldsParam) {
  const fields = parseList(fieldsParam).map(String);
  if (!fields.length || data === null || typeof data !== 'object') return data;
  const keyed = {};
  for (const field of fields) {
    const parts = field.split('.');
    let ref = keyed;
    let skip = false;
    while (parts.length > 1) {
      const next = parts.shift();
      if (ref[next] === true) {
        skip = true;
        break;
      }
      ref[next] = ref[next] && typeof ref[next] === 'object' ? ref[next] : {};
      ref = ref[next];
    }
    if (!skip) ref[parts.shift()] = true;
  }
  const intersect = (value, keys) => {
    if (value === null || typeof value !== 'object') return value;
    const out = Array.isArray(value) ? [] : {};
    for (const [k, v] of Object.entries(value)) {
      if (!(k in keys)) continue;
      const sub = keys[k] !== true && v && typeof v === 'object' ? intersect(v, keys[k]) : v;
      if (Array.isArray(out)) out.push(sub);
      else out[k] = sub;
    }
    return out;
  };
  return Array.isArray(data) ? data.map((item) => intersect(item, keyed)) : intersect(data, keyed);
}

/// A page of a sorted id list, with WooCommerce's totals.
function page(list, q) {
  const perPage = q.per_page;
  const offset = q.offset !== undefined && q.offset !== 0 ? q.offset : (q.page - 1) * perPage;
  const total = list.length;
  return { slice: list.slice(offset, offset + perPage), total, pages: Math.ceil(total / perPage), page: q.page };
}

// Authentication (WC_REST_Authentication) ---------------------------------------------------

const authFailure = (message) => restError('woocommerce_rest_authentication_error', message, 401);

function authenticate(req, url, ctx) {
  const out = { key: null, kind: 'none', error: null };
  const ssl = config.is_ssl || (config.trust_forwarded_proto && String(req.headers['x-forwarded-proto'] ?? '').toLowerCase() === 'https');
  const header = config.strip_authorization ? '' : String(req.headers.authorization ?? '');
  if (ssl) {
    let ck = '';
    let cs = '';
    let kind = 'query';
    const qck = ctx.get.get('consumer_key');
    const qcs = ctx.get.get('consumer_secret');
    if (typeof qck === 'string' && qck && typeof qcs === 'string' && qcs) [ck, cs] = [qck, qcs];
    else if (/^Basic\s+/i.test(header)) {
      const decoded = Buffer.from(header.replace(/^Basic\s+/i, ''), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) [ck, cs] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
      kind = 'basic';
    }
    if (ck && cs) {
      const key = keys.get(ck.trim());
      if (key) {
        if (sameString(key.consumer_secret, cs)) return { key, kind, error: null };
        out.error = authFailure('Consumer secret is invalid.');
      }
    }
  }
  const params = new Map(ctx.get);
  if (ctx.method === 'POST' && ctx.form) for (const [k, v] of ctx.form) params.set(k, v);
  if (header.trim().startsWith('OAuth ')) {
    for (const m of header.trim().matchAll(/(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))/g)) params.set(m[1], phpUrldecode(m[3] ? m[3] : m[4] ?? ''));
  }
  const required = ['oauth_consumer_key', 'oauth_timestamp', 'oauth_nonce', 'oauth_signature', 'oauth_signature_method'];
  const given = required.filter((k) => typeof params.get(k) === 'string' && params.get(k) !== '' && params.get(k) !== '0');
  if (given.length === 0) return out;
  if (given.length < required.length) {
    const missing = required.filter((k) => !given.includes(k));
    out.error = restError('woocommerce_rest_authentication_missing_parameter', `Missing OAuth parameter${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, 401);
    return out;
  }
  out.kind = 'oauth1';
  const key = keys.get(String(params.get('oauth_consumer_key')).trim());
  if (!key) {
    out.error = authFailure('Consumer key is invalid.');
    return out;
  }
  const home = new URL(`${homeUrl()}/`);
  const base = home.pathname;
  let path = url.pathname;
  if (path.startsWith(base)) path = path.slice(base.length);
  const baseUri = `${config.is_ssl ? 'https' : 'http'}://${home.host}${base}${path.replace(/^\/+/, '')}`;
  const given_signature = phpUrldecode(String(params.get('oauth_signature')).replace(/ /g, '+'), false);
  const method = params.get('oauth_signature_method');
  if (method !== 'HMAC-SHA1' && method !== 'HMAC-SHA256') {
    out.error = authFailure('Invalid signature - signature method is invalid.');
    return out;
  }
  const expected = oauthSignature(oauthBaseString(ctx.method, baseUri, params), key.consumer_secret, method);
  if (!sameString(expected, given_signature)) {
    out.error = authFailure('Invalid signature - provided signature does not match.');
    return out;
  }
  const timestamp = Number(params.get('oauth_timestamp'));
  const now = nowSec();
  if (!(timestamp >= now - 900 && timestamp <= now + 900)) {
    out.error = authFailure('Invalid timestamp.');
    return out;
  }
  const nonce = params.get('oauth_nonce');
  if ([...key.nonces.values()].includes(nonce)) {
    out.error = authFailure('Invalid nonce - nonce has already been used.');
    return out;
  }
  // Used nonces are kept per timestamp, as WooCommerce stores them: a second request with the
  // same timestamp replaces the first one's nonce.
  key.nonces.set(timestamp, nonce);
  for (const ts of key.nonces.keys()) if (ts < now - 900) key.nonces.delete(ts);
  return { key, kind: 'oauth1', error: null };
}

function keyPermission(key, method) {
  if (['GET', 'HEAD'].includes(method)) return key.permissions === 'read' || key.permissions === 'read_write' ? null : authFailure('The API key provided does not have read permissions.');
  if (['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) return key.permissions === 'write' || key.permissions === 'read_write' ? null : authFailure('The API key provided does not have write permissions.');
  if (method === 'OPTIONS') return null;
  return authFailure('Unknown request method.');
}

const DENIED = {
  list: ['woocommerce_rest_cannot_view', 'Sorry, you cannot list resources.'],
  view: ['woocommerce_rest_cannot_view', 'Sorry, you cannot view this resource.'],
  create: ['woocommerce_rest_cannot_create', 'Sorry, you are not allowed to create resources.'],
  edit: ['woocommerce_rest_cannot_edit', 'Sorry, you are not allowed to edit this resource.'],
  delete: ['woocommerce_rest_cannot_delete', 'Sorry, you are not allowed to delete this resource.'],
  batch: ['woocommerce_rest_cannot_batch', 'Sorry, you are not allowed to batch manipulate this resource.'],
};

// Routes -------------------------------------------------------------------------------------

const ROUTES = [];
/// `handlers` maps a method to [permission, args, fn]; EDITABLE registers POST, PUT and PATCH.
function route(pattern, handlers) {
  const expanded = {};
  for (const [methods, handler] of Object.entries(handlers)) {
    for (const m of methods === 'EDITABLE' ? ['POST', 'PUT', 'PATCH'] : methods.split(',')) expanded[m] = handler;
  }
  ROUTES.push({ pattern, regex: new RegExp(`^${pattern.replace(/\(\?P</g, '(?<')}$`, 'i'), handlers: expanded });
}

// ---------------------------------------------------------------------------------------------
// Order lists: a scan of the index arrays, cached per filter until an order changes.

function dateBounds(q) {
  const bound = (text) => {
    if (text === undefined) return null;
    const wall = queryWallClock(text);
    return q.dates_are_gmt ? wall : localWallToUtc(wall);
  };
  return { after: bound(q.after), before: bound(q.before), mafter: bound(q.modified_after), mbefore: bound(q.modified_before) };
}
/// WP_Date_Query's comparisons: strictly after / strictly before, to the second.
const inDates = (d, created, modified) => !((d.after !== null && created <= d.after) || (d.before !== null && created >= d.before)
  || (d.mafter !== null && modified <= d.mafter) || (d.mbefore !== null && modified >= d.mbefore));

function sortSlots(slots, keys) {
  const n = slots.length;
  if (n < 2) return slots;
  if (S.orders.count >= 4_194_304) return Int32Array.from([...slots].sort((a, b) => keys[a] - keys[b] || a - b));
  let min = Infinity;
  let sorted = true;
  for (let i = 0; i < n; i++) {
    const k = keys[slots[i]];
    if (k < min) min = k;
    if (i && (k < keys[slots[i - 1]] || (k === keys[slots[i - 1]] && slots[i] < slots[i - 1]))) sorted = false;
  }
  if (sorted) return slots;
  const packed = new Float64Array(n);
  for (let i = 0; i < n; i++) packed[i] = (keys[slots[i]] - min) * 4194304 + slots[i];
  packed.sort();
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = packed[i] % 4194304;
  return out;
}

/// What the HPOS search looks through: id, names, e-mail, phone, address (and item names once
/// an order has changed; generated orders are searched by their people only).
function orderSearchText(slot) {
  const O = S.orders;
  const rec = O.records.get(slot);
  if (rec) return [rec.id, ...Object.values(rec.billing), ...Object.values(rec.shipping ?? {}), ...rec.lines.map((l) => l.name)].join(' ').toLowerCase();
  const uid = O.customer[slot];
  const c = uid ? baseCustomer(uid) : null;
  const who = c ? { first: c.first_name, last: c.last_name, email: c.email, phone: c.billing.phone, address: c.billing } : identity(new Rng(hash3(S.seed, slot, 0x77)));
  return `${slotId(slot)} ${who.first} ${who.last} ${who.email} ${who.phone} ${who.address.address_1} ${who.address.city}`.toLowerCase();
}

function orderQuery(q) {
  const O = S.orders;
  let mask = 0;
  if (q.status.includes('any')) for (let c = 0; c < ORDER_STATUSES.length; c++) mask |= 1 << c;
  else for (const s of q.status) mask |= 1 << STATUS_CODE[s];
  const key = JSON.stringify([mask, q.after, q.before, q.modified_after, q.modified_before, q.dates_are_gmt, q.include, q.exclude, q.customer, q.product,
    q.search, q.created_via, q.parent, q.parent_exclude, q.orderby, q.order, config.timezone]);
  const hit = S.listCache.get(key);
  if (hit && hit.version === S.version) return hit.list;

  const d = dateBounds(q);
  const { status: st, created: cr, modified: md, customer: cu } = O;
  const customer = q.customer === undefined ? null : q.customer;
  let slots;
  if (q.include.length) {
    const seen = new Set();
    const picked = [];
    for (const id of q.include) {
      const s = orderSlot(id);
      if (s < 0 || seen.has(s)) continue;
      seen.add(s);
      const c = st[s];
      if (!((mask >>> c) & 1) || !inDates(d, cr[s], md[s]) || (customer !== null && cu[s] !== customer)) continue;
      picked.push(s);
    }
    slots = Int32Array.from(picked);
  } else {
    const n = O.count;
    const out = new Int32Array(n);
    let m = 0;
    const { after, before, mafter, mbefore } = d;
    for (let s = 0; s < n; s++) {
      const c = st[s];
      if (c === DELETED || !((mask >>> c) & 1)) continue;
      if (after !== null && cr[s] <= after) continue;
      if (before !== null && cr[s] >= before) continue;
      if (mafter !== null && md[s] <= mafter) continue;
      if (mbefore !== null && md[s] >= mbefore) continue;
      if (customer !== null && cu[s] !== customer) continue;
      out[m++] = s;
    }
    slots = out.slice(0, m);
  }
  const exclude = new Set(q.exclude);
  const needle = q.search ? q.search.toLowerCase() : '';
  const via = q.created_via?.length ? new Set(q.created_via) : null;
  const parents = q.parent.length ? new Set(q.parent) : null;
  if (exclude.size || needle || q.product || via || parents || q.parent_exclude.length) {
    slots = slots.filter((s) => {
      if (exclude.has(slotId(s))) return false;
      if (parents && !parents.has(0)) return false;
      if (q.parent_exclude.includes(0)) return false;
      if (needle && !orderSearchText(s).includes(needle)) return false;
      if (q.product || via) {
        const rec = orderRecord(s);
        if (q.product && !rec.lines.some((l) => l.product_id === q.product || l.variation_id === q.product)) return false;
        if (via && !via.has(rec.created_via)) return false;
      }
      return true;
    });
  }
  if (q.orderby === 'include' && q.include.length) {
    const rank = new Map(q.include.map((id, i) => [orderSlot(id), i]));
    slots = Int32Array.from([...slots].sort((a, b) => rank.get(a) - rank.get(b)));
  } else if (q.orderby === 'modified') slots = sortSlots(slots, md);
  else if ((q.orderby === 'id' || q.orderby === 'include') && q.include.length) slots = Int32Array.from(slots).sort();
  else slots = sortSlots(slots, cr);
  if (q.order === 'desc') slots = slots.slice().reverse();
  if (S.listCache.size > 16) S.listCache.delete(S.listCache.keys().next().value);
  S.listCache.set(key, { version: S.version, list: slots });
  return slots;
}

// ---------------------------------------------------------------------------------------------
// Changing orders, with WooCommerce's side effects (notes, dates, stock, refunds, hooks).

/// The order as it can be changed; the state before the change is kept for stale payloads.
function touchOrder(slot) {
  const O = S.orders;
  const current = O.records.get(slot);
  if (current) {
    S.prev.set(`order:${current.id}`, structuredClone(current));
    return current;
  }
  const generated = genOrder(slot);
  S.prev.set(`order:${generated.id}`, generated);
  const rec = structuredClone(generated);
  O.records.set(slot, rec);
  return rec;
}
function commitOrder(slot, rec, { bump = true } = {}) {
  const O = S.orders;
  if (bump) rec.modified = nowSec();
  O.status[slot] = STATUS_CODE[rec.status];
  O.modified[slot] = rec.modified;
  O.created[slot] = rec.created;
  O.customer[slot] = rec.customer_id;
  S.version++;
}
function addNote(rec, text, { customer = false, author = 'system' } = {}) {
  const note = { id: S.nextNoteId++, author, created: nowSec(), note: text, customer_note: customer };
  rec.notes.push(note);
  return note;
}

function stockTarget(l) {
  if (l.variation_id) {
    const v = S.variations.get(l.variation_id);
    if (v?.manage_stock === true) return v;
    const parent = S.products.get(l.product_id);
    return v && parent?.manage_stock ? parent : null;
  }
  const p = S.products.get(l.product_id);
  return p?.manage_stock ? p : null;
}
function reduceStock(rec) {
  const changes = [];
  for (const l of rec.lines) {
    const target = stockTarget(l);
    if (!target) continue;
    const from = target.stock_quantity ?? 0;
    target.stock_quantity = from - l.quantity;
    l.meta = l.meta.filter((m) => m.key !== '_reduced_stock');
    l.meta.push({ id: S.nextItemMetaId++, key: '_reduced_stock', value: String(l.quantity) });
    changes.push(`${l.name} (${target.sku || `#${target.id}`}) ${from}&rarr;${target.stock_quantity}`);
  }
  rec.stock_reduced = true;
  if (changes.length) addNote(rec, `Stok seviyeleri düşürüldü: ${changes.join(', ')}`);
}
function restoreStock(rec) {
  const changes = [];
  for (const l of rec.lines) {
    const reduced = l.meta.find((m) => m.key === '_reduced_stock');
    const target = stockTarget(l);
    if (!reduced || !target) continue;
    const from = target.stock_quantity ?? 0;
    target.stock_quantity = from + Number(reduced.value);
    l.meta = l.meta.filter((m) => m.key !== '_reduced_stock');
    changes.push(`${l.name} (${target.sku || `#${target.id}`}) ${from}&rarr;${target.stock_quantity}`);
  }
  rec.stock_reduced = false;
  if (changes.length) addNote(rec, `Stok seviyeleri artırıldı: ${changes.join(', ')}`);
}

function setOrderStatus(slot, rec, to, ctx, { manual = false, note = '' } = {}) {
  const from = rec.status;
  if (from === to) return;
  rec.status = to;
  const now = nowSec();
  if ((to === 'processing' || to === 'completed') && !rec.paid) rec.paid = now;
  if (to === 'completed') rec.completed = now;
  if (rec.announce) {
    delete rec.announce;
    fire(ctx, 'woocommerce_new_order', rec.id);
  }
  addNote(rec, `${note ? `${note} ` : ''}Sipariş durumu ${STATUS_LABEL[from] ?? from} konumundan ${STATUS_LABEL[to] ?? to} konumuna değiştirildi.`, { author: manual ? 'Elif Şahin' : 'system' });
  if (STOCK_REDUCING.includes(to) && !rec.stock_reduced) reduceStock(rec);
  if (STOCK_REDUCING.includes(to) && !rec.coupons_counted) countCouponUse(rec);
  if ((to === 'cancelled' || to === 'pending') && rec.stock_reduced) restoreStock(rec);
  fire(ctx, `woocommerce_order_status_${to}`, rec.id);
  fire(ctx, 'woocommerce_order_status_changed', rec.id);
  if (to === 'refunded') {
    const remaining = remainingRefund(rec);
    if (remaining > 0) {
      createRefund(slot, rec, { amount: remaining, reason: 'Order fully refunded.', line_items: [], refund_payment: false, restock_items: false, meta: [] }, ctx, { statusChange: false });
      addNote(rec, 'Order status set to refunded. To return funds to the customer you will need to issue a refund through your payment gateway.');
    }
  }
}

const refundFailure = (message) => intError('woocommerce_rest_cannot_create_order_refund', message, 500);

/// wc_create_refund(): validate, save, ask the gateway (and delete the refund if it says no),
/// restock, note, mark fully refunded, fire woocommerce_order_refunded.
function createRefund(slot, rec, args, ctx, { statusChange = true } = {}) {
  const remaining = remainingRefund(rec);
  const amount = roundDp(Number(args.amount) || 0, 2);
  if (amount < 0 || amount > remaining + 1e-9) throw refundFailure('Invalid refund amount.');
  const refund = { id: S.nextPostId++, parent: rec.id, created: nowSec(), amount, reason: args.reason ?? '', refunded_by: 1, refunded_payment: false, meta: [], lines: [], shipping_lines: [], fee_lines: [], tax_line_ids: {} };
  for (const item of args.line_items ?? []) {
    const line = rec.lines.find((l) => l.id === Number(item.id));
    const qty = Math.abs(Number(item.qty ?? 0)) || 0;
    const total = Number(item.refund_total ?? 0) || 0;
    const taxes = item.refund_tax ?? {};
    const tax = Object.values(taxes).reduce((s, x) => s + (Number(x) || 0), 0);
    if (line) {
      refund.lines.push({ id: S.nextItemId++, refunded_item_id: line.id, name: line.name, product_id: line.product_id, variation_id: line.variation_id, quantity: -qty, tax_class: line.tax_class, rate: line.rate,
        total: -round6(total), total_tax: -round6(tax), subtotal: -round6(total), subtotal_tax: -round6(tax), meta_id: S.nextItemMetaId++, meta: [] });
      continue;
    }
    const ship = rec.shipping_lines.find((s) => s.id === Number(item.id));
    if (ship) refund.shipping_lines.push({ id: S.nextItemId++, refunded_item_id: ship.id, method_id: ship.method_id, method_title: ship.method_title, instance_id: ship.instance_id, net: -round6(total), tax: -round6(tax), meta_id: S.nextItemMetaId++ });
    const fee = rec.fee_lines.find((f) => f.id === Number(item.id));
    if (fee) refund.fee_lines.push({ id: S.nextItemId++, refunded_item_id: fee.id, name: fee.name, amount: -round6(total), total: -round6(total), total_tax: -round6(tax), tax_status: fee.tax_status, tax_class: '', meta_id: S.nextItemMetaId++ });
  }
  computeRefundTotals(refund);
  if (args.refund_payment) {
    const gateway = GATEWAYS[rec.payment_method];
    if (!gateway) throw refundFailure('The payment gateway for this order does not exist.');
    if (!gateway.refunds) throw refundFailure('The payment gateway for this order does not support automatic refunds.');
    if (S.faults.gateway_refund_errors > 0) {
      S.faults.gateway_refund_errors--;
      throw refundFailure(S.faults.gateway_refund_message || 'An error occurred while attempting to create the refund using the payment gateway API.');
    }
    refund.refunded_payment = true;
    addNote(rec, `${gateway.title}: ${tryMoney(amount)} iade edildi (İade No: ${String(refund.id).padStart(8, '0')}).`);
  }
  for (const m of args.meta ?? []) {
    const existing = refund.meta.find((x) => x.key === m.key);
    if (existing) existing.value = m.value;
    else refund.meta.push({ id: S.nextOrderMetaId++, key: m.key, value: m.value });
  }
  rec.refunds.push(refund);
  S.createdRefunds.set(refund.id, slot);
  if (args.restock_items) {
    for (const rl of refund.lines) {
      const line = rec.lines.find((l) => l.id === rl.refunded_item_id);
      const target = line && stockTarget(line);
      const qty = -rl.quantity;
      if (!qty || !target || !line.meta.some((m) => m.key === '_reduced_stock')) continue;
      const from = target.stock_quantity ?? 0;
      target.stock_quantity = from + qty;
      line.meta.push({ id: S.nextItemMetaId++, key: '_restock_refunded_items', value: String(qty) });
      addNote(rec, `Ürün #${line.id} stoğu ${from} adetten ${target.stock_quantity} adede yükseltildi.`);
    }
  }
  addNote(rec, `İade edildi: ${tryMoney(amount)}${refund.reason ? ` – ${refund.reason}` : ''}`);
  if (remainingRefund(rec) > 0) fire(ctx, 'woocommerce_order_partially_refunded', rec.id);
  else {
    fire(ctx, 'woocommerce_order_fully_refunded', rec.id);
    if (statusChange && rec.status !== 'refunded') setOrderStatus(slot, rec, 'refunded', ctx);
  }
  commitOrder(slot, rec);
  fire(ctx, 'woocommerce_update_order', rec.id);
  fire(ctx, 'woocommerce_order_refunded', rec.id);
  return refund;
}

// Applying a request body to an order (REST create/update and wp-admin edits alike).

const ORDER_ADDRESS_KEYS = ['first_name', 'last_name', 'company', 'address_1', 'address_2', 'city', 'state', 'postcode', 'country', 'email', 'phone'];
function sellableFor(item) {
  let product = null;
  let variation = null;
  if (item.sku) {
    variation = [...S.variations.values()].find((v) => v.sku === item.sku) ?? null;
    product = variation ? S.products.get(variation.parent_id) : [...S.products.values()].find((p) => p.sku === item.sku) ?? null;
  } else if (Number(item.variation_id)) {
    variation = S.variations.get(Number(item.variation_id)) ?? null;
    product = variation ? S.products.get(variation.parent_id) : null;
  } else if (Number(item.product_id)) {
    product = S.products.get(Number(item.product_id)) ?? null;
    if (!product && S.variations.has(Number(item.product_id))) {
      variation = S.variations.get(Number(item.product_id));
      product = S.products.get(variation.parent_id);
    }
  }
  return { product, variation };
}

function applyLineItems(rec, items, creating) {
  for (const item of items ?? []) {
    if (!item || typeof item !== 'object') continue;
    const existing = item.id ? rec.lines.find((l) => l.id === Number(item.id)) : null;
    const removing = (item.product_id === null && item.id) || item.quantity === 0;
    if (removing) {
      if (!existing) throw restError('woocommerce_rest_invalid_item_id', 'Order item ID provided is not associated with order.', 400);
      const target = stockTarget(existing);
      const reduced = existing.meta.find((m) => m.key === '_reduced_stock');
      if (target && reduced) target.stock_quantity = (target.stock_quantity ?? 0) + Number(reduced.value);
      rec.lines = rec.lines.filter((l) => l !== existing);
      continue;
    }
    if (existing) {
      if (item.quantity !== undefined) existing.quantity = Math.max(1, parseInt(item.quantity, 10) || 1);
      if (item.name !== undefined) existing.name = String(item.name);
      if (item.total !== undefined) existing.fixedNet = Number(item.total) || 0;
      if (item.subtotal !== undefined) existing.fixedSubtotal = Number(item.subtotal) || 0;
      applyMeta(existing.meta, item.meta_data, () => S.nextItemMetaId++);
      continue;
    }
    if (!item.sku && !Number(item.product_id) && !Number(item.variation_id)) throw restError('woocommerce_rest_required_product_reference', 'Product ID or SKU is required.', 400);
    const { product, variation } = sellableFor(item);
    const source = variation ?? product;
    const quantity = item.quantity === undefined ? 1 : Math.max(1, parseInt(item.quantity, 10) || 1);
    const unitPrice = source ? toKurus(source.sale_price || source.regular_price) ?? 0 : 0;
    const taxStatus = product?.tax_status ?? 'taxable';
    const taxClass = variation && variation.tax_class !== 'parent' ? variation.tax_class : product?.tax_class ?? '';
    const line = {
      id: S.nextItemId++, name: item.name ?? (variation ? `${product.name} - ${variation.attributes.map((a) => a.option).join(', ')}` : product?.name ?? ''),
      product_id: product?.id ?? 0, variation_id: variation?.id ?? 0, quantity, tax_class: taxClass, rate: rateFor(taxStatus, taxClass), unit: unitPrice, disc: 0,
      fixedNet: item.total !== undefined ? Number(item.total) || 0 : null, fixedSubtotal: item.subtotal !== undefined ? Number(item.subtotal) || 0 : undefined,
      meta: (variation?.attributes ?? []).map((a) => ({ id: S.nextItemMetaId++, key: attributeBySlug(`pa_${slugify(a.name)}`)?.slug ?? a.name, value: slugify(a.option) })),
      virtual: Boolean(product?.virtual),
    };
    applyMeta(line.meta, item.meta_data, () => S.nextItemMetaId++);
    rec.lines.push(line);
  }
  if (creating) return;
}

function applyMeta(list, updates, nextId) {
  for (const m of updates ?? []) {
    if (!m || m.key === undefined) continue;
    const existing = m.id ? list.find((x) => x.id === Number(m.id)) : list.find((x) => x.key === m.key);
    if (existing) {
      existing.key = String(m.key);
      existing.value = m.value ?? null;
    } else list.push({ id: nextId(), key: String(m.key), value: m.value ?? null });
  }
}

function applyShippingLines(rec, items) {
  for (const item of items ?? []) {
    const existing = item.id ? rec.shipping_lines.find((s) => s.id === Number(item.id)) : null;
    if (existing && (item.method_id === null || item.quantity === 0)) {
      rec.shipping_lines = rec.shipping_lines.filter((s) => s !== existing);
      continue;
    }
    if (!existing && !item.method_id) throw restError('woocommerce_rest_invalid_shipping_item', 'Shipping method ID is required.', 400);
    const target = existing ?? { id: S.nextItemId++, method_id: item.method_id, method_title: '', instance_id: '', net: 0, meta_id: S.nextItemMetaId++ };
    if (item.method_id) target.method_id = String(item.method_id);
    if (item.method_title !== undefined) target.method_title = String(item.method_title);
    if (item.instance_id !== undefined) target.instance_id = String(item.instance_id);
    if (item.total !== undefined) target.net = Number(item.total) || 0;
    if (!existing) rec.shipping_lines.push(target);
  }
}

function applyFeeLines(rec, items) {
  for (const item of items ?? []) {
    const existing = item.id ? rec.fee_lines.find((f) => f.id === Number(item.id)) : null;
    if (existing && item.name === null) {
      rec.fee_lines = rec.fee_lines.filter((f) => f !== existing);
      continue;
    }
    if (!existing && !item.name) throw restError('woocommerce_rest_invalid_fee_item', 'Fee name is required.', 400);
    const target = existing ?? { id: S.nextItemId++, name: '', amount: 0, total: 0, tax_status: 'taxable', tax_class: '' };
    if (item.name) target.name = String(item.name);
    if (item.tax_status !== undefined) target.tax_status = item.tax_status;
    if (item.total !== undefined) target.amount = target.total = Number(item.total) || 0;
    target.total_tax = target.tax_status === 'taxable' ? round6(target.total * 0.2) : 0;
    if (!existing) rec.fee_lines.push(target);
  }
}

/// WC_Discounts::is_coupon_valid() for the checks a shop's coupons here can fail.
function couponProblem(coupon, code, rec) {
  if (!coupon) return `Coupon "${code}" cannot be applied because it does not exist.`;
  if (coupon.expires && coupon.expires < nowSec()) return 'This coupon has expired.';
  if (coupon.usage_limit && coupon.usage_count >= coupon.usage_limit) return 'Coupon usage limit has been reached.';
  // WC_Abstract_Order::apply_coupon(): the billing e-mail must match a restriction (`*` a wildcard)
  // and stay within the per-customer limit.
  const email = (rec.billing?.email ?? '').trim().toLowerCase();
  const allowed = (pattern) => new RegExp(`^${pattern.toLowerCase().split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(email);
  if (coupon.email_restrictions.length && !coupon.email_restrictions.some(allowed)) return `Sorry, it seems the coupon "${code}" is not yours.`;
  if (coupon.usage_limit_per_user && email && coupon.used_by.filter((u) => String(u).toLowerCase() === email || (rec.customer_id && Number(u) === rec.customer_id)).length >= coupon.usage_limit_per_user) return 'Coupon usage limit has been reached.';
  const gross = rec.lines.reduce((s, l) => s + l.unit * l.quantity, 0);
  if (Number(coupon.minimum_amount) > 0 && gross < Number(coupon.minimum_amount) * 100) return `The minimum spend for this coupon is ${tryMoney(Number(coupon.minimum_amount))}.`;
  return null;
}
function applyCoupons(rec, items) {
  const codes = [];
  for (const item of items ?? []) {
    if (item.id) throw restError('woocommerce_rest_coupon_item_id_readonly', 'Coupon item ID is readonly.', 400);
    if (!item.code || !String(item.code).trim()) throw restError('woocommerce_rest_invalid_coupon', 'Coupon code is required.', 400);
    const code = String(item.code).trim().toLowerCase();
    const already = rec.coupon_lines.some((c) => c.code === code);
    const coupon = couponByCode(code);
    if (!already) {
      const problem = couponProblem(coupon, code, rec);
      if (problem) throw restError('woocommerce_rest_invalid_coupon', problem, 400);
    }
    codes.push(coupon);
  }
  rec.coupon_lines = [];
  for (const l of rec.lines) l.disc = 0;
  for (const coupon of codes) {
    const gross = rec.lines.reduce((s, l) => s + l.unit * l.quantity - l.disc, 0);
    if (coupon.discount_type === 'percent') for (const l of rec.lines) l.disc += Math.round((l.unit * l.quantity - l.disc) * (Number(coupon.amount) / 100));
    else if (coupon.discount_type === 'fixed_cart' && gross > 0) {
      const off = Math.min(gross, Math.round(Number(coupon.amount) * 100));
      let left = off;
      rec.lines.forEach((l, i) => {
        const share = i === rec.lines.length - 1 ? left : Math.round((off * (l.unit * l.quantity - l.disc)) / gross);
        l.disc += share;
        left -= share;
      });
    } else if (coupon.discount_type === 'fixed_product') {
      for (const l of rec.lines) if (!coupon.product_ids.length || coupon.product_ids.includes(l.product_id)) l.disc += Math.min(l.unit, Math.round(Number(coupon.amount) * 100)) * l.quantity;
    }
    rec.coupon_lines.push({ id: S.nextItemId++, code: coupon.code, coupon_id: coupon.id, discount_type: coupon.discount_type, nominal: Number(coupon.amount), free_shipping: coupon.free_shipping, meta_id: S.nextItemMetaId++ });
  }
}

/// wc_update_coupon_usage_counts(): a paid (or held) order uses its coupons once, by its
/// billing e-mail.
function countCouponUse(rec) {
  rec.coupons_counted = true;
  for (const line of rec.coupon_lines) {
    const coupon = S.coupons.get(line.coupon_id);
    if (!coupon) continue;
    coupon.usage_count += 1;
    coupon.used_by.push(rec.customer_id || rec.billing.email);
    coupon.modified = nowSec();
  }
}

function validCustomer(id) {
  if (id === undefined || id === null || Number(id) === 0) return;
  if (!customerRecord(Number(id))) throw restError('woocommerce_rest_invalid_customer_id', 'Customer ID is invalid.', 400);
}

const ORDER_WRITE_ARGS = {
  status: { type: 'string', enum: ORDER_STATUSES }, customer_id: { type: 'integer' }, currency: { type: 'string' }, set_paid: { type: 'boolean' },
  manual_update: { type: 'boolean' }, customer_note: { type: 'string' }, payment_method: { type: 'string' }, payment_method_title: { type: 'string' },
  transaction_id: { type: 'string' }, billing: { type: 'object' }, shipping: { type: 'object' }, line_items: { type: 'array' }, shipping_lines: { type: 'array' },
  fee_lines: { type: 'array' }, coupon_lines: { type: 'array' }, meta_data: { type: 'array' }, created_via: { type: 'string' }, parent_id: { type: 'integer' },
};

function applyOrderBody(rec, body, creating) {
  validCustomer(body.customer_id);
  for (const key of ['billing', 'shipping']) {
    if (body[key] && typeof body[key] === 'object') {
      rec[key] ??= blankOrderAddress(key === 'billing');
      for (const [k, v] of Object.entries(body[key])) if (ORDER_ADDRESS_KEYS.includes(k) && (key === 'billing' || k !== 'email')) rec[key][k] = String(v ?? '');
    }
  }
  if (body.customer_id !== undefined) rec.customer_id = Number(body.customer_id) || 0;
  for (const k of ['customer_note', 'payment_method', 'payment_method_title', 'transaction_id', 'currency']) if (body[k] !== undefined && body[k] !== null) rec[k] = String(body[k]);
  if (body.payment_method && body.payment_method_title === undefined && GATEWAYS[body.payment_method]) rec.payment_method_title = GATEWAYS[body.payment_method].title;
  if (body.parent_id !== undefined) rec.parent_id = Number(body.parent_id) || 0;
  applyMeta(rec.meta, body.meta_data, () => S.nextOrderMetaId++);
  applyLineItems(rec, body.line_items, creating);
  applyShippingLines(rec, body.shipping_lines);
  applyFeeLines(rec, body.fee_lines);
  if (body.coupon_lines !== undefined) applyCoupons(rec, body.coupon_lines);
  computeTotals(rec);
}

function paymentComplete(slot, rec, transactionId, ctx) {
  if (!['pending', 'failed', 'on-hold', 'checkout-draft', 'cancelled'].includes(rec.status)) return;
  if (transactionId) rec.transaction_id = String(transactionId);
  if (!rec.paid) rec.paid = nowSec();
  setOrderStatus(slot, rec, rec.lines.some((l) => !l.virtual) ? 'processing' : 'completed', ctx);
  fire(ctx, 'woocommerce_payment_complete', rec.id);
}

function newOrder(body, ctx, { via = 'rest-api' } = {}) {
  const O = S.orders;
  growOrders();
  const slot = O.count;
  const id = S.nextPostId++;
  const now = nowSec();
  const rec = {
    id, parent_id: 0, status: 'pending', was: null, currency: config.currency, version: config.wc_version, prices_include_tax: config.prices_include_tax,
    created: body.date_created_gmt ? parseInputDate(body.date_created_gmt, true) : now, modified: now, paid: null, completed: null, customer_id: 0,
    order_key: `wc_order_${randomBytes(10).toString('base64').replace(/[^a-zA-Z0-9]/g, '').slice(0, 13)}`, billing: blankOrderAddress(true),
    shipping: blankOrderAddress(false), payment_method: '', payment_method_title: '', transaction_id: '', ip: '', ua: '', created_via: body.created_via || via,
    customer_note: '', cart_hash: '', meta: [], lines: [], shipping_lines: [], fee_lines: [], coupon_lines: [], tax_line_ids: {}, refunds: [], notes: [], stock_reduced: false,
  };
  applyOrderBody(rec, body, true);
  O.createdIds.push(id);
  O.slotOf.set(id, slot);
  O.count++;
  O.records.set(slot, rec);
  commitOrder(slot, rec, { bump: false });
  // Block checkout's drafts are announced (woocommerce_new_order) only once they stop being drafts.
  if (body.status === 'checkout-draft') {
    rec.status = 'checkout-draft';
    rec.announce = true;
    commitOrder(slot, rec, { bump: false });
  } else fire(ctx, 'woocommerce_new_order', id);
  if (body.status && body.status !== 'pending' && body.status !== 'checkout-draft') setOrderStatus(slot, rec, body.status, ctx, { manual: Boolean(body.manual_update) });
  if (body.set_paid === true) paymentComplete(slot, rec, body.transaction_id, ctx);
  commitOrder(slot, rec);
  fire(ctx, 'woocommerce_update_order', id);
  return { slot, rec };
}

/// An edit applies to a copy and lands only when all of it worked, as WooCommerce saves
/// nothing when preparing the order throws.
function editOrder(slot, body, ctx) {
  const O = S.orders;
  const before = O.records.get(slot) ?? genOrder(slot);
  const rec = structuredClone(before);
  applyOrderBody(rec, body, false);
  if (body.status) setOrderStatus(slot, rec, body.status, ctx, { manual: Boolean(body.manual_update) });
  if (body.set_paid === true) paymentComplete(slot, rec, body.transaction_id, ctx);
  if (body.date_modified_gmt) rec.modified = parseInputDate(body.date_modified_gmt, true);
  S.prev.set(`order:${rec.id}`, before);
  O.records.set(slot, rec);
  commitOrder(slot, rec, { bump: !body.date_modified_gmt });
  fire(ctx, 'woocommerce_update_order', rec.id);
  return rec;
}

function trashOrder(slot, ctx) {
  const rec = touchOrder(slot);
  rec.was = rec.status;
  rec.status = 'trash';
  rec.meta = rec.meta.filter((m) => !m.key.startsWith('_wp_trash_meta_'));
  rec.meta.push({ id: S.nextOrderMetaId++, key: '_wp_trash_meta_status', value: `wc-${rec.was}` }, { id: S.nextOrderMetaId++, key: '_wp_trash_meta_time', value: String(nowSec()) });
  commitOrder(slot, rec);
  fire(ctx, 'woocommerce_trash_order', rec.id);
  return rec;
}
function untrashOrder(slot, ctx) {
  const rec = touchOrder(slot);
  if (rec.status !== 'trash') return rec;
  rec.status = rec.was ?? 'pending';
  rec.was = null;
  rec.meta = rec.meta.filter((m) => !m.key.startsWith('_wp_trash_meta_'));
  commitOrder(slot, rec);
  fire(ctx, 'woocommerce_untrash_order', rec.id);
  return rec;
}
function deleteOrderForGood(slot, ctx) {
  const O = S.orders;
  const rec = orderRecord(slot);
  O.status[slot] = DELETED;
  O.records.delete(slot);
  for (const r of rec.refunds) S.createdRefunds.delete(r.id);
  S.version++;
  fire(ctx, 'woocommerce_delete_order', rec.id);
  return rec;
}

/// Every refund of the shop, newest id last, each with its order's slot (WC ≥ 9 /refunds).
function allRefunds() {
  const hit = S.listCache.get('refunds');
  if (hit && hit.version === S.version) return hit.list;
  const O = S.orders;
  const list = [];
  for (let s = 0; s < O.count; s++) {
    if (O.status[s] === DELETED) continue;
    const rec = O.records.get(s);
    if (rec) for (const r of rec.refunds) list.push({ id: r.id, created: r.created, slot: s });
    else if (s < O.gen) {
      const plan = generatedRefund(s);
      if (plan) list.push({ id: plan.id, created: plan.created, slot: s });
    }
  }
  S.listCache.set('refunds', { version: S.version, list });
  return list;
}
const refundRecord = (entry) => orderRecord(entry.slot).refunds.find((r) => r.id === entry.id);

// ---------------------------------------------------------------------------------------------
// Handlers. Each returns { data, links, status, headers } for one object or
// { items: [{ data, links }], paging, path } for a page of a collection.

const one = (data, links, status = 200, headers = {}) => ({ data, links, status, headers });
const created = (data, links, path) => one(data, links, 201, { Location: restUrl(path) });
const invalidId = (type, status = 404, message = 'Invalid ID.') => restError(`woocommerce_rest_${type}_invalid_id`, message, status);
const num = (x) => Number(x);

// System status and the indexes ---------------------------------------------------------------

function systemStatus() {
  const home = homeUrl();
  return one({
    environment: {
      home_url: home, site_url: home, store_id: `${md5(`store:${S.seed}`).slice(0, 8)}-${md5(`store:${S.seed}`).slice(8, 12)}-4${md5(`store:${S.seed}`).slice(13, 16)}-a${md5(`store:${S.seed}`).slice(17, 20)}-${md5(`store:${S.seed}`).slice(20, 32)}`,
      version: config.wc_version, log_directory: '/var/www/html/wp-content/uploads/wc-logs/', log_directory_writable: true, wp_version: config.wp_version,
      wp_multisite: false, wp_memory_limit: 268435456, wp_debug_mode: false, wp_cron: config.wp_cron, language: 'tr_TR', external_object_cache: null,
      server_info: 'nginx/1.24.0', php_version: config.php_version, php_post_max_size: 67108864, php_max_execution_time: 300, php_max_input_vars: 5000,
      curl_version: '8.5.0, OpenSSL/3.0.13', suhosin_installed: false, max_upload_size: 67108864, mysql_version: config.mysql_version,
      mysql_version_string: `${config.mysql_version}-0ubuntu0.24.04.1`, default_timezone: 'UTC', fsockopen_or_curl_enabled: true, soapclient_enabled: true,
      domdocument_enabled: true, gzip_enabled: true, mbstring_enabled: true, remote_post_successful: true, remote_post_response: 200, remote_get_successful: true, remote_get_response: 200,
    },
    database: {
      wc_database_version: config.wc_version, database_prefix: 'wp_', maxmind_geoip_database: '',
      database_tables: { woocommerce: { wp_woocommerce_api_keys: { data: '0.02', index: '0.03', engine: 'InnoDB' }, wp_wc_orders: { data: String((S.orders.count * 0.0006).toFixed(2)), index: String((S.orders.count * 0.0004).toFixed(2)), engine: 'InnoDB' }, wp_wc_webhooks: { data: '0.02', index: '0.02', engine: 'InnoDB' } }, other: {} },
      database_size: { data: Number((S.orders.count * 0.003).toFixed(2)), index: Number((S.orders.count * 0.002).toFixed(2)) },
    },
    active_plugins: [
      { plugin: 'woocommerce/woocommerce.php', name: 'WooCommerce', version: config.wc_version, version_latest: config.wc_version, url: 'https://woocommerce.com/', author_name: 'Automattic', author_url: 'https://woocommerce.com', network_activated: false },
      { plugin: 'iyzico-woocommerce/iyzico-woocommerce.php', name: 'iyzico WooCommerce', version: '3.5.6', version_latest: '3.5.6', url: 'https://www.iyzico.com', author_name: 'iyzico', author_url: 'https://www.iyzico.com', network_activated: false },
      { plugin: 'kargo-takip/kargo-takip.php', name: 'Kargo Takip (shipped status)', version: '1.4.2', version_latest: '1.4.2', url: '', author_name: '', author_url: '', network_activated: false },
    ],
    inactive_plugins: [], dropins_mu_plugins: { dropins: [], mu_plugins: [] },
    theme: { name: 'Storefront', version: '4.6.1', version_latest: '4.6.1', author_url: 'https://woocommerce.com/', is_child_theme: false, is_block_theme: false, has_woocommerce_support: true, has_woocommerce_file: false, has_outdated_templates: false, overrides: [], parent_name: '', parent_version: '', parent_version_latest: '', parent_author_url: '' },
    settings: {
      api_enabled: false, force_ssl: false, currency: config.currency, currency_symbol: config.currency_symbol, currency_position: 'right_space',
      thousand_separator: '.', decimal_separator: ',', number_of_decimals: 2, geolocation_enabled: false,
      taxonomies: { external: 'external', grouped: 'grouped', simple: 'simple', variable: 'variable' },
      product_visibility_terms: { 'exclude-from-catalog': 'exclude-from-catalog', 'exclude-from-search': 'exclude-from-search', featured: 'featured', outofstock: 'outofstock', 'rated-1': 'rated-1', 'rated-2': 'rated-2', 'rated-3': 'rated-3', 'rated-4': 'rated-4', 'rated-5': 'rated-5' },
      woocommerce_com_connected: 'no', enforce_approved_download_dirs: true,
      order_datastore: config.hpos ? 'Automattic\\WooCommerce\\Internal\\DataStores\\Orders\\OrdersTableDataStore' : 'WC_Order_Data_Store_CPT',
      HPOS_feature_screen_enabled: true, HPOS_enabled: config.hpos, HPOS_sync_enabled: config.hpos_sync,
      enabled_features: ['analytics', 'marketplace', 'order_attribution', 'site_visibility_badge', 'remote_logging', 'email_improvements', ...(config.hpos ? ['custom_order_tables'] : [])],
    },
    security: { secure_connection: config.is_ssl, hide_errors: true },
    pages: [
      { page_name: 'Shop base', page_id: '5', page_set: true, page_exists: true, page_visible: true, shortcode: '', block: '', shortcode_required: false, shortcode_present: false, block_present: false, block_required: false },
      { page_name: 'Cart', page_id: '6', page_set: true, page_exists: true, page_visible: true, shortcode: '[woocommerce_cart]', block: 'woocommerce/cart', shortcode_required: false, shortcode_present: false, block_present: true, block_required: true },
      { page_name: 'Checkout', page_id: '7', page_set: true, page_exists: true, page_visible: true, shortcode: '[woocommerce_checkout]', block: 'woocommerce/checkout', shortcode_required: false, shortcode_present: false, block_present: true, block_required: true },
    ],
    post_type_counts: [{ type: 'attachment', count: String(S.products.size) }, { type: 'page', count: '9' }, { type: 'product', count: String(S.products.size) }, { type: 'product_variation', count: String(S.variations.size) }, { type: 'shop_coupon', count: String(S.coupons.size) }, { type: 'shop_order_placehold', count: String(S.orders.count) }],
    logging: { logging_enabled: true, default_handler: 'Automattic\\WooCommerce\\Internal\\Admin\\Logging\\LogHandlerFileV2', retention_period_days: 30, level_threshold: 'none', log_directory_size: '2.4 MB' },
  }, null);
}

function routeIndexEntry(r) {
  const methods = Object.keys(r.handlers);
  const entry = {
    namespace: r.pattern.startsWith('/wc/v3') ? 'wc/v3' : '',
    methods,
    endpoints: [...new Set(Object.values(r.handlers))].map((h) => ({
      methods: Object.entries(r.handlers).filter(([, x]) => x === h).map(([m]) => m),
      args: Object.fromEntries(Object.entries(h[1] ?? {}).map(([name, spec]) => {
        const arg = { type: spec.type, required: Boolean(spec.required) };
        if ('default' in spec) arg.default = spec.default;
        if (spec.enum) arg.enum = spec.enum;
        if (spec.items) arg.items = { type: spec.items.type, ...(spec.items.enum ? { enum: spec.items.enum } : {}) };
        if (spec.minimum !== undefined) arg.minimum = spec.minimum;
        if (spec.maximum !== undefined) arg.maximum = spec.maximum;
        if (spec.format) arg.format = spec.format;
        return [name, arg];
      })),
    })),
  };
  if (!r.pattern.includes('(')) entry._links = { self: [{ href: restUrl(r.pattern) }] };
  return entry;
}
const wcRoutes = () => Object.fromEntries(ROUTES.filter((r) => r.pattern.startsWith('/wc/v3')).map((r) => [r.pattern, routeIndexEntry(r)]));
const gmtOffset = () => tzOffset(nowSec()) / 3600;

function restIndex() {
  return one({
    name: 'Backroom Demo Mağaza', description: 'Yerli tasarım, özenli paketleme', url: homeUrl(), home: homeUrl(), gmt_offset: gmtOffset(),
    timezone_string: tzFixed === null ? config.timezone : '', page_for_posts: 0, page_on_front: 5, show_on_front: 'page',
    namespaces: ['oembed/1.0', 'wc/store/v1', 'wc/store', 'wc/v1', 'wc/v2', 'wc/v3', 'wc-telemetry', 'wc-admin', 'wc-analytics', 'wc/private', 'wp/v2', 'wp-site-health/v1', 'wp-block-editor/v1'],
    authentication: config.is_ssl ? { 'application-passwords': { endpoints: { authorization: `${homeUrl().replace(/^http:/, 'https:')}/wp-admin/authorize-application.php` } } } : [],
    routes: { '/': { namespace: '', methods: ['GET'], endpoints: [{ methods: ['GET'], args: { context: { default: 'view', required: false } } }], _links: { self: [{ href: restUrl('/') }] } }, ...wcRoutes() },
    site_logo: 0, site_icon: 0, site_icon_url: '',
  }, { help: [{ href: 'https://developer.wordpress.org/rest-api/' }] });
}
const wcIndex = () => one({ namespace: 'wc/v3', routes: wcRoutes() }, { up: [{ href: restUrl('/') }] });

// Orders ---------------------------------------------------------------------------------------

function listOrders(q, p, ctx) {
  sanitizedGet(ctx, ORDER_LIST_ARGS);
  const pg = page(orderQuery(q), q);
  const items = Array.from(pg.slice, (slot) => {
    const rec = orderRecord(slot);
    return { data: renderOrder(rec, q.dp), links: orderLinks(rec) };
  });
  setRequestParam(ctx, 'status', q.status, { moveToEnd: true });
  if (items.length) {
    setRequestParam(ctx, 'dp', q.dp);
    setRequestParam(ctx, 'context', q.context);
  }
  return { items, paging: pg, path: '/wc/v3/orders' };
}
function getOrder(q, p) {
  const rec = orderById(p.id);
  if (!rec) throw invalidId('shop_order');
  return one(renderOrder(rec, q.dp), orderLinks(rec));
}
function createOrder(q, p, ctx) {
  if (p.id) throw restError('woocommerce_rest_shop_order_exists', 'Cannot create existing shop_order.', 400);
  const { rec } = newOrder(p, ctx);
  return created(renderOrder(rec, 2), orderLinks(rec), `/wc/v3/orders/${rec.id}`);
}
function updateOrder(q, p, ctx) {
  const slot = orderSlot(p.id);
  if (slot < 0) throw invalidId('shop_order', 400);
  const rec = editOrder(slot, p, ctx);
  return one(renderOrder(rec, 2), orderLinks(rec));
}
function deleteOrder(q, p, ctx) {
  const slot = orderSlot(p.id);
  if (slot < 0) throw invalidId('shop_order');
  const before = orderRecord(slot);
  const response = one(renderOrder(before, 2), orderLinks(before));
  if (q.force) deleteOrderForGood(slot, ctx);
  else {
    if (before.status === 'trash') throw restError('woocommerce_rest_already_trashed', 'The shop_order has already been deleted.', 410);
    trashOrder(slot, ctx);
  }
  return response;
}

/// WC_REST_Controller::batch_items(): at most 100 items in all; deletions are permanent.
function batch(create, update, remove) {
  return (q, p, ctx) => {
    const lists = { create: p.create, update: p.update, delete: p.delete };
    const total = Object.values(lists).reduce((n, l) => n + (Array.isArray(l) ? l.length : 0), 0);
    if (total > 100) throw restError('woocommerce_rest_request_entity_too_large', 'Unable to accept more than 100 items for this request.', 413);
    const result = {};
    const attempt = (item, fn) => {
      try {
        return fn().data;
      } catch (e) {
        if (!(e instanceof RestError)) throw e;
        return { id: Number(item?.id ?? item) || 0, error: errorBody(e) };
      }
    };
    if (Array.isArray(lists.create)) result.create = lists.create.map((item) => attempt(item, () => create(q, { ...item }, ctx)));
    if (Array.isArray(lists.update)) result.update = lists.update.map((item) => attempt(item, () => update(q, { ...item }, ctx)));
    if (Array.isArray(lists.delete)) result.delete = lists.delete.map((id) => attempt(id, () => remove({ ...q, force: true }, { id }, ctx)));
    return one(result, null);
  };
}

function orderForNotes(p) {
  const rec = orderById(p.order_id);
  if (!rec) throw restError('woocommerce_rest_order_invalid_id', 'Invalid order ID.', 404);
  return rec;
}
function listNotes(q, p) {
  const rec = orderForNotes(p);
  const notes = [...rec.notes].filter((n) => q.type === 'any' || (q.type === 'customer' ? n.customer_note : !n.customer_note)).sort((a, b) => b.created - a.created || b.id - a.id);
  return { items: notes.map((n) => ({ data: renderNote(n), links: noteLinks(rec.id, n) })), paging: null };
}
function getNote(q, p) {
  const rec = orderForNotes(p);
  const note = rec.notes.find((n) => n.id === num(p.id));
  if (!note) throw restError('woocommerce_rest_invalid_id', 'Invalid resource ID.', 404);
  return one(renderNote(note), noteLinks(rec.id, note));
}
function createNote(q, p) {
  const slot = orderSlot(p.order_id);
  if (slot < 0) throw restError('woocommerce_rest_order_invalid_id', 'Invalid order ID.', 404);
  const rec = touchOrder(slot);
  const note = addNote(rec, String(q.note), { customer: q.customer_note, author: q.added_by_user ? 'Elif Şahin' : 'system' });
  S.version++;
  return created(renderNote(note), noteLinks(rec.id, note), `/wc/v3/orders/${rec.id}/notes/${note.id}`);
}
function deleteNote(q, p) {
  const slot = orderSlot(p.order_id);
  if (slot < 0) throw restError('woocommerce_rest_order_invalid_id', 'Invalid order ID.', 404);
  if (!q.force) throw restError('woocommerce_rest_trash_not_supported', 'Webhooks do not support trashing.', 501);
  const rec = touchOrder(slot);
  const note = rec.notes.find((n) => n.id === num(p.id));
  if (!note) throw restError('woocommerce_rest_invalid_id', 'Invalid resource ID.', 404);
  rec.notes = rec.notes.filter((n) => n !== note);
  return one(renderNote(note), noteLinks(rec.id, note));
}

// Refunds --------------------------------------------------------------------------------------

function listOrderRefunds(q, p, ctx) {
  sanitizedGet(ctx, REFUND_LIST_ARGS);
  const rec = orderById(p.order_id);
  const d = dateBounds(q);
  let refunds = (rec?.refunds ?? []).filter((r) => inDates(d, r.created, r.created) && (!q.include.length || q.include.includes(r.id)) && !q.exclude.includes(r.id));
  refunds = refunds.sort((a, b) => (q.orderby === 'id' ? a.id - b.id : a.created - b.created || a.id - b.id));
  if (q.order === 'desc') refunds.reverse();
  const pg = page(refunds, q);
  if (pg.slice.length) setRequestParam(ctx, 'dp', q.dp);
  return { items: pg.slice.map((r) => ({ data: renderRefund(r, q.dp), links: refundLinks(r) })), paging: pg, path: `/wc/v3/orders/${p.order_id}/refunds` };
}
function listAllRefunds(q, p, ctx) {
  if (!versionAtLeast(config.wc_version, '9.0')) throw restError('rest_no_route', 'No route was found matching the URL and request method.', 404);
  sanitizedGet(ctx, REFUND_LIST_ARGS);
  const d = dateBounds(q);
  const include = new Set(q.include);
  const exclude = new Set(q.exclude);
  const parents = new Set(q.parent);
  let list = allRefunds().filter((e) => inDates(d, e.created, e.created) && (!include.size || include.has(e.id)) && !exclude.has(e.id) && (!parents.size || parents.has(slotId(e.slot))));
  list = list.sort((a, b) => (q.orderby === 'id' ? a.id - b.id : a.created - b.created || a.id - b.id));
  if (q.order === 'desc') list.reverse();
  const pg = page(list, q);
  if (pg.slice.length) setRequestParam(ctx, 'dp', q.dp);
  return { items: pg.slice.map((e) => refundRecord(e)).filter(Boolean).map((r) => ({ data: renderRefund(r, q.dp), links: refundLinks(r) })), paging: pg, path: '/wc/v3/refunds' };
}
function getRefund(q, p) {
  const entry = allRefunds().find((e) => e.id === num(p.id));
  if (!entry) throw restError('woocommerce_rest_shop_order_refund_invalid_id', 'Invalid ID.', 404);
  const order = orderById(p.order_id);
  if (!order) throw intError('woocommerce_rest_invalid_order_id', 'Invalid order ID.', 404);
  const refund = order.refunds.find((r) => r.id === num(p.id));
  if (!refund) throw intError('woocommerce_rest_invalid_order_refund_id', 'Invalid order refund ID.', 404);
  return one(renderRefund(refund, q.dp), refundLinks(refund));
}
const REFUND_WRITE_ARGS = {
  amount: { type: 'string' }, reason: { type: 'string' }, refunded_by: { type: 'integer' }, meta_data: { type: 'array' }, line_items: { type: 'array' },
  api_refund: { type: 'boolean', default: true }, api_restock: { type: 'boolean', default: true },
};
function createOrderRefund(q, p, ctx) {
  // RestApiParameterUtil::adjust_create_refund_request_parameters()
  const items = Array.isArray(p.line_items) ? p.line_items : [];
  const lineItems = items.map((i) => ({
    id: i.id, qty: i.quantity ?? i.qty ?? 0, refund_total: i.refund_total,
    refund_tax: Object.fromEntries((Array.isArray(i.refund_tax) ? i.refund_tax : []).map((t) => [t.id, t.refund_total])),
  }));
  let amount = q.amount;
  if (amount === undefined && lineItems.length && lineItems.every((i) => isNumeric(i.refund_total))) {
    amount = String(lineItems.reduce((s, i) => s + Number(i.refund_total) + Object.values(i.refund_tax).reduce((t, x) => t + (Number(x) || 0), 0), 0));
  }
  const slot = orderSlot(p.order_id);
  if (slot < 0) throw intError('woocommerce_rest_invalid_order_id', 'Invalid order ID.', 404);
  if (Number(amount) < 0) throw intError('woocommerce_rest_invalid_order_refund', 'Refund amount must be greater than zero.', 400);
  const rec = touchOrder(slot);
  let refund;
  try {
    refund = createRefund(slot, rec, { amount: amount ?? 0, reason: q.reason ?? '', line_items: lineItems, refund_payment: q.api_refund, restock_items: q.api_restock, meta: Array.isArray(p.meta_data) ? p.meta_data : [] }, ctx);
  } catch (e) {
    S.version++;
    throw e;
  }
  return created(renderRefund(refund, 2), refundLinks(refund), `/wc/v3/orders/${rec.id}/refunds/${refund.id}`);
}
function deleteRefund(q, p, ctx) {
  const slot = orderSlot(p.order_id);
  const rec = slot < 0 ? null : orderRecord(slot);
  const found = rec?.refunds.find((r) => r.id === num(p.id));
  if (!found) throw restError('woocommerce_rest_shop_order_refund_invalid_id', 'Invalid ID.', 404);
  if (!q.force) throw restError('woocommerce_rest_trash_not_supported', 'The shop_order_refund does not support trashing.', 501);
  const live = touchOrder(slot);
  live.refunds = live.refunds.filter((r) => r.id !== found.id);
  S.createdRefunds.delete(found.id);
  S.version++;
  fire(ctx, 'woocommerce_delete_order_refund', found.id, { parent: rec.id });
  return one(renderRefund(found, 2), refundLinks(found));
}

// Products and variations ---------------------------------------------------------------------

const productPrice = (p) => {
  if (p.type === 'variable') {
    const prices = p.variations.map((id) => S.variations.get(id)).filter(Boolean).map((v) => toKurus(v.sale_price || v.regular_price)).filter((x) => x !== null);
    return prices.length ? Math.min(...prices) : null;
  }
  return toKurus(p.sale_price || p.regular_price);
};
function sortObjects(list, q, extra = {}) {
  const key = {
    date: (o) => o.created, modified: (o) => o.modified, id: (o) => o.id, title: (o) => o.name ?? o.code, slug: (o) => o.slug ?? o.code, ...extra,
  }[q.orderby] ?? ((o) => o.created);
  if (q.orderby === 'include' && q.include?.length) list.sort((a, b) => q.include.indexOf(a.id) - q.include.indexOf(b.id));
  else list.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return (typeof x === 'string' ? x.localeCompare(y, 'tr') : x - y) || a.id - b.id;
  });
  if (q.order === 'desc') list.reverse();
  return list;
}
function crudFilter(list, q) {
  const d = dateBounds(q);
  const include = new Set(q.include ?? []);
  const exclude = new Set(q.exclude ?? []);
  return list.filter((o) => inDates(d, o.created, o.modified) && (!include.size || include.has(o.id)) && !exclude.has(o.id));
}

function listProducts(q, p, ctx) {
  sanitizedGet(ctx, PRODUCT_LIST_ARGS);
  let list = crudFilter([...S.products.values()], q).filter((o) => (q.status === 'any' ? o.status !== 'trash' : o.status === q.status));
  if (q.type) list = list.filter((o) => o.type === q.type);
  if (q.sku) {
    const skus = String(q.sku).split(',');
    list = list.filter((o) => skus.includes(o.sku));
  }
  if (q.slug) list = list.filter((o) => o.slug === q.slug);
  if (q.featured !== undefined) list = list.filter((o) => o.featured === q.featured);
  if (q.category) list = list.filter((o) => idList(q.category).some((c) => o.categories.includes(c)));
  if (q.tag) list = list.filter((o) => idList(q.tag).some((t) => o.tags.includes(t)));
  if (q.stock_status) list = list.filter((o) => renderProduct(o).stock_status === q.stock_status);
  if (q.on_sale !== undefined) list = list.filter((o) => renderProduct(o).on_sale === q.on_sale);
  if (q.min_price) list = list.filter((o) => (productPrice(o) ?? 0) >= Number(q.min_price) * 100);
  if (q.max_price) list = list.filter((o) => (productPrice(o) ?? 0) <= Number(q.max_price) * 100);
  if (q.parent.length) list = list.filter((o) => q.parent.includes(o.parent_id));
  if (q.search) list = list.filter((o) => `${o.name} ${o.sku} ${o.description}`.toLocaleLowerCase('tr').includes(q.search.toLocaleLowerCase('tr')));
  sortObjects(list, q, { price: (o) => productPrice(o) ?? 0, popularity: (o) => o.total_sales, rating: (o) => Number(o.average_rating), menu_order: (o) => o.menu_order });
  const pg = page(list, q);
  return { items: pg.slice.map((o) => ({ data: renderProduct(o), links: productLinks(o) })), paging: pg, path: '/wc/v3/products' };
}
function getProduct(q, p) {
  const product = S.products.get(num(p.id));
  if (product) return one(renderProduct(product), productLinks(product));
  const variation = S.variations.get(num(p.id));
  if (variation && S.products.has(variation.parent_id)) return one(renderVariationAsProduct(variation), { ...productLinks({ id: variation.id, parent_id: variation.parent_id }) });
  throw invalidId('product');
}

const PRODUCT_WRITE_ARGS = {
  name: { type: 'string' }, slug: { type: 'string' }, type: { type: 'string', enum: ['simple', 'grouped', 'external', 'variable'] },
  status: { type: 'string', enum: ['draft', 'pending', 'private', 'publish', 'future'] }, featured: { type: 'boolean' }, sku: { type: 'string' },
  regular_price: { type: 'string' }, sale_price: { type: 'string' }, manage_stock: { type: 'boolean' }, stock_quantity: { type: 'integer' },
  stock_status: { type: 'string', enum: ['instock', 'outofstock', 'onbackorder'] }, backorders: { type: 'string', enum: ['no', 'notify', 'yes'] },
  tax_status: { type: 'string', enum: ['taxable', 'shipping', 'none'] }, tax_class: { type: 'string' }, virtual: { type: 'boolean' },
  categories: { type: 'array' }, tags: { type: 'array' }, images: { type: 'array' }, attributes: { type: 'array' }, meta_data: { type: 'array' },
  description: { type: 'string' }, short_description: { type: 'string' }, weight: { type: 'string' }, menu_order: { type: 'integer' },
};
const IMAGE_TYPES = /\.(jpe?g|jpe|gif|png|bmp|tiff?|ico|webp)(\?.*)?$/i;
function skuTaken(sku, exceptId) {
  if (!sku) return false;
  for (const p of S.products.values()) if (p.sku === sku && p.id !== exceptId && p.status !== 'trash') return true;
  for (const v of S.variations.values()) if (v.sku === sku && v.id !== exceptId) return true;
  return false;
}
function applyProductBody(prod, p, creating) {
  if (p.sku !== undefined && skuTaken(p.sku, prod.id)) throw restError('product_invalid_sku', 'Invalid or duplicated SKU.', 400, { resource_id: prod.id, unique_sku: `${p.sku}-1` });
  for (const k of ['name', 'type', 'status', 'featured', 'sku', 'regular_price', 'sale_price', 'backorders', 'tax_status', 'tax_class', 'virtual', 'description', 'short_description', 'weight', 'menu_order']) {
    if (p[k] !== undefined) prod[k] = p[k];
  }
  if (p.name !== undefined && (creating || p.slug === undefined)) prod.slug = prod.slug && !creating ? prod.slug : slugify(p.name);
  if (p.slug !== undefined) prod.slug = slugify(p.slug);
  if (p.manage_stock !== undefined) {
    prod.manage_stock = p.manage_stock;
    if (!p.manage_stock) {
      prod.stock_quantity = null;
      prod.backorders = 'no';
    }
  }
  if (p.stock_quantity !== undefined && prod.manage_stock) prod.stock_quantity = Number(p.stock_quantity);
  if (p.inventory_delta !== undefined && prod.manage_stock) prod.stock_quantity = (prod.stock_quantity ?? 0) + Number(p.inventory_delta);
  if (p.stock_status !== undefined && !prod.manage_stock) prod.stock_status = p.stock_status;
  if (Array.isArray(p.categories)) prod.categories = p.categories.map((c) => Number(c.id)).filter((id) => S.categories.has(id));
  if (Array.isArray(p.tags)) prod.tags = p.tags.map((t) => Number(t.id)).filter((id) => S.tags.has(id));
  if (Array.isArray(p.images)) {
    const images = [];
    for (const img of p.images) {
      if (img.id) {
        const known = [...S.products.values()].flatMap((x) => x.images).find((x) => x.id === Number(img.id));
        if (!known) throw restError('woocommerce_product_invalid_image_id', `#${img.id} is an invalid image ID.`, 400);
        images.push({ ...known, alt: img.alt ?? known.alt });
      } else if (img.src) {
        if (!/^https?:\/\//i.test(img.src)) throw restError('woocommerce_product_image_upload_error', `Error getting remote image ${img.src}.`, 400);
        if (!IMAGE_TYPES.test(img.src)) throw restError('woocommerce_product_image_upload_error', 'Invalid image: Sorry, you are not allowed to upload this file type.', 400);
        const file = decodeURIComponent(new URL(img.src).pathname.split('/').pop());
        const now = nowSec();
        images.push({ id: S.nextPostId++, src: upload(file, now), name: file.replace(/\.[^.]+$/, ''), alt: img.alt ?? '', created: now });
      }
    }
    prod.images = images;
  }
  if (Array.isArray(p.attributes)) {
    prod.attributes = p.attributes.map((a, position) => {
      const global = a.id ? S.attributes.get(Number(a.id)) : null;
      return { id: global?.id ?? 0, name: global?.name ?? String(a.name ?? ''), slug: global?.slug ?? slugify(a.name ?? ''), position: a.position ?? position, visible: a.visible ?? false, variation: a.variation ?? false, options: (a.options ?? []).map(String) };
    });
  }
  applyMeta(prod.meta, p.meta_data, () => S.nextPostMetaId++);
}
function newProductRecord() {
  const now = nowSec();
  return {
    id: S.nextPostId++, name: '', slug: '', type: 'simple', status: 'publish', featured: false, catalog_visibility: 'visible', description: '', short_description: '',
    sku: '', global_unique_id: '', regular_price: '', sale_price: '', date_on_sale_from: null, date_on_sale_to: null, virtual: false, downloadable: false,
    tax_status: 'taxable', tax_class: '', manage_stock: false, stock_quantity: null, stock_status: 'instock', backorders: 'no', low_stock_amount: null,
    sold_individually: false, weight: '', dimensions: { length: '', width: '', height: '' }, shipping_class: '', shipping_class_id: 0, reviews_allowed: true,
    average_rating: '0', rating_count: 0, upsell_ids: [], cross_sell_ids: [], parent_id: 0, purchase_note: '', categories: [15], tags: [], images: [],
    attributes: [], default_attributes: [], variations: [], menu_order: 0, meta: [], created: now, modified: now, total_sales: 0, trashedFrom: null,
  };
}
function snapshot(kind, obj) {
  S.prev.set(`${kind}:${obj.id}`, structuredClone(obj));
}
function createProduct(q, p, ctx, { admin = false } = {}) {
  const prod = newProductRecord();
  applyProductBody(prod, p, true);
  if (!prod.slug) prod.slug = `urun-${prod.id}`;
  S.products.set(prod.id, prod);
  fire(ctx, 'woocommerce_new_product', prod.id);
  if (admin) fire(ctx, 'woocommerce_update_product', prod.id);
  return created(renderProduct(prod), productLinks(prod), `/wc/v3/products/${prod.id}`);
}
function updateProduct(q, p, ctx) {
  const prod = S.products.get(num(p.id));
  if (!prod) {
    const variation = S.variations.get(num(p.id));
    if (variation) return updateVariation(q, { ...p, product_id: variation.parent_id }, ctx);
    throw invalidId('product', 400);
  }
  snapshot('product', prod);
  applyProductBody(prod, p, false);
  prod.modified = nowSec();
  fire(ctx, 'woocommerce_update_product', prod.id);
  return one(renderProduct(prod), productLinks(prod));
}
function deleteProduct(q, p, ctx) {
  const prod = S.products.get(num(p.id));
  const variation = prod ? null : S.variations.get(num(p.id));
  if (variation) return deleteVariation(q, { id: variation.id, product_id: variation.parent_id }, ctx);
  if (!prod) throw invalidId('product');
  const response = one(renderProduct(prod), productLinks(prod));
  if (q.force) {
    S.products.delete(prod.id);
    for (const vid of prod.variations) S.variations.delete(vid);
    fire(ctx, 'delete_post', prod.id, { postType: 'product' });
  } else {
    if (prod.status === 'trash') throw restError('woocommerce_rest_already_trashed', 'The product has already been deleted.', 410);
    snapshot('product', prod);
    prod.trashedFrom = prod.status;
    prod.status = 'trash';
    prod.modified = nowSec();
    fire(ctx, 'wp_trash_post', prod.id, { postType: 'product' });
  }
  return response;
}
function restoreProduct(prod, ctx) {
  if (prod.status !== 'trash') return;
  snapshot('product', prod);
  prod.status = prod.trashedFrom ?? 'draft';
  prod.trashedFrom = null;
  prod.modified = nowSec();
  fire(ctx, 'untrashed_post', prod.id, { postType: 'product' });
}

function variationParent(p) {
  const parent = S.products.get(num(p.product_id));
  if (!parent) throw restError('woocommerce_rest_product_invalid_id', 'Invalid ID.', 404);
  return parent;
}
function variationOf(p) {
  const v = S.variations.get(num(p.id));
  if (!v || v.parent_id !== num(p.product_id)) throw restError('woocommerce_rest_product_variation_invalid_id', 'Invalid ID.', 404);
  return v;
}
function listVariations(q, p, ctx) {
  sanitizedGet(ctx, VARIATION_LIST_ARGS);
  const parent = S.products.get(num(p.product_id));
  let list = crudFilter((parent?.variations ?? []).map((id) => S.variations.get(id)).filter(Boolean), q).filter((v) => (q.status === 'any' ? v.status !== 'trash' : v.status === q.status));
  if (q.sku) list = list.filter((v) => String(q.sku).split(',').includes(v.sku));
  if (q.stock_status) list = list.filter((v) => stockStatus(v) === q.stock_status);
  if (q.search) list = list.filter((v) => variationView(v).name.toLocaleLowerCase('tr').includes(q.search.toLocaleLowerCase('tr')));
  sortObjects(list, q, { menu_order: (v) => v.menu_order });
  const pg = page(list, q);
  return { items: pg.slice.map((v) => ({ data: renderVariation(v), links: variationLinks(v) })), paging: pg, path: `/wc/v3/products/${p.product_id}/variations` };
}
function getVariation(q, p) {
  const v = variationOf(p);
  return one(renderVariation(v), variationLinks(v));
}
const VARIATION_WRITE_ARGS = {
  sku: { type: 'string' }, regular_price: { type: 'string' }, sale_price: { type: 'string' }, stock_quantity: { type: 'integer' }, inventory_delta: { type: 'integer' },
  stock_status: PRODUCT_WRITE_ARGS.stock_status, backorders: PRODUCT_WRITE_ARGS.backorders, description: { type: 'string' }, attributes: { type: 'array' }, meta_data: { type: 'array' },
  weight: { type: 'string' }, menu_order: { type: 'integer' },
};
function applyVariationBody(v, p, parent) {
  if (p.sku !== undefined && skuTaken(p.sku, v.id)) throw restError('product_invalid_sku', 'Invalid or duplicated SKU.', 400, { resource_id: v.id, unique_sku: `${p.sku}-1` });
  for (const k of ['sku', 'regular_price', 'sale_price', 'description', 'weight', 'menu_order', 'backorders', 'tax_status', 'tax_class']) if (p[k] !== undefined) v[k] = p[k];
  if (p.status !== undefined) v.status = ['draft', 'pending', 'private', 'publish'].includes(p.status) ? p.status : 'draft';
  if (p.manage_stock !== undefined) {
    v.manage_stock = p.manage_stock === 'parent' ? 'parent' : toBool(p.manage_stock);
    if (v.manage_stock === false) {
      v.stock_quantity = null;
      v.backorders = 'no';
    }
  }
  if (p.stock_quantity !== undefined && v.manage_stock === true) v.stock_quantity = Number(p.stock_quantity);
  if (p.inventory_delta !== undefined && v.manage_stock === true) v.stock_quantity = (v.stock_quantity ?? 0) + Number(p.inventory_delta);
  if (p.stock_status !== undefined && v.manage_stock !== true) v.stock_status = p.stock_status;
  if (Array.isArray(p.attributes)) {
    const allowed = parent.attributes.filter((a) => a.variation);
    v.attributes = p.attributes.map((a) => {
      const target = allowed.find((x) => (a.id && x.id === Number(a.id)) || (!a.id && x.name.toLowerCase() === String(a.name ?? '').toLowerCase()));
      if (!target) return null;
      const attr = target.id ? S.attributes.get(target.id) : null;
      const term = attr ? termByName(attr, a.option) : null;
      return { id: target.id, name: target.name, option: term ? term.name : String(a.option ?? '') };
    }).filter(Boolean);
  }
  if (p.image && (p.image.id || p.image.src)) {
    if (p.image.id) {
      const known = [...S.products.values()].flatMap((x) => x.images).find((x) => x.id === Number(p.image.id));
      if (!known) throw restError('woocommerce_variation_invalid_image_id', `#${p.image.id} is an invalid image ID.`, 400);
      v.image = known;
    } else {
      if (!IMAGE_TYPES.test(p.image.src)) throw restError('woocommerce_variation_image_upload_error', 'Invalid image: Sorry, you are not allowed to upload this file type.', 400);
      const file = decodeURIComponent(new URL(p.image.src).pathname.split('/').pop());
      v.image = { id: S.nextPostId++, src: upload(file, nowSec()), name: file.replace(/\.[^.]+$/, ''), alt: '', created: nowSec() };
    }
  }
  applyMeta(v.meta, p.meta_data, () => S.nextPostMetaId++);
}
function createVariation(q, p, ctx) {
  const parent = variationParent(p);
  const now = nowSec();
  const v = {
    id: S.nextPostId++, parent_id: parent.id, type: 'variation', status: 'publish', description: '', sku: '', global_unique_id: '', regular_price: '', sale_price: '',
    date_on_sale_from: null, date_on_sale_to: null, virtual: false, downloadable: false, tax_status: 'taxable', tax_class: 'parent', manage_stock: false, stock_quantity: null,
    stock_status: 'instock', backorders: 'no', low_stock_amount: null, weight: '', dimensions: { length: '', width: '', height: '' }, shipping_class: '', shipping_class_id: 0,
    image: null, menu_order: parent.variations.length, meta: [], created: now, modified: now, trashedFrom: null, attributes: [],
  };
  applyVariationBody(v, p, parent);
  S.variations.set(v.id, v);
  snapshot('product', parent);
  parent.variations.push(v.id);
  parent.modified = now;
  fire(ctx, 'woocommerce_new_product_variation', v.id);
  fire(ctx, 'woocommerce_update_product', parent.id);
  return created(renderVariation(v), variationLinks(v), `/wc/v3/products/${parent.id}/variations/${v.id}`);
}
function updateVariation(q, p, ctx) {
  const parent = variationParent(p);
  const v = S.variations.get(num(p.id));
  if (!v || v.parent_id !== parent.id) throw restError('woocommerce_rest_product_variation_invalid_id', 'Invalid ID.', 400);
  snapshot('product', v);
  applyVariationBody(v, p, parent);
  v.modified = nowSec();
  fire(ctx, 'woocommerce_update_product_variation', v.id);
  return one(renderVariation(v), variationLinks(v));
}
function deleteVariation(q, p, ctx) {
  const parent = variationParent(p);
  const v = variationOf(p);
  const response = one(renderVariation(v), variationLinks(v));
  if (q.force) {
    S.variations.delete(v.id);
    snapshot('product', parent);
    parent.variations = parent.variations.filter((id) => id !== v.id);
    parent.modified = nowSec();
    fire(ctx, 'woocommerce_update_product', parent.id);
  } else {
    if (v.status === 'trash') throw restError('woocommerce_rest_already_trashed', 'The product_variation has already been deleted.', 410);
    v.trashedFrom = v.status;
    v.status = 'trash';
    v.modified = nowSec();
    fire(ctx, 'wp_trash_post', v.id, { postType: 'product_variation' });
  }
  return response;
}

// Terms ---------------------------------------------------------------------------------------

function termHandlers(kind) {
  const store = () => (kind === 'category' ? S.categories : S.tags);
  const render = kind === 'category' ? renderCategory : renderTag;
  const links = kind === 'category' ? categoryLinks : tagLinks;
  const path = kind === 'category' ? '/wc/v3/products/categories' : '/wc/v3/products/tags';
  const find = (p, status = 404) => {
    const t = store().get(num(p.id));
    if (!t) throw restError('woocommerce_rest_term_invalid', 'Resource does not exist.', status);
    return t;
  };
  return {
    list(q, p, ctx) {
      sanitizedGet(ctx, TERM_LIST_ARGS);
      let list = [...store().values()];
      if (q.include.length) list = list.filter((t) => q.include.includes(t.id));
      if (q.exclude.length) list = list.filter((t) => !q.exclude.includes(t.id));
      if (q.search) list = list.filter((t) => t.name.toLocaleLowerCase('tr').includes(q.search.toLocaleLowerCase('tr')));
      if (q.slug) list = list.filter((t) => t.slug === q.slug);
      if (q.parent !== undefined && kind === 'category') list = list.filter((t) => t.parent === q.parent);
      if (q.hide_empty) list = list.filter((t) => render(t).count > 0);
      sortObjects(list, q, { name: (t) => t.name, count: (t) => render(t).count, description: (t) => t.description, term_group: () => 0 });
      const pg = page(list, q);
      return { items: pg.slice.map((t) => ({ data: render(t), links: links(t) })), paging: pg, path };
    },
    get: (q, p) => {
      const t = find(p);
      return one(render(t), links(t));
    },
    create(q, p) {
      if ([...store().values()].some((t) => t.name === p.name && (t.parent ?? 0) === (Number(p.parent) || 0))) {
        throw restError('term_exists', 'A term with the name provided already exists with this parent.', 400, { term_id: [...store().values()].find((t) => t.name === p.name).id });
      }
      const t = { id: S.nextTermId++, name: String(p.name), slug: slugify(p.slug ?? p.name), description: String(p.description ?? ''), count: 0 };
      if (kind === 'category') Object.assign(t, { parent: Number(p.parent) || 0, display: p.display ?? 'default', image: null, menu_order: Number(p.menu_order) || 0 });
      store().set(t.id, t);
      return created(render(t), links(t), `${path}/${t.id}`);
    },
    update(q, p) {
      const t = find(p, 400);
      for (const k of ['name', 'description', 'display', 'menu_order']) if (p[k] !== undefined) t[k] = p[k];
      if (p.slug !== undefined) t.slug = slugify(p.slug);
      if (p.parent !== undefined && kind === 'category') t.parent = Number(p.parent) || 0;
      return one(render(t), links(t));
    },
    remove(q, p) {
      const t = find(p);
      if (!q.force) throw restError('woocommerce_rest_trash_not_supported', 'Resource does not support trashing.', 501);
      store().delete(t.id);
      for (const prod of S.products.values()) prod[kind === 'category' ? 'categories' : 'tags'] = prod[kind === 'category' ? 'categories' : 'tags'].filter((id) => id !== t.id);
      return one(render(t), links(t));
    },
  };
}
const categoryApi = termHandlers('category');
const tagApi = termHandlers('tag');

function attributeOf(p, key = 'id', status = 404) {
  const a = S.attributes.get(num(p[key]));
  if (!a) throw restError('woocommerce_rest_invalid_attribute_id', 'Invalid attribute ID.', status);
  return a;
}
const attributeApi = {
  list: () => ({ items: [...S.attributes.values()].map((a) => ({ data: renderAttribute(a), links: attributeLinks(a) })), paging: null }),
  get: (q, p) => {
    const a = attributeOf(p);
    return one(renderAttribute(a), attributeLinks(a));
  },
  create(q, p) {
    const slug = `pa_${slugify(p.slug ?? p.name).slice(0, 25)}`;
    if ([...S.attributes.values()].some((a) => a.slug === slug)) throw restError('woocommerce_rest_cannot_create', `Slug "${slug.slice(3)}" is already in use. Change it, please.`, 400);
    const id = Math.max(0, ...S.attributes.keys()) + 1;
    const a = { id, name: String(p.name), slug, type: p.type ?? 'select', order_by: p.order_by ?? 'menu_order', has_archives: Boolean(p.has_archives), terms: new Map() };
    S.attributes.set(id, a);
    return created(renderAttribute(a), attributeLinks(a), `/wc/v3/products/attributes/${id}`);
  },
  update(q, p) {
    const a = attributeOf(p, 'id', 400);
    for (const k of ['name', 'type', 'order_by', 'has_archives']) if (p[k] !== undefined) a[k] = p[k];
    return one(renderAttribute(a), attributeLinks(a));
  },
  remove(q, p) {
    const a = attributeOf(p);
    if (!q.force) throw restError('woocommerce_rest_trash_not_supported', 'Resource does not support trashing.', 501);
    S.attributes.delete(a.id);
    return one(renderAttribute(a), attributeLinks(a));
  },
};
const attributeTermApi = {
  list(q, p, ctx) {
    sanitizedGet(ctx, TERM_LIST_ARGS);
    const a = attributeOf(p, 'attribute_id');
    let list = [...a.terms.values()];
    if (q.search) list = list.filter((t) => t.name.toLocaleLowerCase('tr').includes(q.search.toLocaleLowerCase('tr')));
    sortObjects(list, { ...q, orderby: q.orderby === 'name' ? 'menu_order' : q.orderby }, { menu_order: (t) => t.menu_order, name: (t) => t.name });
    const pg = page(list, q);
    return { items: pg.slice.map((t) => ({ data: renderTerm(t), links: termLinks(a, t) })), paging: pg, path: `/wc/v3/products/attributes/${a.id}/terms` };
  },
  get(q, p) {
    const a = attributeOf(p, 'attribute_id');
    const t = a.terms.get(num(p.id));
    if (!t) throw restError('woocommerce_rest_term_invalid', 'Resource does not exist.', 404);
    return one(renderTerm(t), termLinks(a, t));
  },
  create(q, p) {
    const a = attributeOf(p, 'attribute_id');
    if ([...a.terms.values()].some((t) => t.name === p.name)) throw restError('term_exists', 'A term with the name provided already exists in this taxonomy.', 400);
    const t = { id: S.nextTermId++, name: String(p.name), slug: slugify(p.slug ?? p.name), description: String(p.description ?? ''), menu_order: Number(p.menu_order) || 0, count: 0 };
    a.terms.set(t.id, t);
    return created(renderTerm(t), termLinks(a, t), `/wc/v3/products/attributes/${a.id}/terms/${t.id}`);
  },
  update(q, p) {
    const a = attributeOf(p, 'attribute_id');
    const t = a.terms.get(num(p.id));
    if (!t) throw restError('woocommerce_rest_term_invalid', 'Resource does not exist.', 400);
    for (const k of ['name', 'description', 'menu_order']) if (p[k] !== undefined) t[k] = p[k];
    if (p.slug !== undefined) t.slug = slugify(p.slug);
    return one(renderTerm(t), termLinks(a, t));
  },
  remove(q, p) {
    const a = attributeOf(p, 'attribute_id');
    const t = a.terms.get(num(p.id));
    if (!t) throw restError('woocommerce_rest_term_invalid', 'Resource does not exist.', 404);
    if (!q.force) throw restError('woocommerce_rest_trash_not_supported', 'Resource does not support trashing.', 501);
    a.terms.delete(t.id);
    return one(renderTerm(t), termLinks(a, t));
  },
};

// Customers --------------------------------------------------------------------------------------

function listCustomers(q, p, ctx) {
  sanitizedGet(ctx, CUSTOMER_LIST_ARGS);
  const key = JSON.stringify(['customers', q.role, q.search, q.email, q.include, q.exclude, q.orderby, q.order]);
  const hit = S.listCache.get(key);
  let ids;
  if (hit && hit.version === S.customers.version) ids = hit.list;
  else {
    const needle = q.search ? q.search.toLocaleLowerCase('tr') : '';
    const rows = [];
    for (const id of q.include.length ? q.include : customerIds()) {
      if (q.exclude.includes(id)) continue;
      const c = customerRecord(id);
      if (!c) continue;
      if (q.role !== 'all' && c.role !== q.role) continue;
      if (q.email && c.email !== q.email.toLowerCase()) continue;
      if (needle && !`${c.username} ${c.email} ${c.first_name} ${c.last_name}`.toLocaleLowerCase('tr').includes(needle)) continue;
      rows.push({ id, name: c.username, registered: c.created });
    }
    if (q.orderby === 'include' && q.include.length) rows.sort((a, b) => q.include.indexOf(a.id) - q.include.indexOf(b.id));
    else if (q.orderby === 'id') rows.sort((a, b) => a.id - b.id);
    else if (q.orderby === 'registered_date') rows.sort((a, b) => a.registered - b.registered || a.id - b.id);
    else rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id - b.id));
    if (q.order === 'desc') rows.reverse();
    ids = rows.map((r) => r.id);
    S.listCache.set(key, { version: S.customers.version, list: ids });
  }
  const pg = page(ids, q);
  return { items: pg.slice.map((id) => customerRecord(id)).map((c) => ({ data: renderCustomer(c), links: customerLinks(c) })), paging: pg, path: '/wc/v3/customers' };
}
function getCustomer(q, p) {
  const c = num(p.id) ? customerRecord(num(p.id)) : null;
  if (!c) throw restError('woocommerce_rest_invalid_id', 'Invalid resource ID.', 404);
  return one(renderCustomer(c), customerLinks(c));
}
const CUSTOMER_ADDRESS_KEYS = ['first_name', 'last_name', 'company', 'address_1', 'address_2', 'city', 'postcode', 'country', 'state', 'email', 'phone'];
function customerForEdit(uid) {
  const C = S.customers;
  const current = customerRecord(uid);
  if (!current) return null;
  S.prev.set(`customer:${uid}`, structuredClone(current));
  if (C.created.has(uid)) return C.created.get(uid);
  if (!C.overrides.has(uid)) C.overrides.set(uid, structuredClone(current));
  return C.overrides.get(uid);
}
function applyCustomerBody(c, p) {
  if (p.email !== undefined) c.email = String(p.email).toLowerCase();
  for (const k of ['first_name', 'last_name']) if (p[k] !== undefined) c[k] = String(p[k]);
  for (const kind of ['billing', 'shipping']) {
    if (p[kind] && typeof p[kind] === 'object') for (const [k, v] of Object.entries(p[kind])) if (CUSTOMER_ADDRESS_KEYS.includes(k) && (kind === 'billing' || k !== 'email')) c[kind][k] = String(v ?? '');
  }
  applyMeta(c.meta, p.meta_data, () => S.nextPostMetaId++);
  c.modified = nowSec();
}
const emailTaken = (email, exceptId) => customerIds().some((id) => id !== exceptId && customerRecord(id)?.email === String(email).toLowerCase());
function createCustomer(q, p, ctx) {
  if (emailTaken(p.email, 0)) throw restError('registration-error-email-exists', 'An account is already registered with your email address. <a href="#" class="showlogin">Please log in.</a>', 400);
  const C = S.customers;
  const id = C.nextId++;
  const now = nowSec();
  const username = p.username ?? String(p.email).split('@')[0].replace(/[^a-z0-9._-]/gi, '');
  const c = { id, created: now, modified: now, email: '', first_name: '', last_name: '', role: 'customer', username, billing: emptyAddress(true), shipping: emptyAddress(false), is_paying_customer: false, meta: [] };
  applyCustomerBody(c, p);
  C.created.set(id, c);
  C.version = (C.version ?? 0) + 1;
  fire(ctx, 'user_register', id);
  fire(ctx, 'woocommerce_created_customer', id);
  fire(ctx, 'woocommerce_new_customer', id);
  return created(renderCustomer(c), customerLinks(c), `/wc/v3/customers/${id}`);
}
function updateCustomer(q, p, ctx) {
  const uid = num(p.id);
  const current = customerRecord(uid);
  if (!current) throw restError('woocommerce_rest_invalid_id', 'Invalid resource ID.', 400);
  if (p.email && emailTaken(p.email, uid)) throw restError('woocommerce_rest_customer_invalid_email', 'Email address is invalid.', 400);
  if (p.username && p.username !== current.username) throw restError('woocommerce_rest_customer_invalid_argument', "Username isn't editable.", 400);
  const c = customerForEdit(uid);
  applyCustomerBody(c, p);
  S.customers.version = (S.customers.version ?? 0) + 1;
  fire(ctx, 'profile_update', uid);
  fire(ctx, 'woocommerce_update_customer', uid);
  return one(renderCustomer(c), customerLinks(c));
}
function deleteCustomer(q, p, ctx) {
  const uid = num(p.id);
  const c = customerRecord(uid);
  if (!q.force) throw restError('woocommerce_rest_trash_not_supported', 'Customers do not support trashing.', 501);
  if (!c) throw restError('woocommerce_rest_invalid_id', 'Invalid resource ID.', 400);
  const response = one(renderCustomer(c), customerLinks(c));
  fire(ctx, 'delete_user', uid);
  S.customers.deleted.add(uid);
  S.customers.version = (S.customers.version ?? 0) + 1;
  return response;
}

// Coupons ----------------------------------------------------------------------------------------

const COUPON_WRITE_ARGS = {
  code: { type: 'string' }, amount: { type: 'string' }, discount_type: { type: 'string', enum: ['percent', 'fixed_cart', 'fixed_product'] },
  description: { type: 'string' }, date_expires: { type: ['string', 'null'] }, individual_use: { type: 'boolean' }, product_ids: { type: 'array', items: { type: 'integer' } },
  usage_limit: { type: 'integer' }, usage_limit_per_user: { type: 'integer' }, free_shipping: { type: 'boolean' }, minimum_amount: { type: 'string' },
  maximum_amount: { type: 'string' }, email_restrictions: { type: 'array', items: { type: 'string' } }, exclude_sale_items: { type: 'boolean' }, meta_data: { type: 'array' },
  status: { type: 'string', enum: ['draft', 'pending', 'private', 'publish', 'future'] },
};
function listCoupons(q, p, ctx) {
  sanitizedGet(ctx, COUPON_LIST_ARGS);
  let list = crudFilter([...S.coupons.values()], q).filter((c) => c.status !== 'trash');
  if (q.code) {
    const found = couponByCode(q.code);
    list = list.filter((c) => c === found);
  }
  if (q.search) list = list.filter((c) => c.code.includes(q.search.toLowerCase()));
  sortObjects(list, q);
  const pg = page(list, q);
  return { items: pg.slice.map((c) => ({ data: renderCoupon(c), links: couponLinks(c) })), paging: pg, path: '/wc/v3/coupons' };
}
function getCoupon(q, p) {
  const c = S.coupons.get(num(p.id));
  if (!c) throw invalidId('shop_coupon');
  return one(renderCoupon(c), couponLinks(c));
}
function applyCouponBody(c, p) {
  for (const k of ['amount', 'discount_type', 'description', 'individual_use', 'product_ids', 'excluded_product_ids', 'usage_limit', 'usage_limit_per_user', 'limit_usage_to_x_items',
    'free_shipping', 'product_categories', 'excluded_product_categories', 'exclude_sale_items', 'minimum_amount', 'maximum_amount', 'email_restrictions', 'status']) {
    if (p[k] !== undefined) c[k] = p[k];
  }
  if (p.code !== undefined) c.code = String(p.code).trim().toLowerCase();
  // WC_Coupon::set_email_restrictions(): lower-cased, invalid ones dropped.
  if (Array.isArray(p.email_restrictions)) c.email_restrictions = p.email_restrictions.map((e) => String(e).trim().toLowerCase()).filter((e) => e.includes('@'));
  if (p.date_expires !== undefined) c.expires = p.date_expires ? parseInputDate(p.date_expires) : null;
  if (p.date_expires_gmt !== undefined) c.expires = p.date_expires_gmt ? parseInputDate(p.date_expires_gmt, true) : null;
  applyMeta(c.meta, p.meta_data, () => S.nextPostMetaId++);
}
function createCoupon(q, p, ctx, { admin = false } = {}) {
  const code = String(p.code ?? '').trim().toLowerCase();
  if (!code) throw restError('woocommerce_rest_empty_coupon_code', 'The coupon code cannot be empty.', 400);
  if (couponByCode(code)) throw restError('woocommerce_rest_coupon_code_already_exists', 'The coupon code already exists', 400);
  const now = nowSec();
  const c = {
    id: S.nextPostId++, code, amount: '0', status: 'publish', created: now, modified: now, discount_type: 'fixed_cart', description: '', expires: null, usage_count: 0,
    individual_use: false, product_ids: [], excluded_product_ids: [], usage_limit: null, usage_limit_per_user: null, limit_usage_to_x_items: null, free_shipping: false,
    product_categories: [], excluded_product_categories: [], exclude_sale_items: false, minimum_amount: '0', maximum_amount: '0', email_restrictions: [], used_by: [], meta: [], trashedFrom: null,
  };
  applyCouponBody(c, p);
  S.coupons.set(c.id, c);
  fire(ctx, 'woocommerce_new_coupon', c.id);
  if (admin) fire(ctx, 'woocommerce_update_coupon', c.id);
  return created(renderCoupon(c), couponLinks(c), `/wc/v3/coupons/${c.id}`);
}
function updateCoupon(q, p, ctx) {
  const c = S.coupons.get(num(p.id));
  if (!c) throw invalidId('shop_coupon', 400);
  if (p.code !== undefined) {
    const code = String(p.code).trim().toLowerCase();
    const other = couponByCode(code);
    if (!code) throw restError('woocommerce_rest_empty_coupon_code', 'The coupon code cannot be empty.', 400);
    if (other && other.id !== c.id) throw restError('woocommerce_rest_coupon_code_already_exists', 'The coupon code already exists', 400);
  }
  snapshot('coupon', c);
  applyCouponBody(c, p);
  c.modified = nowSec();
  fire(ctx, 'woocommerce_update_coupon', c.id);
  return one(renderCoupon(c), couponLinks(c));
}
function deleteCoupon(q, p, ctx) {
  const c = S.coupons.get(num(p.id));
  if (!c) throw invalidId('shop_coupon');
  const response = one(renderCoupon(c), couponLinks(c));
  if (q.force) {
    S.coupons.delete(c.id);
    fire(ctx, 'delete_post', c.id, { postType: 'shop_coupon' });
  } else {
    if (c.status === 'trash') throw restError('woocommerce_rest_already_trashed', 'The shop_coupon has already been deleted.', 410);
    snapshot('coupon', c);
    c.trashedFrom = c.status;
    c.status = 'trash';
    c.modified = nowSec();
    fire(ctx, 'wp_trash_post', c.id, { postType: 'shop_coupon' });
  }
  return response;
}
function restoreCoupon(c, ctx) {
  if (c.status !== 'trash') return;
  snapshot('coupon', c);
  c.status = c.trashedFrom ?? 'draft';
  c.trashedFrom = null;
  c.modified = nowSec();
  fire(ctx, 'untrashed_post', c.id, { postType: 'shop_coupon' });
}

// Webhooks -------------------------------------------------------------------------------------

function listWebhooks(q, p, ctx) {
  sanitizedGet(ctx, WEBHOOK_LIST_ARGS);
  let list = [...S.webhooks.values()].filter((w) => q.status === 'all' || w.status === q.status);
  if (q.search) list = list.filter((w) => w.name.toLowerCase().includes(q.search.toLowerCase()));
  if (q.include.length) list = list.filter((w) => q.include.includes(w.id));
  if (q.exclude.length) list = list.filter((w) => !q.exclude.includes(w.id));
  if (q.after || q.before) {
    const after = q.after ? queryWallClock(q.after) : -Infinity;
    const before = q.before ? queryWallClock(q.before) : nowSec();
    list = list.filter((w) => w.created >= after && w.created <= before);
  }
  list.sort((a, b) => (q.orderby === 'title' ? a.name.localeCompare(b.name) : q.orderby === 'id' ? a.id - b.id : a.created - b.created || a.id - b.id));
  if (q.order === 'desc') list.reverse();
  const pg = page(list, q);
  if (q.per_page <= 1) pg.pages = 1;
  return { items: pg.slice.map((w) => ({ data: renderWebhook(w), links: webhookLinks(w) })), paging: pg, path: '/wc/v3/webhooks' };
}
function getWebhook(q, p) {
  if (!num(p.id)) throw invalidId('shop_webhook');
  const w = S.webhooks.get(num(p.id));
  if (!w) throw invalidId('shop_webhook', 400, 'ID is invalid.');
  return one(renderWebhook(w), webhookLinks(w));
}
const WEBHOOK_WRITE_ARGS = { name: { type: 'string' }, status: { type: 'string', enum: ['active', 'paused', 'disabled'] }, topic: { type: 'string' }, secret: { type: 'string' }, delivery_url: { type: 'string' } };
const validUrl = (u) => {
  try {
    return ['http:', 'https:'].includes(new URL(String(u)).protocol);
  } catch {
    return false;
  }
};
function webhookDefaultName() {
  const d = new Date((nowSec() + tzOffset(nowSec())) * 1000);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const h = d.getUTCHours() % 12 || 12;
  return `Webhook created on ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, '0')}, ${d.getUTCFullYear()} @ ${String(h).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} ${d.getUTCHours() < 12 ? 'AM' : 'PM'}`;
}
const PASSWORD_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_ []{}<>~`+=,.;:/?|';
const generatePassword = (n) => Array.from(randomBytes(n), (b) => PASSWORD_CHARS[b % PASSWORD_CHARS.length]).join('');

async function createWebhook(q, p, ctx) {
  if (p.id) throw restError('woocommerce_rest_shop_webhook_exists', 'Cannot create existing shop_webhook.', 400);
  if (!p.topic || !validTopic(String(p.topic).toLowerCase())) throw restError('woocommerce_rest_shop_webhook_invalid_topic', 'Webhook topic is required and must be valid.', 400);
  if (!p.delivery_url || !validUrl(p.delivery_url)) throw restError('woocommerce_rest_shop_webhook_invalid_delivery_url', 'Webhook delivery URL must be a valid URL starting with http:// or https://.', 400);
  const now = nowSec();
  const w = {
    id: S.nextWebhookId++, name: p.name || webhookDefaultName(), status: p.status && ['active', 'paused', 'disabled'].includes(p.status) ? p.status : 'active',
    topic: String(p.topic).toLowerCase(), delivery_url: String(p.delivery_url), secret: p.secret || generatePassword(50), user_id: ctx.key?.user_id ?? 1,
    api_version: 'wp_api_v3', failure_count: 0, pending_delivery: true, created: now, modified: now,
  };
  S.webhooks.set(w.id, w);
  const response = created(renderWebhook(w), webhookLinks(w), `/wc/v3/webhooks/${w.id}`);
  // The ping goes out before the answer; its outcome does not change the answer.
  await deliverPing(w);
  return response;
}
async function updateWebhook(q, p, ctx) {
  const w = S.webhooks.get(num(p.id));
  if (!w) throw invalidId('shop_webhook', 400, 'ID is invalid.');
  let urlChanged = false;
  if (p.topic) {
    if (!validTopic(String(p.topic).toLowerCase())) throw restError('woocommerce_rest_shop_webhook_invalid_topic', 'Webhook topic must be valid.', 400);
    w.topic = String(p.topic).toLowerCase();
  }
  if (p.delivery_url) {
    if (!validUrl(p.delivery_url)) throw restError('woocommerce_rest_shop_webhook_invalid_delivery_url', 'Webhook delivery URL must be a valid URL starting with http:// or https://.', 400);
    urlChanged = p.delivery_url !== w.delivery_url;
    w.delivery_url = String(p.delivery_url);
  }
  if (p.secret) w.secret = String(p.secret);
  if (p.status) {
    if (!['active', 'paused', 'disabled'].includes(String(p.status).toLowerCase())) throw restError('woocommerce_rest_shop_webhook_invalid_status', 'Webhook status must be valid.', 400);
    w.status = String(p.status).toLowerCase();
  }
  if (p.name) w.name = String(p.name);
  await saveWebhook(w, { urlChanged });
  return one(renderWebhook(w), webhookLinks(w));
}
/// The webhooks' batch (WC_REST_Controller::batch_items, as for the other resources), whose
/// creates and updates wait for their pings.
async function webhookBatch(q, p, ctx) {
  const lists = { create: p.create, update: p.update, delete: p.delete };
  const total = Object.values(lists).reduce((n, l) => n + (Array.isArray(l) ? l.length : 0), 0);
  if (total > 100) throw restError('woocommerce_rest_request_entity_too_large', 'Unable to accept more than 100 items for this request.', 413);
  const attempt = async (item, fn) => {
    try {
      return (await fn()).data;
    } catch (e) {
      if (!(e instanceof RestError)) throw e;
      return { id: Number(item?.id ?? item) || 0, error: errorBody(e) };
    }
  };
  const result = {};
  if (Array.isArray(lists.create)) result.create = await Promise.all(lists.create.map((item) => attempt(item, () => createWebhook(q, { ...item }, ctx))));
  if (Array.isArray(lists.update)) result.update = await Promise.all(lists.update.map((item) => attempt(item, () => updateWebhook(q, { ...item }, ctx))));
  if (Array.isArray(lists.delete)) result.delete = await Promise.all(lists.delete.map((id) => attempt(id, () => deleteWebhook({ ...q, force: true }, { id }))));
  return one(result, null);
}
function deleteWebhook(q, p) {
  if (!q.force) throw restError('woocommerce_rest_trash_not_supported', 'Webhooks do not support trashing.', 501);
  const w = S.webhooks.get(num(p.id));
  if (!w) throw invalidId('shop_webhook');
  S.webhooks.delete(w.id);
  return one(renderWebhook(w), webhookLinks(w));
}

// The route table --------------------------------------------------------------------------------

const NOTE_WRITE_ARGS = { note: { type: 'string', required: true }, customer_note: { type: 'boolean', default: false }, added_by_user: { type: 'boolean', default: false } };
const NOTE_LIST_ARGS = { context: CONTEXT_ARG, type: { type: 'string', default: 'any', enum: ['any', 'customer', 'internal'] } };
const TERM_WRITE_ARGS = { name: { type: 'string', required: true }, slug: { type: 'string' }, description: { type: 'string' }, parent: { type: 'integer' } };
const TERM_EDIT_ARGS = { name: { type: 'string' }, slug: { type: 'string' }, description: { type: 'string' }, parent: { type: 'integer' } };
const CUSTOMER_WRITE_ARGS = { email: { type: 'string', format: 'email', required: true }, first_name: { type: 'string' }, last_name: { type: 'string' }, username: { type: 'string' }, billing: { type: 'object' }, shipping: { type: 'object' }, meta_data: { type: 'array' } };
const CUSTOMER_EDIT_ARGS = { ...CUSTOMER_WRITE_ARGS, email: { type: 'string', format: 'email' } };
const FORCE_TRUE_ARGS = { force: { type: 'boolean', default: true } };

route('/', { GET: [null, { context: CONTEXT_ARG }, restIndex] });
route('/wc/v3', { GET: [null, { context: CONTEXT_ARG }, wcIndex] });
route('/wc/v3/system_status', { GET: ['list', { context: CONTEXT_ARG }, systemStatus] });
route('/wc/v3/orders', { GET: ['list', ORDER_LIST_ARGS, listOrders], POST: ['create', ORDER_WRITE_ARGS, createOrder] });
route('/wc/v3/orders/batch', { EDITABLE: ['batch', {}, batch(createOrder, updateOrder, deleteOrder)] });
route('/wc/v3/orders/(?P<id>[\\d]+)', { GET: ['view', DP_ARGS, getOrder], EDITABLE: ['edit', ORDER_WRITE_ARGS, updateOrder], DELETE: ['delete', DELETE_ARGS, deleteOrder] });
route('/wc/v3/orders/(?P<order_id>[\\d]+)/notes', { GET: ['list', NOTE_LIST_ARGS, listNotes], POST: ['create', NOTE_WRITE_ARGS, createNote] });
route('/wc/v3/orders/(?P<order_id>[\\d]+)/notes/(?P<id>[\\d]+)', { GET: ['view', { context: CONTEXT_ARG }, getNote], DELETE: ['delete', DELETE_ARGS, deleteNote] });
route('/wc/v3/orders/(?P<order_id>[\\d]+)/refunds', { GET: ['list', REFUND_LIST_ARGS, listOrderRefunds], POST: ['create', REFUND_WRITE_ARGS, createOrderRefund] });
route('/wc/v3/orders/(?P<order_id>[\\d]+)/refunds/(?P<id>[\\d]+)', { GET: ['view', DP_ARGS, getRefund], DELETE: ['delete', FORCE_TRUE_ARGS, deleteRefund] });
route('/wc/v3/refunds', { GET: ['list', REFUND_LIST_ARGS, listAllRefunds] });
route('/wc/v3/products', { GET: ['list', PRODUCT_LIST_ARGS, listProducts], POST: ['create', PRODUCT_WRITE_ARGS, createProduct] });
route('/wc/v3/products/batch', { EDITABLE: ['batch', {}, batch(createProduct, updateProduct, deleteProduct)] });
route('/wc/v3/products/categories', { GET: ['list', TERM_LIST_ARGS, categoryApi.list], POST: ['create', TERM_WRITE_ARGS, categoryApi.create] });
route('/wc/v3/products/categories/(?P<id>[\\d]+)', { GET: ['view', { context: CONTEXT_ARG }, categoryApi.get], EDITABLE: ['edit', TERM_EDIT_ARGS, categoryApi.update], DELETE: ['delete', DELETE_ARGS, categoryApi.remove] });
route('/wc/v3/products/tags', { GET: ['list', TERM_LIST_ARGS, tagApi.list], POST: ['create', TERM_WRITE_ARGS, tagApi.create] });
route('/wc/v3/products/tags/(?P<id>[\\d]+)', { GET: ['view', { context: CONTEXT_ARG }, tagApi.get], EDITABLE: ['edit', TERM_EDIT_ARGS, tagApi.update], DELETE: ['delete', DELETE_ARGS, tagApi.remove] });
route('/wc/v3/products/attributes', { GET: ['list', { context: CONTEXT_ARG }, attributeApi.list], POST: ['create', { name: { type: 'string', required: true } }, attributeApi.create] });
route('/wc/v3/products/attributes/(?P<id>[\\d]+)', { GET: ['view', { context: CONTEXT_ARG }, attributeApi.get], EDITABLE: ['edit', {}, attributeApi.update], DELETE: ['delete', FORCE_TRUE_ARGS, attributeApi.remove] });
route('/wc/v3/products/attributes/(?P<attribute_id>[\\d]+)/terms', { GET: ['list', TERM_LIST_ARGS, attributeTermApi.list], POST: ['create', TERM_WRITE_ARGS, attributeTermApi.create] });
route('/wc/v3/products/attributes/(?P<attribute_id>[\\d]+)/terms/(?P<id>[\\d]+)', { GET: ['view', { context: CONTEXT_ARG }, attributeTermApi.get], EDITABLE: ['edit', TERM_EDIT_ARGS, attributeTermApi.update], DELETE: ['delete', DELETE_ARGS, attributeTermApi.remove] });
route('/wc/v3/products/(?P<id>[\\d]+)', { GET: ['view', { context: CONTEXT_ARG }, getProduct], EDITABLE: ['edit', PRODUCT_WRITE_ARGS, updateProduct], DELETE: ['delete', DELETE_ARGS, deleteProduct] });
route('/wc/v3/products/(?P<product_id>[\\d]+)/variations', { GET: ['list', VARIATION_LIST_ARGS, listVariations], POST: ['create', VARIATION_WRITE_ARGS, createVariation] });
route('/wc/v3/products/(?P<product_id>[\\d]+)/variations/(?P<id>[\\d]+)', { GET: ['view', { context: CONTEXT_ARG }, getVariation], EDITABLE: ['edit', VARIATION_WRITE_ARGS, updateVariation], DELETE: ['delete', DELETE_ARGS, deleteVariation] });
route('/wc/v3/customers', { GET: ['list', CUSTOMER_LIST_ARGS, listCustomers], POST: ['create', CUSTOMER_WRITE_ARGS, createCustomer] });
route('/wc/v3/customers/batch', { EDITABLE: ['batch', {}, batch(createCustomer, updateCustomer, deleteCustomer)] });
route('/wc/v3/customers/(?P<id>[\\d]+)', { GET: ['view', { context: CONTEXT_ARG }, getCustomer], EDITABLE: ['edit', CUSTOMER_EDIT_ARGS, updateCustomer], DELETE: ['delete', DELETE_ARGS, deleteCustomer] });
route('/wc/v3/coupons', { GET: ['list', COUPON_LIST_ARGS, listCoupons], POST: ['create', COUPON_WRITE_ARGS, createCoupon] });
route('/wc/v3/coupons/batch', { EDITABLE: ['batch', {}, batch(createCoupon, updateCoupon, deleteCoupon)] });
route('/wc/v3/coupons/(?P<id>[\\d]+)', { GET: ['view', { context: CONTEXT_ARG }, getCoupon], EDITABLE: ['edit', COUPON_WRITE_ARGS, updateCoupon], DELETE: ['delete', DELETE_ARGS, deleteCoupon] });
route('/wc/v3/webhooks', { GET: ['list', WEBHOOK_LIST_ARGS, listWebhooks], POST: ['create', WEBHOOK_WRITE_ARGS, createWebhook] });
route('/wc/v3/webhooks/batch', { EDITABLE: ['batch', {}, webhookBatch] });
route('/wc/v3/webhooks/(?P<id>[\\d]+)', { GET: ['view', { context: CONTEXT_ARG }, getWebhook], EDITABLE: ['edit', WEBHOOK_WRITE_ARGS, updateWebhook], DELETE: ['delete', DELETE_ARGS, deleteWebhook] });

// ---------------------------------------------------------------------------------------------
// Webhooks as WooCommerce sends them: hooks queue Action Scheduler actions (one pending per
// webhook and object), the payload is built when the action runs, one POST over HTTP/1.0,
// no retries, a failure counter that disables the webhook, and the unsigned ping.

const TOPIC_HOOKS = {
  'coupon.created': ['woocommerce_process_shop_coupon_meta', 'woocommerce_new_coupon'],
  'coupon.updated': ['woocommerce_process_shop_coupon_meta', 'woocommerce_update_coupon'],
  'coupon.deleted': ['wp_trash_post'],
  'coupon.restored': ['untrashed_post'],
  'customer.created': ['user_register', 'woocommerce_created_customer', 'woocommerce_new_customer'],
  'customer.updated': ['profile_update', 'woocommerce_update_customer'],
  'customer.deleted': ['delete_user'],
  'order.created': ['woocommerce_new_order'],
  'order.updated': ['woocommerce_update_order', 'woocommerce_order_refunded'],
  'order.deleted': ['wp_trash_post', 'woocommerce_trash_order'],
  'order.restored': ['untrashed_post', 'woocommerce_untrash_order'],
  'product.created': ['woocommerce_process_product_meta', 'woocommerce_new_product', 'woocommerce_new_product_variation'],
  'product.updated': ['woocommerce_process_product_meta', 'woocommerce_update_product', 'woocommerce_update_product_variation'],
  'product.deleted': ['wp_trash_post'],
  'product.restored': ['untrashed_post'],
};
function topicHooks(topic) {
  if (topic === 'order.updated' && versionAtLeast(config.wc_version, '11.2')) return [...TOPIC_HOOKS[topic], 'woocommerce_delete_order_refund'];
  if (topic === 'product.published') return versionAtLeast(config.wc_version, '10.9') ? ['woocommerce_product_published'] : [];
  return TOPIC_HOOKS[topic] ?? [];
}
function validTopic(topic) {
  const [resource, event] = String(topic).split('.');
  if (resource === 'action') return /^(woocommerce_|wc_)/.test(event ?? '');
  return topicHooks(`${resource}.${event}`).length > 0;
}
const webhookHooks = (w) => (w.topic.startsWith('action.') ? [w.topic.slice(7)] : topicHooks(w.topic));

function newContext({ admin = false } = {}) {
  return { admin, processed: new Map(), queued: [], key: null, get: new Map(), form: null, jsonContent: false, method: 'GET' };
}

/// WC_Webhook::process(): should_deliver() and then wc_webhook_process_delivery(), which
/// only remembers the delivery until the end of the request.
function fire(ctx, hook, arg, info = {}) {
  for (const w of S.webhooks.values()) {
    if (w.status !== 'active' || !validTopic(w.topic) || !webhookHooks(w).includes(hook)) continue;
    const [resource] = w.topic.split('.');
    // is_valid_post_action(): only wp-admin sets the global post type it checks; a REST
    // request leaves it unset, so every webhook on wp_trash_post hears every trash.
    if (['wp_trash_post', 'untrashed_post', 'delete_post'].includes(hook)) {
      const postType = ctx.admin || !config.rest_trash_crossfire ? info.postType : undefined;
      if (postType !== undefined && (!['shop_coupon', 'shop_order', 'product'].includes(postType) || postType.replace('shop_', '') !== resource)) continue;
    }
    if (hook === 'delete_user' && customerRecord(arg)?.role !== 'customer') continue;
    const target = hook === 'woocommerce_delete_order_refund' ? info.parent : arg;
    if (resource === 'order' && !w.topic.startsWith('action.')) {
      const rec = orderById(target);
      if (!rec || ['draft', 'auto-draft', 'new'].includes(rec.status)) continue;
    }
    const seen = ctx.processed.get(w.id) ?? new Set();
    if (seen.has(target)) continue;
    seen.add(target);
    ctx.processed.set(w.id, seen);
    ctx.queued.push({ webhook_id: w.id, arg: target });
  }
}

/// wc_webhook_execute_queue() on shutdown: one pending Action Scheduler action per (webhook,
/// object); a change while one is pending is folded into it.
function flushQueue(ctx) {
  const now = nowSec();
  const sync = [];
  for (const { webhook_id, arg } of ctx.queued) {
    if (!config.deliver_async) {
      sync.push({ action_id: S.nextActionId++, webhook_id, arg, scheduled: now, coalesced: 0 });
      continue;
    }
    const pending = S.queue.find((a) => a.webhook_id === webhook_id && a.arg === arg);
    if (pending && pending.scheduled - now < 600) {
      pending.coalesced++;
      S.coalesced++;
      continue;
    }
    S.queue.push({ action_id: S.nextActionId++, hook: 'woocommerce_deliver_webhook_async', group: 'woocommerce-webhooks', webhook_id, arg, scheduled: now, coalesced: 0 });
  }
  ctx.queued = [];
  if (sync.length) setImmediate(async () => {
    for (const action of sync) await runAction(action).catch((e) => console.error(e));
  });
}

let runner = null;
/// The Action Scheduler runner: pending deliveries in order, one at a time.
async function runQueue(limit = Infinity) {
  while (runner) await runner.catch(() => {});
  runner = (async () => {
    if (S.faults.reorder) {
      if (S.faults.reorder === 'shuffle') {
        for (let i = S.queue.length - 1; i > 0; i--) {
          const j = Math.floor(Math.random() * (i + 1));
          [S.queue[i], S.queue[j]] = [S.queue[j], S.queue[i]];
        }
      } else S.queue.reverse();
      S.faults.reorder = null;
    }
    const results = [];
    while (S.queue.length && results.length < limit) results.push(await runAction(S.queue.shift()));
    return results;
  })();
  try {
    return await runner;
  } finally {
    runner = null;
  }
}

const hookshot = () => `WooCommerce/${config.wc_version} Hookshot (WordPress/${config.wp_version})`;
const wpHash = (data) => createHmac('md5', S.salt).update(data).digest('hex');
const specialcharsDecode = (s) => String(s).replace(/&(amp|lt|gt|quot|#0?39|#x27);/g, (m, e) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#039': "'", '#39': "'", '#x27': "'" })[e]);
export const webhookSignature = (body, secret) => createHmac('sha256', specialcharsDecode(secret)).update(body).digest('base64');

function staleView(resource, prev) {
  if (resource === 'order') return { ...renderOrder(prev, 2), _links: orderLinks(prev) };
  if (resource === 'coupon') return { ...renderCoupon(prev), _links: couponLinks(prev) };
  if (resource === 'customer') return { ...renderCustomer(prev), _links: customerLinks(prev) };
  if (prev.type === 'variation') return { ...renderVariationAsProduct(prev), _links: productLinks({ id: prev.id, parent_id: prev.parent_id }) };
  return { ...renderProduct(prev), _links: productLinks(prev) };
}

/// WC_Webhook::build_payload(): {"id"} for deletions, the v3 GET response (errors included)
/// for everything else, as it is when the delivery runs.
function buildPayload(w, arg, { stale = false } = {}) {
  const [resource, event] = w.topic.split('.');
  if (event === 'deleted') return { id: arg };
  if (resource === 'action') return { action: webhookHooks(w)[0], arg };
  if (stale) {
    const prev = S.prev.get(`${resource}:${arg}`);
    if (prev) return staleView(resource, prev);
  }
  const getters = { order: (id) => getOrder({ dp: 2 }, { id }), product: (id) => getProduct({}, { id }), coupon: (id) => getCoupon({}, { id }), customer: (id) => getCustomer({}, { id }) };
  try {
    const r = getters[resource](arg);
    return { ...r.data, _links: r.links };
  } catch (e) {
    if (e instanceof RestError) return errorBody(e);
    throw e;
  }
}

function logDeliveryRecord(record) {
  S.deliveries.push(record);
  while (S.deliveries.length > config.delivery_log_limit) S.deliveries.shift();
}

async function runAction(action) {
  const w = S.webhooks.get(action.webhook_id);
  const base = { kind: 'delivery', action_id: action.action_id, webhook_id: action.webhook_id, arg: action.arg, topic: w?.topic ?? null, at: new Date(nowSec() * 1000).toISOString() };
  if (!w) {
    const record = { ...base, error: 'Invalid webhook.' };
    logDeliveryRecord(record);
    return record;
  }
  const [resource, event] = w.topic.split('.');
  const faults = S.faults.deliveries;
  const stale = faults.stale > 0 && event !== 'deleted' && resource !== 'action' && S.prev.has(`${resource}:${action.arg}`);
  if (stale) faults.stale--;
  const body = wpJsonEncode(buildPayload(w, action.arg, { stale })).trim();
  if (faults.drop > 0) {
    faults.drop--;
    const record = { ...base, dropped: true, request: { body } };
    logDeliveryRecord(record);
    return record;
  }
  const copies = faults.duplicate > 0 ? 2 : 1;
  if (copies === 2) faults.duplicate--;
  // One request, sent twice for a duplicate: the same headers, the delivery id included
  // (made from the clock, it would differ if the second copy left in the next second).
  const headers = [
    ['User-Agent', hookshot()], ['Accept', '*/*'], ['Accept-Encoding', 'deflate, gzip, br, zstd'], ['Content-Type', 'application/json'],
    ['X-WC-Webhook-Source', `${homeUrl()}/`], ['X-WC-Webhook-Topic', w.topic], ['X-WC-Webhook-Resource', resource], ['X-WC-Webhook-Event', event ?? ''],
    ['X-WC-Webhook-Signature', webhookSignature(body, w.secret)], ['X-WC-Webhook-ID', String(w.id)], ['X-WC-Webhook-Delivery-ID', wpHash(`${w.id}${nowSec()}`)],
  ];
  let last = null;
  for (let copy = 0; copy < copies; copy++) {
    const res = await httpSend(w.delivery_url, { headers, body, timeoutMs: config.delivery_timeout_ms, redirects: 0 });
    last = { ...base, duplicate: copy > 0, stale, url: w.delivery_url, request: { method: 'POST', http_version: '1.0', headers: Object.fromEntries(headers), body }, response: res.error ? null : { status: res.status, body: res.body.slice(0, 2000) }, error: res.error ?? null, duration_ms: res.duration_ms };
    logDeliveryRecord(last);
    await logDelivery(w, res.error ? 0 : res.status);
  }
  return last;
}

/// WC_Webhook::log_delivery() / failed_delivery(): 200–302 resets the counter; otherwise it
/// grows until a failure finds it above the limit, which disables the webhook.
async function logDelivery(w, code) {
  if (code >= 200 && code < 303) w.failure_count = 0;
  else if (w.failure_count > config.max_delivery_failures) w.status = 'disabled';
  else w.failure_count++;
  await saveWebhook(w);
}

/// WC_Webhook_Data_Store::update(): every save of an active webhook re-pings while the last
/// ping did not get exactly 200, or when the delivery URL changed.
async function saveWebhook(w, { urlChanged = false } = {}) {
  w.modified = nowSec();
  if (w.status === 'active' && (urlChanged || w.pending_delivery)) await deliverPing(w);
}

async function deliverPing(w) {
  const body = `webhook_id=${w.id}`;
  const headers = [['User-Agent', hookshot()], ['Accept', '*/*'], ['Accept-Encoding', 'deflate, gzip, br, zstd'], ['Content-Type', 'application/x-www-form-urlencoded']];
  const res = await httpSend(w.delivery_url, { headers, body, timeoutMs: config.ping_timeout_ms, redirects: 5 });
  logDeliveryRecord({ kind: 'ping', webhook_id: w.id, topic: w.topic, at: new Date(nowSec() * 1000).toISOString(), url: w.delivery_url, request: { method: 'POST', http_version: '1.0', headers: Object.fromEntries(headers), body }, response: res.error ? null : { status: res.status, body: res.body.slice(0, 2000) }, error: res.error ?? null, duration_ms: res.duration_ms });
  if (res.error) return { error: `Error: Delivery URL cannot be reached: ${res.error}` };
  if (res.status !== 200) return { error: `Error: Delivery URL returned response code: ${res.status}` };
  w.pending_delivery = false;
  await saveWebhook(w);
  return true;
}

/// wp_http_validate_url(): public hosts on ports 80, 443 and 8080 only (when asked to enforce it).
function unsafeUrl(u) {
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const privateHost = host === 'localhost' || /^(127\.|10\.|0\.|169\.254\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(host) || host === '::1';
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const home = new URL(`${homeUrl()}/`);
  const sameSite = home.hostname === u.hostname && Number(home.port || 80) === port;
  return !sameSite && (privateHost || ![80, 443, 8080].includes(port));
}

/// One request the way WordPress's HTTP API sends it through cURL with httpversion 1.0.
async function httpSend(target, { method = 'POST', headers = [], body = '', timeoutMs = 60_000, redirects = 0 }) {
  let url = target;
  let verb = method;
  let payload = body;
  for (let hop = 0; ; hop++) {
    const res = await httpOnce(url, verb, headers, payload, timeoutMs);
    const location = res.headers?.location;
    if (res.error || hop >= redirects || !location || !(res.status === 300 || res.status === 301 || res.status === 302 || res.status === 303 || (res.status >= 307 && res.status < 400))) return res;
    url = new URL(location, url).toString();
    if (res.status === 303) {
      verb = 'GET';
      payload = '';
    }
  }
}
function httpOnce(target, method, headers, body, timeoutMs) {
  let u;
  try {
    u = new URL(target);
  } catch {
    return Promise.resolve({ error: 'A valid URL was not provided.', duration_ms: 0 });
  }
  if (config.safe_urls && unsafeUrl(u)) return Promise.resolve({ error: 'A valid URL was not provided.', duration_ms: 0 });
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const payload = Buffer.from(body, 'utf8');
  const head = [`${method} ${u.pathname || '/'}${u.search} HTTP/1.0`, `Host: ${u.host}`, ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (method !== 'GET') head.push(`Content-Length: ${payload.length}`);
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks = [];
    let received = 0;
    let settled = false;
    const socket = u.protocol === 'https:'
      ? tls.connect({ host: u.hostname, port, servername: u.hostname, rejectUnauthorized: false })
      : net.connect({ host: u.hostname, port });
    const finish = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...result, duration_ms: Date.now() - started });
    };
    const parse = () => {
      const raw = Buffer.concat(chunks);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return null;
      const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
      const status = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(lines[0]);
      if (!status) return { error: 'cURL error 8: Weird server reply' };
      const resHeaders = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) resHeaders[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const content = raw.subarray(end + 4);
      return { status: Number(status[1]), headers: resHeaders, body: content.toString('utf8'), complete: resHeaders['content-length'] !== undefined && content.length >= Number(resHeaders['content-length']) };
    };
    const timer = setTimeout(() => finish({ error: `cURL error 28: Operation timed out after ${timeoutMs} milliseconds with ${received} bytes received` }), timeoutMs);
    socket.once(u.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      socket.write(`${head.join('\r\n')}\r\n\r\n`);
      if (payload.length) socket.write(payload);
    });
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      received += chunk.length;
      const parsed = parse();
      if (parsed?.complete) finish(parsed);
    });
    socket.on('end', () => finish(parse() ?? { error: `cURL error 52: Empty reply from server` }));
    socket.on('close', () => finish(parse() ?? { error: `cURL error 52: Empty reply from server` }));
    socket.on('error', (e) => finish({
      error: e.code === 'ECONNREFUSED' ? `cURL error 7: Failed to connect to ${u.hostname} port ${port} after ${Date.now() - started} ms: Couldn't connect to server` : `cURL error 56: ${e.message}`,
    }));
  });
}

/// For a demo (--demo true): a shopper checks out every 20 seconds and an order placed
/// earlier ships, so the webhooks (run every 5 s, as WP-Cron would) have news to bring.
function shopInTheBackground() {
  const simple = [...S.products.values()].filter((p) => p.type === 'simple' && p.status === 'publish' && p.stock_status === 'instock');
  const methods = ['iyzico', 'paytr', 'bacs', 'cod'];
  const post = (path, body) => fetch(`http://127.0.0.1:${listeningPort}/_mock/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  }).catch((e) => console.error(e));
  let placed = [];
  setInterval(async () => {
    const product = simple[Math.floor(Math.random() * simple.length)];
    const answer = await post('checkout', { line_items: [{ product_id: product.id, quantity: 1 + Math.floor(Math.random() * 2) }],
      payment_method: methods[Math.floor(Math.random() * methods.length)] });
    const order = await answer?.json();
    if (order?.id) placed.push(order.id);
    if (placed.length > 2) await post(`orders/${placed.shift()}`, { status: 'completed' });
  }, 20_000);
}

let autoTimer = null;
function scheduleAutoDelivery() {
  clearInterval(autoTimer);
  autoTimer = null;
  if (config.auto_deliver_ms > 0) {
    autoTimer = setInterval(() => {
      if (S.queue.length && !runner) runQueue().catch((e) => console.error(e));
    }, config.auto_deliver_ms);
  }
}

// ---------------------------------------------------------------------------------------------
// Faults a real store (or what stands in front of it) produces on demand.

function emptyFaults() {
  return { requests: [], deliveries: { drop: 0, duplicate: 0, stale: 0 }, reorder: null, gateway_refund_errors: 0, gateway_refund_message: '' };
}
const FAULT_KINDS = ['429', 'waf', '503', '500', '502', 'redirect', 'drop', 'slow', 'custom'];
function takeFault(method, pathAndQuery) {
  const list = S.faults.requests;
  const index = list.findIndex((f) => {
    if (!f.match) return true;
    const [m, rest] = /^[A-Z]+ /.test(f.match) ? [f.match.split(' ')[0], f.match.slice(f.match.indexOf(' ') + 1)] : [null, f.match];
    return (!m || m === method) && pathAndQuery.includes(rest);
  });
  if (index < 0) return null;
  const fault = list[index];
  fault.count -= 1;
  if (fault.count <= 0) list.splice(index, 1);
  return fault;
}
const CLOUDFLARE_PAGE = `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow"><meta name="viewport" content="width=device-width,initial-scale=1"></head><body><div class="main-wrapper" role="main"><div class="main-content"><noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and cookies to continue</span></div></noscript></div></div><script>(function(){window._cf_chl_opt={cvId: '3',cZone: 'shop.example',cType: 'managed'};}());</script></body></html>`;
const MAINTENANCE_PAGE = '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" /><title>Maintenance</title></head><body><h1>Briefly unavailable for scheduled maintenance. Check back in a minute.</h1></body></html>';
const nginxPage = (code, text) => `<html>\r\n<head><title>${code} ${text}</title></head>\r\n<body>\r\n<center><h1>${code} ${text}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;

/// Answers a REST request as the fault says; false when the request should go on.
async function answerFault(fault, req, res, url) {
  const html = (status, text, headers = {}) => send(res, status, text, { 'Content-Type': 'text/html; charset=UTF-8', Server: 'nginx', ...headers });
  switch (fault.kind) {
    case '429': return html(429, nginxPage(429, 'Too Many Requests'), { 'Retry-After': String(fault.retry_after ?? 30) });
    case 'waf': return html(403, CLOUDFLARE_PAGE, { Server: 'cloudflare', 'cf-mitigated': 'challenge', 'CF-RAY': `${randomBytes(8).toString('hex')}-IST`, 'Cache-Control': 'private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0', 'Cross-Origin-Opener-Policy': 'same-origin' });
    case '503': return html(503, MAINTENANCE_PAGE, { 'Retry-After': String(fault.retry_after ?? 600) });
    case '502': return html(502, nginxPage(502, 'Bad Gateway'));
    case '500': return send(res, 500, wpJsonEncode({ code: 'internal_server_error', message: '<p>There has been a critical error on this website.</p><p><a href="https://wordpress.org/documentation/article/faq-troubleshooting/">Learn more about troubleshooting WordPress.</a></p>', data: { status: 500 }, additional_errors: [] }), { 'Content-Type': 'application/json; charset=UTF-8' });
    case 'redirect': {
      const location = fault.location ?? `https://${req.headers.host ?? '127.0.0.1'}${url.pathname}${url.search}`;
      return send(res, fault.status ?? 301, '', { Location: location, 'X-Redirect-By': 'WordPress', 'Content-Type': 'text/html; charset=UTF-8' });
    }
    case 'drop':
      req.socket.destroy();
      return true;
    case 'slow':
      await sleep(fault.delay_ms ?? 5000);
      return false;
    case 'custom': return send(res, fault.status ?? 500, typeof fault.body === 'string' ? fault.body : wpJsonEncode(fault.body ?? {}), { 'Content-Type': typeof fault.body === 'string' ? 'text/html; charset=UTF-8' : 'application/json; charset=UTF-8', ...(fault.headers ?? {}) });
    default: return false;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP plumbing.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}
function send(res, status, text, headers = {}) {
  if (res.headersSent || res.destroyed) return true;
  res.writeHead(status, { ...headers, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
  return true;
}
const sendControl = (res, status, body) => send(res, status, JSON.stringify(body), { 'Content-Type': 'application/json; charset=utf-8' });

const wpHeaders = () => ({
  'Content-Type': 'application/json; charset=UTF-8', Server: 'nginx', 'X-Powered-By': `PHP/${config.php_version}`, 'X-Robots-Tag': 'noindex',
  Link: `<${restUrl('/')}>; rel="https://api.w.org/"`, 'X-Content-Type-Options': 'nosniff', 'Access-Control-Expose-Headers': 'X-WP-Total, X-WP-TotalPages, Link',
  'Access-Control-Allow-Headers': 'Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type', Expires: 'Wed, 11 Jan 1984 05:00:00 GMT',
  'Cache-Control': 'no-cache, must-revalidate, max-age=0, no-store, private', Vary: 'Origin',
});
const NOT_FOUND_PAGE = '<!doctype html><html lang="tr"><head><meta charset="UTF-8"><title>Sayfa bulunamadı &#8211; Backroom Demo Mağaza</title></head><body class="error404"><h1>Hay aksi! Bu sayfa bulunamadı.</h1></body></html>';

function logRequest(entry) {
  S.requests.push(entry);
  while (S.requests.length > config.request_log_limit) S.requests.shift();
}

async function handleRest(req, res, url, raw) {
  const started = Date.now();
  const entry = { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), auth: 'none', key: null, status: 0, at: new Date().toISOString() };
  // What a write sent (its start), for tests that check what reached the store.
  if (req.method !== 'GET' && raw) entry.body = String(raw).slice(0, 4096);
  logRequest(entry);
  const fault = takeFault(req.method, `${url.pathname}${url.search}`);
  if (fault) {
    entry.fault = fault.kind;
    if (await answerFault(fault, req, res, url)) {
      entry.status = fault.kind === 'drop' ? 0 : res.statusCode;
      return;
    }
  }
  if (config.latency_ms > 0) await sleep(config.latency_ms);

  let routePath = null;
  if (url.pathname === '/wp-json' || url.pathname.startsWith('/wp-json/')) routePath = url.pathname.slice('/wp-json'.length);
  else if ((url.pathname === '/' || url.pathname === '/index.php') && url.searchParams.has('rest_route')) routePath = url.searchParams.get('rest_route');
  if (routePath === null) {
    entry.status = 404;
    return send(res, 404, NOT_FOUND_PAGE, { 'Content-Type': 'text/html; charset=UTF-8', Server: 'nginx' });
  }
  routePath = `/${routePath.replace(/^\/+|\/+$/g, '')}`;

  const ctx = newContext();
  ctx.get = parsePhpQuery(url.search.slice(1));
  ctx.method = req.method;
  if (req.method === 'POST') {
    const override = req.headers['x-http-method-override'] ?? ctx.get.get('_method');
    if (typeof override === 'string' && override) ctx.method = override.toUpperCase();
  }
  const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
  ctx.jsonContent = contentType.startsWith('application/json');
  let body = {};
  const reply = (status, data, headers = {}, pretty = false) => {
    const text = wpJsonEncode(data, pretty);
    entry.status = status;
    entry.duration_ms = Date.now() - started;
    send(res, status, text, { ...wpHeaders(), ...headers });
    flushQueue(ctx);
  };
  const replyError = (e, headers = {}) => reply(errorStatus(e), errorBody(e), headers);
  try {
    if (raw && ctx.jsonContent) {
      try {
        body = JSON.parse(raw);
      } catch (e) {
        throw restError('rest_invalid_json', 'Invalid JSON body passed.', 400, { json_error_code: 4, json_error_message: 'Syntax error' });
      }
    } else if (raw && contentType.startsWith('application/x-www-form-urlencoded')) {
      ctx.form = parsePhpQuery(raw);
      body = Object.fromEntries([...ctx.form].map(([k, v]) => [k, plainParam(v)]));
    }
    const isWc = routePath.startsWith('/wc/') || routePath.startsWith('/wc-');
    if (isWc) {
      const auth = authenticate(req, url, ctx);
      entry.auth = auth.kind;
      entry.key = auth.key?.consumer_key ?? null;
      if (auth.error) throw auth.error;
      if (auth.key) {
        const denied = keyPermission(auth.key, ctx.method);
        if (denied) throw denied;
        auth.key.last_access = new Date(nowSec() * 1000).toISOString();
        ctx.key = auth.key;
      }
    }
    let matched = null;
    let groups = {};
    for (const r of ROUTES) {
      const m = r.regex.exec(routePath);
      if (m) {
        matched = r;
        groups = { ...(m.groups ?? {}) };
        break;
      }
    }
    const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
    if (!matched || (!matched.handlers[method] && method !== 'OPTIONS')) throw restError('rest_no_route', 'No route was found matching the URL and request method.', 404);
    const allow = { Allow: Object.keys(matched.handlers).join(', ') };
    if (method === 'OPTIONS') return reply(200, { ...routeIndexEntry(matched), schema: null }, allow);
    const plainGet = Object.fromEntries([...ctx.get].map(([k, v]) => [k, plainParam(v)]));
    const params = { ...groups, ...plainGet, ...(body && typeof body === 'object' && !Array.isArray(body) ? body : {}) };
    const [permission, specs, fn] = matched.handlers[method];
    const q = parseArgs(specs ?? {}, params);
    if (permission && !ctx.key) {
      const [code, message] = DENIED[permission];
      throw restError(code, message, 401);
    }
    const result = await fn(q, { ...params, ...q }, ctx);
    const headers = { ...allow, ...(result.headers ?? {}) };
    let data;
    if (result.items) {
      if (config.page_latency_ms > 0) await sleep(config.page_latency_ms);
      data = result.items.map(({ data: d, links }) => (links ? { ...d, _links: links } : d));
      if (result.paging) {
        headers['X-WP-Total'] = String(result.paging.total);
        headers['X-WP-TotalPages'] = String(result.paging.pages);
        const links = pageLinks(ctx, result.path, result.paging.page, result.paging.pages);
        if (links) headers.Link = links;
      }
      if (params._fields !== undefined) data = filterFields(data, params._fields);
    } else {
      data = params._fields !== undefined ? filterFields(result.data, params._fields) : result.data;
      if (result.links && data && !Array.isArray(data)) data = { ...data, _links: result.links };
    }
    return reply(result.status ?? 200, data, headers, params._pretty !== undefined);
  } catch (e) {
    if (e instanceof RestError) return replyError(e);
    console.error(e);
    return replyError(restError('internal_server_error', '<p>There has been a critical error on this website.</p>', 500));
  }
}

// ---------------------------------------------------------------------------------------------
// The control API (no authentication): state, configuration, seeding, keys, faults, the
// delivery runner, and changes made "in wp-admin".

function storeCounts() {
  const O = S.orders;
  const byStatus = {};
  let live = 0;
  for (let s = 0; s < O.count; s++) {
    const c = O.status[s];
    if (c === DELETED) continue;
    live++;
    const name = c === TRASH ? 'trash' : ORDER_STATUSES[c];
    byStatus[name] = (byStatus[name] ?? 0) + 1;
  }
  return {
    orders: live, orders_by_status: byStatus, orders_generated: O.gen, orders_changed: O.records.size, first_order_id: O.base, last_order_id: O.count ? slotId(O.count - 1) : null,
    products: S.products.size, variations: S.variations.size, coupons: S.coupons.size,
    customers: S.customers.count + S.customers.created.size - S.customers.deleted.size, webhooks: S.webhooks.size, pending_deliveries: S.queue.length,
  };
}
const webhookState = (w) => ({
  id: w.id, name: w.name, status: w.status, topic: w.topic, delivery_url: w.delivery_url, secret: w.secret, failure_count: w.failure_count,
  pending_delivery: w.pending_delivery, api_version: w.api_version, user_id: w.user_id, date_created_gmt: dateGmt(w.created), date_modified_gmt: dateGmt(w.modified),
});
const keyState = (k) => ({ key_id: k.key_id, user_id: k.user_id, description: k.description, permissions: k.permissions, consumer_key: k.consumer_key, consumer_secret: k.consumer_secret, last_access: k.last_access });

function state(url) {
  const limit = (name, fallback) => (url.searchParams.has(name) ? Number(url.searchParams.get(name)) : fallback);
  const d = limit('deliveries', 100);
  const r = limit('requests', 200);
  return {
    config: { ...config, home_url: homeUrl() }, seed: { ...S.params, anchor: dateGmt(S.anchor) }, counts: storeCounts(),
    webhooks: [...S.webhooks.values()].map(webhookState),
    queue: S.queue.map((a) => ({ action_id: a.action_id, webhook_id: a.webhook_id, topic: S.webhooks.get(a.webhook_id)?.topic ?? null, arg: a.arg, scheduled_gmt: dateGmt(a.scheduled), coalesced: a.coalesced })),
    coalesced: S.coalesced, deliveries: d > 0 ? S.deliveries.slice(-d) : [], requests: r > 0 ? S.requests.slice(-r) : [], faults: S.faults,
    keys: [...keys.values()].map(keyState), memory_rss: process.memoryUsage().rss,
  };
}

const CONFIG_TYPES = {
  home_url: 'string?', is_ssl: 'boolean', strip_authorization: 'boolean', trust_forwarded_proto: 'boolean', latency_ms: 'number', page_latency_ms: 'number',
  wc_version: 'string', wp_version: 'string', php_version: 'string', mysql_version: 'string', currency: 'string', currency_symbol: 'string', timezone: 'string',
  prices_include_tax: 'boolean', hpos: 'boolean', hpos_sync: 'boolean', wp_cron: 'boolean', deliver_async: 'boolean', auto_deliver_ms: 'number',
  max_delivery_failures: 'number', delivery_timeout_ms: 'number', ping_timeout_ms: 'number', safe_urls: 'boolean', rest_trash_crossfire: 'boolean', now: 'string?',
  request_log_limit: 'number', delivery_log_limit: 'number', storefront_backroom: 'string?', checkout: 'string',
};
function applyConfig(body) {
  for (const [key, value] of Object.entries(body ?? {})) {
    const type = CONFIG_TYPES[key];
    if (!type) throw new Error(`unknown setting ${key}`);
    if (type.endsWith('?') && value === null) {
      config[key] = null;
      continue;
    }
    if (typeof value !== type.replace('?', '')) throw new Error(`${key} must be a ${type.replace('?', '')}`);
    if (key === 'timezone') setTimezone(value);
    if (key === 'now' && Number.isNaN(Date.parse(value))) throw new Error('now must be an ISO date');
    config[key] = value;
  }
  scheduleAutoDelivery();
}

function applyFaults(body) {
  if (body.clear) {
    S.faults = emptyFaults();
  }
  for (const f of body.requests ?? []) {
    if (!FAULT_KINDS.includes(String(f.kind))) throw new Error(`unknown fault kind ${f.kind}; one of ${FAULT_KINDS.join(', ')}`);
    S.faults.requests.push({ ...f, kind: String(f.kind), count: Number(f.count ?? 1) });
  }
  for (const k of ['drop', 'duplicate', 'stale']) if (body.deliveries?.[k] !== undefined) S.faults.deliveries[k] = Number(body.deliveries[k]);
  if (body.deliveries?.reorder !== undefined) S.faults.reorder = body.deliveries.reorder;
  if (body.gateway_refund_errors !== undefined) S.faults.gateway_refund_errors = Number(body.gateway_refund_errors);
  if (body.gateway_refund_message !== undefined) S.faults.gateway_refund_message = String(body.gateway_refund_message);
}

/// wp-admin changes: the admin context makes trash hooks carry their post type.
async function adminChange(res, fn) {
  const ctx = newContext({ admin: true });
  ctx.key = [...keys.values()][0];
  try {
    const result = await fn(ctx);
    flushQueue(ctx);
    return sendControl(res, 200, result);
  } catch (e) {
    flushQueue(ctx);
    if (e instanceof RestError) return sendControl(res, errorStatus(e), errorBody(e));
    throw e;
  }
}
const view = (r) => (r.items ? r.items.map(({ data, links }) => ({ ...data, _links: links })) : r.links ? { ...r.data, _links: r.links } : r.data);

async function adminObject(req, res, kind, id, action, body) {
  const q = { force: false, dp: 2 };
  const existsOr404 = (ok) => {
    if (!ok) throw restError('not_found', `no ${kind} ${id}`, 404);
  };
  return adminChange(res, async (ctx) => {
    if (kind === 'orders') {
      if (!id && req.method === 'POST') {
        const { rec } = newOrder({ created_via: 'admin', ...body, manual_update: body.manual_update ?? true }, ctx, { via: 'admin' });
        return { ...renderOrder(rec), _links: orderLinks(rec) };
      }
      const slot = orderSlot(id);
      existsOr404(slot >= 0);
      if (req.method === 'GET') return view(getOrder(q, { id }));
      if (req.method === 'DELETE') return renderOrder(deleteOrderForGood(slot, ctx));
      if (action === 'trash') return renderOrder(trashOrder(slot, ctx));
      if (action === 'untrash') return renderOrder(untrashOrder(slot, ctx));
      if (action === 'notes') {
        const rec = touchOrder(slot);
        const note = addNote(rec, String(body.note ?? ''), { customer: Boolean(body.customer_note), author: 'Elif Şahin' });
        S.version++;
        return renderNote(note);
      }
      if (action === 'refunds') {
        const rec = touchOrder(slot);
        const refund = createRefund(slot, rec, {
          amount: body.amount, reason: body.reason ?? '', refund_payment: Boolean(body.api_refund), restock_items: body.api_restock !== false, meta: body.meta_data ?? [],
          line_items: (body.line_items ?? []).map((i) => ({ id: i.id, qty: i.quantity ?? 0, refund_total: i.refund_total, refund_tax: Object.fromEntries((i.refund_tax ?? []).map((t) => [t.id, t.refund_total])) })),
        }, ctx);
        return renderRefund(refund);
      }
      const rec = editOrder(slot, { manual_update: true, ...body }, ctx);
      if (body.note) addNote(rec, String(body.note), { customer: Boolean(body.note_to_customer), author: 'Elif Şahin' });
      return { ...renderOrder(rec), _links: orderLinks(rec) };
    }
    if (kind === 'products') {
      if (!id && req.method === 'POST') return view(createProduct(q, body, ctx, { admin: true }));
      const product = S.products.get(Number(id));
      const variation = S.variations.get(Number(id));
      existsOr404(product || variation);
      if (req.method === 'GET') return view(getProduct(q, { id }));
      if (variation) {
        if (req.method === 'DELETE') return view(deleteVariation({ force: true }, { id, product_id: variation.parent_id }, ctx));
        if (action === 'trash') return view(deleteVariation({ force: false }, { id, product_id: variation.parent_id }, ctx));
        return view(updateVariation(q, { ...body, id, product_id: variation.parent_id }, ctx));
      }
      if (req.method === 'DELETE') return view(deleteProduct({ force: true }, { id }, ctx));
      if (action === 'trash') return view(deleteProduct({ force: false }, { id }, ctx));
      if (action === 'untrash') {
        restoreProduct(product, ctx);
        return view(getProduct(q, { id }));
      }
      const r = updateProduct(q, { ...body, id }, ctx);
      fire(ctx, 'woocommerce_process_product_meta', product.id);
      return view(r);
    }
    if (kind === 'coupons') {
      if (!id && req.method === 'POST') return view(createCoupon(q, body, ctx, { admin: true }));
      const coupon = S.coupons.get(Number(id));
      existsOr404(coupon);
      if (req.method === 'GET') return view(getCoupon(q, { id }));
      if (req.method === 'DELETE') return view(deleteCoupon({ force: true }, { id }, ctx));
      if (action === 'trash') return view(deleteCoupon({ force: false }, { id }, ctx));
      if (action === 'untrash') {
        restoreCoupon(coupon, ctx);
        return view(getCoupon(q, { id }));
      }
      return view(updateCoupon(q, { ...body, id }, ctx));
    }
    if (kind === 'customers') {
      if (!id && req.method === 'POST') return view(createCustomer(q, body, ctx));
      existsOr404(customerRecord(Number(id)));
      if (req.method === 'GET') return view(getCustomer(q, { id }));
      if (req.method === 'DELETE') return view(deleteCustomer({ force: true }, { id: Number(id) }, ctx));
      return view(updateCustomer(q, { ...body, id: Number(id) }, ctx));
    }
    throw restError('not_found', `no such control resource ${kind}`, 404);
  });
}

/// A shopper at the block checkout: a checkout-draft order, then (unless `draft`) the
/// gateway's outcome: card payments to processing, bank transfer to on-hold, COD processing.
async function checkout(res, body) {
  return adminChange(res, async (ctx) => {
    ctx.admin = false;
    const rec = shopperOrder(body, ctx);
    return { ...renderOrder(rec), _links: orderLinks(rec) };
  });
}

/// The order a shopper's checkout places (see `checkout`).
function shopperOrder(body, ctx) {
  {
    const { slot, rec } = newOrder({ ...body, status: 'checkout-draft', created_via: 'store-api' }, ctx, { via: 'store-api' });
    if (!body.draft) {
      const method = rec.payment_method || 'iyzico';
      rec.payment_method = method;
      rec.payment_method_title = GATEWAYS[method]?.title ?? method;
      rec.cart_hash = randomBytes(16).toString('hex');
      if (method === 'bacs') setOrderStatus(slot, rec, 'on-hold', ctx, { note: 'Havale/EFT ödemesi bekleniyor' });
      else if (method === 'cod') setOrderStatus(slot, rec, 'processing', ctx, { note: 'Kapıda ödeme.' });
      else {
        rec.transaction_id = String(10000000 + Math.floor(Math.random() * 89999999));
        setOrderStatus(slot, rec, 'pending', ctx);
        paymentComplete(slot, rec, rec.transaction_id, ctx);
      }
      commitOrder(slot, rec);
      fire(ctx, 'woocommerce_update_order', rec.id);
    }
    return rec;
  }
}

const storefront = createStorefront({
  config,
  homeUrl,
  products: () => [...S.products.values()].filter((p) => p.status === 'publish' && p.type === 'simple').slice(0, 8),
  sellable: (id) => sellableFor({ product_id: id }),
  unitPrice: (source) => toKurus(source.sale_price || source.regular_price) ?? 0,
  stockLeft: (product, variation) => {
    const own = variation && variation.manage_stock ? variation : !variation || product.manage_stock ? product : variation;
    if ((variation ?? product).stock_status === 'outofstock') return 0;
    return own.manage_stock ? Math.max(0, own.stock_quantity ?? 0) : null;
  },
  couponByCode: (code) => couponByCode(code),
  couponProblem: (coupon, code, rec) => couponProblem(coupon, code, rec),
  checkout: (body) => {
    const ctx = newContext({ admin: false });
    ctx.key = [...keys.values()][0];
    try {
      return renderOrder(shopperOrder(body, ctx));
    } finally {
      flushQueue(ctx);
    }
  },
  restError,
  errorStatus,
  errorBody,
  isRestError: (e) => e instanceof RestError,
});

async function control(req, res, url) {
  const path = url.pathname;
  let body = {};
  const raw = await readBody(req);
  if (raw) {
    try {
      body = JSON.parse(raw);
    } catch {
      return sendControl(res, 400, { error: 'the control body is not JSON' });
    }
  }
  try {
    if (req.method === 'GET' && path === '/_mock/state') return sendControl(res, 200, state(url));
    if (req.method === 'POST' && path === '/_mock/reset') {
      seedStore(S.params);
      storefront.reset();
      scheduleAutoDelivery();
      return sendControl(res, 200, { ok: true, counts: storeCounts() });
    }
    if (req.method === 'POST' && path === '/_mock/config') {
      applyConfig(body);
      return sendControl(res, 200, { ...config, home_url: homeUrl() });
    }
    if (req.method === 'POST' && path === '/_mock/seed') {
      const started = Date.now();
      seedStore({ ...S.params, ...body });
      return sendControl(res, 200, { ok: true, seed: { ...S.params, anchor: dateGmt(S.anchor) }, counts: storeCounts(), took_ms: Date.now() - started });
    }
    if (req.method === 'GET' && path === '/_mock/keys') return sendControl(res, 200, [...keys.values()].map(keyState));
    if (req.method === 'POST' && path === '/_mock/keys') {
      if (body.permissions !== undefined && !['read', 'write', 'read_write'].includes(body.permissions)) return sendControl(res, 400, { error: 'permissions is read, write or read_write' });
      const existing = body.consumer_key ? keys.get(body.consumer_key) : null;
      if (existing) {
        if (body.permissions) existing.permissions = body.permissions;
        if (body.consumer_secret) existing.consumer_secret = body.consumer_secret;
        if (body.description) existing.description = body.description;
        return sendControl(res, 200, keyState(existing));
      }
      return sendControl(res, 201, keyState(addKey(body)));
    }
    const keyPath = /^\/_mock\/keys\/(.+)$/.exec(path);
    if (req.method === 'DELETE' && keyPath) {
      const ok = keys.delete(decodeURIComponent(keyPath[1]));
      return sendControl(res, ok ? 200 : 404, { deleted: ok });
    }
    if (req.method === 'GET' && path === '/_mock/faults') return sendControl(res, 200, S.faults);
    if (req.method === 'POST' && path === '/_mock/faults') {
      applyFaults(body);
      return sendControl(res, 200, S.faults);
    }
    if (req.method === 'POST' && path === '/_mock/deliver') {
      const results = await runQueue(body.limit ?? Infinity);
      return sendControl(res, 200, { delivered: results.length, results, pending: S.queue.length });
    }
    if (req.method === 'POST' && path === '/_mock/checkout') return checkout(res, body);
    const webhook = /^\/_mock\/webhooks\/(\d+)$/.exec(path);
    if (webhook && req.method === 'POST') {
      // The admin's webhook screen (WooCommerce → Settings → Advanced → Webhooks): Active,
      // Paused or Disabled by hand.
      const w = S.webhooks.get(Number(webhook[1]));
      if (!w) return sendControl(res, 404, { error: `no webhook ${webhook[1]}` });
      if (body.status) w.status = String(body.status);
      await saveWebhook(w);
      return sendControl(res, 200, renderWebhook(w));
    }
    const object = /^\/_mock\/(orders|products|coupons|customers)(?:\/(\d+))?(?:\/(trash|untrash|notes|refunds))?$/.exec(path);
    if (object) return adminObject(req, res, object[1], object[2], object[3], body);
    return sendControl(res, 404, { error: `no control ${req.method} ${path}` });
  } catch (e) {
    if (e instanceof RestError) return sendControl(res, errorStatus(e), errorBody(e));
    return sendControl(res, 400, { error: e.message });
  }
}

// ---------------------------------------------------------------------------------------------

setTimezone(config.timezone);
seedStore({});

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://stand-in');
  const work = url.pathname.startsWith('/_mock/')
    ? control(req, res, url)
    : readBody(req).then(async (raw) => (await storefront.handle(req, res, url, raw)) || handleRest(req, res, url, raw));
  work.catch((e) => {
    console.error(e);
    if (!res.headersSent) sendControl(res, 500, { error: e.message });
  });
});
server.keepAliveTimeout = 60_000;

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  if (flag(args.demo)) config.auto_deliver_ms = 5_000;
  server.listen(Number(args.port ?? 0), '127.0.0.1', () => {
    listeningPort = server.address().port;
    scheduleAutoDelivery();
    if (flag(args.demo)) shopInTheBackground();
    console.log(`listening ${server.address().port}`);
  });
  const stop = () => {
    clearInterval(autoTimer);
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
