/*
 * The save bar with its unsaved-changes guard (see app.js, which re-exports it): Save, Discard
 * and the bar's status line under a settings form, and asking before the page is left with
 * changes not saved. Short confirmations go in the page's first save bar (app.js `confirmed`).
 */
import { confirmDialog } from "./dialogs.js";
import { clearFieldError, details, el, setBusy } from "./dom.js";

// The page's save bars, in the order made.
const bars = [];

/** The bar where short confirmations are said on a page with a save bar; null on the others. */
export function firstSaveBar() {
  return bars.length ? bars[0] : null;
}

const dirtyForms = new Set();

/**
 * Saleor's save bar: Save is enabled only when the form differs from what was saved, Discard
 * puts the saved values back, and leaving with changes asks first (beforeunload for the
 * browser, a dialog for the page's own links).
 *
 * `read()` returns the form's values (compared as JSON), `fill(data)` puts saved data into the
 * form, `validate()` shows inline errors and returns false to stop, `save(values, changed)`
 * resolves with the saved data (or rejects, with `partlySaved` when part of it was saved);
 * `changed` names the keys of `values` that differ from what was saved, so a page can send
 * only those, as Saleor's dashboard does (a stored value the app checks more strictly now does
 * not stop the save of another field). `apply(values)`
 * puts `read()`'s values back into the form, for a page whose saved data has other keys than
 * its form (`fill` does it otherwise).
 */
export class SaveBar {
  constructor({ form, read, fill, apply, validate, save, savedTitle }) {
    this.form = form;
    this.read = read;
    this.fill = fill;
    this.apply = apply || null;
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
    this.showDetails(null);
    this.status.dataset.justSaved = "true";
    this.status.textContent = text;
  }

  /** Take back confirmation `text` if the bar still shows it (what it said has failed since). */
  unsay(text) {
    if (this.status.textContent !== text) return;
    this.status.textContent = "";
    this.status.dataset.justSaved = "";
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
    const before = JSON.parse(this.saved);
    const edited = this.read();
    const known = { ...this.data, ...data };
    // What the form shows changed, or a part of it arrived that the page lacked (a section
    // whose read failed); with `apply`, the saved data's keys are not the form's: any change.
    const news = this.apply
      ? !same(known, this.data)
      : Object.keys(before).some((key) => !same(known[key], this.data[key])) ||
        Object.keys(known).some((key) => !(key in this.data));
    this.data = known;
    // Nothing new: the form is left alone (a refill would move the caret, rebuild rows).
    if (!news) return;
    this.fill(known);
    const fresh = this.read();
    this.saved = JSON.stringify(fresh);
    const kept = this.apply ? fresh : { ...known };
    Object.keys(edited).forEach((key) => {
      if (!same(edited[key], before[key])) kept[key] = edited[key];
    });
    if (this.apply) this.apply(kept);
    else this.fill(kept);
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
    // The technical side of a failed save goes with its sentence.
    if (dirty || this.status.dataset.justSaved !== "true") this.showDetails(null);
  }

  /** The technical side of the bar's last error behind a Details toggle (none: `null`). */
  showDetails(text) {
    const old = this.bar.querySelector(".tech-details");
    if (old) old.remove();
    if (text) this.status.after(details("Details", text));
  }

  discard() {
    const before = document.activeElement;
    if (this.data !== null) this.reset(this.data);
    this.form.querySelectorAll('[aria-invalid="true"]').forEach((input) => {
      clearFieldError(input.id);
    });
    this.status.dataset.justSaved = "";
    this.status.textContent = "Changes discarded.";
    this.showDetails(null);
    this.keepFocus(before);
  }

  /**
   * Saved or discarded: Save and Discard are disabled again, and a disabled button's focus
   * falls to the page's body (the next Tab would start over from the top). As Saleor's save bar
   * keeps it, the keyboard stays where it was: the element that had it before (a field whose
   * Enter saved), else the bar itself, where Tab goes on from its buttons.
   */
  keepFocus(before) {
    const now = document.activeElement;
    if (now && now !== document.body && !now.disabled) return;
    const usable =
      before && before !== document.body && before.isConnected && !before.disabled;
    if (usable) before.focus();
    if (!usable || document.activeElement !== before) this.bar.focus();
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
    const before = document.activeElement;
    setBusy(this.saveButton, true, "Saving…");
    this.discardButton.disabled = true;
    const values = this.read();
    const sent = JSON.stringify(values);
    const last = JSON.parse(this.saved);
    const changed = Object.keys(values).filter((key) => !same(values[key], last[key]));
    this.saveValues(values, changed)
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
        this.keepFocus(before);
      })
      .catch((error) => {
        const part = error && error.partlySaved;
        if (part) {
          // What did save is what the app has now: Discard brings that back, and it is no
          // longer an unsaved change; the rest stays as the admin left it.
          this.data = part.merge(this.data);
          this.saved = JSON.stringify({ ...JSON.parse(this.saved), ...part.values });
        }
        setBusy(this.saveButton, false);
        this.update();
        // The server's word on a field goes next to it when the page knows which field (the
        // page's `save` marks it): the focus goes there, as for the page's own checks.
        this.status.textContent = error.message;
        this.showDetails(error.details || error.code || "");
        const invalid = this.form.querySelector('[aria-invalid="true"]');
        if (invalid) invalid.focus();
        else this.keepFocus(before);
      });
  }
}

/**
 * For a page's `save` that stores its values in several requests: `error` (the failed
 * request's) says that `values` (some of `read()`'s keys) were saved all the same;
 * `merge(data)` answers the bar's saved data with them in. The bar takes them as saved.
 */
export function partlySaved(error, values, merge) {
  error.partlySaved = { values, merge };
  return error;
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function buildBar(form) {
  const bar = el("div", "save-bar");
  bar.setAttribute("role", "region");
  bar.setAttribute("aria-label", "Save changes");
  // Focusable by script only: the keyboard's place once its buttons are disabled (keepFocus).
  bar.tabIndex = -1;
  const inner = el("div", "save-bar-inner");
  // The status line, and after a failed save its Details toggle.
  const message = el("div", "save-message");
  const status = el("p", "save-status");
  status.dataset.saveStatus = "";
  status.setAttribute("role", "status");
  message.appendChild(status);
  inner.appendChild(message);
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
