/*
 * The Reports page: the campaigns sent to the store's audiences with their results (sortable
 * by any column, in a date range, with totals), three charts with their tables, and the
 * collection of engagement from Mailchimp (its progress and "Sync engagement now").
 *
 * Everything comes from GET /api/engagement/campaigns (the server sorts and sums); while a
 * collection is queued or running the page follows it (GET /api/engagement/settings) and
 * reads the report again once it ends.
 */
import { $, PageLoader, badge, bridge, confirmed, el, formatTime, notice, setBusy } from "../app.js";
import {
  amounts,
  count,
  day,
  every,
  money,
  percent,
  rangeText,
  renderCharts,
} from "./reports-charts.js";

const POLL_MS = 2000;
const TEXT_COLUMNS = ["title"]; // sorted A→Z first; numbers and dates largest first
const COLUMN_NAMES = {
  title: "campaign",
  sent_at: "send date",
  recipients: "recipients",
  open_rate: "open rate",
  click_rate: "click rate",
  unsubscribes: "unsubscribes",
  orders: "orders",
  revenue: "revenue",
  revenue_per_recipient: "revenue per recipient",
};
const STATES = {
  never: ["Not collected yet", ""],
  queued: ["Waiting to start", "info"],
  running: ["Collecting", "info"],
  idle: ["Up to date", "success"],
  failed: ["Failed", "critical"],
};

const view = { sort: "sent_at", direction: "desc", from: "", to: "" };
let seq = 0; // the latest request: older answers are dropped
let shown = null; // the view the table shows (what a failed reload goes back to)
let pollTimer = null;

// --- the collection ------------------------------------------------------------------------

function busy(run) {
  return run.state === "queued" || run.state === "running";
}

function renderRun(run) {
  $("collection-rules").textContent =
    "Each campaign's results and its recipients' opens, clicks and orders are collected for " +
    (run.activity_interval_days === 1 ? "1 day" : run.activity_interval_days + " days") +
    " after its send, " +
    every(run.schedule_minutes) +
    ", and written to the customers in Saleor (private metadata).";
  const state = STATES[run.state] || [run.state, ""];
  const badgeBox = $("run-state");
  badgeBox.className = "badge" + (state[1] ? " " + state[1] : "");
  badgeBox.textContent = state[0];
  badgeBox.dataset.state = run.state;
  const texts = {
    never: "Nothing has been collected from Mailchimp yet.",
    queued: "The collection starts in a moment.",
    running: "Reading campaigns, reports and activity from Mailchimp…",
    idle: "Collected " + (formatTime(run.last_finished_at) || "") + ".",
    failed: "The last collection stopped " + (formatTime(run.last_finished_at) || "") + ".",
  };
  $("run-text").textContent = texts[run.state] || "";
  const showProgress = busy(run) && run.campaigns_total > 0;
  $("run-progress").hidden = !showProgress;
  if (showProgress) {
    $("run-bar").max = run.campaigns_total;
    $("run-bar").value = run.campaigns_done;
    $("run-progress-label").textContent =
      count(run.campaigns_done) + " of " + count(run.campaigns_total) + " campaigns collected";
  }
  $("run-error").hidden = !(run.state === "failed" && run.last_error);
  $("run-error-text").textContent = run.last_error || "";
  $("run-last").textContent = formatTime(run.last_finished_at) || "Never";
  $("run-next").textContent =
    run.state === "running" ? "After this one" : formatTime(run.next_run_at) || "Not scheduled";
  $("run-members").textContent = count(run.members_seen);
  const sync = $("sync-now");
  if (busy(run)) setBusy(sync, true, run.state === "running" ? "Collecting…" : "Queued…");
  else setBusy(sync, false);
}

/** While a collection is queued or running: follow it, then read the report again. */
function follow(run) {
  window.clearTimeout(pollTimer);
  if (!busy(run)) return;
  pollTimer = window.setTimeout(() => {
    bridge
      .api("GET", "/api/engagement/settings")
      .then((next) => {
        renderRun(next);
        if (busy(next)) follow(next);
        else loader.run();
      })
      .catch(() => follow(run)); // a missed look is not worth a notice: look again
  }, POLL_MS);
}

