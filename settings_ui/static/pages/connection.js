/*
 * The Connection page: connect (Mailchimp login, sign-up, or API key), check, reset.
 *
 * OAuth runs in a pop-up. Saleor's dashboard frames apps with sandbox="allow-same-origin
 * allow-forms allow-scripts" (no allow-popups), so a frame usually cannot open windows. The
 * click first tries to open one synchronously (where the frame may), and otherwise asks the
 * dashboard to open it with app-bridge `redirect` {newContext: true}. While the window is open
 * the page asks the server how the log-in attempt ended (allowed, denied, error) and, when it
 * holds the window itself, notices it being closed: the wait ends within a second either way.
 */
import {
  $,
  PageLoader,
  bridge,
  clear,
  clearAll,
  clearFieldError,
  confirmed,
  fieldError,
  formatTime,
  notice,
  setBusy,
} from "../app.js";

const ATTEMPT_POLL_MS = 500;
const CLOSED_POLL_MS = 200;
const CONNECTION_POLL_MS = 1500;
const OAUTH_WAIT_MS = 10 * 60 * 1000; // the OAuth state expires after 10 minutes

const ROLE_NAMES = { owner: "Owner", admin: "Admin", manager: "Manager", author: "Author", viewer: "Viewer" };
const METHOD_NAMES = {
  api_key: "API key",
  oauth_login: "Log in with Mailchimp",
  oauth_signup: "Sign up for Mailchimp",
};
// How a log-in attempt ended, when the server does not say it in words.
const OUTCOME_TITLES = {
  denied: "Access was not allowed in Mailchimp",
  error: "Mailchimp could not be connected",
  abandoned: "The Mailchimp window was closed",
  expired: "The Mailchimp log-in expired",
};

let current = null; // the last ConnectionRead
let pendingOAuth = null;

function showCheck(ok, title, text) {
  const box = $("check-result");
  box.className = "notice mt-16 " + (ok ? "success" : "critical");
  box.textContent = "";
  const body = document.createElement("div");
  body.className = "notice-body";
  const strong = document.createElement("strong");
  strong.textContent = title;
  body.appendChild(strong);
  const p = document.createElement("p");
  p.textContent = text;
  body.appendChild(p);
  box.appendChild(body);
  box.hidden = false;
}

function render(connection) {
  if (current && current.status !== connection.status) {
    // A new state makes what was said about the old one obsolete.
    clearAll();
    $("check-result").hidden = true;
  }
  current = connection;
  $("content").hidden = false;
  const status = connection.status;
  const hasAccount = status !== "disconnected" && !!connection.account_name;
  $("status-card").hidden = !hasAccount;
  const badge = $("status-badge");
  if (status === "connected") {
    badge.className = "badge success";
    badge.textContent = "Connected";
    $("status-summary").textContent = "The store talks to this Mailchimp account.";
  } else if (status === "revoked") {
    badge.className = "badge critical";
    badge.textContent = "Access revoked";
    $("status-summary").textContent =
      connection.last_check_message ||
      "Mailchimp no longer accepts the app's credentials. Connect again below.";
  } else {
    badge.className = "badge";
    badge.textContent = "Not connected";
  }
  if (hasAccount) {
    $("fact-account").textContent =
      connection.account_name + (connection.dc ? " (" + connection.dc + ")" : "");
    $("fact-email").textContent = connection.login_email || "—";
    $("fact-role").textContent = ROLE_NAMES[connection.role] || connection.role || "—";
    $("fact-method").textContent = METHOD_NAMES[connection.method] || "—";
    $("fact-connected").textContent = formatTime(connection.connected_at) || "—";
  }
  $("check-button").hidden = status !== "connected";
  $("connect-options").hidden = status === "connected";
  const oauthNote = $("oauth-unavailable");
  document.querySelectorAll("[data-oauth]").forEach((b) => {
    if (connection.oauth_available) {
      b.removeAttribute("aria-disabled");
      b.removeAttribute("aria-describedby");
    } else {
      // Still focusable, so keyboard users reach the explanation.
      b.setAttribute("aria-disabled", "true");
      b.setAttribute("aria-describedby", "oauth-unavailable");
    }
  });
  oauthNote.hidden = !!connection.oauth_available;
  oauthNote.textContent = connection.oauth_unavailable_reason || "";
}

