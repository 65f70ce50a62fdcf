/*
 * The Connection page: connect (Mailchimp login, sign-up, or API key), check, reset.
 *
 * OAuth runs in a pop-up. Saleor's dashboard frames apps with sandbox="allow-same-origin
 * allow-forms allow-scripts" (no allow-popups), so a frame usually cannot open windows. The
 * click first tries to open one synchronously (where the frame may), and otherwise asks the
 * dashboard to open it with app-bridge `redirect` {newContext: true}; the dashboard then opens
 * it within the same user gesture. Only our own pop-up can post its result back to us, so the
 * page also polls the connection while a sign-in is pending: it notices success either way.
 */
(function () {
  "use strict";

  var bridge = window.appBridge;
  var POLL_MS = 1500;
  var OAUTH_WAIT_MS = 10 * 60 * 1000; // the OAuth state expires after 10 minutes

  var current = null; // the last ConnectionRead
  var pendingOAuth = null;

  var $ = window.dom.$;

  var ROLE_NAMES = { owner: "Owner", admin: "Admin", manager: "Manager", author: "Author", viewer: "Viewer" };
  var METHOD_NAMES = {
    api_key: "API key",
    oauth_login: "Log in with Mailchimp",
    oauth_signup: "Sign up for Mailchimp",
  };

  var setBusy = window.dom.setBusy;

  function showCheck(ok, title, text) {
    var box = $("check-result");
    box.className = "notice mt-16 " + (ok ? "success" : "critical");
    box.textContent = "";
    var strong = document.createElement("strong");
    strong.textContent = title;
    box.appendChild(strong);
    var p = document.createElement("p");
    p.textContent = text;
    box.appendChild(p);
    box.hidden = false;
  }

  function render(connection) {
    current = connection;
    $("loading").hidden = true;
    var status = connection.status;
    var hasAccount = status !== "disconnected" && connection.account_name;
    var card = $("status-card");
    card.hidden = !hasAccount;
    var badge = $("status-badge");
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
      $("fact-connected").textContent = bridge.formatTime(connection.connected_at) || "—";
    }
    $("check-button").hidden = status !== "connected";
    $("connect-options").hidden = status === "connected";
    var oauthNote = $("oauth-unavailable");
    var oauthButtons = document.querySelectorAll("[data-oauth]");
    for (var i = 0; i < oauthButtons.length; i++) {
      if (connection.oauth_available) {
        oauthButtons[i].removeAttribute("aria-disabled");
        oauthButtons[i].removeAttribute("aria-describedby");
      } else {
        // Still focusable, so keyboard users reach the explanation.
        oauthButtons[i].setAttribute("aria-disabled", "true");
        oauthButtons[i].setAttribute("aria-describedby", "oauth-unavailable");
      }
    }
    oauthNote.hidden = !!connection.oauth_available;
    oauthNote.textContent = connection.oauth_unavailable_reason || "";
  }

  function describeCheck(result) {
    var c = result.connection;
    var who = [c.account_name, c.login_email, ROLE_NAMES[c.role] || c.role]
      .filter(Boolean)
      .join(" · ");
    return who + " — checked " + bridge.formatTime(result.checked_at);
  }

  function load() {
    return bridge
      .api("GET", "/api/connection")
      .then(render)
      .catch(function (error) {
        $("loading").textContent = error.message;
      });
  }

  // --- check and reset -------------------------------------------------------------------

  function check() {
    var button = $("check-button");
    setBusy(button, true, "Checking…");
    bridge
      .api("POST", "/api/connection/check")
      .then(function (result) {
        render(result.connection);
        if (result.ok) {
          showCheck(true, result.health_status || result.message, describeCheck(result));
          bridge.notify("success", result.health_status || "Connection works", describeCheck(result));
        } else {
          showCheck(false, "Mailchimp did not answer as expected", result.message);
          bridge.notify("error", "Connection check failed", result.message);
        }
      })
      .catch(function (error) {
        showCheck(false, "Connection check failed", error.message);
        bridge.notify("error", "Connection check failed", error.message);
      })
      .then(function () {
        setBusy(button, false);
      });
  }

  function openReset() {
    $("forget-data").checked = false;
    $("reset-dialog").showModal();
    $("reset-cancel").focus();
  }

  function confirmReset() {
    var button = $("reset-confirm");
    setBusy(button, true, "Resetting…");
    bridge
      .api("POST", "/api/connection/reset", { forget_account_data: $("forget-data").checked })
      .then(function (result) {
        $("reset-dialog").close();
        $("check-result").hidden = true;
        render(result.connection);
        bridge.notify("success", "Mailchimp disconnected", result.message);
      })
      .catch(function (error) {
        bridge.notify("error", "Reset failed", error.message);
      })
      .then(function () {
        setBusy(button, false);
      });
  }

  // --- API key ---------------------------------------------------------------------------

  function connectWithKey(event) {
    event.preventDefault();
    var input = $("api-key");
    var errorBox = $("api-key-error");
    var key = input.value.trim();
    errorBox.textContent = "";
    input.removeAttribute("aria-invalid");
    if (!key) {
      errorBox.textContent = "Paste your Mailchimp API key first.";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    var button = $("api-key-submit");
    setBusy(button, true, "Connecting…");
    bridge
      .api("POST", "/api/connection/api-key", { api_key: key })
      .then(function (result) {
        input.value = "";
        render(result.connection);
        bridge.notify("success", "Mailchimp connected", result.message);
        $("check-button").focus();
      })
      .catch(function (error) {
        errorBox.textContent = error.message;
        input.setAttribute("aria-invalid", "true");
        bridge.notify("error", "Mailchimp is not connected", error.message);
        input.focus();
      })
      .then(function () {
        setBusy(button, false);
      });
  }

  // --- OAuth -----------------------------------------------------------------------------

  function stopWaiting() {
    if (!pendingOAuth) return;
    window.clearInterval(pendingOAuth.poll);
    window.removeEventListener("message", pendingOAuth.onMessage);
    pendingOAuth = null;
    $("oauth-waiting").hidden = true;
  }

  function finishOAuth(ok, message) {
    stopWaiting();
    return load().then(function () {
      if (ok) bridge.notify("success", "Mailchimp connected", message);
      else bridge.notify("error", "Mailchimp is not connected", message);
    });
  }

  function changedSince(before, after) {
    return (
      after.status === "connected" &&
      (before.status !== "connected" || before.connected_at !== after.connected_at)
    );
  }

  function waitForOAuth(popup) {
    stopWaiting();
    var before = current || { status: "disconnected" };
    var startedAt = Date.now();
    var waiting = {
      onMessage: function (event) {
        // Only our own pop-up, on our own origin, reports the result this way.
        if (event.origin !== window.location.origin) return;
        if (!popup || event.source !== popup) return;
        var data = event.data;
        if (!data || data.type !== "mailchimp-oauth") return;
        finishOAuth(!!data.ok, String(data.message || ""));
      },
      poll: window.setInterval(function () {
        if (Date.now() - startedAt > OAUTH_WAIT_MS) {
          stopWaiting();
          bridge.notify("error", "Mailchimp sign-in expired", "It took longer than 10 minutes. Start again.");
          return;
        }
        bridge
          .api("GET", "/api/connection")
          .then(function (connection) {
            if (pendingOAuth !== waiting) return;
            if (changedSince(before, connection)) {
              finishOAuth(true, "Connected to Mailchimp account " + connection.account_name + ".");
            } else if (popup && popup.closed) {
              stopWaiting(); // closed without finishing; the pop-up showed why
            }
          })
          .catch(function () {
            /* a failed poll is retried on the next tick */
          });
      }, POLL_MS),
    };
    pendingOAuth = waiting;
    window.addEventListener("message", waiting.onMessage);
    $("oauth-waiting").hidden = false;
  }

  function startOAuth(event) {
    var button = event.currentTarget;
    var flow = button.getAttribute("data-oauth");
    if (!current || !current.oauth_available) {
      bridge.notify(
        "warning",
        "Logging in with Mailchimp is not set up",
        (current && current.oauth_unavailable_reason) || ""
      );
      return;
    }
    // Synchronously, within the click: a pop-up opened later would be blocked.
    var popup = null;
    try {
      popup = window.open("", "mailchimp-oauth", "popup,width=560,height=760");
    } catch (e) {
      popup = null;
    }
    setBusy(button, true, "Opening Mailchimp…");
    bridge
      .api("GET", "/api/connection/oauth/start?flow=" + encodeURIComponent(flow))
      .then(function (start) {
        var target = start.authorize_url;
        if (flow === "signup") {
          var stateParam = new URL(start.authorize_url).searchParams.get("state") || "";
          target =
            window.location.origin + "/app/oauth/signup?state=" + encodeURIComponent(stateParam);
        }
        if (popup && !popup.closed) {
          popup.location.href = target;
          waitForOAuth(popup);
          return null;
        }
        // The frame may not open windows: the dashboard opens it for us.
        return bridge.dispatch("redirect", { to: target, newContext: true }).then(
          function () {
            waitForOAuth(null);
          },
          function () {
            throw new bridge.ApiError(
              "The Mailchimp window could not be opened. Allow pop-ups for the dashboard and try again.",
              "POPUP_BLOCKED",
              0
            );
          }
        );
      })
      .catch(function (error) {
        if (popup && !popup.closed) popup.close();
        bridge.notify("error", "Could not start Mailchimp sign-in", error.message);
      })
      .then(function () {
        setBusy(button, false);
      });
  }

  // --- wiring ----------------------------------------------------------------------------

  $("check-button").addEventListener("click", check);
  $("reset-button").addEventListener("click", openReset);
  $("reset-cancel").addEventListener("click", function () {
    $("reset-dialog").close();
    $("reset-button").focus();
  });
  $("reset-confirm").addEventListener("click", confirmReset);
  $("api-key-form").addEventListener("submit", connectWithKey);
  $("oauth-cancel").addEventListener("click", stopWaiting);
  var oauthButtons = document.querySelectorAll("[data-oauth]");
  for (var i = 0; i < oauthButtons.length; i++) {
    oauthButtons[i].addEventListener("click", startOAuth);
  }
  load();
})();
