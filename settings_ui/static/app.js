/*
 * What every page shares: DOM helpers, loading (skeleton, error with Retry), in-page notices
 * that a state change clears, short confirmations, confirmation dialogs, inline field errors,
 * and the save bar with its unsaved-changes guard. Pages import from here (and from
 * bridge.js through here): no page keeps its own copy, nothing lives on `window`.
 */
import * as bridge from "./bridge.js";

export { bridge };
export const formatTime = bridge.formatTime;

// --- DOM -------------------------------------------------------------------------------------

export function $(id) {
  return document.getElementById(id);
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

/** A button whose accessible name is its visible text; context goes in `describedBy`. */
export function button(text, className, describedBy) {
  const tone = className === undefined || className === null ? "secondary" : className;
  const b = el("button", ("button small " + tone).trim(), text);
  b.type = "button";
  if (describedBy) b.setAttribute("aria-describedby", describedBy);
  return b;
}

export function badge(text, tone) {
  return el("span", "badge" + (tone ? " " + tone : ""), text);
}

export function plural(n, one, many) {
  return Number(n).toLocaleString() + " " + (n === 1 ? one : many);
}

/** A button that is working: disabled, announced as busy, optionally relabelled. */
export function setBusy(target, busy, label) {
  if (busy) {
    if (!target.hasAttribute("aria-busy")) target.dataset.label = target.textContent;
    target.disabled = true;
    target.setAttribute("aria-busy", "true");
    if (label) target.textContent = label;
  } else {
    target.disabled = false;
    target.removeAttribute("aria-busy");
    if (target.dataset.label) target.textContent = target.dataset.label;
  }
}

/** Technical text behind a Details toggle (a native disclosure: keyboard and readers know it). */
export function details(summary, text) {
  const box = el("details", "tech-details");
  box.appendChild(el("summary", "", summary || "Details"));
  box.appendChild(el("pre", "", text));
  return box;
}

// --- in-page notices -------------------------------------------------------------------------
// In the flow of the page (above its content), so they never cover a button. Each has a key:
// the state that made one obsolete clears it (`clear(key)`, or `clearAll()` on a new state).

const shown = new Map();

function noticeBox() {
  return $("notices");
}

/** Show (or replace) the notice `key`: tone "critical" | "warning" | "success" | "" */
export function notice(key, tone, title, text, action) {
  clear(key);
  const box = noticeBox();
  if (!box) return null;
  const node = el("div", "notice" + (tone ? " " + tone : ""));
  node.dataset.notice = key;
  node.setAttribute("role", tone === "critical" ? "alert" : "status");
  const body = el("div", "notice-body");
  body.appendChild(el("strong", "", title));
  if (text) body.appendChild(el("p", "", text));
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

const bars = [];

/**
 * A short confirmation: a title, no essay. Pages with a save bar say it in the bar (the
 * dashboard's notifications would sit over its buttons); the others use the dashboard's
 * notification (app-bridge).
 */
export function confirmed(title) {
  if (bars.length) {
    bars[0].say(title + ".");
    return Promise.resolve();
  }
  return bridge.notify("success", title, "");
}

// --- inline field errors ---------------------------------------------------------------------

export function fieldError(id, message) {
  const input = $(id);
  input.setAttribute("aria-invalid", "true");
  $(id + "-error").textContent = message;
}

export function clearFieldError(id) {
  const input = $(id);
  if (!input) return;
  input.removeAttribute("aria-invalid");
  const box = $(id + "-error");
  if (box) box.textContent = "";
}

// --- loading ---------------------------------------------------------------------------------

/**
 * Load a page: skeleton until the first answer, then the content; a failure shows what went
 * wrong with Retry (later reloads keep the content and only report a failure as a notice).
 */
export class PageLoader {
  constructor({ errorTitle, load, render }) {
    this.errorTitle = errorTitle;
    this.loadData = load;
    this.renderData = render;
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

// --- dialogs ---------------------------------------------------------------------------------

let dialogSeq = 0;

/** Ask before something that cannot be undone; resolves true when confirmed. */
export function confirmDialog({ title, text, confirm, cancel, danger }) {
  return new Promise((resolve) => {
    dialogSeq += 1;
    const opener = document.activeElement;
    const dialog = el("dialog", "confirm-dialog");
    const titleId = "confirm-title-" + dialogSeq;
    dialog.setAttribute("aria-labelledby", titleId);
    const h = el("h2", "", title);
    h.id = titleId;
    dialog.appendChild(h);
    if (text) dialog.appendChild(el("p", "", text));
    const actions = el("div", "actions");
    const no = el("button", "button secondary", cancel || "Cancel");
    no.type = "button";
    const yes = el("button", "button" + (danger ? " danger" : ""), confirm);
    yes.type = "button";
    actions.appendChild(no);
    actions.appendChild(yes);
    dialog.appendChild(actions);
    document.body.appendChild(dialog);
    let answer = false;
    no.addEventListener("click", () => dialog.close());
    yes.addEventListener("click", () => {
      answer = true;
      dialog.close();
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (!answer && opener && opener.focus) opener.focus();
      resolve(answer);
    });
    dialog.showModal();
    no.focus();
  });
}

// --- the save bar ----------------------------------------------------------------------------

const dirtyForms = new Set();

/**
 * Saleor's save bar: Save is enabled only when the form differs from what was saved, Discard
 * puts the saved values back, and leaving with changes asks first (beforeunload for the
 * browser, a dialog for the page's own links).
 *
 * `read()` returns the form's values (compared as JSON), `fill(data)` puts saved data into the
 * form, `validate()` shows inline errors and returns false to stop, `save(values)` resolves
 * with the saved data.
 */
export class SaveBar {
  constructor({ form, read, fill, validate, save, savedTitle }) {
    this.form = form;
    this.read = read;
    this.fill = fill;
    this.validate = validate || (() => true);
    this.saveValues = save;
    this.savedTitle = savedTitle || "Saved";
    this.saved = null;
    this.data = null;
    this.bar = buildBar(form);
    this.saveButton = this.bar.querySelector("[data-save]");
    this.discardButton = this.bar.querySelector("[data-discard]");
    this.status = this.bar.querySelector("[data-save-status]");
    form.addEventListener("input", () => this.update());
    form.addEventListener("change", () => this.update());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.discardButton.addEventListener("click", () => this.discard());
    bars.push(this);
    this.update();
  }

  /** A confirmation in the bar's status line (polite live region). */
  say(text) {
    this.status.dataset.justSaved = "true";
    this.status.textContent = text;
  }

  /** Saved data arrived (load or save): the form shows it, nothing is unsaved. */
  reset(data) {
    this.data = data;
    this.fill(data);
    this.saved = JSON.stringify(this.read());
    this.update();
  }

  /**
   * Saved data arrived while the page is open (a reload, a setting another control changed):
   * without unsaved changes as `reset`; with them, the values the admin did not touch take the
   * new saved ones, in the form and in the saved copy (a later Save does not send the old ones
   * back), and the admin's edits stay, unsaved. `fill` takes the form's own values (`read()`
   * answers with the saved data's keys), as a submit sends them; a key the data leaves out
   * keeps what the page last had.
   */
  refresh(data) {
    if (!this.dirty) {
      this.reset({ ...this.data, ...data });
      return;
    }
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    const before = JSON.parse(this.saved);
    const edited = this.read();
    const known = { ...this.data, ...data };
    const news = Object.keys(before).some((key) => !same(known[key], this.data[key]));
    this.data = known;
    // Nothing new: the form is left alone (a refill would move the caret, rebuild rows).
    if (!news) return;
    this.fill(known);
    this.saved = JSON.stringify(this.read());
    const kept = { ...known };
    Object.keys(edited).forEach((key) => {
      if (!same(edited[key], before[key])) kept[key] = edited[key];
    });
    this.fill(kept);
    this.update();
  }

  get dirty() {
    return this.saved !== null && JSON.stringify(this.read()) !== this.saved;
  }

  update() {
    const dirty = this.dirty;
    if (dirty) dirtyForms.add(this);
    else dirtyForms.delete(this);
    const saving = this.saveButton.getAttribute("aria-busy") === "true";
    if (!saving) this.saveButton.disabled = !dirty;
    // Not while a save is on its way: what it brings back is the form's next baseline.
    this.discardButton.disabled = !dirty || saving;
    this.bar.classList.toggle("dirty", dirty);
    if (dirty) this.status.textContent = "You have unsaved changes.";
    else if (this.status.dataset.justSaved !== "true") this.status.textContent = "";
  }

  discard() {
    if (this.data !== null) this.reset(this.data);
    this.form.querySelectorAll('[aria-invalid="true"]').forEach((input) => {
      clearFieldError(input.id);
    });
    this.status.dataset.justSaved = "";
    this.status.textContent = "Changes discarded.";
  }

  submit() {
    if (!this.dirty) return;
    this.status.dataset.justSaved = "";
    if (!this.validate()) {
      this.status.textContent = "Correct the highlighted fields, then save.";
      const invalid = this.form.querySelector('[aria-invalid="true"]');
      if (invalid) invalid.focus();
      return;
    }
    setBusy(this.saveButton, true, "Saving…");
    this.discardButton.disabled = true;
    const values = this.read();
    const sent = JSON.stringify(values);
    this.saveValues(values)
      .then((data) => {
        setBusy(this.saveButton, false);
        if (JSON.stringify(this.read()) !== sent) {
          // Typed while it saved: the typing stays, unsaved; Mailchimp's and the app's copy
          // is what was sent (Discard brings that back).
          this.data = data;
          this.saved = sent;
          this.update();
          this.status.textContent = this.savedTitle + "; your newer changes are not saved yet.";
          return;
        }
        this.reset(data);
        // Said in the bar itself: a dashboard notification would sit over these buttons.
        this.status.dataset.justSaved = "true";
        this.status.textContent = this.savedTitle + ".";
      })
      .catch((error) => {
        setBusy(this.saveButton, false);
        this.update();
        // The server's word on a field goes next to it when the page knows which field.
        this.status.textContent = error.message;
      });
  }
}

function buildBar(form) {
  const bar = el("div", "save-bar");
  bar.setAttribute("role", "region");
  bar.setAttribute("aria-label", "Save changes");
  const inner = el("div", "save-bar-inner");
  const status = el("p", "save-status");
  status.dataset.saveStatus = "";
  status.setAttribute("role", "status");
  inner.appendChild(status);
  const actions = el("div", "actions");
  const discard = el("button", "button secondary", "Discard");
  discard.type = "button";
  discard.dataset.discard = "";
  const save = el("button", "button", "Save");
  save.type = "submit";
  save.dataset.save = "";
  actions.appendChild(discard);
  actions.appendChild(save);
  inner.appendChild(actions);
  bar.appendChild(inner);
  form.appendChild(bar);
  document.body.classList.add("has-save-bar");
  return bar;
}

/** Something else on the page that may hold unsaved changes (`source.dirty`), asked before
 * leaving as the save bar is. */
export function trackUnsaved(source) {
  dirtyForms.add(source);
}

export function hasUnsavedChanges() {
  return Array.from(dirtyForms).some((bar) => bar.dirty);
}

window.addEventListener("beforeunload", (event) => {
  if (!hasUnsavedChanges()) return;
  event.preventDefault();
  event.returnValue = "";
});

// The page's own links (tabs, "connect on the Connection page") ask first.
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
  if (!link || event.defaultPrevented || !hasUnsavedChanges()) return;
  if (link.target && link.target !== "_self") return;
  event.preventDefault();
  confirmDialog({
    title: "Leave without saving?",
    text: "Your changes on this page are not saved. Leave and lose them, or stay and save.",
    confirm: "Leave without saving",
    cancel: "Stay on this page",
    danger: true,
  }).then((leave) => {
    if (!leave) return;
    dirtyForms.clear();
    window.location.href = link.href;
  });
});

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
