/* The Activity page: recent events and jobs in words, filtered by status; the fix for each
   quarantined one (records.js), and why a waiting one waits. */
import {
  $,
  PageLoader,
  bridge,
  clear,
  clearAll,
  confirmed,
  el,
  formatTime,
  notice,
  setBusy,
} from "../app.js";
import { describe, fixButton } from "../records.js";

const STATUS = {
  pending: { label: "Waiting", tone: "info" },
  running: { label: "Running", tone: "warning" },
  done: { label: "Done", tone: "success" },
  quarantined: { label: "Quarantined", tone: "critical" },
};

let statusFilter = "";

function message(text) {
  const body = $("activity-rows");
  body.textContent = "";
  const row = el("tr");
  const td = el("td", "empty", text);
  td.colSpan = 4;
  row.appendChild(td);
  body.appendChild(row);
}

function renderCounts(counts) {
  let total = 0;
  Object.keys(STATUS).forEach((status) => {
    const n = counts[status] || 0;
    total += n;
    document.querySelector('[data-count="' + status + '"]').textContent = "(" + n + ")";
  });
  document.querySelector('[data-count="all"]').textContent = "(" + total + ")";
  $("quarantine-notice").hidden = !counts.quarantined;
  $("quarantine-title").textContent =
    counts.quarantined === 1 ? "1 item is quarantined" : counts.quarantined + " items are quarantined";
}

function duration(seconds) {
  if (seconds < 60) return "under a minute";
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return minutes === 1 ? "about 1 minute" : "about " + minutes + " minutes";
  return "about " + Math.round(minutes / 60) + " hours";
}

/* E-commerce changes not yet in Mailchimp, and when they should be there. */
function renderBacklog(backlog) {
  const total = backlog.waiting + backlog.in_batches;
  let text = "Every e-commerce change has reached Mailchimp.";
  if (total) {
    text = total.toLocaleString() + (total === 1 ? " e-commerce change" : " e-commerce changes");
    text += " on the way to Mailchimp";
    if (backlog.in_batches) text += " (" + backlog.in_batches.toLocaleString() + " sent in batches)";
    text += ". ";
    text += backlog.drain_seconds === null
      ? "Estimating how long they take…"
      : "At the current pace (" + backlog.applied_last_minute.toLocaleString() +
        " a minute) they should all be there in " + duration(backlog.drain_seconds) + ".";
  }
  $("backlog").textContent = text;
}

/* Channels whose abandoned-cart e-mails cannot fire: the E-commerce page's health, same words. */
function renderCartHealth(channels) {
  clear("cart-health");
  if (!channels || !channels.length) return;
  const title = channels.length === 1
    ? "Abandoned-cart e-mails cannot fire for " + channels[0].name
    : "Abandoned-cart e-mails cannot fire for " + channels.length + " channels";
  const text = channels.map((c) => c.name + ": " + c.problems[0].message).join(" ");
  notice("cart-health", "warning", title, text + " The E-commerce page shows how to fix it.");
}

/* Saleor's event names in words: PRODUCT_VARIANT_UPDATED → "product variant updated". */
function eventWords(events) {
  return events.map((e) => e.toLowerCase().replace(/_/g, " ")).join(", ");
}

/* The app's webhooks a staff member paused in Saleor: their events reach nobody until they are
   turned back on, which the app does for the admin who asks. */
let resuming = false; // a reload while the request runs must not offer the button again

function renderPausedWebhooks(paused) {
  if (resuming) return;
  clear("paused-webhooks");
  if (!paused || !paused.length) return;
  const events = eventWords(paused.flatMap((w) => w.events));
  const title = paused.length === 1
    ? "One of the app's webhooks is paused in Saleor"
    : paused.length + " of the app's webhooks are paused in Saleor";
  const it = paused.length === 1 ? "it" : "them";
  const text =
    "Saleor does not send the app these events, so the changes they announce do not reach " +
    "Mailchimp: " + events + ". Someone with access to Saleor's API paused " + it +
    "; turn " + it + " back on unless that was meant.";
  notice("paused-webhooks", "warning", title, text, {
    label: "Turn back on",
    primary: true,
    run: (b) => {
      resuming = true;
      clear("paused-webhooks-failed");
      setBusy(b, true, "Turning back on…");
      bridge
        .api("POST", "/api/installation/webhooks/resume")
        .then((result) => {
          resuming = false;
          renderPausedWebhooks(result.paused);
          // The button is gone (or new): keep the keyboard on the page, where the notice was.
          const again = document.querySelector('[data-notice="paused-webhooks"] button');
          (again || $("backlog")).focus();
          if (!result.paused.length) return confirmed("Webhooks turned back on");
          return null;
        })
        .catch((error) => {
          resuming = false;
          setBusy(b, false);
          notice("paused-webhooks-failed", "critical", "The webhooks could not be turned back on", error.message);
        });
    },
  });
}

// A lifecycle webhook with as many custom headers as Saleor allows has no room for the app's
// delivery key: the server's sentence says which, and what to remove (absent on older servers).
function renderDeliveryKeyProblem(problem) {
  clear("delivery-key");
  if (!problem) return;
  notice("delivery-key", "warning", "A webhook has no room for the app's delivery key", problem);
}

