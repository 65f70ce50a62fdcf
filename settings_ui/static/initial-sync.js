/*
 * The initial sync of a tracked channel (E-commerce page): the channel's history sent through
 * Mailchimp batches, its progress per kind polled about once a second while it runs and the
 * page is visible. The status line is the server's `summary`, derived from the same per-kind
 * states as the rows under it (older servers: from the phase). How a run reads in its section
 * is in initial-sync-progress.js.
 */
import { bridge, button, confirmDialog, confirmed, el, setBusy } from "./app.js";
import { SYNC_KINDS, retryingNotice, showRun, throttledNotice } from "./initial-sync-progress.js";

let onEnded = () => {};

/** `reload` runs when a sync ends (the channel's counts changed). */
export function onSyncEnded(reload) {
  onEnded = reload;
}

// The channel's history sent through Mailchimp batches; its progress is polled about once a
// second while it runs and the page is visible.
var POLL_MS = 1000;
var syncs = {}; // slug → the channel's latest initial sync; null: never synced
var sinceDates = {}; // slug → the day typed in its form (kept when the cards re-render)
var polls = {}; // slug → { timer, seq }: one poll chain per channel

function syncPath(slug) {
  return "/api/ecommerce/channels/" + encodeURIComponent(slug) + "/initial-sync";
}

function syncBox(slug) {
  return document.querySelector('[data-initial-sync="' + window.CSS.escape(slug) + '"]');
}

/** `paused`: sending is paused store-wide; `disconnected`: Mailchimp is not connected (the
 * page's `connected`), so a sync could only fail: Start is off and says why. */
export function renderInitialSync(channel, paused, disconnected) {
  var slug = channel.slug;
  var name = channel.name || slug;
  var box = el("section", "initial-sync mt-16");
  box.dataset.initialSync = slug;
  if (paused) box.dataset.paused = "true";
  var head = el("div", "toolbar mb-0");
  var title = el("h4", "", "Initial sync");
  title.id = "initial-sync-" + slug;
  // Named after its channel: with several channels tracked, each section is a landmark of
  // its own, and landmarks of one role need distinct names.
  box.setAttribute("aria-label", "Initial sync of " + name);
  head.appendChild(title);
  var badge = el("span", "badge");
  badge.dataset.syncBadge = "";
  head.appendChild(badge);
  box.appendChild(head);
  box.appendChild(
    el(
      "p",
      "muted small",
      "Sends what the channel already has (products, customers and past orders) to its " +
        "Mailchimp store in Mailchimp batches; orders follow once the products are in. " +
        "Live changes keep flowing meanwhile."
    )
  );

  var note = el("div", "notice warning");
  note.setAttribute("role", "alert");
  note.dataset.syncNote = "";
  note.hidden = true;
  box.appendChild(note);
  var status = el("div", "small");
  status.setAttribute("aria-live", "polite");
  status.dataset.syncStatus = "";
  box.appendChild(status);
  box.appendChild(retryingNotice());
  box.appendChild(throttledNotice());
  var problem = el("div", "notice critical mt-8");
  problem.dataset.syncError = "";
  problem.hidden = true;
  problem.appendChild(el("strong", "", "What went wrong"));
  problem.appendChild(el("p"));
  box.appendChild(problem);

  var kinds = el("div", "sync-kinds");
  SYNC_KINDS.forEach(function (pair) {
    var row = el("div", "sync-kind");
    row.dataset.kind = pair[0];
    var bar = el("progress");
    bar.id = "sync-" + slug + "-" + pair[0];
    var label = el("label", "", pair[1]);
    label.setAttribute("for", bar.id);
    bar.setAttribute("aria-describedby", bar.id + "-numbers");
    row.appendChild(label);
    row.appendChild(bar);
    var numbers = el("div", "sync-numbers");
    numbers.id = bar.id + "-numbers";
    row.appendChild(numbers);
    kinds.appendChild(row);
  });
  box.appendChild(kinds);

  var form = el("div", "sync-form");
  var since = el("input");
  since.type = "date";
  since.id = "sync-since-" + slug;
  since.value = sinceDates[slug] || "";
  since.setAttribute("aria-describedby", since.id + "-hint");
  since.addEventListener("input", function () {
    sinceDates[slug] = since.value;
  });
  var field = el("div", "field");
  var sinceLabel = el("label", "", "Only orders since");
  sinceLabel.setAttribute("for", since.id);
  field.appendChild(sinceLabel);
  field.appendChild(since);
  form.appendChild(field);
  var start = button("Start the initial sync", "", title.id);
  start.dataset.syncStart = "";
  start.addEventListener("click", function () {
    if (start.getAttribute("aria-disabled") === "true") return;
    startSync(slug, since.value, start);
  });
  form.appendChild(start);
  if (disconnected) form.appendChild(notConnected(start, title.id));
  var cancel = button("Cancel the initial sync", "danger secondary", title.id);
  cancel.dataset.syncCancel = "";
  cancel.addEventListener("click", function () {
    cancelSync(slug, cancel);
  });
  form.appendChild(cancel);
  box.appendChild(form);
  var hint = el(
    "div",
    "field-hint",
    "Leave the date empty to send every order. Products and customers are always sent whole."
  );
  hint.id = since.id + "-hint";
  box.appendChild(hint);

  showSync(slug, box);
  return box;
}

/** Start turned off, still focusable so keyboards reach why (as the Connection page's
 * unavailable buttons), with the reason beside it in the pages' words for it. */
