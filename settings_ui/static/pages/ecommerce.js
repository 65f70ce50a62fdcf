/*
 * The E-commerce page: one card per sales channel with ONE primary action for its state (the
 * server's `next_action` when it says it), the initial sync, the rest in a "More actions"
 * menu; the storefront links and carts (save bar); the quarantined records in words.
 *
 * One model of what is on: a channel sends its data when it is tracked. The store-wide
 * `tracking_enabled` switch is not a second control on this page: tracking a channel turns it
 * on, and if it is off while channels are tracked the cards say sending is paused, with Resume.
 */
import {
  $,
  PageLoader,
  SaveBar,
  badge,
  bridge,
  button,
  clear,
  clearAll,
  clearFieldError,
  confirmed,
  el,
  fieldError,
  formatTime,
  notice,
  setBusy,
} from "../app.js";
import { onSyncEnded, pauseAll, pollAll, renderInitialSync } from "../initial-sync.js";
import { fillFields, readFields, setUpFields, validateFields } from "./ecommerce-fields.js";
import { loadHealth } from "./ecommerce-health.js";
import { describe, fixButton } from "../records.js";
import { fillPromos, readPromos, savePromos, setUpPromos, validatePromos, withPromos } from "./ecommerce-promos.js";

const KINDS = [
  ["product", "Products"],
  ["customer", "Customers"],
  ["order", "Orders"],
  ["cart", "Carts"],
];
const KIND_NAMES = { store: "Store", product: "Product", customer: "Customer", order: "Order", cart: "Cart", promo_rule: "Voucher" };
// The store's state in words: the server's derived `store_status`, or the ledger's (older).
const STORE_STATUS = {
  ready: { label: "Store ready", tone: "success" },
  synced: { label: "Store ready", tone: "success" },
  creating: { label: "Store being created", tone: "info" },
  pending: { label: "Store being created", tone: "info" },
  missing: { label: "Store missing in Mailchimp", tone: "critical" },
  failed: { label: "Store failed", tone: "critical" },
  quarantined: { label: "Store failed", tone: "critical" },
  removed: { label: "Store removed", tone: "" },
};

let current = null; // the last EcommerceRead
let audiences = []; // imported audiences (not removed)
let pendingMove = null;
let checkedStores = false;

function audienceName(listId) {
  const a = audiences.find((x) => x.list_id === listId);
  return a ? a.name : listId;
}

function channelPath(slug) {
  return "/api/ecommerce/channels/" + encodeURIComponent(slug);
}

function query() {
  return window.location.search;
}

// --- what the channel should do next -------------------------------------------------------

/** The server's next step, or the same rule worked out from the channel (older servers). */
function nextAction(channel) {
  if (channel.next_action) return channel.next_action.code;
  if (!current.connected) return "connect_mailchimp";
  if (!channel.tracked) return audiences.length ? "track" : "choose_audience";
  if (!current.settings.tracking_enabled) return "enable_tracking";
  if (channel.store_status === "missing") return "recreate_store";
  return "sync_or_none";
}