const loader = new PageLoader({
  errorTitle: "The connection could not be loaded",
  load: () => bridge.api("GET", "/api/connection"),
  render,
});

function describeCheck(result) {
  const c = result.connection;
  const who = [c.account_name, c.login_email, ROLE_NAMES[c.role] || c.role].filter(Boolean).join(" · ");
  return who + " — checked " + formatTime(result.checked_at);
}

// --- check and reset ---------------------------------------------------------------------

function check() {
  const b = $("check-button");
  setBusy(b, true, "Checking…");
  bridge
    .api("POST", "/api/connection/check")
    .then((result) => {
      render(result.connection);
      if (result.ok) {
        showCheck(true, result.health_status || result.message, describeCheck(result));
        confirmed("Connection works");
      } else {
        showCheck(false, "Mailchimp did not answer as expected", result.message);
      }
    })
    .catch((error) => showCheck(false, "Connection check failed", error.message))
    .then(() => {
      setBusy(b, false);
      if (!b.hidden) b.focus();
    });
}

function openReset() {
  $("forget-data").checked = false;
  $("reset-error") && $("reset-error").remove();
  $("reset-dialog").showModal();
  $("reset-cancel").focus();
}

function confirmReset() {
  const b = $("reset-confirm");
  setBusy(b, true, "Resetting…");
  bridge
    .api("POST", "/api/connection/reset", { forget_account_data: $("forget-data").checked })
    .then((result) => {
      $("reset-dialog").close();
      $("check-result").hidden = true;
      render(result.connection);
      confirmed("Mailchimp disconnected");
      // The Reset button is gone with the account: keyboard users go on from the next step.
      $("oauth-login").focus();
    })
    .catch((error) => {
      let line = $("reset-error");
      if (!line) {
        line = document.createElement("p");
        line.id = "reset-error";
        line.className = "field-error";
        line.setAttribute("role", "alert");
        $("reset-form").querySelector(".actions").before(line);
      }
      line.textContent = error.message;
    })
    .then(() => setBusy(b, false));
}

// --- API key -----------------------------------------------------------------------------

function connectWithKey(event) {
  event.preventDefault();
  const input = $("api-key");
  const key = input.value.trim();
  clearFieldError("api-key");
  if (!key) {
    fieldError("api-key", "Paste your Mailchimp API key first.");
    input.focus();
    return;
  }
  const b = $("api-key-submit");
  setBusy(b, true, "Connecting…");
  bridge
    .api("POST", "/api/connection/api-key", { api_key: key })
    .then((result) => {
      input.value = "";
      render(result.connection);
      clearAll();
      confirmed("Mailchimp connected");
      $("check-button").focus();
    })
    .catch((error) => {
      // Inline only: the field says what is wrong with it.
      fieldError("api-key", error.message);
      input.focus();
    })
    .then(() => setBusy(b, false));
}

// --- OAuth -------------------------------------------------------------------------------

function setOAuthButtons(disabled) {
  document.querySelectorAll("[data-oauth]").forEach((b) => {
    b.disabled = disabled;
  });
}

function stopWaiting() {
  if (!pendingOAuth) return;
  pendingOAuth.timers.forEach((t) => window.clearInterval(t));
  window.removeEventListener("message", pendingOAuth.onMessage);
  pendingOAuth = null;
  $("oauth-waiting").hidden = true;
  setOAuthButtons(false);
}

/** The attempt ended: say how, in one place, and put the page in its new state. */
function finish(waiting, ok, title, message) {
  if (pendingOAuth !== waiting) return;
  stopWaiting();
  if (ok) {
    clearAll();
    bridge
      .api("GET", "/api/connection")
      .then(render)
      .then(() => {
        confirmed("Mailchimp connected");
        if (!$("check-button").hidden) $("check-button").focus();
      });
    return;
  }
  notice("oauth", "warning", title, message);
  const again = document.querySelector('[data-oauth="' + waiting.flow + '"]');
  if (again) again.focus();
}

