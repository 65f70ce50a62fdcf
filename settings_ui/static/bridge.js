/*
 * App-bridge client: how the app's pages talk to the Saleor dashboard that frames them.
 *
 * Protocol (as @saleor/app-sdk and saleor-dashboard's AppFrame implement it):
 *   - The dashboard loads the app in an iframe with ?domain=&saleorApiUrl=&id=&theme=.
 *   - On every load of the frame it posts {type: "handshake", payload: {token, version}} and
 *     {type: "theme", payload: {theme}}; later {type: "tokenRefresh", payload: {token}}.
 *   - The app posts actions {type, payload: {actionId, ...}} to the parent (notifyReady,
 *     notification, redirect, ...); the dashboard answers {type: "response", payload:
 *     {actionId, ok}}.
 *
 * Which messages are trusted: only those whose `source` is our parent window AND whose
 * `origin` is the dashboard's origin. The dashboard's origin is the parent's origin as the
 * browser reports it (`location.ancestorOrigins[0]`, which the parent cannot fake). Browsers
 * without ancestorOrigins (Firefox) fall back to `document.referrer` of the first load, which
 * is the dashboard's page; it is remembered for this tab (sessionStorage), because after a
 * navigation inside the frame the referrer is our own previous page. Without a parent, or
 * without a known origin, no message is accepted and the page says to open it from Saleor.
 *
 * The token lives in memory only: never in URLs or storage. API calls send it as
 * `authorization-bearer`, with `saleor-api-url`.
 *
 * An ES module: pages import what they need (settings_ui/static/app.js re-exports it).
 */
var ORIGIN_KEY = "mailchimp-app:dashboard-origin";
var TOKEN_WAIT_MS = 10000;
var ACTION_TIMEOUT_MS = 1500;

var params = new URLSearchParams(window.location.search);
var framed = window.parent !== window;

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch (e) {
    return null;
  }
}

function resolveDashboardOrigin() {
  if (!framed) return null;
  var ancestors = window.location.ancestorOrigins;
  if (ancestors && ancestors.length > 0) return ancestors[0];
  var referrer = document.referrer ? originOf(document.referrer) : null;
  var remembered = null;
  try {
    remembered = window.sessionStorage.getItem(ORIGIN_KEY);
  } catch (e) {
    remembered = null;
  }
  if (referrer && referrer !== window.location.origin) return referrer;
  return remembered || referrer;
}

var dashboardOrigin = resolveDashboardOrigin();
if (dashboardOrigin) {
  try {
    window.sessionStorage.setItem(ORIGIN_KEY, dashboardOrigin);
  } catch (e) {
    /* storage may be blocked in a third-party frame: ancestorOrigins still works */
  }
}

var state = {
  token: null,
  saleorApiUrl: params.get("saleorApiUrl") || "",
  appId: params.get("id") || "",
  theme: params.get("theme") === "dark" ? "dark" : "light",
  dashboardOrigin: dashboardOrigin,
  saleorVersion: null,
  dashboardVersion: null,
  ready: false,
};

var tokenWaiters = [];
var pendingActions = {};
var listeners = { token: [], theme: [] };

function newActionId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") {
    return window.crypto.randomUUID();
  }
  var bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.prototype.map
    .call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    })
    .join("");
}

function applyTheme(theme) {
  if (theme !== "light" && theme !== "dark") return;
  state.theme = theme;
  document.documentElement.setAttribute("data-theme", theme);
  // Links between pages carry the current theme, so the next page starts in it.
  var links = document.querySelectorAll("a[data-nav]");
  for (var i = 0; i < links.length; i++) {
    var url = new URL(links[i].getAttribute("href"), window.location.href);
    url.searchParams.set("theme", theme);
    links[i].setAttribute("href", url.pathname + url.search);
  }
  listeners.theme.forEach(function (cb) {
    cb(theme);
  });
}

function setToken(token) {
  if (typeof token !== "string" || !token) return;
  state.token = token;
  state.ready = true;
  var waiters = tokenWaiters;
  tokenWaiters = [];
  waiters.forEach(function (w) {
    w.resolve(token);
  });
  listeners.token.forEach(function (cb) {
    cb(token);
  });
}

function onMessage(event) {
  if (!state.dashboardOrigin) return;
  if (event.source !== window.parent || event.origin !== state.dashboardOrigin) return;
  var data = event.data;
  if (!data || typeof data !== "object" || typeof data.type !== "string") return;
  var payload = data.payload && typeof data.payload === "object" ? data.payload : {};
  switch (data.type) {
    case "handshake":
      state.saleorVersion = payload.saleorVersion || null;
      state.dashboardVersion = payload.dashboardVersion || null;
      setToken(payload.token);
      break;
    case "tokenRefresh":
      setToken(payload.token);
      break;
    case "theme":
      applyTheme(payload.theme);
      break;
    case "response": {
      var pending = pendingActions[payload.actionId];
      if (pending) {
        delete pendingActions[payload.actionId];
        window.clearTimeout(pending.timer);
        if (payload.ok) pending.resolve();
        else pending.reject(new Error("The dashboard refused the action."));
      }
      break;
    }
    default:
      break; // redirect, localeChanged, formPayload: nothing to do on these pages
  }
}

