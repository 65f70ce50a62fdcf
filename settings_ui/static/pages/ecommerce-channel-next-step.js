/*
 * A channel card's next step (see ecommerce-channels.js): ONE primary action for the channel's
 * state, a link or a button, with the sentence that says why (the server's hint when it says
 * it); none when the initial sync's own button is the next step.
 */
import { button, el } from "../app.js";
import { doResync, follow, recreate, resume, track } from "./ecommerce-channel-actions.js";
import { askMove } from "./ecommerce-channel-menu.js";
import { current, nextAction } from "./ecommerce-channel-state.js";

function query() {
  return window.location.search;
}

export function primaryFor(channel, select, titleId) {
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
