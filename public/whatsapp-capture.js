// Backroom's cart capture for WhatsApp reminders, on the shop's checkout page:
//   <script src="https://BACKROOM-ADDRESS/whatsapp-capture.js"
//           data-backroom="https://BACKROOM-ADDRESS" async></script>
// While a shopper fills in the checkout, it tells Backroom their phone, name and cart, so
// a cart left behind can be recalled with a WhatsApp message. Only after the shopper has
// ticked the consent box: before that nothing leaves the page, and unticking it makes
// Backroom forget the cart. The field selectors can be changed with data-phone,
// data-first-name, data-last-name, data-email and data-consent. The cart comes from
// window.backroomCart = { lines: [{ name, quantity, price_minor, product_id }],
// total_minor, currency, restore_url }, kept up to date by the shop's theme.
// Nothing here may get in the way of the checkout: every failure is quiet.
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !window.JSON || !window.Promise) return;
  var base = (script.getAttribute('data-backroom') || new URL(script.src).origin).replace(/\/+$/, '');
  var endpoint = base + '/api/v1/carts/capture';
  var selectors = {
    phone: script.getAttribute('data-phone') || '#billing_phone',
    firstName: script.getAttribute('data-first-name') || '#billing_first_name',
    lastName: script.getAttribute('data-last-name') || '#billing_last_name',
    email: script.getAttribute('data-email') || '#billing_email',
    consent: script.getAttribute('data-consent') || '#backroom_whatsapp_consent'
  };
  var DEBOUNCE_MS = 800;
  var timer = null;
  var consented = false; // the shopper has ticked the box at some point
  var withdrawn = false; // and the untick has been reported since
  var lastSent = null;

  function field(selector) {
    try {
      return document.querySelector(selector);
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

  function cart() {
    var given = window.backroomCart || {};
    return {
      lines: given.lines && given.lines.length ? given.lines : [],
      total_minor: typeof given.total_minor === 'number' ? given.total_minor : 0,
      // Unknown, it is left out rather than sent as null, which Backroom would refuse.
      currency: given.currency || undefined,
      restore_url: given.restore_url || location.href
    };
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

  // Sends what the checkout holds now, unless Backroom already has exactly that.
  function send(leaving) {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
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
    if (watched(event.target)) schedule();
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

  window.BackroomCapture = {
    // Sends the pending capture now; a promise settled when it is done (never rejected),
    // or null when there was nothing new to send.
    flush: function () {
      return send(false);
    }
  };
})();
