/*
 * How an initial sync reads in its section (see initial-sync.js): the badge, the status line
 * (the server's `summary`, or worked out from the per-kind numbers on older servers), why it
 * waits while the worker retries its step (the server's `retrying`) or while Mailchimp asked the
 * app to slow down (`throttled_until`), a row per kind with its progress bar and numbers, and
 * which of Start and Cancel is offered.
 */
import { details, el, formatTime } from "./app.js";

export var SYNC_KINDS = [
  ["product", "Products"],
  ["customer", "Customers"],
  ["order", "Orders"],
];
var SYNC_STATUS = {
  running: { label: "Running", tone: "info" },
  succeeded: { label: "Succeeded", tone: "success" },
  cancelled: { label: "Cancelled", tone: "warning" },
  failed: { label: "Failed", tone: "critical" },
};
var KIND_WORDS = { product: "products", customer: "customers", order: "orders" };
// What the records a sync did not send are, per kind (the server's `skipped`).
var SKIPPED_WORDS = {
  product: "unchanged or not sold here",
  customer: "already up to date in Mailchimp or erased",
  order: "already up to date in Mailchimp, placed before the chosen day or from another channel",
};

function doneOf(kind) {
  return kind.confirmed + kind.quarantined + kind.skipped + kind.retried;
}

function joinWords(words) {
  return words.length > 1 ? words.slice(0, -1).join(", ") + " and " + words[words.length - 1] : words[0];
}

/** The running sync in one sentence, from the same per-kind numbers the rows show. */
function summaryOf(run) {
  if (run.summary) return run.summary;
  var sending = [];
  var waiting = [];
  run.kinds.forEach(function (kind) {
    var word = KIND_WORDS[kind.kind] || kind.kind;
    if (kind.total === null) waiting.push(word);
    else if (doneOf(kind) < kind.total) sending.push(word);
  });
  if (sending.length) {
    return (
      "Sending " + joinWords(sending) + (waiting.length ? "; " + joinWords(waiting) + " wait their turn" : "")
    );
  }
  if (waiting.length) return "Reading " + joinWords(waiting) + " from Saleor";
  return "Mailchimp is confirming the last batches";
}

function number(n) {
  return Number(n).toLocaleString();
}

function timeLeft(seconds) {
  var s = Math.round(seconds);
  if (s < 5) return "a few seconds left";
  if (s < 90) return "about " + s + " seconds left";
  var m = Math.round(s / 60);
  if (m < 60) return "about " + m + " minutes left";
  var h = Math.floor(m / 60);
  var hours = h + (h === 1 ? " hour" : " hours");
  return "about " + hours + (m % 60 ? " " + (m % 60) + " min" : "") + " left";
}

function day(value) {
  // orders_since is midnight UTC of the chosen day: show that day.
  return new Date(value).toLocaleDateString(undefined, {
    timeZone: "UTC",
    year: "numeric",
    month: "short",
    day: "numeric",
  });
}

function showKind(row, kind, run) {
  var bar = row.querySelector("progress");
  var numbers = row.querySelector(".sync-numbers");
  var done = kind.confirmed + kind.quarantined + kind.skipped + kind.retried;
  var running = run.status === "running";
  if (kind.total === null) {
    bar.max = 1;
    bar.value = 0;
    numbers.textContent = kind.state_label || (running ? "Waiting for its turn" : "Not reached");
    bar.classList.remove("complete");
    return;
  }
  var total = Math.max(kind.total, done);
  bar.max = Math.max(total, 1);
  bar.value = total ? done : 1; // nothing to send is done
  bar.classList.toggle("complete", done >= total);
  var parts = [number(done) + " of " + number(total) + " done"];
  if (running && kind.state_label && kind.state !== "done") parts.unshift(kind.state_label);
  parts.push(number(kind.sent) + " sent", number(kind.confirmed) + " confirmed");
  parts.push(number(kind.quarantined) + " quarantined");
  if (kind.skipped) parts.push(number(kind.skipped) + " " + (SKIPPED_WORDS[kind.kind] || "not sent"));
  if (running && done < total && kind.rate_per_second) {
    var rate = kind.rate_per_second;
    parts.push((rate >= 10 ? Math.round(rate) : Math.round(rate * 10) / 10) + " per second");
    if (kind.eta_seconds !== null) parts.push(timeLeft(kind.eta_seconds));
  }
  numbers.textContent = parts.join(" · ");
}

/**
 * The notice of a running sync whose step the worker retries after failed runs (Mailchimp or
 * Saleor not answering: retried for hours, the sync goes on by itself), in the pages' notice
 * shape, the last error behind the shared Details toggle. Made once per section and only
 * filled by each poll: drawn anew every second, the toggle would close under the admin.
 */
export function retryingNotice() {
  var box = syncNotice("notice warning", "syncRetrying", "Waiting to try again");
  box.querySelector(".notice-body").appendChild(details("Details", ""));
  return box;
}

/** A sync notice, hidden until a poll fills its paragraph (`data-<key>` marks it). */
function syncNotice(classes, key, title) {
  var box = el("div", classes);
  box.dataset[key] = "";
  box.setAttribute("role", "status");
  box.hidden = true;
  var body = el("div", "notice-body");
  body.appendChild(el("strong", "", title));
  body.appendChild(el("p"));
  box.appendChild(body);
  return box;
}

