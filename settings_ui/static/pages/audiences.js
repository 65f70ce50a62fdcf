/*
 * The Audiences & groups page: the audiences imported from Mailchimp, which ones the store
 * offers (and the default), the groups shoppers may pick, and the subscription rules.
 *
 * Saving sends only this page's fields with PATCH /api/audiences/settings: the two-way options
 * (set on the Subscriptions page) are left as they are, whoever changed them meanwhile.
 *
 * One card per audience is built in audiences-cards.js; the merge-field mapping and the
 * Engagement section are in audiences-mapping.js and audiences-engagement.js.
 */
import {
  $,
  PageLoader,
  SaveBar,
  bridge,
  clear,
  clearFieldError,
  confirmed,
  details,
  el,
  fieldError,
  formatTime,
  notice,
  setBusy,
} from "../app.js";
import { renderAudience } from "./audiences-cards.js";
import { engagementBar, withEngagement } from "./audiences-engagement.js";
import { renderMappings } from "./audiences-mapping.js";

var REFRESH_POLL_MS = 1500;
var REFRESH_WAIT_MS = 60000;
var ORIGIN_RE = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

var current = null; // the last AudiencesRead

/** Validation errors name fields by the API's names; say them in the page's words. */
function readable(message) {
  return String(message || "")
    .replace(/Allowed origins(, row \d+)?/g, "Storefront origins")
    .replace(/Tags, row \d+/g, "Tags");
}

// --- rendering -------------------------------------------------------------------------

/** Audiences that still exist in Mailchimp (removed ones are not "imported"). */
function importedCount(data) {
  var n =
    typeof data.imported_count === "number"
      ? data.imported_count
      : data.audiences.filter(function (a) {
          return !a.removed;
        }).length;
  return n === 1 ? "1 audience" : n.toLocaleString() + " audiences";
}

function renderImportStatus(data) {
  var text = data.last_import_at
    ? importedCount(data) + " imported from Mailchimp " + formatTime(data.last_import_at) + "."
    : "Not imported from Mailchimp yet.";
  $("import-status").textContent = text;
  var error = data.last_import_error || "";
  $("import-error").hidden = !error;
  // Mailchimp's errors read "<what happened> (<status>): <detail>. Request: … error id: …":
  // the first part in words, the whole of it behind the toggle.
  var plain = error.split(" (")[0].split(" Request: ")[0].replace(/[.:]?$/, ".");
  var text = $("import-error-text");
  text.textContent = error ? plain + " Press Refresh to try again." : "";
  var body = $("import-error").querySelector(".notice-body");
  var old = body.querySelector(".tech-details");
  if (old) old.remove();
  if (error && plain !== error) body.appendChild(details("Technical details", error));
}

function renderWarnings(warnings) {
  var list = $("warning-list");
  list.textContent = "";
  warnings.forEach(function (w) {
    list.appendChild(el("li", "", w));
  });
  $("warnings").hidden = warnings.length === 0;
}

/** Saved data into the form (the save bar calls it on load, save and Discard). */
function fill(data) {
  current = data;
  renderImportStatus(data);
  renderWarnings(data.warnings || []);
  var list = $("audience-list");
  list.textContent = "";
  data.audiences.forEach(function (audience) {
    list.appendChild(renderAudience(audience));
  });
  $("no-audiences").hidden = data.audiences.length > 0;

  var s = data.settings;
  $("allow-multiple").checked = s.allow_multiple;
  $("doi-follow").checked = s.double_optin !== "always";
  $("doi-always").checked = s.double_optin === "always";
  $("tags").value = s.tags.join(", ");
  $("origins").value = s.allowed_origins.join("\n");
  clearFieldErrors();
  renderMappings(data);
}

// --- loading and refreshing ------------------------------------------------------------

var bar = null;

var loader = new PageLoader({
  errorTitle: "The audiences could not be loaded",
  load: function () {
    return Promise.all([
      bridge.api("GET", "/api/connection").catch(function () {
        return null;
      }),
      withEngagement(bridge.api("GET", "/api/audiences")),
    ]);
  },
  render: function (results) {
    var connection = results[0];
    $("not-connected").hidden = !connection || connection.status === "connected";
    $("audiences-form").hidden = false;
    bar.reset(results[1]);
  },
});

function refresh() {
  var button = $("refresh-button");
  var before = current ? current.last_import_at + "|" + current.last_import_error : "";
  clear("refresh");
  setBusy(button, true, "Refreshing…");
  $("import-status").textContent = "Importing audiences and groups from Mailchimp…";
  var started = Date.now();

  function finish() {
    setBusy(button, false);
  }

  function poll() {
    return bridge.api("GET", "/api/audiences").then(function (data) {
      var now = data.last_import_at + "|" + data.last_import_error;
      if (now !== before) {
        // What Mailchimp has now is shown; the admin's unsaved choices stay, unsaved.
        bar.refresh(data);
        if (!data.last_import_error) confirmed("Audiences refreshed");
        finish();
        return;
      }
      if (Date.now() - started > REFRESH_WAIT_MS) {
        renderImportStatus(data);
        notice(
          "refresh",
          "warning",
          "The import is taking longer",
          "It continues in the background; reload this page in a minute."
        );
        finish();
        return;
      }
      window.setTimeout(function () {
        poll().catch(failed);
      }, REFRESH_POLL_MS);
    });
  }

  function failed(error) {
    if (current) renderImportStatus(current);
    notice("refresh", "critical", "Refresh failed", error.message);
    finish();
  }

  bridge.api("POST", "/api/audiences/refresh").then(poll).catch(failed);
}

