/*
 * What the E-commerce page's channel cards are drawn from (see ecommerce-channels.js): the
 * page's last EcommerceRead and imported audiences, which the page hands in, the kinds a
 * channel sends, and what a channel should do next (the server's `next_action`, or the same
 * rule worked out from the channel).
 */

export const KINDS = [
  ["product", "Products"],
  ["customer", "Customers"],
  ["order", "Orders"],
  ["cart", "Carts"],
];

export let current = null; // the last EcommerceRead
export let audiences = []; // imported audiences (not removed)

/** The EcommerceRead `data` the cards are drawn from, which the channel actions then see too. */
export function setCurrent(data) {
  current = data;
}

/** The imported audiences (not removed) the cards offer, from the page's last load. */
export function setAudiences(list) {
  audiences = list;
}

export function audienceName(listId) {
  const a = audiences.find((x) => x.list_id === listId);
  return a ? a.name : listId;
}

// --- what the channel should do next -------------------------------------------------------

/** The server's next step, or the same rule worked out from the channel (older servers). */
export function nextAction(channel) {
  if (channel.next_action) return channel.next_action.code;
  if (!current.connected) return "connect_mailchimp";
  if (!channel.tracked) return audiences.length ? "track" : "choose_audience";
  if (!current.settings.tracking_enabled) return "enable_tracking";
  if (channel.store_status === "missing") return "recreate_store";
  return "sync_or_none";
}

/** Saleor no longer has the channel under its slug: only stopping or switching can be done. */
export function isGone(channel) {
  return ["stop_tracking", "follow_channel"].includes(nextAction(channel));
}