function syncNow() {
  const sync = $("sync-now");
  setBusy(sync, true, "Queued…");
  bridge
    .api("POST", "/api/engagement/sync")
    .then((run) => {
      renderRun(run);
      confirmed("Engagement collection requested");
      follow(run);
      if (!busy(run)) loader.run();
    })
    .catch((error) => {
      setBusy(sync, false);
      notice("sync", "critical", "The collection was not started", error.message);
    });
}

// --- the campaign table --------------------------------------------------------------------

function cell(label, text, className) {
  const td = el("td", className || "", text);
  td.dataset.label = label;
  return td;
}

function renderRow(c) {
  const tr = el("tr");
  tr.dataset.campaignId = c.campaign_id;
  const name = el("td");
  name.dataset.label = "Campaign";
  name.appendChild(el("div", "campaign-title", c.title));
  const meta = el("div", "campaign-meta", c.list_name);
  name.appendChild(meta);
  if (c.collecting) {
    const b = badge("Collecting", "info");
    b.title = "Still inside the activity update interval";
    name.appendChild(b);
  }
  tr.appendChild(name);
  tr.appendChild(cell("Sent", day(c.sent_at)));
  tr.appendChild(cell("Recipients", count(c.recipients), "num"));
  tr.appendChild(cell("Open rate", percent(c.open_rate), "num"));
  tr.appendChild(cell("Click rate", percent(c.click_rate), "num"));
  tr.appendChild(cell("Unsubscribes", count(c.unsubscribes), "num"));
  tr.appendChild(cell("Orders", count(c.orders), "num"));
  tr.appendChild(cell("Revenue", money(c.revenue, c.currency), "num"));
  const rpr = c.revenue_per_recipient === null ? "—" : money(c.revenue_per_recipient, c.currency, true);
  tr.appendChild(cell("Revenue per recipient", rpr, "num"));
  return tr;
}

