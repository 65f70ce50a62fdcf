/*
 * What every page shares: DOM helpers, loading (skeleton, error with Retry), in-page notices
 * that a state change clears, short confirmations, confirmation dialogs, inline field errors,
 * and the save bar with its unsaved-changes guard. Pages import from here (and from
 * bridge.js through here): no page keeps its own copy, nothing lives on `window`. The DOM
 * helpers and field errors are in dom.js, the dialogs in dialogs.js, the save bar in
 * save-bar.js; this module re-exports them.
 */
import * as bridge from "./bridge.js";
import { $, button, details, el, setBusy } from "./dom.js";
import { firstSaveBar } from "./save-bar.js";

export { bridge };
export const formatTime = bridge.formatTime;
export { $, badge, button, clearFieldError, details, el, fieldError, plural, setBusy } from "./dom.js";
export { confirmDialog } from "./dialogs.js";
export { SaveBar, hasUnsavedChanges, trackUnsaved } from "./save-bar.js";

// --- in-page notices -------------------------------------------------------------------------
// In the flow of the page (above its content), so they never cover a button. Each has a key:
// the state that made one obsolete clears it (`clear(key)`, or `clearAll()` on a new state).

const shown = new Map();

function noticeBox() {
  return $("notices");
}

/**
 * Show (or replace) the notice `key`: tone "critical" | "warning" | "success" | "". `technical`
 * (an error's `details`: code, HTTP status, request id) goes behind a Details toggle.
 */
export function notice(key, tone, title, text, action, technical) {
  clear(key);
  const box = noticeBox();
  if (!box) return null;
  const node = el("div", "notice" + (tone ? " " + tone : ""));
  node.dataset.notice = key;
  node.setAttribute("role", tone === "critical" ? "alert" : "status");
  const body = el("div", "notice-body");
  body.appendChild(el("strong", "", title));
  if (text) body.appendChild(el("p", "", text));
  if (technical) body.appendChild(details("Details", technical));
  node.appendChild(body);
  const actions = el("div", "notice-actions");
  if (action) {
    const act = button(action.label, action.primary ? "" : "secondary");
    act.addEventListener("click", () => action.run(act));
    actions.appendChild(act);
  }
  const close = button("Dismiss", "ghost");
  close.addEventListener("click", () => clear(key));
  actions.appendChild(close);
  node.appendChild(actions);
  box.appendChild(node);
  shown.set(key, node);
  return node;
}

export function clear(key) {
  const node = shown.get(key);
  if (node) node.remove();
  shown.delete(key);
}

export function clearAll(except) {
  for (const key of Array.from(shown.keys())) if (key !== except) clear(key);
}

/**
 * A short confirmation: a title, no essay. Pages with a save bar say it in the bar (the
 * dashboard's notifications would sit over its buttons); the others use the dashboard's
 * notification (app-bridge).
 */
export function confirmed(title) {
  const bar = firstSaveBar();
  if (bar) {
    bar.say(title + ".");
    return Promise.resolve();
  }
  return bridge.notify("success", title, "");
}

/** Take back a `confirmed(title)` still shown in the save bar: a later failure of the same
 * work would otherwise sit beside its "saved" (a notification is gone by itself). */
export function unconfirmed(title) {
  const bar = firstSaveBar();
  if (bar) bar.unsay(title + ".");
}

// --- loading ---------------------------------------------------------------------------------

/**
 * Load a page: skeleton until the first answer, then the content; a failure shows what went
 * wrong with Retry (later reloads keep the content and only report a failure as a notice).
 *
 * `restore()`, when given, puts the page's view (its sort, filter, length, busy rows) back to
 * what the content on the page shows, when the latest load after the first fails: whichever
 * load that is (a click, the page's own refresh that replaced it, a Retry), nothing stays
 * marked as loading and nothing counts what was never shown. Retry then reads that view again.
 */
export class PageLoader {
  constructor({ errorTitle, load, render, restore }) {
    this.errorTitle = errorTitle;
    this.loadData = load;
    this.renderData = render;
    this.restore = restore || null;
    this.loaded = false;
    this.runs = 0;
  }

  run() {
    const skeleton = $("skeleton");
    const failed = $("load-failed");
    if (!this.loaded && skeleton) skeleton.hidden = false;
    if (failed) failed.hidden = true;
    // Only the latest load is drawn: an older answer arriving after it (a slower filter
    // clicked before) would show what the page no longer asks for.
    const run = ++this.runs;
    return this.loadData()
      .then((data) => {
        if (run !== this.runs) return null;
        this.loaded = true;
        if (skeleton) skeleton.hidden = true;
        $("main").removeAttribute("aria-busy");
        clear("reload");
        this.renderData(data);
        return data;
      })
      .catch((error) => {
        if (run !== this.runs) return null;
        if (skeleton) skeleton.hidden = true;
        $("main").removeAttribute("aria-busy");
        if (this.loaded) {
          if (this.restore) this.restore(error);
          notice("reload", "critical", this.errorTitle, error.message, {
            label: "Retry",
            run: () => this.run(),
          });
          return null;
        }
        this.showFailure(error);
        return null;
      });
  }

  showFailure(error) {
    let box = $("load-failed");
    if (!box) {
      box = el("div", "notice critical load-failed");
      box.id = "load-failed";
      box.setAttribute("role", "alert");
      $("main").appendChild(box);
    }
    box.textContent = "";
    const body = el("div", "notice-body");
    body.appendChild(el("strong", "", this.errorTitle));
    body.appendChild(el("p", "", error.message));
    box.appendChild(body);
    const actions = el("div", "notice-actions");
    const retry = button("Retry", "");
    retry.addEventListener("click", () => {
      setBusy(retry, true, "Retrying…");
      this.run().then(() => {
        if (!this.loaded) $("load-failed").querySelector("button").focus();
      });
    });
    actions.appendChild(retry);
    box.appendChild(actions);
    box.hidden = false;
  }
}

// --- the tab bar -----------------------------------------------------------------------------
// Narrow dashboards: the tabs wrap (CSS); the current one is always in view.

const currentTab = document.querySelector('.tabs [aria-current="page"]');
if (currentTab) currentTab.scrollIntoView({ block: "nearest", inline: "nearest" });

// Tables scroll inside their card: the scrolling box is reachable by keyboard and named.
document.querySelectorAll(".table-wrap").forEach((wrap) => {
  if (wrap.hasAttribute("tabindex")) return;
  const caption = wrap.querySelector("caption");
  wrap.setAttribute("tabindex", "0");
  wrap.setAttribute("role", "region");
  wrap.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
});
