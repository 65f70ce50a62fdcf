/*
 * The E-commerce page: tracking and abandoned-cart switches, storefront URL templates, the
 * channels with their Mailchimp stores (audience, counts per entity kind, Resync, initial sync
 * with its progress), and the quarantined records with Retry.
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
    if (channel.tracked) card.appendChild(renderInitialSync(channel));
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

  // --- initial sync ----------------------------------------------------------------------
  // The channel's history sent through Mailchimp batches; its progress is polled about once a
  // second while it runs and the page is visible.

  var SYNC_KINDS = [
    ["product", "Products"],
    ["customer", "Customers"],
    ["order", "Orders"],
  ];
  var SYNC_STATUS = {
    running: { label: "Running", tone: "info" },
    succeeded: { label: "Succeeded", tone: "success" },
    cancelled: { label: "Cancelled", tone: "warning" },
    failed: { label: "Failed", tone: "critical" },
  };
  var PHASES = {
    // The first kind not read completely; the kinds after it may be read alongside.
    products: "sending products and customers",
    customers: "sending customers and orders",
    orders: "sending orders",
    done: "finishing",
  };
  var POLL_MS = 1000;
  var syncs = {}; // slug → the channel's latest initial sync; null: never synced
  var sinceDates = {}; // slug → the day typed in its form (kept when the cards re-render)
  var polls = {}; // slug → { timer, seq }: one poll chain per channel

  function syncPath(slug) {
    return "/api/ecommerce/channels/" + encodeURIComponent(slug) + "/initial-sync";
  }

  function syncBox(slug) {
    return document.querySelector('[data-initial-sync="' + window.CSS.escape(slug) + '"]');
  }

  function number(n) {
    return Number(n).toLocaleString();
  }

  function timeLeft(seconds) {
    var s = Math.round(seconds);
    if (s < 5) return "a few seconds left";
    if (s < 90) return "about " + s + " seconds left";
    var m = Math.round(s / 60);
    if (m < 60) return "about " + m + " minutes left";
    var h = Math.floor(m / 60);
    var hours = h + (h === 1 ? " hour" : " hours");
    return "about " + hours + (m % 60 ? " " + (m % 60) + " min" : "") + " left";
  }

  function day(value) {
    // orders_since is midnight UTC of the chosen day: show that day.
    return new Date(value).toLocaleDateString(undefined, {
      timeZone: "UTC",
      year: "numeric",
      month: "short",
      day: "numeric",
    });
  }

  function renderInitialSync(channel) {
    var slug = channel.slug;
    var name = channel.name || slug;
    var box = el("section", "initial-sync mt-16");
    box.dataset.initialSync = slug;
    var head = el("div", "toolbar mb-0");
    var title = el("h4", "", "Initial sync");
    title.id = "initial-sync-" + slug;
    box.setAttribute("aria-labelledby", title.id);
    head.appendChild(title);
    var badge = el("span", "badge");
    badge.dataset.syncBadge = "";
    head.appendChild(badge);
    box.appendChild(head);
    box.appendChild(
      el(
        "p",
        "muted small",
        "Sends what the channel already has (products, customers and past orders) to its " +
          "Mailchimp store in Mailchimp batches; orders follow once the products are in. " +
          "Live changes keep flowing meanwhile."
      )
    );

    var note = el("div", "notice warning");
    note.setAttribute("role", "alert");
    note.dataset.syncNote = "";
    note.hidden = true;
    box.appendChild(note);
    var status = el("div", "small");
    status.setAttribute("aria-live", "polite");
    status.dataset.syncStatus = "";
    box.appendChild(status);
    var problem = el("div", "notice critical mt-8");
    problem.dataset.syncError = "";
    problem.hidden = true;
    problem.appendChild(el("strong", "", "What went wrong"));
    problem.appendChild(el("p"));
    box.appendChild(problem);

    var kinds = el("div", "sync-kinds");
    SYNC_KINDS.forEach(function (pair) {
      var row = el("div", "sync-kind");
      row.dataset.kind = pair[0];
      var bar = el("progress");
      bar.id = "sync-" + slug + "-" + pair[0];
      var label = el("label", "", pair[1]);
      label.setAttribute("for", bar.id);
      bar.setAttribute("aria-describedby", bar.id + "-numbers");
      row.appendChild(label);
      row.appendChild(bar);
      var numbers = el("div", "sync-numbers");
      numbers.id = bar.id + "-numbers";
      row.appendChild(numbers);
      kinds.appendChild(row);
    });
    box.appendChild(kinds);

    var form = el("div", "sync-form");
    var since = el("input");
    since.type = "date";
    since.id = "sync-since-" + slug;
    since.value = sinceDates[slug] || "";
    since.setAttribute("aria-describedby", since.id + "-hint");
    since.addEventListener("input", function () {
      sinceDates[slug] = since.value;
    });
    var field = el("div", "field");
    var sinceLabel = el("label", "", "Only orders since");
    sinceLabel.setAttribute("for", since.id);
    field.appendChild(sinceLabel);
    field.appendChild(since);
    form.appendChild(field);
    var start = button("Start initial sync", "");
    start.dataset.syncStart = "";
    start.setAttribute("aria-label", "Start the initial sync of " + name);
    start.addEventListener("click", function () {
      startSync(slug, since.value, start);
    });
    form.appendChild(start);
    var cancel = button("Cancel initial sync", "danger secondary");
    cancel.dataset.syncCancel = "";
    cancel.setAttribute("aria-label", "Cancel the initial sync of " + name);
    cancel.addEventListener("click", function () {
      cancelSync(slug, cancel);
    });
    form.appendChild(cancel);
    box.appendChild(form);
    var hint = el(
      "div",
      "field-hint",
      "Leave the date empty to send every order. Products and customers are always sent whole."
    );
    hint.id = since.id + "-hint";
    box.appendChild(hint);

    showSync(slug, box);
    return box;
  }

  function showKind(row, kind, run) {
    var bar = row.querySelector("progress");
    var numbers = row.querySelector(".sync-numbers");
    var done = kind.confirmed + kind.quarantined + kind.skipped + kind.retried;
    var running = run.status === "running";
    if (kind.total === null) {
      bar.max = 1;
      bar.value = 0;
      numbers.textContent = running ? "Waiting for its turn" : "Not reached";
      bar.classList.remove("complete");
      return;
    }
    var total = Math.max(kind.total, done);
    bar.max = Math.max(total, 1);
    bar.value = total ? done : 1; // nothing to send is done
    bar.classList.toggle("complete", done >= total);
    var parts = [number(done) + " of " + number(total) + " done"];
    parts.push(number(kind.sent) + " sent", number(kind.confirmed) + " confirmed");
    parts.push(number(kind.quarantined) + " quarantined");
    if (kind.skipped) parts.push(number(kind.skipped) + " unchanged or not sold here");
    if (running && done < total && kind.rate_per_second) {
      var rate = kind.rate_per_second;
      parts.push((rate >= 10 ? Math.round(rate) : Math.round(rate * 10) / 10) + " per second");
      if (kind.eta_seconds !== null) parts.push(timeLeft(kind.eta_seconds));
    }
    numbers.textContent = parts.join(" · ");
  }

  function showSync(slug, box) {
    box = box || syncBox(slug);
    if (!box) return;
    var run = syncs[slug];
    var running = !!run && run.status === "running";
    var badge = box.querySelector("[data-sync-badge]");
    var info = run ? SYNC_STATUS[run.status] || { label: run.status, tone: "" } : null;
    badge.hidden = !info;
    if (info) {
      badge.className = "badge " + info.tone;
      badge.textContent = info.label;
    }
    var status = box.querySelector("[data-sync-status]");
    if (run === undefined) {
      status.textContent = "Loading…";
    } else if (!run) {
      status.textContent = "Never run on this channel.";
    } else {
      var batches = run.batches_in_flight === 1 ? "1 batch" : run.batches_in_flight + " batches";
      var parts = running
        ? [
            "Running: " + (PHASES[run.phase] || run.phase),
            "started " + bridge.formatTime(run.started_at),
            batches + " at Mailchimp",
          ]
        : [
            {
              succeeded: "The last initial sync succeeded",
              cancelled: "The last initial sync was cancelled",
              failed: "The last initial sync failed",
            }[run.status] || run.status,
            (run.finished_at ? "ended " + bridge.formatTime(run.finished_at) : "") ||
              "started " + bridge.formatTime(run.started_at),
          ];
      parts.push(run.orders_since ? "orders since " + day(run.orders_since) : "all orders");
      status.textContent = parts.join(" · ");
    }
    var problem = box.querySelector("[data-sync-error]");
    problem.hidden = !(run && run.status === "failed" && run.error);
    problem.querySelector("p").textContent = (run && run.error) || "";
    box.querySelector(".sync-kinds").hidden = !run;
    if (run) {
      run.kinds.forEach(function (kind) {
        var row = box.querySelector('.sync-kind[data-kind="' + kind.kind + '"]');
        if (row) showKind(row, kind, run);
      });
    }
    box.querySelector("[data-sync-start]").hidden = running;
    box.querySelector("[data-sync-cancel]").hidden = !running;
    box.querySelector(".sync-form .field").hidden = running;
    box.querySelector(".sync-form + .field-hint").hidden = running;
  }

  /** A message above the progress; `kind` "read" marks one the next good poll clears. */
  function syncNote(slug, text, kind) {
    var box = syncBox(slug);
    if (!box) return;
    var note = box.querySelector("[data-sync-note]");
    note.textContent = text || "";
    note.hidden = !text;
    note.dataset.kind = kind || "";
  }

  function stopPolling(slug) {
    var poll = polls[slug] || (polls[slug] = { timer: null, seq: 0 });
    window.clearTimeout(poll.timer);
    poll.timer = null;
    poll.seq += 1; // an answer still on its way is ignored
    return poll;
  }

  /** Read the channel's latest initial sync; poll again in a second while it runs. */
  function pollSync(slug) {
    var poll = stopPolling(slug);
    var seq = poll.seq;
    bridge
      .api("GET", syncPath(slug))
      .catch(function (error) {
        if (error.code === "NO_INITIAL_SYNC") return null;
        throw error;
      })
      .then(function (run) {
        if (seq !== poll.seq) return;
        var before = syncs[slug];
        syncs[slug] = run;
        showSync(slug);
        var note = syncBox(slug) && syncBox(slug).querySelector("[data-sync-note]");
        if (note && note.dataset.kind === "read") syncNote(slug, "");
        if (run && run.status === "running") {
          schedule(slug);
        } else if (run && before && before.status === "running" && before.id === run.id) {
          ended(slug, run);
        }
      })
      .catch(function (error) {
        if (seq !== poll.seq) return;
        syncNote(slug, "The progress could not be read: " + error.message, "read");
        if (syncs[slug] && syncs[slug].status === "running") schedule(slug);
      });
  }

  function schedule(slug) {
    if (document.hidden || !syncBox(slug)) return;
    polls[slug].timer = window.setTimeout(function () {
      pollSync(slug);
    }, POLL_MS);
  }

  function ended(slug, run) {
    var channel = current && current.channels.filter(function (c) {
      return c.slug === slug;
    })[0];
    var name = (channel && channel.name) || slug;
    syncNote(slug, "");
    if (run.status === "succeeded") {
      bridge.notify("success", "Initial sync finished", name + " is in its Mailchimp store.");
    } else if (run.status === "failed") {
      bridge.notify("error", "Initial sync failed", run.error || "");
    } else {
      var text = "The initial sync of " + name + " was cancelled.";
      bridge.notify("info", "Initial sync cancelled", text);
    }
    load(); // the channel's counts changed
  }

  function startSync(slug, since, trigger) {
    stopPolling(slug);
    syncNote(slug, "");
    busy(trigger, true, "Starting…");
    bridge
      .api("POST", syncPath(slug), since ? { orders_since: since + "T00:00:00Z" } : {})
      .then(function (run) {
        syncs[slug] = run;
        bridge.notify(
          "success",
          "Initial sync started",
          "Products, customers and " +
            (since ? "orders since " + day(run.orders_since) : "all orders") +
            " go to Mailchimp."
        );
      })
      .catch(function (error) {
        if (error.code === "INITIAL_SYNC_RUNNING") {
          syncNote(slug, error.message + " Its progress is shown below; cancel it to start again.");
          bridge.notify("warning", "Initial sync already running", error.message);
        } else {
          bridge.notify("error", "Initial sync not started", error.message);
        }
      })
      .then(function () {
        busy(trigger, false);
        showSync(slug);
        pollSync(slug);
      });
  }

  function cancelSync(slug, trigger) {
    stopPolling(slug);
    syncNote(slug, "");
    busy(trigger, true, "Cancelling…");
    bridge
      .api("DELETE", syncPath(slug))
      .then(function (run) {
        syncs[slug] = run;
        bridge.notify(
          "success",
          "Initial sync cancelled",
          "What Mailchimp received stays there; live changes keep flowing."
        );
      })
      .catch(function (error) {
        bridge.notify("error", "Initial sync not cancelled", error.message);
      })
      .then(function () {
        busy(trigger, false);
        showSync(slug);
        pollSync(slug);
      });
  }

  function pollAll() {
    document.querySelectorAll("[data-initial-sync]").forEach(function (box) {
      pollSync(box.dataset.initialSync);
    });
  }

  function pauseAll() {
    Object.keys(polls).forEach(stopPolling);
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
    pollAll();
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
  // Poll only while the page is seen; the answer on return says what happened meanwhile.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) pauseAll();
    else pollAll();
  });
  window.addEventListener("pagehide", pauseAll);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) pollAll();
  });
  load();
})();