function renderHeaders(sort, direction) {
  document.querySelectorAll(".campaigns th[data-sort]").forEach((th) => {
    const on = th.dataset.sort === sort;
    if (on) th.setAttribute("aria-sort", direction === "asc" ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
    th.querySelector(".arrow").textContent = on ? (direction === "asc" ? "▲" : "▼") : "";
  });
  $("campaigns-caption").textContent =
    "Campaigns, sorted by " + COLUMN_NAMES[sort] + (direction === "asc" ? ", ascending" : ", descending");
}

function total(label, value) {
  const box = el("div", "total");
  box.appendChild(el("dt", "", label));
  box.appendChild(el("dd", "", value));
  return box;
}

function renderTotals(t) {
  const box = $("totals");
  box.replaceChildren(
    total("Campaigns", count(t.campaigns)),
    total("Recipients", count(t.recipients)),
    total("Open rate", percent(t.open_rate)),
    total("Click rate", percent(t.click_rate)),
    total("Unsubscribes", count(t.unsubscribes)),
    total("Orders", count(t.orders)),
    total("Revenue", amounts(t.revenue)),
    total(
      "Revenue per recipient",
      t.revenue_per_recipient.length
        ? amounts(t.revenue_per_recipient, true)
        : "—"
    )
  );
}

function renderTable(data) {
  renderHeaders(data.sort, data.direction);
  const rows = $("campaign-rows");
  rows.removeAttribute("aria-busy");
  rows.replaceChildren();
  if (!data.campaigns.length) {
    const tr = el("tr");
    const td = el("td", "empty", "No campaign was " + rangeText(data.sent_from, data.sent_to) + ".");
    td.colSpan = 9;
    tr.appendChild(td);
    rows.appendChild(tr);
  }
  data.campaigns.forEach((c) => rows.appendChild(renderRow(c)));
  renderTotals(data.totals);
}

// --- loading -------------------------------------------------------------------------------

function reportPath() {
  const q = new URLSearchParams({ sort: view.sort, direction: view.direction });
  if (view.from) q.set("sent_from", view.from);
  if (view.to) q.set("sent_to", view.to);
  return "/api/engagement/campaigns?" + q.toString();
}

/** With no campaign at all: what the collection did so far, and what happens next. */
function renderEmpty(run) {
  let title = "No campaign results yet";
  let text =
    "Nothing has been collected from Mailchimp so far. Results appear here after the first " +
    "collection: press Sync engagement now, or wait for the next one.";
  if (busy(run)) {
    text = "The app is collecting from Mailchimp now: results appear here once it ends.";
  } else if (run.state === "failed") {
    title = "No campaigns to show yet";
    text = "The last collection failed (see above), so no campaign has been read from Mailchimp.";
  } else if (run.state !== "never") {
    title = "No campaigns to show yet";
    const when = formatTime(run.last_finished_at);
    text =
      "The last collection" +
      (when ? " (" + when + ")" : "") +
      " found no campaign sent to the store's audiences, so there is nothing to show yet. A " +
      "campaign appears here after it is sent, once the next collection has read it.";
  }
  $("empty-title").textContent = title;
  $("empty-text").textContent =
    text + " Only campaigns sent to the audiences the store offers are collected.";
}

function render(results) {
  const connection = results[0];
  const data = results[2];
  if (results[1] !== seq) return; // a later sort or range is on its way
  shown = results[3];
  $("not-connected").hidden = !connection || connection.status === "connected";
  $("content").hidden = false;
  renderRun(data.run);
  const ranged = Boolean(data.sent_from || data.sent_to);
  const nothing = !data.campaigns.length && !ranged;
  $("empty").hidden = !nothing;
  renderEmpty(data.run);
  $("campaigns-section").hidden = nothing;
  $("charts").closest("section").hidden = nothing;
  renderTable(data);
  if (!nothing) renderCharts(data);
  follow(data.run);
}

/**
 * A read of the report failed (the loader says why, with Retry), whichever read it was: the
 * one a sort or range asked for, or the page's own after a collection that replaced it. The
 * table is no longer busy and the page goes back to the view it shows: its header and range
 * say what the rows still are.
 */
function restore() {
  $("campaign-rows").removeAttribute("aria-busy");
  if (!shown) return;
  Object.assign(view, shown);
  renderHeaders(view.sort, view.direction);
  $("sent-from").value = view.from;
  $("sent-to").value = view.to;
}

const loader = new PageLoader({
  errorTitle: "The reports could not be loaded",
  load: () => {
    seq += 1;
    const mine = seq;
    return Promise.all([
      bridge.api("GET", "/api/connection").catch(() => null),
      mine,
      bridge.api("GET", reportPath()),
      { ...view },
    ]);
  },
  render,
  restore,
});

/** Read the report again for the view just chosen (a failure: see `restore`). */
function reload() {
  $("campaign-rows").setAttribute("aria-busy", "true");
  loader.run();
}

document.querySelectorAll(".campaigns th[data-sort]").forEach((th) => {
  th.querySelector("button").addEventListener("click", () => {
    const column = th.dataset.sort;
    if (view.sort === column) view.direction = view.direction === "asc" ? "desc" : "asc";
    else view.direction = TEXT_COLUMNS.indexOf(column) >= 0 ? "asc" : "desc";
    view.sort = column;
    renderHeaders(view.sort, view.direction);
    reload();
  });
});

function rangeChanged() {
  const from = $("sent-from").value;
  const to = $("sent-to").value;
  const wrong = from && to && from > to;
  ["sent-from", "sent-to"].forEach((id) => {
    if (wrong) $(id).setAttribute("aria-invalid", "true");
    else $(id).removeAttribute("aria-invalid");
  });
  $("range-error").textContent = wrong ? "The start date is after the end date." : "";
  if (wrong || (from === view.from && to === view.to)) return;
  view.from = from;
  view.to = to;
  reload();
}

$("sent-from").addEventListener("change", rangeChanged);
$("sent-to").addEventListener("change", rangeChanged);
$("range").addEventListener("submit", (event) => event.preventDefault());
$("all-time").addEventListener("click", () => {
  $("sent-from").value = "";
  $("sent-to").value = "";
  rangeChanged();
});
$("sync-now").addEventListener("click", syncNow);
loader.run();