function notConnected(start, titleId) {
  var reason = el("p", "small mb-0");
  reason.id = titleId + "-offline";
  reason.dataset.syncReason = "";
  var link = el("a", "", "Connect Mailchimp on the Connection page");
  link.href = "/app/" + window.location.search;
  reason.appendChild(link);
  reason.appendChild(document.createTextNode(" first: the initial sync sends to your Mailchimp account."));
  start.setAttribute("aria-disabled", "true");
  start.setAttribute("aria-describedby", titleId + " " + reason.id);
  return reason;
}

function showSync(slug, box) {
  box = box || syncBox(slug);
  if (!box) return;
  showRun(box, syncs[slug]);
}

/** A message above the progress; `kind` "read" marks one the next good poll clears. */
function syncNote(slug, text, kind) {
  var box = syncBox(slug);
  if (!box) return;
  var note = box.querySelector("[data-sync-note]");
  note.textContent = text || "";
  note.hidden = !text;
  note.dataset.kind = kind || "";
}

function stopPolling(slug) {
  var poll = polls[slug] || (polls[slug] = { timer: null, seq: 0 });
  window.clearTimeout(poll.timer);
  poll.timer = null;
  poll.seq += 1; // an answer still on its way is ignored
  return poll;
}

/** Read the channel's latest initial sync; poll again in a second while it runs. */
function pollSync(slug) {
  var poll = stopPolling(slug);
  var seq = poll.seq;
  bridge
    .api("GET", syncPath(slug))
    .catch(function (error) {
      if (error.code === "NO_INITIAL_SYNC") return null;
      throw error;
    })
    .then(function (run) {
      if (seq !== poll.seq) return;
      var before = syncs[slug];
      syncs[slug] = run;
      showSync(slug);
      var note = syncBox(slug) && syncBox(slug).querySelector("[data-sync-note]");
      if (note && note.dataset.kind === "read") syncNote(slug, "");
      if (run && run.status === "running") {
        schedule(slug);
      } else if (run && before && before.status === "running" && before.id === run.id) {
        ended(slug, run);
      }
    })
    .catch(function (error) {
      if (seq !== poll.seq) return;
      syncNote(slug, "The progress could not be read: " + error.message, "read");
      if (syncs[slug] && syncs[slug].status === "running") schedule(slug);
    });
}

function schedule(slug) {
  if (document.hidden || !syncBox(slug)) return;
  polls[slug].timer = window.setTimeout(function () {
    pollSync(slug);
  }, POLL_MS);
}

/** The pressed button was hidden (Start gives way to Cancel, and back) or drawn anew: the
 * focus goes to the one shown instead, not to the page. */
function keepFocus(slug, trigger) {
  var gone = trigger.hidden || !trigger.isConnected;
  if (!gone || document.activeElement !== document.body) return;
  var box = syncBox(slug);
  var next = box && box.querySelector("[data-sync-cancel]:not([hidden]), [data-sync-start]:not([hidden])");
  if (next) next.focus();
}

function ended(slug, run) {
  syncNote(slug, "");
  if (run.status === "succeeded") confirmed("Initial sync finished");
  onEnded(); // the channel's counts and next step changed
}

function startSync(slug, since, trigger) {
  stopPolling(slug);
  syncNote(slug, "");
  setBusy(trigger, true, "Starting…");
  bridge
    .api("POST", syncPath(slug), since ? { orders_since: since + "T00:00:00Z" } : {})
    .then(function (run) {
      syncs[slug] = run;
      confirmed("Initial sync started");
    })
    .catch(function (error) {
      if (error.code === "INITIAL_SYNC_RUNNING") {
        syncNote(slug, error.message + " Its progress is shown below; cancel it to start again.");
      } else {
        syncNote(slug, "The initial sync did not start: " + error.message);
      }
    })
    .then(function () {
      setBusy(trigger, false);
      showSync(slug);
      keepFocus(slug, trigger);
      pollSync(slug);
    });
}

function cancelSync(slug, trigger) {
  confirmDialog({
    title: "Cancel the initial sync?",
    text:
      "What it sent stays in Mailchimp, and the rest of the channel's history is not sent. " +
      "You can start it again later: what Mailchimp holds already is not sent twice.",
    confirm: "Cancel the sync",
    cancel: "Keep it running",
    danger: true,
  }).then(function (sure) {
    var run = syncs[slug];
    // The sync may have ended while the dialog was open (the polls go on under it): nothing is
    // left to cancel, and the page already says how it ended.
    if (sure && run && run.status === "running") cancelNow(slug, trigger);
    else keepFocus(slug, trigger);
  });
}

function cancelNow(slug, trigger) {
  stopPolling(slug);
  syncNote(slug, "");
  setBusy(trigger, true, "Cancelling…");
  bridge
    .api("DELETE", syncPath(slug))
    .then(function (run) {
      syncs[slug] = run;
      confirmed("Initial sync cancelled");
    })
    .catch(function (error) {
      syncNote(slug, "The initial sync was not cancelled: " + error.message);
    })
    .then(function () {
      setBusy(trigger, false);
      showSync(slug);
      keepFocus(slug, trigger);
      pollSync(slug);
    });
}

export function pollAll() {
  document.querySelectorAll("[data-initial-sync]").forEach(function (box) {
    pollSync(box.dataset.initialSync);
  });
}

export function pauseAll() {
  Object.keys(polls).forEach(stopPolling);
}
