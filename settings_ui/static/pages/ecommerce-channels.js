/*
 * The E-commerce page's channels (see ecommerce.js): one card per sales channel with ONE
 * primary action for its state (the server's `next_action` when it says it; drawn in
 * ecommerce-channel-next-step.js), its counters and initial sync, the rest in a "More actions"
 * menu with the dialog to use another audience (ecommerce-channel-menu.js). What the cards are
 * drawn from is in ecommerce-channel-state.js, what the buttons ask the server in
 * ecommerce-channel-actions.js. The page hands in what it loaded (renderChannels, setAudiences)
 * and what to do after a change (setUpChannels).
 */
import { $, badge, el, formatTime } from "../app.js";
import { pollAll, renderInitialSync } from "../initial-sync.js";
import { setUpActions } from "./ecommerce-channel-actions.js";
import { moreActions, setUpMoveDialog } from "./ecommerce-channel-menu.js";
import { primaryFor } from "./ecommerce-channel-next-step.js";
import {
  KINDS,
  audienceName,
  audiences,
  current,
  isGone,
  nextAction,
  setCurrent,
} from "./ecommerce-channel-state.js";

export { setAudiences } from "./ecommerce-channel-state.js";

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
  // Deactivated in Saleor (a channel Saleor still lists: one it dropped has its own state).
  const inactive = channel.channel_active === false && !isGone(channel);
  if (inactive) right.appendChild(badge("Inactive in Saleor", "warning"));
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

  if (channel.tracked && inactive) card.appendChild(inactiveNotice(channel));

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
      card.appendChild(renderInitialSync(channel, paused, !current.connected));
    }
  }
  return card;
}

/** Why a tracked channel's products are hidden in Mailchimp while Saleor has it inactive. */
function inactiveNotice(channel) {
  const notice = el("div", "notice warning mt-16");
  notice.setAttribute("data-channel-inactive", "");
  const body = el("div", "notice-body");
  body.appendChild(el("strong", "", "This channel is deactivated in Saleor"));
  body.appendChild(
    el(
      "p",
      "",
      "It sells nothing, so its products are in Mailchimp hidden and out of stock: " +
        "campaigns and product recommendations leave them out. They show again once the " +
        "channel is active in Saleor."
    )
  );
  if (channel.channel_inactive_since) {
    body.appendChild(
      el("p", "small", "Seen inactive since " + formatTime(channel.channel_inactive_since) + ".")
    );
  }
  notice.appendChild(body);
  return notice;
}

// --- the page's part -----------------------------------------------------------------------

/**
 * Once, before the first render: `changed(data)` re-renders the page from the EcommerceRead a
 * channel action answered, `reload()` loads the page again; the move dialog's buttons.
 */
export function setUpChannels({ changed, reload }) {
  setUpActions({ changed, reload });
  setUpMoveDialog();
}

/** The cards of the EcommerceRead `data`, which the channel actions then see too. */
export function renderChannels(data) {
  setCurrent(data);
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