function retryingText(retrying) {
  var words = "Mailchimp or Saleor is not answering; the sync ";
  // `retry_at` may have passed: the step runs again (or is about to), its run counted or not.
  if (new Date(retrying.retry_at).getTime() <= Date.now()) {
    return words + "is trying again now and goes on by itself.";
  }
  // `attempts` counts the step's runs so far, all failed: the retry is the next one.
  return (
    words +
    "tries again at " +
    formatTime(retrying.retry_at) +
    " (attempt " +
    (retrying.attempts + 1) +
    ") and goes on by itself."
  );
}

function setText(node, text) {
  // Unchanged text is left alone: the notice is a live region, re-read at every change.
  if (node.textContent !== text) node.textContent = text;
}

function showRetrying(box, run) {
  var notice = box.querySelector("[data-sync-retrying]");
  if (!notice) return;
  var retrying = run && run.status === "running" ? run.retrying : null; // absent on older servers
  var toggle = notice.querySelector("details");
  notice.hidden = !retrying;
  if (!retrying) {
    toggle.open = false; // the next wait's details start folded
    return;
  }
  setText(notice.querySelector("p"), retryingText(retrying));
  setText(toggle.querySelector("pre"), retrying.last_error);
}

/**
 * The notice of a running sync waiting because Mailchimp asked the app to slow down (its 429,
 * e.g. too many pending batches: up to an hour), with when it goes on by itself. Nothing
 * technical to show, so no Details. Made once per section and only filled by each poll, as
 * the retrying notice.
 */
export function throttledNotice() {
  return syncNotice("notice", "syncThrottled", "Waiting for Mailchimp");
}

function throttledText(until) {
  var words = "Mailchimp asked the app to slow down; ";
  // The wait's end may have passed: the step runs (or waits for a free worker).
  if (new Date(until).getTime() <= Date.now()) {
    return words + "the wait is over and the sync goes on by itself.";
  }
  return words + "the sync goes on at " + formatTime(until) + " by itself.";
}

function showThrottled(box, run) {
  var notice = box.querySelector("[data-sync-throttled]");
  if (!notice) return;
  // A retried step says so in its own notice; absent on older servers.
  var running = run && run.status === "running" && !run.retrying;
  var until = running ? run.throttled_until : null;
  notice.hidden = !until;
  if (until) setText(notice.querySelector("p"), throttledText(until));
}

/** The run `run` in its section `box`: undefined while unread, null when never run. */
export function showRun(box, run) {
  var running = !!run && run.status === "running";
  var badge = box.querySelector("[data-sync-badge]");
  var info = run ? SYNC_STATUS[run.status] || { label: run.status, tone: "" } : null;
  badge.hidden = !info;
  if (info) {
    badge.className = "badge " + info.tone;
    badge.textContent = info.label;
  }
  var status = box.querySelector("[data-sync-status]");
  if (run === undefined) {
    status.textContent = "Loading…";
  } else if (!run) {
    status.textContent = "Never run on this channel.";
  } else {
    var batches = run.batches_in_flight === 1 ? "1 batch" : run.batches_in_flight + " batches";
    var parts = running
      ? [
          summaryOf(run),
          "started " + formatTime(run.started_at),
          batches + " at Mailchimp",
        ]
      : [
          {
            succeeded: "The last initial sync succeeded",
            cancelled: "The last initial sync was cancelled",
            failed: "The last initial sync failed",
          }[run.status] || run.status,
          (run.finished_at ? "ended " + formatTime(run.finished_at) : "") ||
            "started " + formatTime(run.started_at),
        ];
    parts.push(run.orders_since ? "orders since " + day(run.orders_since) : "all orders");
    status.textContent = parts.join(" · ");
  }
  showRetrying(box, run);
  showThrottled(box, run);
  var problem = box.querySelector("[data-sync-error]");
  problem.hidden = !(run && run.status === "failed" && run.error);
  problem.querySelector("p").textContent = (run && run.error) || "";
  box.querySelector(".sync-kinds").hidden = !run;
  if (run) {
    run.kinds.forEach(function (kind) {
      var row = box.querySelector('.sync-kind[data-kind="' + kind.kind + '"]');
      if (row) showKind(row, kind, run);
    });
  }
  var start = box.querySelector("[data-sync-start]");
  var paused = box.dataset.paused === "true";
  start.hidden = running || paused;
  // Once the channel's history is in Mailchimp, running it again is no longer the next step.
  var again = !!run && run.status === "succeeded";
  start.textContent = again ? "Run the initial sync again" : "Start the initial sync";
  start.className = "button small " + (again ? "secondary" : "");
  var reason = box.querySelector("[data-sync-reason]"); // Mailchimp not connected: why Start is off
  if (reason) reason.hidden = start.hidden;
  box.querySelector("[data-sync-cancel]").hidden = !running;
  box.querySelector(".sync-form .field").hidden = running || paused;
  box.querySelector(".sync-form + .field-hint").hidden = running || paused;
}
