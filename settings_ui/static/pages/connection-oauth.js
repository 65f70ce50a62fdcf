/*
 * The Connection page's Mailchimp log-in (see connection.js): "Log in with Mailchimp" and
 * "Sign up for Mailchimp", waiting for the window, and how the attempt ended. The page hands in
 * its last connection and how to render a new one (setUpOAuth).
 *
 * OAuth runs in a pop-up. Saleor's dashboard frames apps in a sandbox, which allows pop-ups in
 * its current versions only, so the click first tries to open one synchronously (where the
 * frame may), and otherwise asks the dashboard to open it with app-bridge `redirect`
 * {newContext: true}. The window's first page, on the app's origin, announces itself; this page
 * answers it with the log-in's browser key, which the window keeps for the callback (the
 * callback connects only in the browser the log-in was started in). While the window is open
 * the page asks the server how the log-in attempt ended (allowed, denied, error) and, when it
 * holds the window itself, notices it being closed: the wait ends within a second either way.
 * A log-in that would connect another account while work still waits for the previous one ends
 * with the page's offer to connect it anyway: a new log-in, started with the confirmation (the
 * account is known only once Mailchimp answers).
 */
import { $, bridge, clear, clearAll, confirmed, notice, setBusy } from "../app.js";

const ATTEMPT_POLL_MS = 500;
const CLOSED_POLL_MS = 200;
const CONNECTION_POLL_MS = 1500;
const OAUTH_WAIT_MS = 10 * 60 * 1000; // a log-in's life when the server does not say (`expires_at`)

// How a log-in attempt ended, when the server does not say it in words.
const OUTCOME_TITLES = {
  denied: "Access was not allowed in Mailchimp",
  error: "Mailchimp could not be connected",
  abandoned: "The Mailchimp window was closed",
  expired: "The Mailchimp log-in expired",
};

let currentConnection = () => null; // the page's last ConnectionRead
let render = () => {};
let owedCode = null; // the outcome's code when work still waits for the previous account
let showOwed = () => null;
let pendingOAuth = null;

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
function finish(waiting, ok, title, message, code) {
  if (pendingOAuth !== waiting) return;
  stopWaiting();
  if (!ok && code && code === owedCode) {
    const node = showOwed(message, code, "Log in again and connect anyway…", () =>
      begin(waiting.flow, true)
    );
    if (node) node.querySelector(".notice-actions button").focus();
    return;
  }
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
      attempt.message || "Nothing was connected. Try again when you are ready.",
      attempt.code
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
 * before the page starts waiting: remember them by their OAuth state, and answer with the
 * log-in's browser key so the window goes on to Mailchimp. Only a log-in this page started
 * is answered (`keys`, by state): the key never leaves this page but for its own window.
 */
const windows = new Map();
const keys = new Map();

/** Remember a log-in window that announced itself, and let it go on. */
function announced(event) {
  if (event.origin !== window.location.origin || !event.source) return;
  const data = event.data;
  if (!data || data.type !== "mailchimp-oauth-window" || typeof data.state !== "string") return;
  const key = keys.get(data.state);
  if (!key) return;
  windows.set(data.state, event.source);
  event.source.postMessage(
    {
      type: "mailchimp-oauth-window-ack",
      state: data.state,
      cookie: key.cookie,
      key: key.key,
      max_age: key.maxAge,
    },
    window.location.origin
  );
  if (pendingOAuth && pendingOAuth.state === data.state) pendingOAuth.adopt(event.source);
}

// When the log-in started now expires (a sign-up lives longer: the account is created first).
function deadlineOf(start) {
  const at = Date.parse(start.expires_at || "");
  return Number.isNaN(at) ? Date.now() + OAUTH_WAIT_MS : at;
}

function waitForOAuth(popup, flow, start) {
  stopWaiting();
  const deadline = deadlineOf(start);
  const waiting = {
    flow,
    state: start.state,
    before: currentConnection() || { status: "disconnected" },
    statusUrl: start.status_url || null,
    timers: [],
    closing: false,
    onMessage: (event) => {
      // Only the log-in window, on our own origin, talks to us this way.
      if (event.origin !== window.location.origin) return;
      const data = event.data;
      if (!data || typeof data !== "object") return;
      if (data.type === "mailchimp-oauth-window") return; // announced(): see above
      if (!popup || event.source !== popup) return;
      if (data.type !== "mailchimp-oauth") return;
      if (data.ok) finish(waiting, true);
      else finish(waiting, false, OUTCOME_TITLES.error, String(data.message || ""), data.code);
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
        if (Date.now() > deadline) {
          finish(waiting, false, OUTCOME_TITLES.expired, "It was not finished in time. Start again.");
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
  begin(event.currentTarget.getAttribute("data-oauth"), false);
}

/** Start a log-in (`dropOwed`: the admin confirmed connecting another account all the same). */
function begin(flow, dropOwed) {
  const b = document.querySelector('[data-oauth="' + flow + '"]');
  const current = currentConnection();
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
  clear("owed");
  setBusy(b, true, "Opening Mailchimp…");
  const confirmation = dropOwed ? "&drop_owed_to_previous_account=true" : "";
  bridge
    .api("GET", "/api/connection/oauth/start?flow=" + encodeURIComponent(flow) + confirmation)
    .then((start) => {
      // The window starts on the app's own page, which hands this frame a handle on the
      // window (so closing it is noticed) and goes on to Mailchimp.
      const stateParam = new URL(start.authorize_url).searchParams.get("state") || "";
      const first = flow === "signup" ? "/app/oauth/signup" : "/app/oauth/go";
      const target =
        window.location.origin + first + "?state=" + encodeURIComponent(stateParam) +
        "&theme=" + bridge.state.theme;
      start.state = stateParam;
      keys.set(stateParam, {
        cookie: start.browser_cookie,
        key: start.browser_key,
        maxAge: Math.round((deadlineOf(start) - Date.now()) / 1000),
      });
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

function cancelOAuth() {
  const waiting = pendingOAuth;
  stopWaiting();
  if (waiting) {
    if (waiting.statusUrl) bridge.api("POST", waiting.statusUrl + "/abandon").catch(() => {});
    const again = document.querySelector('[data-oauth="' + waiting.flow + '"]');
    if (again) again.focus();
  }
}

/**
 * Once, before the first render: `connection()` is the page's last ConnectionRead (or null),
 * `render(connection)` puts a new one on the page; an outcome coded `owed` is shown by
 * `showOwed(message, technical, retryLabel, retry)`, which returns its notice.
 */
export function setUpOAuth({ connection, render: renderConnection, owed, showOwed: show }) {
  currentConnection = connection;
  render = renderConnection;
  owedCode = owed;
  showOwed = show;
  window.addEventListener("message", announced);
  $("oauth-cancel").addEventListener("click", cancelOAuth);
  document.querySelectorAll("[data-oauth]").forEach((b) => b.addEventListener("click", startOAuth));
}
