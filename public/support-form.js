// Makes Backroom's support form nicer where scripts run; without it the form is a plain
// post and works the same. In an iframe it tells the embedding page its height (the
// snippet, support.js, listens), and it sends without leaving the page.
(function () {
  'use strict';
  var framed = window.parent !== window;

  function tellHeight() {
    if (framed) {
      window.parent.postMessage({ backroomSupport: 'height', height: document.documentElement.scrollHeight }, '*');
    }
  }

  // Sends `form` with fetch and shows the server's answer (the confirmation, or the form
  // again with the reason it was refused) in place of the page's main part.
  function enhance(form) {
    if (!form || !window.fetch) return;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      var body = new URLSearchParams(new FormData(form));
      fetch(form.action, { method: 'POST', body: body, credentials: 'omit' })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, 'text/html').querySelector('main');
          var main = document.querySelector('main');
          if (!next || !main) { form.submit(); return; }
          main.replaceWith(next);
          var focus = next.querySelector('#confirmation h1, #form-error');
          if (focus) { focus.setAttribute('tabindex', '-1'); focus.focus(); }
          enhance(document.getElementById('support-form'));
          tellHeight();
        })
        .catch(function () { form.submit(); });
    });
  }

  window.addEventListener('load', tellHeight);
  if (window.ResizeObserver) new ResizeObserver(tellHeight).observe(document.body);
  enhance(document.getElementById('support-form'));
})();