function primaryFor(channel, select, titleId) {
  const code = nextAction(channel);
  const label = (channel.next_action && channel.next_action.label) || null;
  const box = el("div", "next-step");
  box.dataset.nextAction = code;
  let text = "";
  let control = null;
  switch (code) {
    case "connect_mailchimp":
      text = "Connect Mailchimp first: the channel's store lives in your Mailchimp account.";
      control = el("a", "button small", label || "Connect Mailchimp");
      control.href = "/app/" + query();
      break;
    case "choose_audience":
      text = "A Mailchimp store belongs to one audience: import your audiences first.";
      control = el("a", "button small", label || "Import audiences");
      control.href = "/app/audiences" + query();
      break;
    case "track":
      text = "Track the channel to send its products, customers, orders and carts to a new Mailchimp store in the audience above.";
      control = button(label || "Track this channel", "", titleId);
      control.addEventListener("click", () => {
        if (!select.value) {
          select.setAttribute("aria-invalid", "true");
          select.focus();
          return;
        }
        if (channel.list_id && select.value !== channel.list_id) {
          askMove(channel, select.value, control);
          return;
        }
        track(channel, true, select.value, control);
      });
      break;
    case "enable_tracking":
      text = "Sending to Mailchimp is paused for the whole store: nothing of this channel is sent.";
      // The page's words: on this page sending is per channel, paused store-wide here.
      control = button("Resume sending", "", titleId);
      control.addEventListener("click", () => resume(control));
      break;
    case "recreate_store":
      text =
        "The Mailchimp store of " + (channel.name || channel.slug) +
        " no longer exists (it was deleted in Mailchimp). Re-create it and everything is sent again.";
      control = button(label || "Re-create the store", "", titleId);
      control.addEventListener("click", () => recreate(channel, control));
      break;
    case "resync_all":
      text = "Mailchimp refused the store. Fix what it says above, then send everything again.";
      control = button(label || "Resync everything", "", titleId);
      control.addEventListener("click", () => doResync(channel, null, control));
      break;
    default: {
      // The initial sync's own button is the next step, or nothing is to be done: say why.
      const hint = channel.next_action && channel.next_action.hint;
      if (code === "start_initial_sync" || !hint) return null;
      box.appendChild(el("p", "", hint));
      return box;
    }
  }
  // The server's hint says it for this channel; the page's sentence is the fallback.
  const hint = code !== "enable_tracking" && channel.next_action && channel.next_action.hint;
  box.appendChild(el("p", "", hint || text));
  control.dataset.primary = "";
  box.appendChild(control);
  return box;
}

// --- channels ------------------------------------------------------------------------------

function audienceSelect(channel) {
  const select = el("select");
  select.id = "audience-" + channel.slug;
  if (!channel.list_id) {
    const none = el("option", "", "Choose an audience…");
    none.value = "";
    select.appendChild(none);
  }
  let listed = false;
  audiences.forEach((a) => {
    const option = el("option", "", a.name + (a.is_default ? " (default)" : ""));
    option.value = a.list_id;
    if (a.list_id === channel.list_id) {
      option.selected = true;
      listed = true;
    }
    select.appendChild(option);
  });
  if (channel.list_id && !listed) {
    const gone = el("option", "", channel.list_id + " (no longer in Mailchimp)");
    gone.value = channel.list_id;
    gone.selected = true;
    select.insertBefore(gone, select.firstChild);
  }
  if (!channel.list_id) {
    const preferred = audiences.find((a) => a.is_default);
    if (preferred) select.value = preferred.list_id;
  }
  select.addEventListener("change", () => select.removeAttribute("aria-invalid"));
  return select;
}

function renderStats(channel) {
  const grid = el("div", "stats");
  KINDS.forEach(([kind, name]) => {
    const c = (channel.counts && channel.counts[kind]) || { synced: 0, pending: 0, quarantined: 0 };
    const box = el("div", "stat");
    box.dataset.kind = kind;
    box.appendChild(el("div", "stat-kind", name));
    [
      ["Synced", c.synced, ""],
      ["Pending", c.pending, ""],
      ["Quarantined", c.quarantined, c.quarantined ? "bad" : ""],
    ].forEach(([label, n, tone]) => {
      const row = el("div", "stat-line " + tone);
      row.appendChild(el("span", "", label));
      const strong = el("strong", "", String(n));
      strong.dataset.count = label.toLowerCase();
      row.appendChild(strong);
      box.appendChild(row);
    });
    grid.appendChild(box);
  });
  return grid;
}

