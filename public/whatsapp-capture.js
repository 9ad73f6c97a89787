// Backroom's storefront snippet for WhatsApp cart recovery, on every page of the shop
// (the theme's footer, or a code snippets plugin):
//   <script src="https://BACKROOM-ADDRESS/whatsapp-capture.js"
//           data-backroom="https://BACKROOM-ADDRESS" async></script>
// At the checkout (classic or block), while a shopper fills it in, it tells Backroom their
// phone, name and cart, so a cart left behind can be recalled with a WhatsApp message.
// Only after the shopper has ticked the consent box: before that nothing leaves the page,
// and unticking it makes Backroom forget the cart. Without a box of the theme's own
// (data-consent), it adds one with a visible label (data-consent-label) under the phone
// field. The field selectors can be changed with data-phone, data-first-name,
// data-last-name, data-email and data-consent. The cart is read from WooCommerce's Store
// API, or from window.backroomCart = { lines: [{ name, quantity, price_minor, product_id }],
// total_minor, currency, restore_url } when the theme keeps one.
// On the page a recovery link lands on (#backroom_restore=…), it puts the saved cart back
// in the shopper's cart through the Store API, with its coupon, and goes on to the
// checkout; what cannot be put back is said on the page (data-restore-unavailable,
// data-restore-missing).
// Nothing here may get in the way of the shop: every failure is quiet.
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !window.JSON || !window.Promise) return;
  var setting = function (name, otherwise) {
    return script.getAttribute('data-' + name) || otherwise;
  };
  var base = setting('backroom', new URL(script.src).origin).replace(/\/+$/, '');
  var endpoint = base + '/api/v1/carts/capture';
  var OWN_CONSENT = 'backroom_whatsapp_consent';
  // Classic checkout's fields, then the Checkout block's.
  var selectors = {
    phone: setting('phone', '#billing_phone, #billing-phone, #shipping-phone'),
    firstName: setting('first-name', '#billing_first_name, #billing-first_name, #shipping-first_name'),
    lastName: setting('last-name', '#billing_last_name, #billing-last_name, #shipping-last_name'),
    email: setting('email', '#billing_email, #email'),
    consent: setting('consent', '#' + OWN_CONSENT)
  };
  var texts = {
    consent: setting('consent-label', 'Remind me of my cart on WhatsApp'),
    unavailable: setting('restore-unavailable', 'Sorry, the products in your saved cart are no longer available.'),
    missing: setting('restore-missing', 'Some products of your saved cart are no longer available:')
  };
  // WooCommerce's Store API, under the REST root WordPress links every page to.
  var restLink = document.querySelector('link[rel="https://api.w.org/"]');
  var storeApi = ((restLink && restLink.href) || location.origin + '/wp-json/').replace(/\/+$/, '') + '/wc/store/v1';
  var nonce = null; // the Store API's, renewed by each of its answers
  var storeCart = null; // the cart as the Store API last gave it
  var DEBOUNCE_MS = 800;
  var timer = null;
  var consented = false; // the shopper has ticked the box at some point
  var withdrawn = false; // and the untick has been reported since
  var ticked = false; // the box as the shopper last left it (a redrawn box gets it back)
  var lastSent = null;

  // The checkout's form, classic or block: the snippet is on every page, and other forms
  // (an account's addresses, a newsletter) have phone and e-mail fields too.
  var CHECKOUT = setting('checkout', 'form.checkout, .wp-block-woocommerce-checkout');
  function field(selector) {
    try {
      var checkout = document.querySelector(CHECKOUT);
      return checkout ? checkout.querySelector(selector) : null;
    } catch (e) {
      return null; // a selector the shop mistyped
    }
  }

  function value(selector) {
    var element = field(selector);
    return element && typeof element.value === 'string' ? element.value.trim() : '';
  }

  function matches(element, selector) {
    var test = element.matches || element.msMatchesSelector || element.webkitMatchesSelector;
    try {
      return !!test && test.call(element, selector);
    } catch (e) {
      return false;
    }
  }

  // The cart: the theme's, or the Store API's as last read.
  function cart() {
    var given = window.backroomCart || fromStore(storeCart) || {};
    return {
      lines: given.lines && given.lines.length ? given.lines : [],
      total_minor: typeof given.total_minor === 'number' ? given.total_minor : 0,
      // Unknown, it is left out rather than sent as null, which Backroom would refuse.
      currency: given.currency || undefined,
      restore_url: given.restore_url || location.origin + location.pathname
    };
  }

  function fromStore(store) {
    if (!store || !store.items) return null;
    return {
      lines: store.items.map(function (item) {
        return {
          name: item.name,
          quantity: item.quantity,
          price_minor: parseInt(item.prices && item.prices.price, 10) || 0,
          product_id: item.id
        };
      }),
      total_minor: parseInt(store.totals && store.totals.total_price, 10) || 0,
      currency: store.totals && store.totals.currency_code
    };
  }

  function storeCall(method, path, body) {
    var headers = { 'Content-Type': 'application/json' };
    if (nonce) headers.Nonce = nonce;
    return fetch(storeApi + path, {
      method: method,
      headers: headers,
      credentials: 'same-origin',
      body: body ? JSON.stringify(body) : undefined
    }).then(function (response) {
      nonce = response.headers.get('Nonce') || nonce;
      return response.json().then(function (answer) {
        if (!response.ok) throw new Error(answer && answer.message ? answer.message : 'HTTP ' + response.status);
        if (answer && answer.items) storeCart = answer;
        return answer;
      });
    });
  }

  function readStoreCart() {
    return storeCall('GET', '/cart');
  }

  // The capture to send now, or null when there is nothing Backroom may have.
  function capture() {
    var phone = value(selectors.phone);
    if (phone.replace(/\D/g, '').length < 7) return null;
    var box = field(selectors.consent);
    var consent = !!(box && box.checked);
    if (consent) {
      consented = true;
      withdrawn = false;
    } else if (!consented || withdrawn) {
      return null;
    }
    var contents = cart();
    return {
      phone: phone,
      name: (value(selectors.firstName) + ' ' + value(selectors.lastName)).trim(),
      email: value(selectors.email),
      consent: consent,
      lines: contents.lines,
      total_minor: contents.total_minor,
      currency: contents.currency,
      restore_url: contents.restore_url
    };
  }

  function warn(reason) {
    if (window.console && console.warn) console.warn('Backroom cart capture: ' + reason);
  }

  function post(body, leaving) {
    if (window.fetch) {
      return fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: body,
        credentials: 'omit',
        keepalive: !!leaving
      }).then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
      });
    }
    return new Promise(function (resolve, reject) {
      var request = new XMLHttpRequest();
      request.open('POST', endpoint);
      request.setRequestHeader('Content-Type', 'application/json');
      request.onload = function () {
        if (request.status >= 200 && request.status < 300) resolve();
        else reject(new Error('HTTP ' + request.status));
      };
      request.onerror = function () {
        reject(new Error('network error'));
      };
      request.send(body);
    });
  }

  // Sends what the checkout holds now, unless Backroom already has exactly that. The
  // Store API's cart is read again first, unless the shopper is leaving.
  function send(leaving) {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (leaving || window.backroomCart || !window.fetch || !field(selectors.phone)) return sendNow(leaving);
    return readStoreCart().then(null, function (e) {
      warn(e && e.message);
    }).then(function () {
      return sendNow(false);
    });
  }

  function sendNow(leaving) {
    var payload;
    try {
      payload = capture();
    } catch (e) {
      warn(e && e.message);
      return null;
    }
    if (!payload) return null;
    var body = JSON.stringify(payload);
    if (body === lastSent) return null;
    lastSent = body;
    if (!payload.consent) withdrawn = true;
    var sending;
    try {
      sending = post(body, leaving);
    } catch (e) {
      sending = Promise.reject(e);
    }
    return sending.then(null, function (e) {
      // Not taken: let the next change try again.
      if (lastSent === body) lastSent = null;
      if (!payload.consent) withdrawn = false;
      warn(e && e.message);
    });
  }

  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () {
      send(false);
    }, DEBOUNCE_MS);
  }

  function watched(target) {
    if (!target || target.nodeType !== 1) return false;
    for (var key in selectors) {
      if (selectors.hasOwnProperty(key) && matches(target, selectors[key])) return true;
    }
    return false;
  }

  // Listening on the document, because WooCommerce redraws parts of the checkout form.
  function onEdit(event) {
    if (!watched(event.target)) return;
    if (matches(event.target, selectors.consent)) ticked = !!event.target.checked;
    schedule();
  }
  document.addEventListener('input', onEdit, true);
  document.addEventListener('change', onEdit, true);

  // A coupon or a changed quantity redraws the order review: the cart may have changed.
  if (window.jQuery) {
    window.jQuery(document.body).on('updated_checkout', function () {
      if (consented) schedule();
    });
  }

  // The shopper may leave within the debounce: what they typed last still counts.
  function leaving() {
    if (timer) send(true);
  }
  window.addEventListener('pagehide', leaving);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') leaving();
  });

  // The consent box, where the theme has none: under the phone field, once the field is
  // there (the Checkout block draws its form after the page loads, and may draw it again).
  function ensureConsent() {
    if (selectors.consent !== '#' + OWN_CONSENT || document.getElementById(OWN_CONSENT)) return;
    var phone = field(selectors.phone);
    if (!phone || !phone.parentNode) return;
    var row = (phone.closest && phone.closest('.form-row, .wc-block-components-text-input')) || phone;
    // WooCommerce's own markup for a checkbox row: the label holds the box and its text.
    var wrap = document.createElement('p');
    wrap.className = 'form-row backroom-whatsapp-consent';
    var label = document.createElement('label');
    label.className = 'woocommerce-form__label woocommerce-form__label-for-checkbox checkbox';
    var box = document.createElement('input');
    box.type = 'checkbox';
    box.className = 'woocommerce-form__input woocommerce-form__input-checkbox input-checkbox';
    box.id = OWN_CONSENT;
    box.name = OWN_CONSENT;
    box.checked = ticked;
    var text = document.createElement('span');
    text.textContent = texts.consent;
    label.appendChild(box);
    label.appendChild(document.createTextNode(' '));
    label.appendChild(text);
    wrap.appendChild(label);
    row.parentNode.insertBefore(wrap, row.nextSibling);
  }
  ensureConsent();
  if (window.MutationObserver) {
    new MutationObserver(ensureConsent).observe(document.documentElement, { childList: true, subtree: true });
  }

  // A notice on the shop's page (role=status, so it is read out), or one kept for the next
  // page when the shopper is sent on.
  var NOTICE_KEY = 'backroom_restore_notice';
  function notice(text) {
    var shown = document.createElement('div');
    shown.className = 'woocommerce-info backroom-restore-notice';
    shown.setAttribute('role', 'status');
    var place = document.querySelector('.woocommerce-notices-wrapper') || document.querySelector('main') || document.body;
    place.insertBefore(shown, place.firstChild);
    // An empty live region first, then its text: screen readers announce the change.
    setTimeout(function () {
      shown.textContent = text;
    }, 50);
  }
  function noticeLater(text) {
    try {
      sessionStorage.setItem(NOTICE_KEY, text);
    } catch (e) {
      /* storage refused: the notice is lost, not the cart */
    }
  }
  function showKeptNotice() {
    try {
      var kept = sessionStorage.getItem(NOTICE_KEY);
      if (!kept) return;
      sessionStorage.removeItem(NOTICE_KEY);
      notice(kept);
    } catch (e) {
      /* no storage: nothing was kept */
    }
  }

  // Puts a recovered cart back: its lines (those not already in the cart), then its
  // coupon, then on to the checkout; or says on this page that nothing could be.
  function restore(token) {
    history.replaceState(history.state, '', location.pathname + location.search);
    var saved;
    var storeCart;
    var missing = [];
    return fetch(base + '/api/v1/carts/restore/' + encodeURIComponent(token), { credentials: 'omit' })
      .then(function (response) {
        if (!response.ok) throw new Error('the link does not work (HTTP ' + response.status + ')');
        return response.json();
      })
      .then(function (answer) {
        saved = answer;
        missing = saved.unknown.slice();
        if (saved.ordered) return null;
        return readStoreCart();
      })
      .then(function (current) {
        if (!current) return null;
        storeCart = current;
        return saved.lines.reduce(function (done, line) {
          return done.then(function () {
            var have = current.items
              .filter(function (item) {
                return item.id === line.product_id;
              })
              .reduce(function (n, item) {
                return n + item.quantity;
              }, 0);
            if (have >= line.quantity) return null;
            return storeCall('POST', '/cart/add-item', { id: line.product_id, quantity: line.quantity - have }).then(null, function (e) {
              warn(line.name + ': ' + (e && e.message));
              missing.push(line.name);
            });
          });
        }, Promise.resolve());
      })
      .then(function () {
        if (saved.ordered || !saved.coupon) return null;
        // The coupon is for the shopper's e-mail only: the checkout is told it first, unless
        // it knows one already (a shopper signed in keeps their account's as it is).
        var knows = storeCart && storeCart.billing_address && storeCart.billing_address.email;
        var told =
          saved.email && !knows
            ? storeCall('POST', '/cart/update-customer', { billing_address: { email: saved.email } }).then(null, function (e) {
                warn('the e-mail: ' + (e && e.message));
              })
            : Promise.resolve();
        return told
          .then(function () {
            return storeCall('POST', '/cart/apply-coupon', { code: saved.coupon });
          })
          .then(null, function (e) {
            // The message gave the code, to type in at the checkout.
            warn('the coupon: ' + (e && e.message));
          });
      })
      .then(function () {
        var put = saved.lines.length + saved.unknown.length - missing.length;
        var checkout = new URL(saved.checkout_url, location.href);
        if (saved.ordered || put === 0 || checkout.origin !== location.origin) {
          if (!saved.ordered && put === 0) notice(texts.unavailable);
          return;
        }
        if (missing.length) noticeLater(texts.missing + ' ' + missing.join(', ') + '.');
        location.assign(checkout.href);
      })
      .then(null, function (e) {
        warn('the cart could not be put back: ' + (e && e.message));
      });
  }

  var restoring = (/^#backroom_restore=([\w.-]+)$/.exec(location.hash) || [])[1];
  var whenReady = function (run) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run);
    else run();
  };
  whenReady(function () {
    if (restoring && window.fetch) restore(restoring);
    else showKeptNotice();
  });

  window.BackroomCapture = {
    // Sends the pending capture now; a promise settled when it is done (never rejected),
    // or null when there was nothing new to send.
    flush: function () {
      return send(false);
    },
    // Puts the cart of a recovery link's token back (what a landing page does by itself).
    restore: restore
  };
})();
