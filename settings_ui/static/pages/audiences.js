/*
 * The Audiences & groups page: the audiences imported from Mailchimp, which ones the store
 * offers (and the default), the groups shoppers may pick, and the subscription rules.
 *
 * Saving sends only this page's fields with PATCH /api/audiences/settings: the two-way options
 * (set on the Subscriptions page) are left as they are, whoever changed them meanwhile.
 */
(function () {
  "use strict";

  var bridge = window.appBridge;
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

  var $ = window.dom.$;

  var el = window.dom.el;

  function badge(text, tone) {
    return el("span", "badge" + (tone ? " " + tone : ""), text);
  }

  function plural(n, one, many) {
    return n.toLocaleString() + " " + (n === 1 ? one : many);
  }

  /** Validation errors name fields; say them in the page's words. */
  function readable(message) {
    return String(message || "")
      .replace(/Value error, /g, "")
      .replace(/allowed_origins(\.\d+)?: /g, "Storefront origins: ")
      .replace(/tags(\.\d+)?: /g, "Tags: ");
  }

  var setBusy = window.dom.setBusy;

  // --- rendering -------------------------------------------------------------------------

  function renderImportStatus(data) {
    var text = data.last_import_at
      ? "Last imported from Mailchimp " + bridge.formatTime(data.last_import_at) + "."
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

  function render(data) {
    current = data;
    $("loading").hidden = true;
    $("audiences-form").hidden = false;
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
  }

  function showLoadError(message) {
    $("loading").hidden = true;
    $("load-error").hidden = false;
    $("load-error-text").textContent = message;
  }

  // --- loading and refreshing ------------------------------------------------------------

  function load() {
    return Promise.all([
      bridge.api("GET", "/api/connection").catch(function () {
        return null;
      }),
      bridge.api("GET", "/api/audiences"),
    ])
      .then(function (results) {
        var connection = results[0];
        $("not-connected").hidden = !connection || connection.status === "connected";
        $("load-error").hidden = true;
        render(results[1]);
      })
      .catch(function (error) {
        showLoadError(error.message);
      });
  }

  function refresh() {
    var button = $("refresh-button");
    var before = current ? current.last_import_at + "|" + current.last_import_error : "";
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
          render(data);
          if (data.last_import_error) {
            bridge.notify("error", "Import from Mailchimp failed", data.last_import_error);
          } else {
            bridge.notify(
              "success",
              "Audiences refreshed",
              plural(data.audiences.length, "audience", "audiences") + " imported from Mailchimp."
            );
          }
          finish();
          return;
        }
        if (Date.now() - started > REFRESH_WAIT_MS) {
          renderImportStatus(data);
          bridge.notify(
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
      bridge.notify("error", "Refresh failed", error.message);
      finish();
    }

    bridge
      .api("POST", "/api/audiences/refresh")
      .then(poll)
      .catch(failed);
  }

  // --- saving ----------------------------------------------------------------------------

  function clearFieldErrors() {
    ["tags", "origins"].forEach(function (id) {
      $(id).removeAttribute("aria-invalid");
      $(id + "-error").textContent = "";
    });
  }

  function fieldError(id, message) {
    $(id).setAttribute("aria-invalid", "true");
    $(id + "-error").textContent = message;
  }

  function collect() {
    clearFieldErrors();
    var problems = [];
    var tags = $("tags")
      .value.split(",")
      .map(function (t) {
        return t.trim();
      })
      .filter(Boolean);
    var longTag = tags.filter(function (t) {
      return t.length > 100;
    })[0];
    if (longTag) {
      fieldError("tags", "The tag “" + longTag.slice(0, 30) + "…” is longer than 100 characters.");
      problems.push("tags");
    } else if (tags.length > 50) {
      fieldError("tags", "Use at most 50 tags (you have " + tags.length + ").");
      problems.push("tags");
    }
    var origins = $("origins")
      .value.split(/[\s,]+/)
      .map(function (o) {
        return o.trim().replace(/\/+$/, "");
      })
      .filter(Boolean);
    var badOrigin = origins.filter(function (o) {
      return !ORIGIN_RE.test(o);
    })[0];
    if (badOrigin) {
      fieldError(
        "origins",
        "“" + badOrigin + "” is not an origin: write the scheme and host only, like https://shop.example.com."
      );
      problems.push("origins");
    } else if (origins.length > 50) {
      fieldError("origins", "Allow at most 50 origins.");
      problems.push("origins");
    }
    if (problems.length) {
      $(problems[0]).focus();
      return null;
    }

    var activeIds = [];
    var inputs = document.querySelectorAll("[data-active]");
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].checked && !inputs[i].disabled) activeIds.push(inputs[i].dataset.active);
    }
    var offered = [];
    var groups = document.querySelectorAll("[data-group]");
    for (var j = 0; j < groups.length; j++) {
      if (
        groups[j].checked &&
        !groups[j].disabled &&
        activeIds.indexOf(groups[j].dataset.listId) >= 0
      ) {
        offered.push(groups[j].dataset.group);
      }
    }
    var defaultRadio = document.querySelector('input[name="default-audience"]:checked');
    return {
      active_list_ids: activeIds,
      default_list_id: defaultRadio ? defaultRadio.value : null,
      offered_category_ids: offered,
      allow_multiple: $("allow-multiple").checked,
      double_optin: $("doi-always").checked ? "always" : "follow_audience",
      tags: tags,
      allowed_origins: origins,
    };
  }

  function save(event) {
    event.preventDefault();
    if (!current) return;
    var body = collect();
    if (!body) {
      bridge.notify("error", "Settings not saved", "Correct the highlighted fields first.");
      return;
    }
    if (body.active_list_ids.length > 1 && !body.default_list_id) {
      bridge.notify(
        "error",
        "Settings not saved",
        "Choose which of the offered audiences is the default one."
      );
      return;
    }
    var button = $("save-button");
    setBusy(button, true, "Saving…");
    bridge
      .api("PATCH", "/api/audiences/settings", body)
      .then(function (data) {
        render(data);
        var n = body.active_list_ids.length;
        bridge.notify(
          "success",
          "Audience settings saved",
          n
            ? "The store offers " + plural(n, "audience", "audiences") + "."
            : "The store offers no audience: shoppers cannot subscribe."
        );
      })
      .catch(function (error) {
        bridge.notify("error", "Settings not saved", readable(error.message));
      })
      .then(function () {
        setBusy(button, false);
      });
  }

  $("refresh-button").addEventListener("click", refresh);
  $("audiences-form").addEventListener("submit", save);
  load();
})();
