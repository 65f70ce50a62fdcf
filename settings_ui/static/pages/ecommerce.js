/*
 * The E-commerce page: tracking and abandoned-cart switches, storefront URL templates, the
 * channels with their Mailchimp stores (audience, counts per entity kind, Resync), and the
 * quarantined records with Retry.
 */
(function () {
  "use strict";

  var bridge = window.appBridge;
  var KINDS = [
    ["product", "Products"],
    ["customer", "Customers"],
    ["order", "Orders"],
    ["cart", "Carts"],
  ];
  var KIND_NAMES = { store: "Store", product: "Product", customer: "Customer", order: "Order", cart: "Cart" };
  var STORE_STATUS = {
    synced: { label: "Store ready", tone: "success" },
    pending: { label: "Store being created", tone: "info" },
    quarantined: { label: "Store failed", tone: "critical" },
    removed: { label: "Store removed", tone: "" },
  };

  var current = null; // the last EcommerceRead
  var audiences = []; // imported audiences (not removed)
  var pendingMove = null;

  var $ = window.dom.$;

  var el = window.dom.el;

  var button = window.dom.button;

  function audienceName(listId) {
    var a = audiences.filter(function (x) {
      return x.list_id === listId;
    })[0];
    return a ? a.name : listId;
  }

  /** Validation errors name fields; say them in the page's words. */
  function readable(message) {
    return String(message || "")
      .replace(/Value error, /g, "")
      .replace(/product_url_template: /g, "Product page URL ")
      .replace(/checkout_url_template: /g, "Checkout URL ");
  }

  var busy = window.dom.setBusy;

  // --- settings --------------------------------------------------------------------------

  function renderSettings(s) {
    $("tracking").checked = s.tracking_enabled;
    $("carts").checked = s.abandoned_carts_enabled;
    $("product-url").value = s.product_url_template || "";
    $("checkout-url").value = s.checkout_url_template || "";
    $("store-email").value = s.store_email || "";
    syncCarts();
  }

  function syncCarts() {
    $("carts").disabled = !$("tracking").checked;
  }

  function clearErrors() {
    ["product-url", "checkout-url"].forEach(function (id) {
      $(id).removeAttribute("aria-invalid");
      $(id + "-error").textContent = "";
    });
  }

  function checkTemplate(id, allowed, example) {
    var value = $(id).value.trim();
    if (!value) return true;
    var problem = null;
    if (!/^https?:\/\/[^\/\s]+/.test(value)) {
      problem = "Write a full address starting with https://, like " + example + ".";
    } else {
      var unknown = (value.match(/\{(\w*)\}/g) || []).filter(function (p) {
        return allowed.indexOf(p) < 0;
      });
      if (unknown.length) {
        problem = unknown.join(", ") + " is not a placeholder here; use " + allowed.join(", ") + ".";
      }
    }
    if (problem) {
      $(id).setAttribute("aria-invalid", "true");
      $(id + "-error").textContent = problem;
      return false;
    }
    return true;
  }

  function saveSettings(event) {
    event.preventDefault();
    clearErrors();
    var ok =
      checkTemplate("product-url", ["{slug}", "{id}", "{channel}"], "https://shop.example.com/products/{slug}") &
      checkTemplate("checkout-url", ["{token}", "{channel}"], "https://shop.example.com/checkout?token={token}");
    if (!ok) {
      document.querySelector('[aria-invalid="true"]').focus();
      bridge.notify("error", "Settings not saved", "Correct the highlighted fields first.");
      return;
    }
    var body = {
      tracking_enabled: $("tracking").checked,
      abandoned_carts_enabled: $("tracking").checked && $("carts").checked,
      product_url_template: $("product-url").value.trim() || null,
      checkout_url_template: $("checkout-url").value.trim() || null,
      store_email: $("store-email").value.trim() || null,
    };
    var b = $("save-button");
    busy(b, true, "Saving…");
    bridge
      .api("PATCH", "/api/ecommerce/settings", body)
      .then(function (data) {
        render(data);
        bridge.notify(
          "success",
          "E-commerce settings saved",
          body.tracking_enabled
            ? "Tracked channels send their changes to Mailchimp."
            : "Nothing is sent to Mailchimp's stores while tracking is off."
        );
      })
      .catch(function (error) {
        bridge.notify("error", "Settings not saved", readable(error.message));
      })
      .then(function () {
        busy(b, false);
      });
  }

  // --- channels --------------------------------------------------------------------------

  function audienceSelect(channel) {
    var select = el("select");
    select.id = "audience-" + channel.slug;
    if (!channel.list_id) {
      var none = el("option", "", "Choose an audience…");
      none.value = "";
      select.appendChild(none);
    }
    var listed = false;
    audiences.forEach(function (a) {
      var option = el("option", "", a.name + (a.is_default ? " (default)" : ""));
      option.value = a.list_id;
      if (a.list_id === channel.list_id) {
        option.selected = true;
        listed = true;
      }
      select.appendChild(option);
    });
    if (channel.list_id && !listed) {
      var gone = el("option", "", channel.list_id + " (no longer in Mailchimp)");
      gone.value = channel.list_id;
      gone.selected = true;
      select.insertBefore(gone, select.firstChild);
    }
    if (!channel.list_id) {
      var preferred = audiences.filter(function (a) {
        return a.is_default;
      })[0];
      if (preferred) select.value = preferred.list_id;
    }
    return select;
  }

  function renderStats(channel) {
    var grid = el("div", "stats mt-16");
    KINDS.forEach(function (pair) {
      var kind = pair[0];
      var c = channel.counts[kind] || { synced: 0, pending: 0, quarantined: 0 };
      var box = el("div", "stat");
      box.dataset.kind = kind;
      var head = el("div", "toolbar mb-0");
      head.appendChild(el("div", "stat-kind", pair[1]));
      if (channel.tracked) {
        var resync = button("Resync", "secondary");
        resync.setAttribute("aria-label", "Resync " + pair[1].toLowerCase() + " of " + channel.name);
        resync.addEventListener("click", function () {
          doResync(channel, kind, resync);
        });
        head.appendChild(resync);
      }
      box.appendChild(head);
      [
        ["Synced", c.synced, ""],
        ["Pending", c.pending, ""],
        ["Quarantined", c.quarantined, c.quarantined ? "bad" : ""],
      ].forEach(function (line) {
        var row = el("div", "stat-line " + line[2]);
        row.appendChild(el("span", "", line[0]));
        var n = el("strong", "", String(line[1]));
        n.dataset.count = line[0].toLowerCase();
        row.appendChild(n);
        box.appendChild(row);
      });
      grid.appendChild(box);
    });
    return grid;
  }

  function renderChannel(channel) {
    var card = el("article", "card channel");
    card.dataset.channel = channel.slug;
    var titleId = "channel-" + channel.slug;
    card.setAttribute("aria-labelledby", titleId);

    var header = el("div", "card-header");
    var title = el("div");
    var h3 = el("h3", "", channel.name || channel.slug);
    h3.id = titleId;
    title.appendChild(h3);
    title.appendChild(
      el(
        "div",
        "muted small",
        "Channel " + channel.slug + (channel.currency_code ? " · " + channel.currency_code : "") +
          (channel.last_push_at ? " · last sent " + bridge.formatTime(channel.last_push_at) : "")
      )
    );
    header.appendChild(title);
    var badges = el("div", "badges");
    badges.appendChild(
      channel.tracked ? el("span", "badge success", "Tracked") : el("span", "badge", "Not tracked")
    );
    if (channel.tracked && channel.store_status) {
      var info = STORE_STATUS[channel.store_status] || { label: channel.store_status, tone: "" };
      badges.appendChild(el("span", "badge " + info.tone, info.label));
    }
    header.appendChild(badges);
    card.appendChild(header);

    if (channel.store_error) {
      var problem = el("div", "notice critical");
      problem.setAttribute("role", "status");
      problem.appendChild(el("strong", "", "Mailchimp refused the store"));
      problem.appendChild(el("p", "", channel.store_error));
      card.appendChild(problem);
    }

    var facts = el("dl", "facts");
    facts.appendChild(el("dt", "", "Mailchimp store"));
    facts.appendChild(el("dd", channel.store_id ? "" : "muted", channel.store_id || "None yet"));
    facts.appendChild(el("dt", "", "Audience"));
    var audienceCell = el("dd");
    var select = audienceSelect(channel);
    var label = el("label", "visually-hidden", "Audience of " + (channel.name || channel.slug));
    label.setAttribute("for", select.id);
    audienceCell.appendChild(label);
    audienceCell.appendChild(select);
    if (!audiences.length) {
      audienceCell.appendChild(
        el("div", "field-hint", "No audience imported yet: refresh them on the Audiences & groups page.")
      );
    }
    facts.appendChild(audienceCell);
    card.appendChild(facts);

    var actions = el("div", "actions mt-16");
    if (channel.tracked) {
      var move = button("Use this audience");
      move.setAttribute("aria-label", "Use the chosen audience for " + channel.name);
      move.addEventListener("click", function () {
        if (!select.value || select.value === channel.list_id) {
          bridge.notify("info", "Nothing to change", "The channel's store already uses this audience.");
          return;
        }
        askMove(channel, select.value, move);
      });
      actions.appendChild(move);
      var all = button("Resync everything");
      all.setAttribute("aria-label", "Resync everything of " + channel.name);
      all.addEventListener("click", function () {
        doResync(channel, null, all);
      });
      actions.appendChild(all);
      var stop = button("Stop tracking", "danger secondary");
      stop.setAttribute("aria-label", "Stop tracking " + channel.name);
      stop.addEventListener("click", function () {
        track(channel, false, null, stop);
      });
      actions.appendChild(stop);
    } else {
      var start = button("Track this channel", "");
      start.setAttribute("aria-label", "Track " + (channel.name || channel.slug));
      start.addEventListener("click", function () {
        if (!select.value) {
          bridge.notify("error", "Choose an audience first", "Mailchimp ties each store to one audience.");
          select.focus();
          return;
        }
        if (channel.list_id && select.value !== channel.list_id) {
          askMove(channel, select.value, start);
          return;
        }
        track(channel, true, select.value, start);
      });
      actions.appendChild(start);
    }
    card.appendChild(actions);
    card.appendChild(renderStats(channel));
    return card;
  }

  function track(channel, tracked, listId, trigger) {
    busy(trigger, true, tracked ? "Saving…" : "Stopping…");
    var body = { tracked: tracked };
    if (listId) body.list_id = listId;
    bridge
      .api("PUT", "/api/ecommerce/channels/" + encodeURIComponent(channel.slug), body)
      .then(function (data) {
        render(data);
        bridge.notify(
          "success",
          tracked ? "Channel tracked" : "Channel no longer tracked",
          tracked
            ? (channel.name || channel.slug) + " sends its data to a Mailchimp store in " + audienceName(listId || channel.list_id) + "."
            : "Its Mailchimp store keeps what it has; nothing new is sent."
        );
        if (tracked && !data.settings.tracking_enabled) {
          bridge.notify("warning", "E-commerce tracking is off", "Turn it on above, or nothing is sent.");
        }
      })
      .catch(function (error) {
        bridge.notify("error", "The channel was not changed", error.message);
        busy(trigger, false);
      });
  }

  function askMove(channel, listId, trigger) {
    pendingMove = { channel: channel, listId: listId, trigger: trigger };
    $("audience-dialog-name").textContent = audienceName(listId);
    $("audience-dialog").showModal();
    $("audience-cancel").focus();
  }

  function doResync(channel, kind, trigger) {
    busy(trigger, true, "Resyncing…");
    bridge
      .api("POST", "/api/ecommerce/channels/" + encodeURIComponent(channel.slug) + "/resync", kind ? { kind: kind } : {})
      .then(function (result) {
        bridge.notify("success", "Resync started", result.message);
        return load();
      })
      .catch(function (error) {
        bridge.notify("error", "Resync failed", error.message);
        busy(trigger, false);
      });
  }

  // --- quarantine ------------------------------------------------------------------------

  function renderQuarantine(records) {
    var body = $("quarantine-rows");
    body.textContent = "";
    if (!records.length) {
      var row = el("tr");
      var td = el("td", "empty", "Nothing is quarantined.");
      td.colSpan = 6;
      row.appendChild(td);
      body.appendChild(row);
      return;
    }
    records.forEach(function (r) {
      var row = el("tr");
      row.dataset.recordId = String(r.id);
      var kindName = KIND_NAMES[r.kind] || r.kind;
      var named = kindName + " " + (r.label || r.saleor_id);
      var what = el("td");
      what.appendChild(el("div", "", named));
      // The Saleor id stays visible (muted) when a label names the record.
      what.appendChild(el("div", "muted small", (r.label ? r.saleor_id + " · " : "") + "#" + r.id));
      row.appendChild(what);
      row.appendChild(el("td", "", r.channel_slug));
      row.appendChild(el("td", "", String(r.attempts)));
      row.appendChild(el("td", r.last_error ? "error-text" : "muted", r.last_error || "—"));
      row.appendChild(el("td", "", bridge.formatTime(r.updated_at)));
      var cell = el("td");
      var retry = button("Retry", "");
      retry.setAttribute("aria-label", "Retry " + kindName.toLowerCase() + " " + (r.label || r.saleor_id));
      retry.addEventListener("click", function () {
        busy(retry, true, "Retrying…");
        bridge
          .api("POST", "/api/ecommerce/records/" + encodeURIComponent(r.id) + "/retry")
          .then(function (result) {
            bridge.notify("success", "Retry scheduled", result.message);
            return load();
          })
          .catch(function (error) {
            bridge.notify("error", "Retry failed", error.message);
            busy(retry, false);
          });
      });
      cell.appendChild(retry);
      row.appendChild(cell);
      body.appendChild(row);
    });
  }

  // --- loading ---------------------------------------------------------------------------

  function render(data) {
    current = data;
    $("loading").hidden = true;
    $("load-error").hidden = true;
    $("content").hidden = false;
    $("not-connected").hidden = data.connected;
    if (!document.getElementById("settings-form").contains(document.activeElement)) {
      renderSettings(data.settings);
    }
    $("audience-note").textContent = data.audience_note;
    $("last-push").textContent = data.last_push_at
      ? "Last sent to Mailchimp " + bridge.formatTime(data.last_push_at)
      : "Nothing sent to Mailchimp yet";
    var list = $("channel-list");
    list.textContent = "";
    data.channels.forEach(function (c) {
      list.appendChild(renderChannel(c));
    });
    $("no-channels").hidden = data.channels.length > 0;
  }

  function load() {
    return Promise.all([
      bridge.api("GET", "/api/ecommerce"),
      bridge.api("GET", "/api/audiences").catch(function () {
        return null;
      }),
      bridge.api("GET", "/api/ecommerce/records?status=quarantined&limit=100").catch(function () {
        return [];
      }),
    ])
      .then(function (results) {
        audiences = results[1]
          ? results[1].audiences.filter(function (a) {
              return !a.removed;
            })
          : [];
        render(results[0]);
        renderQuarantine(results[2]);
      })
      .catch(function (error) {
        $("loading").hidden = true;
        $("load-error").hidden = false;
        $("load-error-text").textContent = error.message;
      });
  }

  $("tracking").addEventListener("change", syncCarts);
  $("settings-form").addEventListener("submit", saveSettings);
  $("reload-button").addEventListener("click", function () {
    load();
  });
  $("audience-cancel").addEventListener("click", function () {
    $("audience-dialog").close();
    if (pendingMove) pendingMove.trigger.focus();
    pendingMove = null;
  });
  $("audience-confirm").addEventListener("click", function () {
    var move = pendingMove;
    pendingMove = null;
    $("audience-dialog").close();
    if (move) track(move.channel, true, move.listId, move.trigger);
  });
  load();
})();
