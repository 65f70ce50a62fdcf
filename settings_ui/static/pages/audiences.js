/*
 * The Audiences & groups page: the audiences imported from Mailchimp, which ones the store
 * offers (and the default), the groups shoppers may pick, and the subscription rules.
 *
 * Saving sends only this page's fields with PATCH /api/audiences/settings: the two-way options
 * (set on the Subscriptions page) are left as they are, whoever changed them meanwhile.
 */
import {
  $,
  PageLoader,
  SaveBar,
  badge,
  bridge,
  clear,
  clearFieldError,
  confirmed,
  el,
  fieldError,
  formatTime,
  notice,
  plural,
  setBusy,
} from "../app.js";
import { engagementBar, withEngagement } from "./audiences-engagement.js";
import { renderMappings } from "./audiences-mapping.js";

var REFRESH_POLL_MS = 1500;
var REFRESH_WAIT_MS = 60000;
var ORIGIN_RE = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

var current = null; // the last AudiencesRead

var GROUP_TYPES = {
  checkboxes: "Checkboxes · shoppers pick any",
  radio: "Radio buttons · shoppers pick one",
  dropdown: "Drop-down · shoppers pick one",
  hidden: "Hidden · set by the store, never shown to shoppers",
};

/** Validation errors name fields; say them in the page's words. */
function readable(message) {
  return String(message || "")
    .replace(/Value error, /g, "")
    .replace(/allowed_origins(\.\d+)?: /g, "Storefront origins: ")
    .replace(/tags(\.\d+)?: /g, "Tags: ");
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
  $("import-error").hidden = !data.last_import_error;
  $("import-error-text").textContent = data.last_import_error
    ? data.last_import_error + " Press Refresh to try again."
    : "";
}

function renderWarnings(warnings) {
  var list = $("warning-list");
  list.textContent = "";
  warnings.forEach(function (w) {
    list.appendChild(el("li", "", w));
  });
  $("warnings").hidden = warnings.length === 0;
}

function renderGroup(audience, group) {
  var row = el("div", "group-row");
  row.dataset.categoryId = group.category_id;
  var id = "group-" + audience.list_id + "-" + group.category_id;
  var label = el("label", "checkbox group-pick");
  label.setAttribute("for", id);
  var input = el("input");
  input.type = "checkbox";
  input.id = id;
  input.dataset.group = group.category_id;
  input.dataset.listId = audience.list_id;
  input.checked = group.offered && !group.removed;
  input.disabled = group.removed;
  if (group.removed) input.dataset.removed = "true";
  label.appendChild(input);
  label.appendChild(el("strong", "", group.title));
  var kind = el("span", "field-hint indent", GROUP_TYPES[group.type] || group.type);
  kind.id = id + "-type";
  input.setAttribute("aria-describedby", kind.id);
  var pick = el("div");
  pick.appendChild(label);
  pick.appendChild(kind);
  row.appendChild(pick);

  var right = el("div", "group-interests");
  if (group.removed) right.appendChild(badge("Removed in Mailchimp", "critical"));
  var chips = el("ul", "chips");
  chips.setAttribute("aria-label", "Interests in " + group.title);
  group.interests.forEach(function (interest) {
    chips.appendChild(el("li", "chip", interest.name));
  });
  if (!group.interests.length) chips.appendChild(el("li", "muted small", "No interests yet"));
  right.appendChild(chips);
  row.appendChild(right);
  return row;
}

