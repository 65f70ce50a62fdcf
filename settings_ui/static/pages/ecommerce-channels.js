/*
 * The E-commerce page's channels (see ecommerce.js): one card per sales channel with ONE
 * primary action for its state (the server's `next_action` when it says it), its counters and
 * initial sync, the rest in a "More actions" menu, and the dialog to use another audience.
 * What the buttons ask the server is in ecommerce-channel-actions.js. The page hands in what it
 * loaded (renderChannels, setAudiences) and what to do after a change (setUpChannels).
 */
import { $, badge, button, confirmDialog, el, formatTime } from "../app.js";
import { pollAll, renderInitialSync } from "../initial-sync.js";
import { doResync, follow, recreate, resume, setUpActions, track } from "./ecommerce-channel-actions.js";

const KINDS = [
  ["product", "Products"],
  ["customer", "Customers"],
  ["order", "Orders"],
  ["cart", "Carts"],
];
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

function audienceName(listId) {
  const a = audiences.find((x) => x.list_id === listId);
  return a ? a.name : listId;
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

/** Saleor no longer has the channel under its slug: only stopping or switching can be done. */
function isGone(channel) {
  return ["stop_tracking", "follow_channel"].includes(nextAction(channel));
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
        track(channel, true, select.value, control, current.settings.tracking_enabled);
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
    case "stop_tracking":
      text =
        "This channel is no longer in Saleor, so its changes are not sent to Mailchimp. Stop tracking it: its Mailchimp store keeps what it holds.";
      control = button(label || "Stop tracking", "", titleId);
      control.addEventListener("click", () =>
        track(channel, false, null, control, current.settings.tracking_enabled)
      );
      break;
    case "follow_channel":
      text =
        "This channel's slug changed in Saleor, so its changes are not sent to Mailchimp. Switch to the new slug: the same Mailchimp store goes on.";
      control = button(label || "Switch to the new slug", "", titleId);
      control.addEventListener("click", () => follow(channel, control));
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
  // A channel Saleor no longer has can only be stopped (or switched to its new slug).
  if (!isGone(channel)) {
    item("Resync everything", (t) => doResync(channel, null, t));
    KINDS.forEach(([kind, name]) => item("Resync " + name.toLowerCase(), (t) => doResync(channel, kind, t)));
    item("Use another audience…", (t) => askMove(channel, null, t));
  }
  item("Stop tracking", (t) =>
    confirmDialog({
      title: "Stop tracking " + (channel.name || channel.slug) + "?",
      text:
        "Its products, customers, orders and carts are no longer sent to Mailchimp; what " +
        "its Mailchimp store holds stays there. Changes made meanwhile are not sent when you " +
        "track it again: resync it then.",
      confirm: "Stop tracking",
      cancel: "Keep tracking",
      danger: true,
    }).then((sure) => {
      if (sure) track(channel, false, null, t, current.settings.tracking_enabled);
      else toggleOf(channel, toggle).focus();
    })
  );
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
  // Stopping is a deleted channel's primary action already: no menu for it alone.
  if (channel.tracked && nextAction(channel) !== "stop_tracking") {
    right.appendChild(moreActions(channel, titleId));
  }
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
    // Paused: its last outcome stays in view, but starting one is not the next step. A
    // channel Saleor no longer has cannot be sent: only stopping is.
    if (storeStatus !== "missing" && !isGone(channel)) {
      card.appendChild(renderInitialSync(channel, paused));
    }
  }
  return card;
}

// --- another audience (the move dialog) ----------------------------------------------------

/**
 * The channel's "More actions" button, for the focus to go back to after a dialog: the one
 * that opened it, or, when the cards were drawn again meanwhile (a refresh), the new card's.
 */
function toggleOf(channel, trigger) {
  if (trigger.isConnected) return trigger;
  const card = $("channel-list").querySelector('[data-channel="' + CSS.escape(channel.slug) + '"]');
  const again = card && card.querySelector("button[aria-controls]");
  return again || trigger;
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

// --- the page's part -----------------------------------------------------------------------

/**
 * Once, before the first render: `changed(data)` re-renders the page from the EcommerceRead a
 * channel action answered, `reload()` loads the page again; the move dialog's buttons.
 */
export function setUpChannels({ changed, reload }) {
  setUpActions({ changed, reload });
  $("audience-cancel").addEventListener("click", () => $("audience-dialog").close());
  // Cancelled, by its button or Escape: the focus goes back to the channel's menu button (the
  // browser would give it back to the menu item, hidden since).
  $("audience-dialog").addEventListener("close", () => {
    const move = pendingMove;
    pendingMove = null;
    if (move) toggleOf(move.channel, move.trigger).focus();
  });
  $("audience-confirm").addEventListener("click", () => {
    const move = pendingMove;
    pendingMove = null;
    const listId = $("move-audience").value;
    $("audience-dialog").close();
    if (move && listId) track(move.channel, true, listId, move.trigger, current.settings.tracking_enabled);
  });
}

/** The imported audiences (not removed) the cards offer, from the page's last load. */
export function setAudiences(list) {
  audiences = list;
}

/** The cards of the EcommerceRead `data`, which the channel actions then see too. */
export function renderChannels(data) {
  current = data;
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