/** "More actions": the per-kind resyncs, another audience, stop tracking. */
function moreActions(channel, titleId) {
  const menu = el("div", "menu");
  const toggle = button("More actions", "secondary", titleId);
  toggle.setAttribute("aria-expanded", "false");
  const listId = "menu-" + channel.slug;
  toggle.setAttribute("aria-controls", listId);
  const list = el("ul", "menu-list");
  list.id = listId;
  list.hidden = true;
  function close(focus) {
    list.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    if (focus) toggle.focus();
  }
  function item(text, run) {
    const li = el("li");
    const b = el("button", "", text);
    b.type = "button";
    b.addEventListener("click", () => {
      close(false);
      run(toggle);
    });
    li.appendChild(b);
    list.appendChild(li);
  }
  item("Resync everything", (t) => doResync(channel, null, t));
  KINDS.forEach(([kind, name]) => item("Resync " + name.toLowerCase(), (t) => doResync(channel, kind, t)));
  item("Use another audience…", (t) => askMove(channel, null, t));
  item("Stop tracking", (t) => track(channel, false, null, t));
  toggle.addEventListener("click", () => {
    const open = list.hidden;
    list.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) list.querySelector("button").focus();
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !list.hidden) {
      event.stopPropagation();
      close(true);
    }
  });
  menu.addEventListener("focusout", (event) => {
    if (!menu.contains(event.relatedTarget)) close(false);
  });
  menu.appendChild(toggle);
  menu.appendChild(list);
  return menu;
}

function renderChannel(channel) {
  const card = el("article", "card channel");
  card.dataset.channel = channel.slug;
  const titleId = "channel-" + channel.slug;
  card.setAttribute("aria-labelledby", titleId);
  const name = channel.name || channel.slug;

  const header = el("div", "channel-head");
  const title = el("div");
  const h3 = el("h3", "", name);
  h3.id = titleId;
  title.appendChild(h3);
  title.appendChild(
    el(
      "div",
      "muted small",
      "Channel " + channel.slug + (channel.currency_code ? " · " + channel.currency_code : "") +
        (channel.last_push_at ? " · last sent " + formatTime(channel.last_push_at) : "")
    )
  );
  header.appendChild(title);
  const right = el("div", "badges");
  const paused = channel.tracked && !current.settings.tracking_enabled;
  right.appendChild(
    channel.tracked
      ? badge(paused ? "Paused" : "Tracked", paused ? "warning" : "success")
      : badge("Not tracked")
  );
  const storeStatus = channel.tracked ? channel.store_status : null;
  if (storeStatus && storeStatus !== "not_created") {
    const info = STORE_STATUS[storeStatus] || { label: storeStatus, tone: "" };
    right.appendChild(badge(info.label, info.tone));
  }
  if (channel.tracked) right.appendChild(moreActions(channel, titleId));
  header.appendChild(right);
  card.appendChild(header);

  const storeProblem = channel.store_message || channel.store_error;
  if (channel.tracked && storeProblem && storeStatus !== "missing") {
    const problem = el("div", "notice critical mt-16");
    problem.setAttribute("role", "status");
    const body = el("div", "notice-body");
    body.appendChild(el("strong", "", "Mailchimp refused the store"));
    body.appendChild(el("p", "", storeProblem));
    problem.appendChild(body);
    card.appendChild(problem);
  }

  const facts = el("dl", "facts channel-state");
  let select = null;
  if (channel.tracked) {
    facts.appendChild(el("dt", "", "Audience"));
    facts.appendChild(el("dd", "", channel.list_id ? audienceName(channel.list_id) : "—"));
    facts.appendChild(el("dt", "", "Mailchimp store"));
    facts.appendChild(el("dd", channel.store_id ? "" : "muted", channel.store_id || "None yet"));
    card.appendChild(facts);
  } else if (current.connected && audiences.length) {
    const field = el("div", "field channel-state");
    select = audienceSelect(channel);
    const label = el("label", "", "Audience");
    label.setAttribute("for", select.id);
    field.appendChild(label);
    field.appendChild(select);
    card.appendChild(field);
  }

  const primary = primaryFor(channel, select, titleId);
  if (primary) card.appendChild(primary);
  // Counters only once there is something to count.
  if (channel.tracked) {
    card.appendChild(renderStats(channel));
    // Paused: its last outcome stays in view, but starting one is not the next step.
    if (storeStatus !== "missing") card.appendChild(renderInitialSync(channel, paused));
  }
  return card;
}

