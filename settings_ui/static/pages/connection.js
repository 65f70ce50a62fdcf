/*
 * The Connection page: connect (Mailchimp login, sign-up, or API key), check, reset.
 *
 * The Mailchimp log-in (a pop-up, and waiting for it) is in connection-oauth.js: the page
 * hands it its last connection, how to render a new one, and how to offer connecting another
 * account although work still waits for the previous one (setUpOAuth).
 */
import {
  $,
  PageLoader,
  bridge,
  clear,
  clearAll,
  clearFieldError,
  confirmDialog,
  confirmed,
  details,
  fieldError,
  formatTime,
  notice,
  setBusy,
} from "../app.js";
import { setUpOAuth } from "./connection-oauth.js";

const ROLE_NAMES = { owner: "Owner", admin: "Admin", manager: "Manager", author: "Author", viewer: "Viewer" };
const METHOD_NAMES = {
  api_key: "API key",
  oauth_login: "Log in with Mailchimp",
  oauth_signup: "Sign up for Mailchimp",
};

let current = null; // the last ConnectionRead

// Erasures or unsubscribes still wait for the account connected before (a 409, or the log-in's
// outcome): the server's message counts them. Connecting another account all the same ends
// them not done, so it takes a confirmation.
const OWED = "OWED_TO_PREVIOUS_ACCOUNT";

/** Say what still waits for the previous account; `retry()` connects anyway, once confirmed. */
function showOwed(message, technical, retryLabel, retry) {
  const title = "Work still waits for the previous Mailchimp account";
  const node = notice("owed", "warning", title, message, {
    label: retryLabel,
    run: () =>
      confirmDialog({
        title: "Connect the other account anyway?",
        text:
          "What still waits for the previous account will not be done there, and Activity will " +
          "list it as not done. The app forgets the addresses it was asked to erase all the same. " +
          "To let it finish instead, cancel and reconnect the previous account first.",
        confirm: "Connect anyway",
        danger: true,
      }).then((yes) => {
        if (yes) retry();
      }),
  });
  if (node && technical) {
    node.querySelector(".notice-body").appendChild(details("Technical details", technical));
  }
  return node;
}

// The answers that are about the key itself (the field says them); any other failure is not.
const KEY_REFUSED = [
  "INVALID_INPUT",
  "INVALID_API_KEY_FORMAT",
  "MAILCHIMP_REJECTED_CREDENTIALS",
  "MAILCHIMP_FORBIDDEN",
];

/** A failure in plain words on the page, its technical side behind a toggle. */
function failure(key, title, error) {
  const node = notice(key, "critical", title, error.message);
  if (node && error.details) {
    node.querySelector(".notice-body").appendChild(details("Technical details", error.details));
  }
  return node;
}

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
  clear("reset");
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
      if (!$("reset-dialog").open) {
        // Closed while it ran (Escape): the page says it, not a dialog nobody sees.
        failure("reset", "The connection was not reset", error);
        return;
      }
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
  sendKey(key, false);
}

function sendKey(key, dropOwed) {
  const input = $("api-key");
  const b = $("api-key-submit");
  clear("owed");
  clear("connect");
  setBusy(b, true, "Connecting…");
  const body = { api_key: key };
  if (dropOwed) body.drop_owed_to_previous_account = true;
  bridge
    .api("POST", "/api/connection/api-key", body)
    .then((result) => {
      input.value = "";
      render(result.connection);
      clearAll();
      confirmed("Mailchimp connected");
      $("check-button").focus();
    })
    .catch((error) => {
      if (error.code === OWED) {
        // Nothing wrong with the key: the page says what waits, and offers to go on.
        const node = showOwed(error.message, error.details, "Connect with this key anyway…", () =>
          sendKey(key, true)
        );
        if (node) node.querySelector(".notice-actions button").focus();
        return;
      }
      if (KEY_REFUSED.indexOf(error.code) >= 0) {
        // Inline only: the field says what is wrong with it.
        fieldError("api-key", error.message);
      } else {
        // Nothing said about the key (the app or Mailchimp did not answer): the page says so.
        failure("connect", "Mailchimp was not connected", error);
      }
      input.focus();
    })
    .then(() => setBusy(b, false));
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
setUpOAuth({ connection: () => current, render, owed: OWED, showOwed });
loader.run();
