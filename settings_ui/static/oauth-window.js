/*
 * The first page of the Mailchimp log-in window, on the app's own origin. The dashboard opens
 * this window (the app's frame may not open windows), so the frame has no handle on it: this
 * page hands it one by posting a message to the app's frames in the window that opened it
 * (only frames on the app's origin receive it). The frame then notices the window closing.
 * Then it goes on to Mailchimp (the log-in page) or stays (the sign-up steps).
 */
(function () {
  "use strict";
  var link = document.querySelector("[data-state]");
  if (!link) return;
  var message = { type: "mailchimp-oauth-window", state: link.getAttribute("data-state") };
  var opener = window.opener;
  if (opener) {
    try {
      for (var i = 0; i < opener.frames.length; i++) {
        opener.frames[i].postMessage(message, window.location.origin);
      }
    } catch (e) {
      /* an opener that hides its frames: the server still reports the outcome */
    }
  }
  if (!link.hasAttribute("data-go")) return;
  // Go on to Mailchimp once the frame has the handle (it answers), or after a moment anyway.
  var gone = false;
  function go() {
    if (gone) return;
    gone = true;
    window.location.replace(link.href);
  }
  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin) return;
    if (event.data && event.data.type === "mailchimp-oauth-window-ack") go();
  });
  window.setTimeout(go, opener ? 1500 : 0);
})();