// --- channel actions -----------------------------------------------------------------------

function afterChange(data) {
  clearAll();
  render(data);
}

function track(channel, tracked, listId, trigger) {
  setBusy(trigger, true, tracked ? "Saving…" : "Stopping…");
  const body = { tracked };
  if (listId) body.list_id = listId;
  // Tracking a channel means sending it: a store-wide pause is lifted with it.
  const resumeFirst =
    tracked && !current.settings.tracking_enabled
      ? bridge.api("PATCH", "/api/ecommerce/settings", { tracking_enabled: true })
      : Promise.resolve();
  resumeFirst
    .then(() => bridge.api("PUT", channelPath(channel.slug), body))
    .then((data) => {
      afterChange(data);
      confirmed(tracked ? "Channel tracked" : "Channel no longer tracked");
      const card = document.querySelector('[data-channel="' + CSS.escape(channel.slug) + '"]');
      const next = card && card.querySelector("[data-primary], [data-sync-start], button");
      if (next) next.focus();
    })
    .catch((error) => {
      setBusy(trigger, false);
      notice("channel", "critical", "The channel was not changed", error.message);
    });
}

function resume(trigger) {
  setBusy(trigger, true, "Resuming…");
  bridge
    .api("PATCH", "/api/ecommerce/settings", { tracking_enabled: true })
    .then((data) => {
      afterChange(data);
      confirmed("Sending resumed");
    })
    .catch((error) => {
      setBusy(trigger, false);
      notice("channel", "critical", "Sending was not resumed", error.message);
    });
}

function recreate(channel, trigger) {
  setBusy(trigger, true, "Re-creating…");
  bridge
    .api("POST", channelPath(channel.slug) + "/store/recreate")
    .then(() => {
      confirmed("Store re-created");
      clearAll();
      return loader.run();
    })
    .catch((error) => {
      setBusy(trigger, false);
      notice("channel", "critical", "The store was not re-created", error.message);
    });
}

function askMove(channel, listId, trigger) {
  const select = $("move-audience");
  select.textContent = "";
  audiences
    .filter((a) => a.list_id !== channel.list_id)
    .forEach((a) => {
      const option = el("option", "", a.name + (a.is_default ? " (default)" : ""));
      option.value = a.list_id;
      select.appendChild(option);
    });
  if (listId) select.value = listId;
  pendingMove = { channel, trigger };
  $("audience-confirm").disabled = !select.options.length;
  $("audience-dialog").showModal();
  $("audience-cancel").focus();
}

function doResync(channel, kind, trigger) {
  setBusy(trigger, true, "Resyncing…");
  bridge
    .api("POST", channelPath(channel.slug) + "/resync", kind ? { kind } : {})
    .then(() => {
      setBusy(trigger, false);
      confirmed("Resync started");
      return loader.run();
    })
    .catch((error) => {
      setBusy(trigger, false);
      notice("channel", "critical", "Resync failed", error.message);
    });
}

// --- storefront links and carts (save bar) -------------------------------------------------

function readSettings() {
  return {
    abandoned_carts_enabled: $("carts").checked,
    product_url_template: $("product-url").value.trim() || null,
    checkout_url_template: $("checkout-url").value.trim() || null,
    store_email: $("store-email").value.trim() || null,
    ...readFields(),
    ...readPromos(),
  };
}

function fillSettings(s) {
  $("carts").checked = s.abandoned_carts_enabled;
  $("product-url").value = s.product_url_template || "";
  $("checkout-url").value = s.checkout_url_template || "";
  $("store-email").value = s.store_email || "";
  fillFields(s);
  fillPromos(s);
}

function checkTemplate(id, allowed, example) {
  const value = $(id).value.trim();
  if (!value) return true;
  let problem = null;
  if (!/^https?:\/\/[^/\s]+/.test(value)) {
    problem = "Write a full address starting with https://, like " + example + ".";
  } else {
    const unknown = (value.match(/\{(\w*)\}/g) || []).filter((p) => allowed.indexOf(p) < 0);
    if (unknown.length) {
      problem = unknown.join(", ") + " is not a placeholder here; use " + allowed.join(", ") + ".";
    }
  }
  if (problem) fieldError(id, problem);
  return !problem;
}

