/*
 * A record of work in words (Activity rows, quarantined E-commerce records): what it is, why it
 * failed, the button that fixes it, and the technical text behind a Details toggle. The server
 * says `subject`, `reason`, `action` and `details`; older answers only have a summary and the
 * last error, which then go where the words would.
 */
import { bridge, button, confirmed, details, el, notice, setBusy } from "./app.js";

function channelPath(slug) {
  return "/api/ecommerce/channels/" + encodeURIComponent(slug);
}

/** The cell naming the record: subject, reason, a note, and Details. */
export function describe(item, fallbackSubject, cellId) {
  const cell = el("td");
  cell.dataset.label = "What";
  const subject = el("div", "record-subject", item.subject || fallbackSubject);
  subject.id = cellId;
  cell.appendChild(subject);
  if (item.handled_by && item.handled_by !== item.subject) {
    cell.appendChild(el("div", "muted small", item.handled_by));
  }
  if (item.reason) cell.appendChild(el("div", "record-reason", item.reason));
  if (item.note) cell.appendChild(el("div", "muted small record-note", item.note));
  const technical = item.details || item.last_error;
  if (technical && technical !== item.reason) cell.appendChild(details("Details", technical));
  return cell;
}

/**
 * The button that fixes the record, per the server's `action`; `retry` is how this kind of row
 * is retried. Returns null when nothing is to be pressed.
 */
export function fixButton(item, subjectId, retry, reload) {
  const action = item.action;
  if (!action) {
    if (!item.can_retry && item.status !== "quarantined") return null;
    return retryButton(subjectId, retry, reload);
  }
  switch (action.code) {
    case "retry":
    case "fix_in_saleor":
      return retryButton(subjectId, retry, reload, action.label);
    case "resync_all":
      return channelButton(
        action.label || "Resync everything",
        subjectId,
        () => bridge.api("POST", channelPath(action.channel) + "/resync", {}),
        reload
      );
    case "recreate_store":
      return channelButton(
        action.label || "Re-create the store",
        subjectId,
        () => bridge.api("POST", channelPath(action.channel) + "/store/recreate"),
        reload
      );
    case "reconnect": {
      const link = el("a", "button small secondary", action.label || "Reconnect Mailchimp");
      const query = window.location.search;
      link.href = "/app/" + query;
      link.setAttribute("aria-describedby", subjectId);
      return link;
    }
    default:
      // "wait": nothing to press; the label says so (no label: nothing to show at all).
      return action.label ? el("span", "muted small", action.label) : null;
  }
}

/**
 * The work was started and the list read again: a list drawn anew has its own buttons; one that
 * could not be read (the page's loader says so) still shows `b`, which works again, and keeps
 * the keyboard if the focus was lost while it was disabled.
 */
function settle(b) {
  if (!b.isConnected) return;
  setBusy(b, false);
  if (!document.activeElement || document.activeElement === document.body) b.focus();
}

function retryButton(subjectId, retry, reload, hint) {
  const box = el("div", "fix");
  if (hint && hint !== "Retry") box.appendChild(el("div", "muted small", hint));
  const b = button("Retry", "", subjectId);
  b.addEventListener("click", () => {
    setBusy(b, true, "Retrying…");
    retry()
      .then(() => {
        confirmed("Retry scheduled");
        return Promise.resolve(reload()).then(() => settle(b));
      })
      .catch((error) => {
        setBusy(b, false);
        notice("fix", "critical", "Retry failed", error.message);
      });
  });
  box.appendChild(b);
  return box;
}

function channelButton(label, subjectId, run, reload) {
  const b = button(label, "", subjectId);
  b.addEventListener("click", () => {
    setBusy(b, true, "Working…");
    run()
      .then((result) => {
        confirmed(label + " — started");
        return Promise.resolve(reload()).then(() => settle(b));
      })
      .catch((error) => {
        setBusy(b, false);
        notice("fix", "critical", label + " failed", error.message);
      });
  });
  return b;
}