// --- saving ----------------------------------------------------------------------------

function defaultRadios() {
  return document.querySelectorAll('input[name="default-audience"]');
}

function clearFieldErrors() {
  ["tags", "origins"].forEach(clearFieldError);
  $("default-error").textContent = "";
  defaultRadios().forEach(function (radio) {
    radio.removeAttribute("aria-invalid");
  });
}

/** The default audience's choice is marked, on the audiences the admin may choose. */
function defaultError(message) {
  $("default-error").textContent = message;
  defaultRadios().forEach(function (radio) {
    if (radio.disabled) return;
    radio.setAttribute("aria-invalid", "true");
    radio.setAttribute("aria-describedby", "default-error");
  });
}

function splitTags(value) {
  return value
    .split(",")
    .map(function (t) {
      return t.trim();
    })
    .filter(Boolean);
}

function splitOrigins(value) {
  return value
    .split(/[\s,]+/)
    .map(function (o) {
      return o.trim().replace(/\/+$/, "");
    })
    .filter(Boolean);
}

/** The form's values as the API takes them (no checks: the save bar compares them). */
function read() {
  var activeIds = [];
  document.querySelectorAll("[data-active]").forEach(function (input) {
    if (input.checked && !input.disabled) activeIds.push(input.dataset.active);
  });
  var offered = [];
  document.querySelectorAll("[data-group]").forEach(function (input) {
    if (input.checked && !input.disabled && activeIds.indexOf(input.dataset.listId) >= 0) {
      offered.push(input.dataset.group);
    }
  });
  var defaultRadio = document.querySelector('input[name="default-audience"]:checked');
  return {
    active_list_ids: activeIds,
    default_list_id: defaultRadio ? defaultRadio.value : null,
    offered_category_ids: offered,
    allow_multiple: $("allow-multiple").checked,
    double_optin: $("doi-always").checked ? "always" : "follow_audience",
    tags: splitTags($("tags").value),
    allowed_origins: splitOrigins($("origins").value),
  };
}

/**
 * The form's values (`read()`'s) back into the form, on the audiences `current` lists: a
 * Refresh from Mailchimp redraws the cards, the admin's unsaved choices stay.
 */
function apply(values) {
  var data = Object.assign({}, current, {
    audiences: current.audiences.map(function (a) {
      var active = values.active_list_ids.indexOf(a.list_id) >= 0;
      return Object.assign({}, a, {
        active: active,
        is_default: a.list_id === values.default_list_id,
        groups: a.groups.map(function (g) {
          return Object.assign({}, g, {
            // An audience not offered keeps its groups' saved choice (read() leaves them out).
            offered: active ? values.offered_category_ids.indexOf(g.category_id) >= 0 : g.offered,
          });
        }),
      });
    }),
    settings: Object.assign({}, current.settings, {
      allow_multiple: values.allow_multiple,
      double_optin: values.double_optin,
      tags: values.tags,
      allowed_origins: values.allowed_origins,
    }),
  });
  var saved = current;
  fill(data);
  current = saved; // the saved data, not the admin's edits
}

/** Inline errors next to the fields; false stops the save. */
function validate() {
  clearFieldErrors();
  var values = read();
  var ok = true;
  var longTag = values.tags.filter(function (t) {
    return t.length > 100;
  })[0];
  if (longTag) {
    fieldError("tags", "The tag “" + longTag.slice(0, 30) + "…” is longer than 100 characters.");
    ok = false;
  } else if (values.tags.length > 50) {
    fieldError("tags", "Use at most 50 tags (you have " + values.tags.length + ").");
    ok = false;
  }
  var badOrigin = values.allowed_origins.filter(function (o) {
    return !ORIGIN_RE.test(o);
  })[0];
  if (badOrigin) {
    fieldError(
      "origins",
      "“" + badOrigin + "” is not an origin: write the scheme and host only, like https://shop.example.com."
    );
    ok = false;
  } else if (values.allowed_origins.length > 50) {
    fieldError("origins", "Allow at most 50 origins.");
    ok = false;
  }
  if (values.active_list_ids.length > 1 && !values.default_list_id) {
    defaultError("Choose which of the offered audiences is the default one.");
    ok = false;
  }
  return ok;
}

function save(values) {
  return bridge.api("PATCH", "/api/audiences/settings", values).catch(function (error) {
    var message = readable(error.message);
    if (/^Storefront origins/.test(message)) fieldError("origins", message);
    else if (/^Tags/.test(message)) fieldError("tags", message);
    else if (error.code === "INVALID_DEFAULT_AUDIENCE") defaultError(message);
    // The same error in plainer words: its code, status and request id stay for Details.
    throw new bridge.ApiError(message, error.code, error.status, error.requestId);
  });
}

bar = new SaveBar(engagementBar({
  form: $("audiences-form"),
  read: read,
  fill: fill,
  apply: apply,
  validate: validate,
  save: save,
  savedTitle: "Audience settings saved",
}));
$("refresh-button").addEventListener("click", refresh);
loader.run();