/** Post an action to the dashboard; resolves when it answers ok. */
function dispatch(type, payload) {
  return new Promise(function (resolve, reject) {
    if (!framed || !state.dashboardOrigin) {
      reject(new Error("Not inside the Saleor dashboard."));
      return;
    }
    var actionId = newActionId();
    var body = Object.assign({}, payload || {}, { actionId: actionId });
    var timer = window.setTimeout(function () {
      delete pendingActions[actionId];
      reject(new Error("The dashboard did not answer."));
    }, ACTION_TIMEOUT_MS);
    pendingActions[actionId] = { resolve: resolve, reject: reject, timer: timer };
    window.parent.postMessage({ type: type, payload: body }, state.dashboardOrigin);
  });
}

function showLocalToast(status, title, text) {
  var box = document.getElementById("toasts");
  if (!box) return;
  var toast = document.createElement("div");
  toast.className = "toast " + (status === "error" ? "error" : status === "success" ? "success" : "");
  toast.setAttribute("role", status === "error" ? "alert" : "status");
  var strong = document.createElement("strong");
  strong.textContent = title;
  toast.appendChild(strong);
  if (text) {
    var p = document.createElement("div");
    p.textContent = text;
    toast.appendChild(p);
  }
  box.appendChild(toast);
  window.setTimeout(function () {
    toast.remove();
  }, status === "error" ? 10000 : 5000);
}

/** A toast in the dashboard (app-bridge `notification`), or on the page outside it. */
function notify(status, title, text) {
  return dispatch("notification", { status: status, title: title, text: text || "" }).catch(
    function () {
      showLocalToast(status, title, text);
    }
  );
}

function showProblem(text) {
  var box = document.getElementById("bridge-problem");
  if (!box) return;
  document.getElementById("bridge-problem-text").textContent = text;
  box.hidden = false;
}

function waitForToken() {
  if (state.token) return Promise.resolve(state.token);
  return new Promise(function (resolve, reject) {
    var waiter = { resolve: resolve, reject: reject };
    tokenWaiters.push(waiter);
    window.setTimeout(function () {
      var index = tokenWaiters.indexOf(waiter);
      if (index >= 0) {
        tokenWaiters.splice(index, 1);
        reject(
          new ApiError(
            "The Saleor dashboard did not hand this page a session. Reload the page, or open " +
              "the app from Apps → Mailchimp.",
            "NO_DASHBOARD_TOKEN",
            0
          )
        );
      }
    }, TOKEN_WAIT_MS);
  });
}

/** `details`: the technical side (code, HTTP status, request id), for a Details toggle. */
function ApiError(message, code, status, requestId) {
  this.name = "ApiError";
  this.message = message;
  this.code = code;
  this.status = status;
  this.requestId = requestId;
  this.details = [
    code,
    status ? "HTTP " + status : "",
    requestId ? "request id " + requestId : "",
  ]
    .filter(Boolean)
    .join(", ");
}
ApiError.prototype = Object.create(Error.prototype);

/** Call the app's API with the dashboard's token; errors become admin-readable sentences. */
function api(method, path, body, options) {
  var opts = options || {};
  return waitForToken().then(function (token) {
    var headers = {
      accept: "application/json",
      "authorization-bearer": token,
      "saleor-api-url": state.saleorApiUrl,
    };
    var init = { method: method, headers: headers, credentials: "omit", cache: "no-store" };
    if (body !== undefined && body !== null) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return window
      .fetch(path, init)
      .catch(function () {
        throw new ApiError(
          "The app could not be reached. Check your connection and try again.",
          "NETWORK",
          0
        );
      })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            if (response.ok && data !== null) return data;
            var error = data && data.error;
            // The app's log holds the request under this id (addon/logs.py).
            var requestId = response.headers.get("x-request-id");
            if (error && typeof error.message === "string") {
              throw new ApiError(error.message, error.code || "ERROR", response.status, requestId);
            }
            if (opts.allowEmpty && response.ok) return null;
            throw new ApiError(
              response.status >= 500
                ? "The app ran into a problem (HTTP " +
                  response.status +
                  "). Try again in a moment."
                : "The app answered unexpectedly (HTTP " + response.status + ").",
              "HTTP_" + response.status,
              response.status,
              requestId
            );
          });
      });
  });
}

function formatTime(value) {
  if (!value) return "";
  var date = new Date(value);
  if (isNaN(date.getTime())) return "";
  return date.toLocaleString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}

window.addEventListener("message", onMessage);
applyTheme(state.theme);

if (!framed) {
  showProblem("Open it from Apps → Mailchimp in your Saleor dashboard.");
} else if (!state.dashboardOrigin) {
  showProblem(
    "The page cannot tell which dashboard opened it, so it ignores its messages. " +
      "Open the app from Apps → Mailchimp in your Saleor dashboard."
  );
} else if (!state.saleorApiUrl) {
  showProblem("The dashboard did not say which Saleor this is (saleorApiUrl is missing).");
} else {
  // The dashboard may ignore this (older versions answer nothing): nothing waits on it.
  dispatch("notifyReady", {}).catch(function () {});
}

export { state, api, dispatch, notify, waitForToken, formatTime, ApiError };

export function onToken(cb) {
  listeners.token.push(cb);
}

export function onTheme(cb) {
  listeners.theme.push(cb);
}
