// The stand-in store's storefront (part of woo_mock.mjs): the pages a shopper sees and the
// Store API their browser calls, enough for Backroom's storefront snippet to be tested in a
// real browser on classic and block checkout. What WooCommerce's source says, and the
// stand-in follows (reference: plugins/woocommerce/src/StoreApi):
//   GET  /wp-json/wc/store/v1/cart              the session's cart; prices are strings in minor
//                                               units; every cart answer carries a Nonce header
//   POST /wp-json/wc/store/v1/cart/add-item     { id, quantity } -> 201 and the cart; the
//                                               quantity adds to a line already there
//   POST /wp-json/wc/store/v1/cart/apply-coupon { code } -> the cart
//   POST /wp-json/wc/store/v1/checkout          { billing_address, payment_method } -> the order
//   Cart writes need the Nonce header: missing 401 woocommerce_rest_missing_nonce, wrong 403
//   woocommerce_rest_invalid_nonce. A product not found 400 woocommerce_rest_cart_invalid_product,
//   out of stock 400 woocommerce_rest_product_out_of_stock, not enough 400
//   woocommerce_rest_product_partially_out_of_stock; coupon refusals 400
//   woocommerce_rest_cart_coupon_error (a coupon for certain e-mails is refused until the
//   session has a matching billing e-mail, as since WooCommerce 8.6).
//   The session is the cookie wp_woocommerce_session_<hash>, set with the first cart write.
// Pages: / (the shop, with "add to cart" buttons), /cart/, /checkout/ (classic: fields
// #billing_first_name, #billing_last_name, #billing_phone, #billing_email rendered by the
// server; block: #email, #shipping-first_name, #shipping-last_name, #shipping-phone rendered by
// script after load). An empty cart's checkout redirects to /cart/ without the query string.
// Each page links the REST root (<link rel="https://api.w.org/">) and, when configured, loads
// Backroom's snippet (config storefront_backroom: Backroom's address).
import { createHash, randomBytes } from 'node:crypto';

const STORE = '/wp-json/wc/store/v1';
const SESSION_COOKIE = (home) => `wp_woocommerce_session_${createHash('md5').update(home).digest('hex')}`;
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#039;' })[c]);