function outcome(waiting, attempt) {
  if (!attempt || attempt.status === "pending") return false;
  if (attempt.status === "allowed") {
    finish(waiting, true);
  } else {
    finish(
      waiting,
      false,
      OUTCOME_TITLES[attempt.status] || "Mailchimp is not connected",
      attempt.message || "Nothing was connected. Try again when you are ready."
    );
  }
  return true;
}

function changedSince(before, after) {
  return (
    after.status === "connected" &&
    (before.status !== "connected" || before.connected_at !== after.connected_at)
  );
}

function windowClosed(waiting) {
  const closedMessage =
    "You closed it before allowing access, so nothing was connected. Start again when you are ready.";
  if (waiting.statusUrl) {
    // The server may already know better (allowed a moment before closing): its word wins.
    bridge
      .api("POST", waiting.statusUrl + "/abandon")
      .then((attempt) => {
        if (!outcome(waiting, attempt)) {
          finish(waiting, false, OUTCOME_TITLES.abandoned, closedMessage);
        }
      })
      .catch(() => finish(waiting, false, OUTCOME_TITLES.abandoned, closedMessage));
    return;
  }
  bridge
    .api("GET", "/api/connection")
    .then((connection) => {
      if (changedSince(waiting.before, connection)) finish(waiting, true);
      else finish(waiting, false, OUTCOME_TITLES.abandoned, closedMessage);
    })
    .catch(() => finish(waiting, false, OUTCOME_TITLES.abandoned, closedMessage));
}

/*
 * Log-in windows announce themselves (oauth-window.js) as soon as they open, which may be
 * before the page starts waiting: remember them by their OAuth state, and answer so the
 * window goes on to Mailchimp.
 */
const windows = new Map();
window.addEventListener("message", (event) => {
  if (event.origin !== window.location.origin || !event.source) return;
  const data = event.data;
  if (!data || data.type !== "mailchimp-oauth-window" || typeof data.state !== "string") return;
  windows.set(data.state, event.source);
  event.source.postMessage({ type: "mailchimp-oauth-window-ack" }, window.location.origin);
  if (pendingOAuth && pendingOAuth.state === data.state) pendingOAuth.adopt(event.source);
});

function waitForOAuth(popup, flow, start) {
  stopWaiting();
  const startedAt = Date.now();
  const waiting = {
    flow,
    state: start.state,
    before: current || { status: "disconnected" },
    statusUrl: start.status_url || null,
    timers: [],
    closing: false,
    onMessage: (event) => {
      // Only the log-in window, on our own origin, talks to us this way.
      if (event.origin !== window.location.origin) return;
      const data = event.data;
      if (!data || typeof data !== "object") return;
      if (data.type === "mailchimp-oauth-window") return; // announced(): see below
      if (!popup || event.source !== popup) return;
      if (data.type !== "mailchimp-oauth") return;
      if (data.ok) finish(waiting, true);
      else finish(waiting, false, OUTCOME_TITLES.error, String(data.message || ""));
    },
  };
  pendingOAuth = waiting;
  window.addEventListener("message", waiting.onMessage);
  clear("oauth");
  $("oauth-waiting").hidden = false;
  setOAuthButtons(true);

  // The window the dashboard opened for us says hello: now we can tell when it closes.
  waiting.adopt = (source) => {
    if (popup) return;
    popup = source;
    watchClosed();
  };
  function watchClosed() {
    waiting.timers.push(
      window.setInterval(() => {
        if (pendingOAuth !== waiting || waiting.closing || !popup.closed) return;
        waiting.closing = true;
        windowClosed(waiting);
      }, CLOSED_POLL_MS)
    );
  }
  if (popup) watchClosed();
  else if (windows.has(start.state)) waiting.adopt(windows.get(start.state));
  let inFlight = false;
  waiting.timers.push(
    window.setInterval(
      () => {
        if (pendingOAuth !== waiting || waiting.closing || inFlight) return;
        if (Date.now() - startedAt > OAUTH_WAIT_MS) {
          finish(waiting, false, OUTCOME_TITLES.expired, "It took longer than 10 minutes. Start again.");
          return;
        }
        inFlight = true;
        const read = waiting.statusUrl
          ? bridge.api("GET", waiting.statusUrl).then((attempt) => {
              if (pendingOAuth === waiting && !waiting.closing) outcome(waiting, attempt);
            })
          : bridge.api("GET", "/api/connection").then((connection) => {
              if (pendingOAuth === waiting && changedSince(waiting.before, connection)) {
                finish(waiting, true);
              }
            });
        read
          .catch(() => {
            /* a failed poll is retried on the next tick */
          })
          .then(() => {
            inFlight = false;
          });
      },
      waiting.statusUrl ? ATTEMPT_POLL_MS : CONNECTION_POLL_MS
    )
  );
}

