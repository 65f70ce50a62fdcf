/*
 * The sandbox dashboard's half of app-bridge, as saleor-dashboard's AppFrame does it:
 * - on every load of the frame: handshake {token, version: 1, saleorVersion, dashboardVersion}
 *   then theme {theme};
 * - tokenRefresh {token} 30 s before the token expires (or half-way for short-lived ones);
 * - actions from the app (only from the frame's window, on the app's origin) are answered with
 *   response {actionId, ok}: notification shows a toast, redirect opens or navigates,
 *   notifyReady and updateRouting are acknowledged.
 * Every event is logged in window.sandboxDashboard.log for tests.
 */
(function () {
  "use strict";

  var html = document.documentElement;
  var frame = document.getElementById("app-frame");
  var log = [];
  var config = frame ? JSON.parse(frame.getAttribute("data-config")) : null;
  var appOrigin = config ? new URL(config.appUrl, window.location.href).origin : null;
  var token = null;
  var refreshTimer = null;

  function theme() {
    return html.getAttribute("data-theme") === "dark" ? "dark" : "light";
  }

  function toast(status, title, text) {
    var box = document.getElementById("toasts");
    var el = document.createElement("div");
    el.className = "toast " + (status || "info");
    el.setAttribute("role", status === "error" ? "alert" : "status");
    el.setAttribute("data-status", status || "info");
    var t = document.createElement("div");
    t.className = "toast-title";
    t.textContent = title || "";
    el.appendChild(t);
    if (text) {
      var p = document.createElement("div");
      p.className = "toast-text";
      p.textContent = text;
      el.appendChild(p);
    }
    box.appendChild(el);
    // Like the dashboard: a few at a time, the oldest goes first.
    while (box.children.length > 3) box.removeChild(box.firstChild);
    window.setTimeout(function () {
      el.remove();
    }, status === "error" ? 10000 : 6000);
  }

  function post(event) {
    if (!frame || !frame.contentWindow) return;
    log.push({ direction: "out", type: event.type, payload: event.payload });
    frame.contentWindow.postMessage(event, appOrigin);
  }

  function mintToken() {
    return fetch(config.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ app_id: config.appId, lifetime: config.tokenLifetime }),
    })
      .then(function (r) {
        if (!r.ok) throw new Error("token endpoint answered " + r.status);
        return r.json();
      })
      .then(function (body) {
        token = body.token;
        scheduleRefresh(body.expires_in);
        var status = document.getElementById("token-status");
        if (status) status.textContent = "Session valid for " + body.expires_in + " s";
        return body.token;
      });
  }

  function scheduleRefresh(expiresIn) {
    window.clearTimeout(refreshTimer);
    var lead = Math.min(30, expiresIn / 2);
    refreshTimer = window.setTimeout(function () {
      mintToken().then(function (fresh) {
        post({ type: "tokenRefresh", payload: { token: fresh } });
      });
    }, (expiresIn - lead) * 1000);
  }

  function setTheme(next) {
    html.setAttribute("data-theme", next);
    var button = document.getElementById("theme-switch");
    button.setAttribute("aria-pressed", String(next === "dark"));
    document.getElementById("theme-label").textContent =
      (next === "dark" ? "Dark" : "Light") + " mode";
    var url = new URL(window.location.href);
    url.searchParams.set("theme", next);
    window.history.replaceState(null, "", url.pathname + url.search);
    var links = document.querySelectorAll("a[href]");
    for (var i = 0; i < links.length; i++) {
      var link = new URL(links[i].getAttribute("href"), window.location.href);
      if (link.origin !== window.location.origin || !link.searchParams.has("theme")) continue;
      link.searchParams.set("theme", next);
      links[i].setAttribute("href", link.pathname + link.search);
    }
    if (frame) post({ type: "theme", payload: { theme: next } });
  }

  document.getElementById("theme-switch").addEventListener("click", function () {
    setTheme(theme() === "dark" ? "light" : "dark");
  });

  function handleAction(data) {
    var payload = data.payload || {};
    var ok = true;
    switch (data.type) {
      case "notification":
        toast(payload.status, payload.title, payload.text || payload.apiMessage);
        break;
      case "redirect":
        try {
          if (payload.newContext) {
            ok = window.open(payload.to) !== null;
          } else if (/^https?:/.test(payload.to)) {
            window.location.href = payload.to;
          }
        } catch (e) {
          ok = false;
        }
        break;
      case "notifyReady":
      case "updateRouting":
        break;
      default:
        ok = false;
    }
    if (payload.actionId) post({ type: "response", payload: { actionId: payload.actionId, ok: ok } });
  }

  if (frame) {
    window.addEventListener("message", function (event) {
      if (event.source !== frame.contentWindow || event.origin !== appOrigin) return;
      var data = event.data;
      if (!data || typeof data.type !== "string") return;
      log.push({ direction: "in", type: data.type, payload: data.payload });
      handleAction(data);
    });

    // Like AppFrame: a handshake (and the theme) after every load of the frame.
    frame.addEventListener("load", function () {
      var ready = token ? Promise.resolve(token) : mintToken();
      ready.then(function (current) {
        post({
          type: "handshake",
          payload: {
            token: current,
            version: 1,
            saleorVersion: config.saleorVersion,
            dashboardVersion: config.dashboardVersion,
          },
        });
        post({ type: "theme", payload: { theme: theme() } });
      });
    });

    var src = new URL(config.appUrl, window.location.href);
    src.searchParams.set("domain", config.domain);
    src.searchParams.set("saleorApiUrl", config.saleorApiUrl);
    src.searchParams.set("id", config.appId);
    src.searchParams.set("theme", theme());
    // Mint first, so the first load's handshake is not delayed by the token round trip.
    mintToken().then(function () {
      frame.src = src.toString();
    });
  }

  window.sandboxDashboard = {
    log: log,
    toast: toast,
    setTheme: setTheme,
    token: function () {
      return token;
    },
  };
})();
