/*
 * The DOM helpers every page shares (see app.js, which re-exports them): elements, buttons
 * named by their text, badges, counts in words, a working button's busy state, technical text
 * behind a Details toggle, and inline field errors.
 */

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

/**
 * A button that is working: disabled, announced as busy, optionally relabelled. Disabling the
 * focused button drops the focus to the page's body: it comes back when the button works
 * again, unless the admin has moved on meanwhile.
 */
export function setBusy(target, busy, label) {
  if (busy) {
    if (!target.hasAttribute("aria-busy")) target.dataset.label = target.textContent;
    if (document.activeElement === target) target.dataset.hadFocus = "true";
    target.disabled = true;
    target.setAttribute("aria-busy", "true");
    if (label) target.textContent = label;
  } else {
    target.disabled = false;
    target.removeAttribute("aria-busy");
    if (target.dataset.label) target.textContent = target.dataset.label;
    if (target.dataset.hadFocus) {
      delete target.dataset.hadFocus;
      const now = document.activeElement;
      if (!now || now === document.body || now === target) target.focus();
    }
  }
}

/** Technical text behind a Details toggle (a native disclosure: keyboard and readers know it). */
export function details(summary, text) {
  const box = el("details", "tech-details");
  box.appendChild(el("summary", "", summary || "Details"));
  box.appendChild(el("pre", "", text));
  return box;
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
