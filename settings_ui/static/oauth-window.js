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
  if (link.hasAttribute("data-go")) window.location.replace(link.href);
})();