function validateSettings() {
  clearFieldError("product-url");
  clearFieldError("checkout-url");
  const a = checkTemplate("product-url", ["{slug}", "{id}", "{channel}"], "https://shop.example.com/products/{slug}");
  const b = checkTemplate("checkout-url", ["{restore}", "{token}", "{channel}"], "https://shop.example.com/cart/restore?link={restore}");
  const c = validateFields();
  const d = validatePromos();
  return a && b && c && d;
}

function saveSettings(values) {
  return savePromos(values, (rest) => bridge.api("PATCH", "/api/ecommerce/settings", rest).then((data) => {
    current = data;
    renderChannels(data);
    return data.settings;
  }));
}

setUpFields();
setUpPromos();
const bar = new SaveBar({
  form: $("settings-form"),
  read: readSettings,
  fill: fillSettings,
  validate: validateSettings,
  save: saveSettings,
  savedTitle: "E-commerce settings saved",
});

// --- quarantine ----------------------------------------------------------------------------

function renderQuarantine(records) {
  const body = $("quarantine-rows");
  // A fresh answer re-renders the rows: opened details stay open and focus stays on the same
  // control of the same record, so a reload never closes what the admin is reading.
  const opened = new Set(
    Array.from(body.querySelectorAll("details[open]")).map((d) => d.closest("tr").dataset.recordId)
  );
  const focused = body.contains(document.activeElement) ? document.activeElement : null;
  const focusRow = focused ? focused.closest("tr[data-record-id]") : null;
  const focusAt = focusRow ? [focusRow.dataset.recordId, focused.tagName, focused.textContent] : null;
  body.textContent = "";
  if (!records.length) {
    const row = el("tr");
    const td = el("td", "empty", "Nothing is quarantined.");
    td.colSpan = 4;
    row.appendChild(td);
    body.appendChild(row);
    return;
  }
  records.forEach((r) => {
    const row = el("tr");
    row.dataset.recordId = String(r.id);
    const subjectId = "record-" + r.id;
    const fallback = (KIND_NAMES[r.kind] || r.kind) + " " + (r.label || r.saleor_id);
    row.appendChild(describe(r, fallback, subjectId));
    const channel = el("td", "", r.channel_slug);
    channel.dataset.label = "Channel";
    row.appendChild(channel);
    const when = el("td", "", formatTime(r.updated_at));
    when.dataset.label = "Last change";
    when.appendChild(el("div", "muted small", r.attempts === 1 ? "1 attempt" : r.attempts + " attempts"));
    row.appendChild(when);
    const fix = el("td");
    fix.dataset.label = "Fix";
    const control = fixButton(
      Object.assign({ can_retry: true }, r),
      subjectId,
      () => bridge.api("POST", "/api/ecommerce/records/" + encodeURIComponent(r.id) + "/retry"),
      () => loader.run()
    );
    if (control) fix.appendChild(control);
    row.appendChild(fix);
    body.appendChild(row);
    if (opened.has(row.dataset.recordId)) row.querySelectorAll("details").forEach((d) => (d.open = true));
    if (focusAt && focusAt[0] === row.dataset.recordId) {
      const same = Array.from(row.querySelectorAll(focusAt[1])).find((n) => n.textContent === focusAt[2]);
      if (same) same.focus();
    }
  });
}

// --- loading -------------------------------------------------------------------------------

// A re-render between a press and its release would swallow the click (the pressed control is
// replaced before the release lands), so an answer arriving meanwhile waits for the release.
let pressed = false;
let heldResults = null;

function release() {
  if (!pressed) return;
  pressed = false;
  // After the click that the release completes has run.
  setTimeout(() => {
    if (pressed || !heldResults) return;
    const results = heldResults;
    heldResults = null;
    show(results);
  }, 0);
}