function statusCell(item) {
  const cell = el("td");
  cell.dataset.label = "Status";
  const info = STATUS[item.status] || { label: item.status, tone: "" };
  cell.appendChild(el("span", "badge " + info.tone, info.label));
  if (item.status === "pending") {
    // Why it waits: the server's words, or what the row itself says.
    const w = item.waiting;
    let why = w ? w.message : "";
    // The server says times in UTC; the admin reads them in their own time.
    if (w && w.until) why = why.replace(/(\d{1,2} \w{3} )?\d{2}:\d{2} UTC/, formatTime(w.until));
    if (!why && item.run_after && new Date(item.run_after) > new Date()) {
      why = "Starts " + formatTime(item.run_after) + ".";
    }
    if (why) cell.appendChild(el("div", "muted small mt-8 waiting-reason", why));
  }
  if (item.attempts) {
    cell.appendChild(
      el("div", "muted small", item.attempts === 1 ? "1 attempt" : item.attempts + " attempts")
    );
  }
  return cell;
}

function renderRows(items) {
  const body = $("activity-rows");
  body.textContent = "";
  if (!items.length) {
    message(
      statusFilter
        ? "Nothing " + STATUS[statusFilter].label.toLowerCase() + " right now."
        : "Nothing happened yet. Events from Saleor and the app's work appear here."
    );
    return;
  }
  items.forEach((item) => {
    const row = el("tr");
    row.dataset.jobId = String(item.id);
    const subjectId = "job-" + item.id;
    row.appendChild(describe(item, item.summary, subjectId));
    row.appendChild(statusCell(item));
    const when = el("td", "", formatTime(item.finished_at || item.updated_at));
    when.dataset.label = "Last change";
    when.appendChild(
      el("div", "muted small", (item.category === "event" ? "Event from Saleor" : "Job") + " #" + item.id)
    );
    row.appendChild(when);
    // Labelled only when there is something in it: on narrow pages each row is a card, and the
    // label would stand alone over an empty cell (the cell itself is hidden there, app.css).
    const fix = el("td", "fix-cell");
    if (item.status === "quarantined" || item.can_retry) {
      const control = fixButton(
        item,
        subjectId,
        () => bridge.api("POST", "/api/activity/jobs/" + encodeURIComponent(item.id) + "/retry"),
        () => loader.run().then(() => focusAfter(item.id))
      );
      if (control) {
        fix.dataset.label = "Fix";
        fix.appendChild(control);
      }
    }
    row.appendChild(fix);
    body.appendChild(row);
  });
}

/* The rows were drawn again: the focus goes to the same item's row (its control), else to
 * the table, not to the page. */
function focusAfter(jobId) {
  const row = document.querySelector('#activity-rows tr[data-job-id="' + jobId + '"]');
  const control = row && row.querySelector("button, a");
  (control || document.querySelector(".table-wrap")).focus();
}

// The latest items first, a page at a time (the API gives 200 at most).
const PAGE = 50;
const MOST = 200;
let limit = PAGE;
let shown = { status: statusFilter, limit }; // the filter and length of the rows on the page

/* Said under the table when it lists fewer items than the filter counts. */
function renderMore(page) {
  const counts = page.counts || {};
  const total = statusFilter
    ? counts[statusFilter] || 0
    : Object.keys(STATUS).reduce((sum, status) => sum + (counts[status] || 0), 0);
  const shown = page.items.length;
  $("activity-more").hidden = shown >= total;
  $("activity-more-text").textContent =
    "Showing the latest " + shown + " of " + total + (limit >= MOST ? " (the most the page lists)." : ".");
  $("activity-more-button").hidden = limit >= MOST;
}

const loader = new PageLoader({
  errorTitle: "The activity could not be loaded",
  load: () => {
    const query = statusFilter ? "?status=" + encodeURIComponent(statusFilter) + "&" : "?";
    return bridge.api("GET", "/api/activity" + query + "limit=" + limit);
  },
  render: (page) => {
    $("content").hidden = false;
    renderCounts(page.counts);
    renderBacklog(page.backlog);
    renderCartHealth(page.cart_health);
    renderPausedWebhooks(page.paused_webhooks);
    renderDeliveryKeyProblem(page.delivery_key_problem);
    renderRows(page.items);
    renderMore(page);
    shown = { status: statusFilter, limit };
  },
  // The rows could not be read (the loader's notice says why, with Retry): the filter and
  // length are again those of the rows still shown, a filter pressed meanwhile is let go, and
  // "Show more" counts from the rows on the page.
  restore: () => {
    statusFilter = shown.status;
    limit = shown.limit;
    pressFilter(statusFilter);
  },
});

const filters = document.querySelectorAll("#filters button");

function pressFilter(status) {
  filters.forEach((f) => f.setAttribute("aria-pressed", String((f.dataset.status || "") === status)));
}

/* A filter is pressed while its rows load (a failure: see the loader's `restore`). */
filters.forEach((f) =>
  f.addEventListener("click", (event) => {
    statusFilter = event.currentTarget.dataset.status || "";
    limit = PAGE;
    pressFilter(statusFilter);
    clearAll();
    loader.run();
  })
);
$("refresh").addEventListener("click", () => loader.run());
$("activity-more-button").addEventListener("click", (event) => {
  limit = Math.min(limit + PAGE, MOST);
  const more = event.currentTarget;
  setBusy(more, true, "Loading…");
  const running = loader.run();
  const mine = loader.runs;
  running.then((page) => {
    setBusy(more, false);
    // Not read (the loader's notice says why): the button works again, with the focus it had.
    if (page === null && loader.runs === mine) return;
    // The next of the rows just added, or the button itself, keeps the focus.
    const rows = $("activity-rows").querySelectorAll("tr");
    const next = rows[limit - PAGE];
    const target = next && next.querySelector("button, a");
    const gone = more.hidden || $("activity-more").hidden;
    (target || (gone ? document.querySelector(".table-wrap") : more)).focus();
  });
});
loader.run();
