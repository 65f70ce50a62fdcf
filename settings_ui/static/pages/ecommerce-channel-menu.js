/*
 * A channel card's "More actions" menu (see ecommerce-channels.js): the per-kind resyncs,
 * another audience, stop tracking; and the dialog to use another audience, which a channel's
 * Track step opens too when it names another audience than the channel's.
 */
import { $, button, confirmDialog, el } from "../app.js";
import { doResync, track } from "./ecommerce-channel-actions.js";
import { KINDS, audiences, current, isGone } from "./ecommerce-channel-state.js";

/** "More actions": the per-kind resyncs, another audience, stop tracking. */
export function moreActions(channel, titleId) {
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

// --- another audience (the move dialog) ----------------------------------------------------

let pendingMove = null;

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

export function askMove(channel, listId, trigger) {
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

/** Once, before the first render: the move dialog's buttons. */
export function setUpMoveDialog() {
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
