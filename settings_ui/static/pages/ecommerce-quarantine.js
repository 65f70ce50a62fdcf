/*
 * The E-commerce page's quarantined records (see ecommerce.js): the records Mailchimp refused,
 * in words, with the fix or the retry for each. The page hands in the records it loaded and
 * how to load it again after a retry.
 */
import { $, bridge, el, formatTime } from "../app.js";
import { describe, fixButton } from "../records.js";

const KIND_NAMES = { store: "Store", product: "Product", customer: "Customer", order: "Order", cart: "Cart", promo_rule: "Voucher" };

/** `reload()` loads the page again once a record was retried. */
export function renderQuarantine(records, reload) {
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
    // Labelled only when there is something in it, as on the Activity page: on narrow pages
    // each row is a card, and the label would stand alone over an empty cell (hidden, app.css).
    const fix = el("td", "fix-cell");
    const control = fixButton(
      Object.assign({ can_retry: true }, r),
      subjectId,
      () => bridge.api("POST", "/api/ecommerce/records/" + encodeURIComponent(r.id) + "/retry"),
      reload
    );
    if (control) {
      fix.dataset.label = "Fix";
      fix.appendChild(control);
    }
    row.appendChild(fix);
    body.appendChild(row);
    if (opened.has(row.dataset.recordId)) row.querySelectorAll("details").forEach((d) => (d.open = true));
    if (focusAt && focusAt[0] === row.dataset.recordId) {
      const same = Array.from(row.querySelectorAll(focusAt[1])).find((n) => n.textContent === focusAt[2]);
      if (same) same.focus();
    }
  });
}