$("content").addEventListener("pointerdown", () => {
  pressed = true;
});
["pointerup", "pointercancel"].forEach((type) => document.addEventListener(type, release, true));
window.addEventListener("blur", release);

function renderChannels(data) {
  const list = $("channel-list");
  // A fresh answer re-renders the cards: an open menu stays open and focus stays on the
  // same control, so a reload never pulls the page from under the admin.
  const open = list.querySelector(".menu-list:not([hidden])");
  const openSlug = open ? open.closest("[data-channel]").dataset.channel : null;
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  const focusCard = focused ? focused.closest("[data-channel]") : null;
  const focusAt = focusCard ? [focusCard.dataset.channel, focused.tagName, focused.textContent] : null;
  list.textContent = "";
  data.channels.forEach((c) => list.appendChild(renderChannel(c)));
  $("no-channels").hidden = data.channels.length > 0;
  if (openSlug) {
    const card = list.querySelector('[data-channel="' + CSS.escape(openSlug) + '"]');
    const menu = card && card.querySelector(".menu-list");
    if (menu) {
      menu.hidden = false;
      card.querySelector("[aria-controls]").setAttribute("aria-expanded", "true");
    }
  }
  if (focusAt) {
    const card = list.querySelector('[data-channel="' + CSS.escape(focusAt[0]) + '"]');
    const same = card
      ? Array.from(card.querySelectorAll(focusAt[1])).find((n) => n.textContent === focusAt[2])
      : null;
    if (same) same.focus();
  }
  pollAll();
}

function render(data) {
  current = data;
  $("content").hidden = false;
  $("not-connected").hidden = data.connected;
  $("audience-note").textContent = data.audience_note;
  $("last-push").textContent = data.last_push_at
    ? "Last sent to Mailchimp " + formatTime(data.last_push_at) + "."
    : "Nothing sent to Mailchimp yet.";
  if (!bar.dirty) bar.reset(data.settings);
  renderChannels(data);
}

/** Once per visit, ask Mailchimp whether the tracked channels' stores still exist. */
function readEcommerce() {
  if (checkedStores) return bridge.api("GET", "/api/ecommerce");
  checkedStores = true;
  return bridge.api("POST", "/api/ecommerce/stores/check").catch((error) => {
    if (error.status === 404 || error.status === 405) return bridge.api("GET", "/api/ecommerce");
    notice("stores", "warning", "The stores could not be checked in Mailchimp", error.message);
    return bridge.api("GET", "/api/ecommerce");
  });
}

const loader = new PageLoader({
  errorTitle: "E-commerce sync could not be loaded",
  load: () =>
    Promise.all([
      withPromos(readEcommerce()),
      bridge.api("GET", "/api/audiences").catch(() => null),
      bridge.api("GET", "/api/ecommerce/records?status=quarantined&limit=100").catch(() => []),
    ]),
  render: (results) => {
    if (pressed) heldResults = results;
    else show(results);
  },
});

function show(results) {
  heldResults = null;
  audiences = results[1] ? results[1].audiences.filter((a) => !a.removed) : [];
  render(results[0]);
  renderQuarantine(results[2]);
  loadHealth(() => loader.run());
}

onSyncEnded(() => loader.run());
$("reload-button").addEventListener("click", () => {
  clear("reload");
  loader.run();
});
$("audience-cancel").addEventListener("click", () => {
  $("audience-dialog").close();
  if (pendingMove) pendingMove.trigger.focus();
  pendingMove = null;
});
$("audience-confirm").addEventListener("click", () => {
  const move = pendingMove;
  pendingMove = null;
  const listId = $("move-audience").value;
  $("audience-dialog").close();
  if (move && listId) track(move.channel, true, listId, move.trigger);
});
// Poll only while the page is seen; the answer on return says what happened meanwhile.
document.addEventListener("visibilitychange", () => {
  if (document.hidden) pauseAll();
  else pollAll();
});
window.addEventListener("pagehide", pauseAll);
window.addEventListener("pageshow", (event) => {
  if (event.persisted) pollAll();
});
loader.run();
