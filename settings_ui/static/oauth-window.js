/*
 * The first page of the Mailchimp log-in window, on the app's own origin. It announces itself
 * to the Connection page that opened it: to the opener itself (the app's frame opened the
 * window) and to the opener's frames (the dashboard opened it for the frame). Only windows on
 * the app's origin receive the message. The page that started this log-in answers with the
 * log-in's browser key, which this window keeps in a cookie for the callback: the callback
 * connects only in the browser the log-in was started in (addon/connection/oauth_flow.py). A
 * window nobody answers (a link opened elsewhere, or passed on) never goes on to Mailchimp.
 * Then it goes on to Mailchimp (the log-in page) or stays (the sign-up steps).
 */
(function () {
  "use strict";
  var ANSWER_WAIT_MS = 5000;
  var link = document.querySelector("[data-state]");
  if (!link) return; // a page the server already gave the key with (a plain browser)
  var state = link.getAttribute("data-state");
  var kept = false;
  var unbound = document.getElementById("unbound");

  function refuse() {
    if (kept) return;
    link.hidden = true;
    unbound.hidden = false;
  }

  function keep(answer) {
    // The cookie's name comes from the server ("mailchimp_oauth_" and hex digits).
    if (kept || !/^mailchimp_oauth_[0-9a-f]+$/.test(answer.cookie || "")) return;
    // As long as the log-in lives (the dashboard says: a sign-up's is longer), 10 minutes if not.
    var maxAge = answer.max_age > 0 && answer.max_age <= 7200 ? Math.round(answer.max_age) : 600;
    document.cookie =
      answer.cookie + "=" + encodeURIComponent(answer.key) +
      "; Max-Age=" + maxAge + "; Path=/api/connection/oauth/callback; SameSite=Lax" +
      (window.location.protocol === "https:" ? "; Secure" : "");
    kept = true;
    unbound.hidden = true;
    link.hidden = false;
    if (link.hasAttribute("data-go")) window.location.replace(link.href);
  }

  link.addEventListener("click", function (event) {
    if (!kept) event.preventDefault(); // Mailchimp would only send it back refused
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== window.location.origin) return;
    var data = event.data;
    if (!data || data.type !== "mailchimp-oauth-window-ack" || data.state !== state) return;
    if (typeof data.key === "string" && data.key) keep(data);
  });

  var opener = window.opener;
  if (!opener) {
    refuse();
    return;
  }
  var message = { type: "mailchimp-oauth-window", state: state };
  var targets = [opener];
  try {
    for (var i = 0; i < opener.frames.length; i++) targets.push(opener.frames[i]);
  } catch (e) {
    /* an opener that hides its frames: the opener itself may still answer */
  }
  targets.forEach(function (target) {
    try {
      target.postMessage(message, window.location.origin);
    } catch (e) {
      /* a window that went away meanwhile */
    }
  });
  window.setTimeout(refuse, ANSWER_WAIT_MS);
})();