function renderAudience(audience) {
  var card = el("article", "card audience");
  card.dataset.listId = audience.list_id;
  var headingId = "audience-" + audience.list_id;
  card.setAttribute("aria-labelledby", headingId);

  var header = el("div", "card-header");
  var titleBox = el("div");
  var h3 = el("h3", "audience-name", audience.name);
  h3.id = headingId;
  titleBox.appendChild(h3);
  titleBox.appendChild(
    el(
      "div",
      "muted small",
      plural(audience.member_count, "member", "members") + " · audience ID " + audience.list_id
    )
  );
  header.appendChild(titleBox);
  var badges = el("div", "badges");
  if (audience.removed) badges.appendChild(badge("Removed in Mailchimp", "critical"));
  if (audience.is_default && !audience.removed) badges.appendChild(badge("Default", "info"));
  badges.appendChild(
    audience.double_optin
      ? badge("Double opt-in on", "success")
      : badge("Double opt-in off")
  );
  header.appendChild(badges);
  card.appendChild(header);

  var choices = el("div", "audience-choices");
  var activeLabel = el("label", "checkbox");
  var active = el("input");
  active.type = "checkbox";
  active.dataset.active = audience.list_id;
  active.checked = audience.active && !audience.removed;
  active.disabled = audience.removed;
  activeLabel.appendChild(active);
  activeLabel.appendChild(el("span", "", "Offer in the store"));
  choices.appendChild(activeLabel);

  var defaultLabel = el("label", "checkbox");
  var radio = el("input");
  radio.type = "radio";
  radio.name = "default-audience";
  radio.value = audience.list_id;
  radio.checked = audience.is_default && !audience.removed;
  radio.disabled = audience.removed || !active.checked;
  defaultLabel.appendChild(radio);
  defaultLabel.appendChild(el("span", "", "Default audience"));
  choices.appendChild(defaultLabel);
  card.appendChild(choices);

  var facts = el("dl", "facts mt-16");
  facts.appendChild(el("dt", "", "Marketing permissions"));
  var permissions = el("dd");
  if (audience.marketing_permissions.length) {
    var list = el("ul", "chips");
    audience.marketing_permissions.forEach(function (p) {
      list.appendChild(el("li", "chip", p.text));
    });
    permissions.appendChild(list);
  } else {
    permissions.textContent = audience.marketing_permissions_enabled
      ? "Enabled in Mailchimp; none imported yet"
      : "None (GDPR fields are off for this audience)";
    permissions.className = "muted";
  }
  facts.appendChild(permissions);
  card.appendChild(facts);

  var groupsBox = el("div", "groups mt-16");
  var groupsTitle = el("h4", "", "Groups shoppers may pick");
  groupsBox.appendChild(groupsTitle);
  if (audience.groups.length) {
    var hint = el(
      "p",
      "field-hint groups-hint",
      "Offer the audience in the store to let shoppers pick its groups."
    );
    hint.hidden = active.checked;
    groupsBox.appendChild(hint);
    audience.groups
      .slice()
      .sort(function (a, b) {
        return a.display_order - b.display_order;
      })
      .forEach(function (group) {
        groupsBox.appendChild(renderGroup(audience, group));
      });
  } else {
    groupsBox.appendChild(el("p", "muted small", "This audience has no groups in Mailchimp."));
  }
  card.appendChild(groupsBox);

  active.addEventListener("change", function () {
    syncAudienceControls(card);
  });
  syncAudienceControls(card);
  return card;
}

/** Default and groups only make sense for an audience the store offers. */
function syncAudienceControls(card) {
  var active = card.querySelector("[data-active]");
  var radio = card.querySelector('input[name="default-audience"]');
  var on = active.checked && !active.disabled;
  radio.disabled = !on;
  if (!on && radio.checked) radio.checked = false;
  var groups = card.querySelectorAll("[data-group]");
  for (var i = 0; i < groups.length; i++) {
    groups[i].disabled = !on || groups[i].dataset.removed === "true";
  }
  var hint = card.querySelector(".groups-hint");
  if (hint) hint.hidden = on;
  // The only offered audience is the default one.
  var actives = document.querySelectorAll("[data-active]:checked:not(:disabled)");
  var checkedDefault = document.querySelector('input[name="default-audience"]:checked');
  if (actives.length === 1 && !checkedDefault) {
    var only = actives[0].closest(".audience").querySelector('input[name="default-audience"]');
    only.checked = true;
  }
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
        // Unsaved choices survive a refresh only if the admin saves first: keep them if dirty.
        if (bar.dirty) renderImportStatus(data);
        else bar.reset(data);
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

function clearFieldErrors() {
  ["tags", "origins"].forEach(clearFieldError);
  $("default-error").textContent = "";
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
    $("default-error").textContent = "Choose which of the offered audiences is the default one.";
    ok = false;
  }
  return ok;
}

function save(values) {
  return bridge.api("PATCH", "/api/audiences/settings", values).catch(function (error) {
    var message = readable(error.message);
    if (/^Storefront origins/.test(message)) fieldError("origins", message);
    else if (/^Tags/.test(message)) fieldError("tags", message);
    throw new bridge.ApiError(message, error.code, error.status);
  });
}

bar = new SaveBar(engagementBar({
  form: $("audiences-form"),
  read: read,
  fill: fill,
  validate: validate,
  save: save,
  savedTitle: "Audience settings saved",
}));
$("refresh-button").addEventListener("click", refresh);
loader.run();
