/*
 * The customer panel's "Erase from Mailchimp" (GDPR): GET /api/erasure/customers/{id} says what
 * an erasure would erase, the confirmation names it, POST erases (queued; MANAGE_USERS). The
 * app deletes the contact permanently from every audience, the customer and carts from every
 * store (orders as the erasure setting says), and forgets the address in its own records.
 */
import { $, bridge, button, clearAll, confirmDialog, confirmed, el, notice, plural, setBusy } from "../app.js";

function path(customerId) {
  return "/api/erasure/customers/" + encodeURIComponent(customerId);
}

/** What the erasure will do, in words, from the preview. */
export function erasureText(preview) {
  var parts = [];
  var audiences = preview.audiences.map(function (a) {
    return a.name;
  });
  if (audiences.length) {
    parts.push(
      "Mailchimp permanently deletes " +
        preview.email +
        " from " +
        (audiences.length === 1 ? "the audience " : "the audiences ") +
        audiences.join(", ") +
        ", and will never let the app add this address again (the customer can still " +
        "subscribe again themselves through a Mailchimp form)."
    );
  }
  preview.stores.forEach(function (s) {
    var what = [];
    if (s.customer) what.push("the customer record");
    if (s.carts) what.push(plural(s.carts, "abandoned cart", "abandoned carts"));
    if (s.orders && preview.delete_orders) what.push(plural(s.orders, "order", "orders"));
    var kept = s.orders && !preview.delete_orders ? " " + plural(s.orders, "order stays", "orders stay") + " in Mailchimp (revenue history)." : "";
    parts.push("Store " + s.name + ": " + (what.length ? what.join(", ") + " deleted." : "nothing to delete.") + kept);
  });
  if (!preview.connected) parts.push("Mailchimp is not connected: nothing can be erased there now.");
  parts.push("The app forgets the address in its own records. This cannot be undone.");
  return parts.join(" ");
}

/** The Erase card under the audiences; `reload()` re-reads the panel once erased. */
export function mountErasure(customerId, reload) {
  var card = $("erasure");
  if (!card || !customerId) return;
  card.textContent = "";
  var header = el("div", "card-header");
  var title = el("div");
  var h2 = el("h2", "", "Erase from Mailchimp");
  h2.id = "erasure-title";
  title.appendChild(h2);
  var hint = el(
    "p",
    "muted small",
    "For a request to be forgotten (GDPR): deletes this customer's contact, customer record " +
      "and carts in Mailchimp, and the app's own records of their address."
  );
  hint.id = "erasure-hint";
  title.appendChild(hint);
  header.appendChild(title);
  card.appendChild(header);
  var actions = el("div", "panel-actions");
  var erase = button("Erase from Mailchimp", "danger secondary", "erasure-hint");
  actions.appendChild(erase);
  card.appendChild(actions);
  card.hidden = false;

  erase.addEventListener("click", function () {
    setBusy(erase, true);
    bridge
      .api("GET", path(customerId))
      .then(function (preview) {
        setBusy(erase, false);
        erase.focus(); // disabled while it asked, it lost focus: the dialog returns it here
        return confirmDialog({
          title: "Erase " + preview.email + " from Mailchimp?",
          text: erasureText(preview),
          confirm: "Erase",
          cancel: "Keep",
          danger: true,
        });
      })
      .then(function (yes) {
        if (!yes) return;
        setBusy(erase, true);
        return bridge.api("POST", path(customerId)).then(function (answer) {
          clearAll();
          confirmed("Erasure requested");
          notice("erasure", "", "Erasing this customer", answer.message);
          if (reload) reload();
        });
      })
      .catch(function (error) {
        notice("erasure", "critical", "The customer was not erased", error.message, null, error.details);
      })
      .then(function () {
        setBusy(erase, false);
      });
  });
}