function startOAuth(event) {
  const b = event.currentTarget;
  const flow = b.getAttribute("data-oauth");
  if (!current || !current.oauth_available) {
    $("oauth-unavailable").scrollIntoView({ block: "nearest" });
    return;
  }
  // Synchronously, within the click: a pop-up opened later would be blocked.
  let popup = null;
  try {
    popup = window.open("", "mailchimp-oauth", "popup,width=560,height=760");
  } catch (e) {
    popup = null;
  }
  clear("oauth");
  setBusy(b, true, "Opening Mailchimp…");
  bridge
    .api("GET", "/api/connection/oauth/start?flow=" + encodeURIComponent(flow))
    .then((start) => {
      // The window starts on the app's own page, which hands this frame a handle on the
      // window (so closing it is noticed) and goes on to Mailchimp.
      const stateParam = new URL(start.authorize_url).searchParams.get("state") || "";
      const first = flow === "signup" ? "/app/oauth/signup" : "/app/oauth/go";
      const target =
        window.location.origin + first + "?state=" + encodeURIComponent(stateParam) +
        "&theme=" + bridge.state.theme;
      start.state = stateParam;
      if (popup && !popup.closed) {
        popup.location.href = target;
        setBusy(b, false);
        waitForOAuth(popup, flow, start);
        return null;
      }
      // The frame may not open windows: the dashboard opens it for us.
      return bridge.dispatch("redirect", { to: target, newContext: true }).then(
        () => {
          setBusy(b, false);
          waitForOAuth(null, flow, start);
        },
        () => {
          throw new bridge.ApiError(
            "The Mailchimp window could not be opened. Allow pop-ups for the dashboard and try again.",
            "POPUP_BLOCKED",
            0
          );
        }
      );
    })
    .catch((error) => {
      if (popup && !popup.closed) popup.close();
      setBusy(b, false);
      notice("oauth", "critical", "Could not start the Mailchimp log-in", error.message);
    });
}

// --- wiring ------------------------------------------------------------------------------

$("check-button").addEventListener("click", check);
$("reset-button").addEventListener("click", openReset);
$("reset-cancel").addEventListener("click", () => {
  $("reset-dialog").close();
  $("reset-button").focus();
});
$("reset-confirm").addEventListener("click", confirmReset);
$("api-key-form").addEventListener("submit", connectWithKey);
$("api-key").addEventListener("input", () => clearFieldError("api-key"));
$("oauth-cancel").addEventListener("click", () => {
  const waiting = pendingOAuth;
  stopWaiting();
  if (waiting) {
    if (waiting.statusUrl) bridge.api("POST", waiting.statusUrl + "/abandon").catch(() => {});
    const again = document.querySelector('[data-oauth="' + waiting.flow + '"]');
    if (again) again.focus();
  }
});
document.querySelectorAll("[data-oauth]").forEach((b) => b.addEventListener("click", startOAuth));
loader.run();
