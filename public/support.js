// Backroom's support form on any page of the shop. Paste where the form should appear:
//   <script src="https://BACKROOM-ADDRESS/support.js" async></script>
// It puts the form there in an iframe that grows to fit it. The page's origin must be
// listed under the panel's support settings (embedding origins), or the browser will
// refuse to show the frame.
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script) return;
  var origin = new URL(script.src).origin;
  var frame = document.createElement('iframe');
  frame.src = origin + '/support/embed';
  frame.title = script.getAttribute('data-title') || 'Contact us about an order';
  frame.loading = 'lazy';
  frame.style.cssText = 'width:100%;max-width:40rem;border:0;height:34rem;display:block';
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener('message', function (event) {
    // Only the frame we made, from Backroom's own origin, may set its height.
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (data && data.backroomSupport === 'height' && typeof data.height === 'number') {
      frame.style.height = Math.min(Math.max(data.height, 200), 4000) + 'px';
    }
  });
})();
