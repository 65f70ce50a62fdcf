/*
 * The E-commerce page's channel actions (see ecommerce-channels.js): what a channel card's
 * buttons ask the server, track or stop tracking, resume sending, re-create the store, switch a
 * channel to its new slug, resync, and what the page does with the answer (setUpActions:
 * re-render it, or load it again).
 */
import { bridge, clearAll, confirmed, notice, setBusy } from "../app.js";

let afterChange = () => {}; // the page re-renders from the EcommerceRead an action answered
let reloadPage = () => {};

function channelPath(slug) {
  return "/api/ecommerce/channels/" + encodeURIComponent(slug);
}

/**
 * The control on the channel card of `slug` that does its next step: the card's primary action,
 * else the initial sync's Start (hidden while a sync runs or sending is paused). Null without one.
 */
export function cardAction(slug) {
  const card = document.querySelector('[data-channel="' + CSS.escape(slug) + '"]');
  return card && card.querySelector("[data-primary], [data-sync-start]:not([hidden])");
}

/** Once, before the first render: `changed(data)` re-renders the page, `reload()` loads it again. */
export function setUpActions({ changed, reload }) {
  afterChange = changed;
  reloadPage = reload;
}

/** `trackingEnabled`: the store-wide switch as the page last read it. */
export function track(channel, tracked, listId, trigger, trackingEnabled) {
  setBusy(trigger, true, tracked ? "Saving…" : "Stopping…");
  const body = { tracked };
  if (listId) body.list_id = listId;
  // Tracking a channel means sending it: a store-wide pause is lifted with it.
  const resumeFirst =
    tracked && !trackingEnabled
      ? bridge.api("PATCH", "/api/ecommerce/settings", { tracking_enabled: true })
      : Promise.resolve();
  resumeFirst
    .then(() => bridge.api("PUT", channelPath(channel.slug), body))
    .then((data) => {
      afterChange(data);
      confirmed(tracked ? "Channel tracked" : "Channel no longer tracked");
      const card = document.querySelector('[data-channel="' + CSS.escape(channel.slug) + '"]');
      const next = cardAction(channel.slug) || (card && card.querySelector("button"));
      if (next) next.focus();
    })
    .catch((error) => {
      setBusy(trigger, false);
      notice("channel", "critical", "The channel was not changed", error.message);
    });
}

export function resume(trigger) {
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

export function recreate(channel, trigger) {
  setBusy(trigger, true, "Re-creating…");
  bridge
    .api("POST", channelPath(channel.slug) + "/store/recreate")
    .then(() => {
      confirmed("Store re-created");
      clearAll();
      return reloadPage();
    })
    .catch((error) => {
      setBusy(trigger, false);
      notice("channel", "critical", "The store was not re-created", error.message);
    });
}

/** A channel whose slug changed in Saleor goes on under its new slug, with the same store. */
export function follow(channel, trigger) {
  setBusy(trigger, true, "Switching…");
  bridge
    .api("POST", channelPath(channel.slug) + "/follow")
    .then((result) => {
      confirmed("Switched to the new slug");
      clearAll();
      // What the app could not send (orders made under the new slug before): said in a notice
      // that stays, once the page shows the channel under its new slug.
      return Promise.resolve(reloadPage()).then(() =>
        notice("channel", "success", "Switched to the new slug", result.message)
      );
    })
    .catch((error) => {
      setBusy(trigger, false);
      notice("channel", "critical", "The channel was not switched", error.message);
    });
}

export function doResync(channel, kind, trigger) {
  setBusy(trigger, true, "Resyncing…");
  bridge
    .api("POST", channelPath(channel.slug) + "/resync", kind ? { kind } : {})
    .then(() => {
      setBusy(trigger, false);
      confirmed("Resync started");
      return reloadPage();
    })
    .catch((error) => {
      setBusy(trigger, false);
      notice("channel", "critical", "Resync failed", error.message);
    });
}