/// `shop`: what the storefront needs of the store —
///   config, homeUrl(), sellable(id) -> { product, variation }, unitPrice(source) (minor units),
///   stockLeft(product, variation) (null: not tracked), couponByCode(code),
///   couponProblem(coupon, code, { lines, billing }), checkout(body) -> the REST order (or throws),
///   restError(code, message, status), errorStatus(e), errorBody(e), isRestError(e).
export function createStorefront(shop) {
  const sessions = new Map(); // session id -> { lines: [{ key, id, quantity }], coupons: [code], email }
  const nonceSecret = randomBytes(16).toString('hex');
  // WordPress nonces of logged-out visitors do not depend on the session.
  const nonce = () => createHash('sha256').update(`${nonceSecret}wc_store_api`).digest('hex').slice(0, 10);

  const sessionOf = (req, create) => {
    const name = SESSION_COOKIE(shop.homeUrl());
    const cookie = String(req.headers.cookie ?? '').split(/;\s*/).find((c) => c.startsWith(`${name}=`));
    const id = cookie ? decodeURIComponent(cookie.slice(name.length + 1)).split('||')[0] : null;
    if (id && sessions.has(id)) return { id, session: sessions.get(id), set: null };
    if (!create) return { id: null, session: { lines: [], coupons: [], email: '' }, set: null };
    const fresh = `t_${randomBytes(15).toString('hex')}`;
    sessions.set(fresh, { lines: [], coupons: [], email: '' });
    const expires = Math.floor(Date.now() / 1000) + 48 * 3600;
    const value = encodeURIComponent(`${fresh}||${expires}||${expires - 3600}||${randomBytes(16).toString('hex')}`);
    return { id: fresh, session: sessions.get(fresh), set: `${name}=${value}; Path=/; HttpOnly; SameSite=Lax` };
  };

  const nameOf = ({ product, variation }) => (variation ? `${product.name} - ${variation.attributes.map((a) => a.option).join(', ')}` : product.name);
  const money = (minor) => ({ currency_code: shop.config.currency, currency_symbol: shop.config.currency_symbol, currency_minor_unit: 2, currency_decimal_separator: ',', currency_thousand_separator: '.', currency_prefix: '', currency_suffix: ` ${shop.config.currency_symbol}`, ...minor });

  /// The cart as the Store API shows it (and the lines the order would get).
  function renderCart(session) {
    let subtotal = 0;
    const items = session.lines.map((line) => {
      const found = shop.sellable(line.id);
      const unit = shop.unitPrice(found.variation ?? found.product);
      subtotal += unit * line.quantity;
      return {
        key: line.key, id: line.id, quantity: line.quantity, name: nameOf(found), sku: (found.variation ?? found.product).sku,
        prices: money({ price: String(unit), regular_price: String(unit), sale_price: String(unit) }),
        totals: money({ line_subtotal: String(unit * line.quantity), line_total: String(unit * line.quantity) }),
      };
    });
    let discount = 0;
    const coupons = session.coupons.map((code) => {
      const coupon = shop.couponByCode(code);
      const off = coupon.discount_type === 'percent' ? Math.round((subtotal - discount) * (Number(coupon.amount) / 100)) : Math.min(subtotal - discount, Math.round(Number(coupon.amount) * 100));
      discount += off;
      return { code, discount_type: coupon.discount_type, totals: money({ total_discount: String(off), total_discount_tax: '0' }) };
    });
    return {
      // The Store API's cart carries the shopper's addresses; the e-mail is the part used here.
      billing_address: { email: session.email },
      items, coupons, fees: [], items_count: items.reduce((n, i) => n + i.quantity, 0), needs_payment: items.length > 0, needs_shipping: items.length > 0, errors: [],
      totals: money({ total_items: String(subtotal), total_discount: String(discount), total_shipping: '0', total_price: String(subtotal - discount), total_tax: '0' }),
    };
  }

  function addItem(session, body) {
    const id = Number(body.id);
    const quantity = Math.max(1, parseInt(body.quantity ?? 1, 10) || 1);
    const found = shop.sellable(id);
    const item = found.variation ?? found.product;
    if (!item || item.status !== 'publish' || (found.variation && found.product?.status !== 'publish')) {
      throw shop.restError('woocommerce_rest_cart_invalid_product', `Product with ID "${id}" was not found and cannot be added to the cart.`, 400);
    }
    if (!found.variation && found.product.type === 'variable') {
      throw shop.restError('woocommerce_rest_product_not_purchasable', `&quot;${found.product.name}&quot; is not available for purchase.`, 400);
    }
    const name = nameOf(found);
    const left = shop.stockLeft(found.product, found.variation);
    const line = session.lines.find((l) => l.id === id);
    const wanted = quantity + (line?.quantity ?? 0);
    if (left === 0) throw shop.restError('woocommerce_rest_product_out_of_stock', `You cannot add &quot;${name}&quot; to the cart because the product is out of stock.`, 400);
    if (left !== null && wanted > left) {
      throw shop.restError('woocommerce_rest_product_partially_out_of_stock', `You cannot add that amount of &quot;${name}&quot; to the cart because there is not enough stock (${left} remaining).`, 400);
    }
    if (line) line.quantity = wanted;
    else session.lines.push({ key: createHash('md5').update(`${id}-${session.lines.length}`).digest('hex'), id, quantity });
  }

  function applyCoupon(session, body) {
    const code = String(body.code ?? '').trim().toLowerCase();
    const refuse = (message) => shop.restError('woocommerce_rest_cart_coupon_error', message, 400);
    const coupon = shop.couponByCode(code);
    if (!coupon) throw refuse(`Coupon "${code}" does not exist!`);
    if (session.coupons.includes(code)) throw refuse(`Coupon code "${code}" has already been applied.`);
    const lines = session.lines.map((l) => ({ unit: shop.unitPrice(shop.sellable(l.id).variation ?? shop.sellable(l.id).product), quantity: l.quantity }));
    if (coupon.email_restrictions.length && !session.email) throw refuse(`Please enter a valid email at checkout to use coupon code "${code}".`);
    const problem = shop.couponProblem(coupon, code, { lines, billing: { email: session.email } });
    if (problem) throw refuse(problem);
    if (coupon.individual_use) session.coupons = [];
    session.coupons.push(code);
  }

  function placeOrder(session, body) {
    if (!session.lines.length) throw shop.restError('woocommerce_rest_cart_empty', 'Cannot create order from empty cart.', 400);
    const billing = body.billing_address ?? {};
    const order = shop.checkout({
      line_items: session.lines.map((l) => ({ product_id: l.id, quantity: l.quantity })),
      billing, shipping: body.shipping_address ?? billing, payment_method: body.payment_method || 'iyzico',
      coupon_lines: session.coupons.map((code) => ({ code })),
    });
    session.lines = [];
    session.coupons = [];
    return { order_id: order.id, status: order.status, order_key: order.order_key, billing_address: order.billing, payment_result: { payment_status: 'success', redirect_url: `${shop.homeUrl()}/checkout/order-received/${order.id}/` } };
  }

  async function storeApi(req, res, path, raw) {
    const json = (status, body, headers = {}) => {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', Nonce: nonce(), 'Nonce-Timestamp': String(Math.floor(Date.now() / 1000)), ...headers });
      res.end(JSON.stringify(body));
    };
    const writing = req.method !== 'GET';
    try {
      const body = raw ? JSON.parse(raw) : {};
      if (writing) {
        const given = req.headers.nonce;
        if (!given) throw shop.restError('woocommerce_rest_missing_nonce', 'Missing the Nonce header. This endpoint requires a valid nonce.', 401);
        if (given !== nonce()) throw shop.restError('woocommerce_rest_invalid_nonce', 'Nonce is invalid.', 403);
      }
      const { session, set } = sessionOf(req, writing);
      const headers = set ? { 'Set-Cookie': set } : {};
      if (req.method === 'GET' && path === '/cart') return json(200, renderCart(session), headers);
      if (req.method === 'POST' && path === '/cart/add-item') {
        addItem(session, body);
        return json(201, renderCart(session), headers);
      }
      if (req.method === 'POST' && path === '/cart/apply-coupon') {
        applyCoupon(session, body);
        return json(200, renderCart(session), headers);
      }
      if (req.method === 'POST' && path === '/cart/update-customer') {
        session.email = String(body.billing_address?.email ?? session.email).trim().toLowerCase();
        return json(200, renderCart(session), headers);
      }
      if (req.method === 'POST' && path === '/checkout') return json(200, placeOrder(session, body), headers);
      return json(404, { code: 'rest_no_route', message: 'No route was found matching the URL and request method.', data: { status: 404 } });
    } catch (e) {
      if (e instanceof SyntaxError) return json(400, { code: 'rest_invalid_json', message: 'Invalid JSON body passed.', data: { status: 400 } });
      if (!shop.isRestError(e)) throw e;
      return json(shop.errorStatus(e), shop.errorBody(e));
    }
  }

  const layout = (title, main) => {
    const home = shop.homeUrl();
    const backroom = shop.config.storefront_backroom;
    const snippet = backroom ? `<script src="${escapeHtml(backroom)}/whatsapp-capture.js" data-backroom="${escapeHtml(backroom)}" async></script>` : '';
    return `<!DOCTYPE html>
<html lang="tr">
<head><meta charset="utf-8"><title>${escapeHtml(title)} – Örnek Mağaza</title><link rel="https://api.w.org/" href="${home}/wp-json/"></head>
<body>
<header><nav aria-label="Mağaza"><a href="${home}/">Mağaza</a> <a href="${home}/cart/">Sepet</a> <a href="${home}/checkout/">Ödeme</a></nav></header>
<main><h1>${escapeHtml(title)}</h1><div class="woocommerce-notices-wrapper"></div>
${main}
</main>
<script>
window.storeApi = async (path, body) => {
  const cart = await fetch('${STORE}/cart', { credentials: 'same-origin' });
  const answer = await fetch('${STORE}' + path, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', Nonce: cart.headers.get('Nonce') }, body: JSON.stringify(body) });
  return { status: answer.status, body: await answer.json() };
};
</script>
${snippet}
</body>
</html>`;
  };

  const SHOPPER_SCRIPT = (kind) => `<script>
(function () {
  const place = document.getElementById('place_order');
  place?.addEventListener('click', async (event) => {
    event.preventDefault();
    const value = (id) => document.getElementById(id)?.value ?? '';
    const billing = ${kind === 'block'
      ? "{ email: value('email'), first_name: value('shipping-first_name'), last_name: value('shipping-last_name'), phone: value('shipping-phone') }"
      : "{ email: value('billing_email'), first_name: value('billing_first_name'), last_name: value('billing_last_name'), phone: value('billing_phone') }"};
    const { status, body } = await window.storeApi('/checkout', { billing_address: billing, payment_method: 'iyzico' });
    document.getElementById('checkout-result').textContent = status === 200 ? 'Siparişiniz alındı: #' + body.order_id : body.message;
  });
})();
</script>`;

  function cartSummary(cart) {
    const rows = cart.items.map((i) => `<tr class="cart_item"><td class="product-name">${escapeHtml(i.name)}</td><td class="product-quantity">× ${i.quantity}</td></tr>`).join('');
    const coupons = cart.coupons.map((c) => `<tr class="cart-discount"><td>Kupon: ${escapeHtml(c.code)}</td><td>-${Number(c.totals.total_discount) / 100}</td></tr>`).join('');
    return `<table class="shop_table"><caption>Siparişiniz</caption><tbody>${rows}${coupons}</tbody><tfoot><tr><th scope="row">Toplam</th><td>${Number(cart.totals.total_price) / 100} ${escapeHtml(shop.config.currency_symbol)}</td></tr></tfoot></table>`;
  }

  function page(req, res, path) {
    const html = (body) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=UTF-8' });
      res.end(body);
      return true;
    };
    const { session } = sessionOf(req, false);
    const cart = renderCart(session);
    if (path === '/' || path === '/shop/') {
      const buttons = shop.products().map((p) => `<li><span>${escapeHtml(p.name)}</span> <button type="button" data-add="${p.id}">Sepete ekle: ${escapeHtml(p.name)}</button></li>`).join('');
      return html(layout('Mağaza', `<ul class="products">${buttons}</ul><p id="added" role="status"></p>
<script>
document.querySelectorAll('[data-add]').forEach((button) => button.addEventListener('click', async () => {
  const { status, body } = await window.storeApi('/cart/add-item', { id: Number(button.dataset.add), quantity: 1 });
  document.getElementById('added').textContent = status === 201 ? 'Sepete eklendi (' + body.items_count + ')' : body.message;
}));
</script>`));
    }
    if (path === '/cart/') {
      return html(layout('Sepet', cart.items.length ? `${cartSummary(cart)}<a href="${shop.homeUrl()}/checkout/">Ödemeye geç</a>` : '<p class="cart-empty">Sepetiniz şu anda boş.</p>'));
    }
    if (path === '/checkout/') {
      if (!cart.items.length) {
        res.writeHead(302, { Location: `${shop.homeUrl()}/cart/` });
        res.end();
        return true;
      }
      if (shop.config.checkout === 'block') {
        return html(layout('Ödeme', `<div class="wp-block-woocommerce-checkout" data-block-name="woocommerce/checkout"></div><p id="checkout-result" role="status"></p>
<script>
// As the Checkout block does: the form is drawn by script once the page has loaded.
setTimeout(async () => {
  const cart = await (await fetch('${STORE}/cart', { credentials: 'same-origin' })).json();
  const field = (id, label, type) => '<div class="wc-block-components-text-input"><input type="' + type + '" id="' + id + '" autocomplete="off"><label for="' + id + '">' + label + '</label></div>';
  const items = cart.items.map((i) => '<div class="wc-block-components-order-summary-item">' + i.name.replace(/</g, '&lt;') + ' × ' + i.quantity + '</div>').join('');
  document.querySelector('.wp-block-woocommerce-checkout').innerHTML =
    '<form class="wc-block-checkout__form"><fieldset id="contact-fields"><legend>İletişim bilgileri</legend>' + field('email', 'E-posta adresi', 'email') + '</fieldset>' +
    '<fieldset id="shipping-fields"><legend>Teslimat adresi</legend>' + field('shipping-first_name', 'Ad', 'text') + field('shipping-last_name', 'Soyad', 'text') + field('shipping-phone', 'Telefon', 'tel') + '</fieldset>' +
    '<button type="button" id="place_order">Siparişi onayla</button></form><div class="wc-block-components-order-summary">' + items + '</div>';
  ${SHOPPER_SCRIPT('block').replace(/<\/?script>/g, '')}
}, 300);
</script>`));
      }
      // As WooCommerce fills the checkout from the shopper's session (the e-mail given to it).
      const row = (id, label, type, value = '') => `<p class="form-row" id="${id}_field"><label for="${id}">${label}</label><input type="${type}" class="input-text" name="${id}" id="${id}" value="${escapeHtml(value)}"></p>`;
      return html(layout('Ödeme', `<form name="checkout" method="post" class="checkout woocommerce-checkout"><div id="customer_details"><h2>Fatura detayları</h2>
${row('billing_first_name', 'Ad', 'text')}${row('billing_last_name', 'Soyad', 'text')}${row('billing_phone', 'Telefon', 'tel')}${row('billing_email', 'E-posta adresi', 'email', session.email)}</div>
<div id="order_review">${cartSummary(cart)}</div><button type="submit" id="place_order">Siparişi onayla</button></form><p id="checkout-result" role="status"></p>
${SHOPPER_SCRIPT('classic')}`));
    }
    return false;
  }

  return {
    /// Answers the request when it is the storefront's; false otherwise.
    async handle(req, res, url, raw) {
      if (url.pathname.startsWith(`${STORE}/`)) {
        await storeApi(req, res, url.pathname.slice(STORE.length), raw);
        return true;
      }
      if (req.method !== 'GET' || url.searchParams.has('rest_route')) return false;
      const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
      return page(req, res, path);
    },
    /// Forgets every shopper's cart (a reset of the store).
    reset() {
      sessions.clear();
    },
  };
}
