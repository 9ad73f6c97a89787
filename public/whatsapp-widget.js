// Backroom's WhatsApp chat button, on any page of the shop:
//   <script src="https://BACKROOM-ADDRESS/whatsapp-widget.js"
//           data-backroom="https://BACKROOM-ADDRESS" async></script>
// It asks Backroom how the button should look and on which pages, then draws it in a
// corner, inside a shadow root so the shop's CSS cannot reach it. Outside opening hours
// it either stays away or, if the panel says so, explains when the shop is back.
// Without data-backroom it draws nothing by itself: the panel loads it that way to show
// a preview through window.BackroomWhatsApp.render(config, host).
(function () {
  'use strict';
  var HOST_ID = 'backroom-whatsapp';
  var PANEL_ID = 'backroom-whatsapp-panel';

  // Our own drawing of a speech bubble with a handset, in the text colour.
  var ICON =
    '<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">' +
    '<path d="M12 2.75a9.25 9.25 0 0 0-7.98 13.93L2.75 21.25l4.68-1.24A9.25 9.25 0 1 0 12 2.75z" ' +
    'fill="none" stroke="currentColor" stroke-width="1.9" stroke-linejoin="round"/>' +
    '<path d="M9.1 7.6c-.3 0-.7.1-.9.5-.4.5-.7 1.1-.6 1.9.2 1.6 1.4 3.4 3 4.6 1.5 1.1 3 1.6 4.1 1.4.7-.1 ' +
    '1.2-.5 1.4-1 .1-.3.1-.6-.2-.8l-1.6-.8c-.3-.1-.5 0-.7.2l-.5.6c-.2.2-.4.2-.6.1-1.1-.5-2-1.4-2.5-2.5-.1-.2 ' +
    '0-.4.1-.6l.5-.5c.2-.2.2-.4.1-.7l-.7-1.6c-.1-.4-.4-.5-.7-.5z" fill="currentColor"/></svg>';

  var CSS =
    '.frame{position:relative;min-height:96px;height:100%}' +
    '.dock{position:fixed;z-index:2147483000;bottom:calc(16px + env(safe-area-inset-bottom,0px));' +
    'display:flex;flex-direction:column-reverse;gap:8px;' +
    'font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}' +
    '.dock.right{right:calc(16px + env(safe-area-inset-right,0px));align-items:flex-end}' +
    '.dock.left{left:calc(16px + env(safe-area-inset-left,0px));align-items:flex-start}' +
    '.dock.preview{position:absolute;z-index:1;bottom:16px}' +
    '.dock.preview.right{right:16px}.dock.preview.left{left:16px}' +
    '.pill{box-sizing:border-box;display:inline-flex;align-items:center;gap:8px;' +
    'min-width:48px;min-height:48px;max-width:calc(100vw - 32px);margin:0;padding:12px 20px 12px 16px;' +
    'border:0;border-radius:999px;background:#25D366;color:#0b1f14;' +
    'font-family:inherit;font-size:16px;font-weight:600;line-height:1.25;text-align:left;text-decoration:none;' +
    'cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);' +
    'transition:transform .15s ease,box-shadow .15s ease;animation:backroom-in .25s ease-out}' +
    '.pill:hover{transform:translateY(-2px);box-shadow:0 6px 18px rgba(0,0,0,.3)}' +
    '.pill svg{flex:none}' +
    // A dark ring on a white one: visible on light pages and dark ones.
    '.pill:focus{outline:3px solid #0b1f14;outline-offset:2px;box-shadow:0 0 0 5px #fff}' +
    '.pill:focus:not(:focus-visible){outline:none;box-shadow:0 4px 14px rgba(0,0,0,.25)}' +
    '.pill:focus-visible{outline:3px solid #0b1f14;outline-offset:2px;box-shadow:0 0 0 5px #fff}' +
    '.panel{box-sizing:border-box;max-width:min(18rem,calc(100vw - 32px));padding:12px 14px;' +
    'border:1px solid #c9d3ce;border-radius:12px;background:#fff;color:#1a1a1a;' +
    'font-size:15px;line-height:1.4;box-shadow:0 4px 14px rgba(0,0,0,.2);animation:backroom-in .2s ease-out}' +
    // Empty, the live region stays in the accessibility tree but takes no room, so its
    // text is announced when it appears.
    '.panel:empty{position:absolute;width:1px;height:1px;padding:0;margin:-1px;border:0;' +
    'overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}' +
    '@keyframes backroom-in{from{opacity:0;transform:translateY(8px)}to{opacity:1;transform:none}}' +
    '@media (prefers-reduced-motion:reduce){.pill,.panel{animation:none;transition:none}' +
    '.pill:hover{transform:none}}' +
    '@media (forced-colors:active){.pill{border:2px solid ButtonText}.panel{border-color:CanvasText}}';

  function warn(reason) {
    if (window.console && console.warn) console.warn('Backroom WhatsApp: ' + reason);
  }

  function digits(text) {
    return String(text || '').replace(/\D/g, '');
  }

  // "*" stands for any characters; a pattern without a trailing "/" or "*" also matches
  // the same path with one, as WordPress writes its pages.
  function patternMatches(pattern, path) {
    var source = String(pattern)
      .split('*')
      .map(function (part) {
        return part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('.*');
    if (!/[\/*]$/.test(pattern)) source += '/?';
    return new RegExp('^' + source + '$').test(path);
  }

  function anyMatches(patterns, paths) {
    for (var i = 0; i < patterns.length; i++) {
      for (var j = 0; j < paths.length; j++) {
        if (patternMatches(patterns[i], paths[j])) return true;
      }
    }
    return false;
  }

  // Patterns may be written with the shop's own letters ("/ürünler*"), paths arrive encoded.
  function pageShows(config, pathname) {
    var paths = [pathname];
    try {
      var decoded = decodeURIComponent(pathname);
      if (decoded !== pathname) paths.push(decoded);
    } catch (e) {
      // a malformed escape: the raw path is all there is
    }
    var show = config.show_on && config.show_on.length ? config.show_on : ['*'];
    return anyMatches(show, paths) && !anyMatches(config.hide_on || [], paths);
  }

  function isOpen(config) {
    return config.open_now !== false;
  }

  function drawn(config) {
    if (!config || !config.enabled) return false;
    return isOpen(config) || (config.outside_hours === 'message' && !!config.outside_message);
  }

  function chatLink(config) {
    var link = document.createElement('a');
    var text = config.text ? '?text=' + encodeURIComponent(config.text) : '';
    link.href = 'https://wa.me/' + digits(config.phone) + text;
    link.target = '_blank';
    link.rel = 'noopener';
    return link;
  }

  function outsideHours(config, dock) {
    var button = document.createElement('button');
    button.type = 'button';
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-controls', PANEL_ID);
    var panel = document.createElement('div');
    panel.id = PANEL_ID;
    panel.className = 'panel';
    panel.setAttribute('role', 'status');
    function toggle(open) {
      button.setAttribute('aria-expanded', open ? 'true' : 'false');
      panel.textContent = open ? String(config.outside_message) : '';
    }
    button.addEventListener('click', function () {
      toggle(button.getAttribute('aria-expanded') !== 'true');
    });
    dock.addEventListener('keydown', function (event) {
      if ((event.key === 'Escape' || event.key === 'Esc') && button.getAttribute('aria-expanded') === 'true') {
        toggle(false);
        button.focus();
      }
    });
    dock.appendChild(panel);
    return button;
  }

  // Draws `config` into its own host on the page, or into `host` for a preview. Returns the
  // host, or null when nothing is to be shown.
  function render(config, host) {
    var preview = !!host;
    if (!preview) {
      host = document.getElementById(HOST_ID);
      if (!host) {
        host = document.createElement('div');
        host.id = HOST_ID;
        // Inline and important: the shop's CSS cannot hide or move the host.
        host.setAttribute('style', 'all:initial !important');
        document.body.appendChild(host);
      }
    }
    var root;
    try {
      root = host.shadowRoot || host.attachShadow({ mode: 'open' });
    } catch (e) {
      warn('cannot draw into this element: ' + (e && e.message));
      return null;
    }
    while (root.firstChild) root.removeChild(root.firstChild);
    if (!drawn(config)) {
      if (!preview && host.parentNode) host.parentNode.removeChild(host);
      return null;
    }

    var style = document.createElement('style');
    style.textContent = CSS;
    var dock = document.createElement('div');
    dock.className = 'dock ' + (config.position === 'left' ? 'left' : 'right') + (preview ? ' preview' : '');
    var pill = isOpen(config) ? chatLink(config) : outsideHours(config, dock);
    pill.className = 'pill';
    pill.innerHTML = ICON;
    var label = document.createElement('span');
    label.textContent = config.label || 'WhatsApp';
    pill.appendChild(label);
    dock.appendChild(pill);
    root.appendChild(style);
    if (preview) {
      // The preview sits in the panel's element: a frame of our own holds it in place.
      var frame = document.createElement('div');
      frame.className = 'frame';
      frame.appendChild(dock);
      root.appendChild(frame);
    } else {
      root.appendChild(dock);
    }
    return host;
  }

  function load(url, done) {
    if (window.fetch) {
      fetch(url, { credentials: 'omit' })
        .then(function (response) {
          if (!response.ok) throw new Error('HTTP ' + response.status);
          return response.json();
        })
        .then(done, function (e) {
          warn(e && e.message);
        });
      return;
    }
    var request = new XMLHttpRequest();
    request.open('GET', url);
    request.onload = function () {
      if (request.status !== 200) return warn('HTTP ' + request.status);
      try {
        done(JSON.parse(request.responseText));
      } catch (e) {
        warn(e && e.message);
      }
    };
    request.onerror = function () {
      warn('network error');
    };
    request.send();
  }

  window.BackroomWhatsApp = { render: render };

  var script = document.currentScript;
  var base = script && script.getAttribute('data-backroom');
  if (!base) return;
  load(base.replace(/\/+$/, '') + '/api/v1/whatsapp/widget', function (config) {
    if (!config || !pageShows(config, location.pathname)) return;
    function draw() {
      render(config);
    }
    if (document.body) draw();
    else document.addEventListener('DOMContentLoaded', draw);
  });
})();
