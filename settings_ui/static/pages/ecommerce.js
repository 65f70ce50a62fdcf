/*
 * The E-commerce page: one card per sales channel with ONE primary action for its state (the
 * server's `next_action` when it says it), the initial sync, the rest in a "More actions"
 * menu; the storefront links and carts (save bar); the quarantined records in words.
 *
 * One model of what is on: a channel sends its data when it is tracked. The store-wide
 * `tracking_enabled` switch is not a second control on this page: tracking a channel turns it
 * on, and if it is off while channels are tracked the cards say sending is paused, with Resume.
 */
import {
  $,
  PageLoader,
  SaveBar,
  bridge,
  clear,
  clearAll,
  clearFieldError,
  el,
  fieldError,
  formatTime,
  notice,
} from "../app.js";
import { onSyncEnded, pauseAll, pollAll } from "../initial-sync.js";
import {
  fillFields,
  flagStoredRules,
  readFields,
  setUpFields,
  showRuleProblem,
  validateFields,
} from "./ecommerce-fields.js";
import { loadHealth } from "./ecommerce-health.js";
import { renderChannels, setAudiences, setUpChannels } from "./ecommerce-channels.js";
import { renderQuarantine } from "./ecommerce-quarantine.js";
import {
  fillPromos,
  promoDraft,
  readPromos,
  savePromos,
  setUpPromos,
  validatePromos,
  withPromos,
} from "./ecommerce-promos.js";

let checkedStores = false;

function afterChange(data) {
  clearAll();
  render(data);
}

// --- storefront links and carts (save bar) -------------------------------------------------

function readSettings() {
  return {
    abandoned_carts_enabled: $("carts").checked,
    product_url_template: $("product-url").value.trim() || null,
    checkout_url_template: $("checkout-url").value.trim() || null,
    order_url_template: $("order-url").value.trim() || null,
    store_email: $("store-email").value.trim() || null,
    ...readFields(),
    ...readPromos(),
  };
}

function fillSettings(s) {
  $("carts").checked = s.abandoned_carts_enabled;
  $("product-url").value = s.product_url_template || "";
  $("checkout-url").value = s.checkout_url_template || "";
  $("order-url").value = s.order_url_template || "";
  $("store-email").value = s.store_email || "";
  fillFields(s);
  fillPromos(s);
  // The server's copy, not `s`: refreshed with unsaved edits, the form shows the admin's.
  flagStored(bar.data || s);
}

// The link templates are checked by the server's one rule (`links.checked_template`, POST
// /api/ecommerce/settings/check), never by a copy of it here: the field each answer is about.
const TEMPLATE_FIELDS = {
  product_url_template: "product-url",
  checkout_url_template: "checkout-url",
  order_url_template: "order-url",
  redemption_url_template: "promo-url",
};

// What a stored link template the server now refuses costs until it is fixed: the push leaves
// out a link it cannot make (`links.fill_url`).
const STORED_LINK_COSTS = {
  product_url_template: "products reach Mailchimp without a link to their page.",
  checkout_url_template: "carts reach Mailchimp without a link back to their checkout.",
  order_url_template: "orders reach Mailchimp without a link to their page.",
};

/** Stored values the server now refuses (saved before its checks: `stored.problems`, GET
 * /api/ecommerce), each flagged at its field while the field shows it (ecommerce-fields.js for
 * the rules). A note, not an error: the page's other settings save. */
function flagStored(stored) {
  Object.keys(STORED_LINK_COSTS).forEach((field) => {
    const id = TEMPLATE_FIELDS[field];
    const problem = (stored.problems || []).find((p) => p.field === field);
    const showing = problem && $(id).value.trim() === (stored[field] || "").trim();
    $(id + "-note").textContent = showing
      ? "This saved link is not used: " + problem.message + " Until it is fixed, " + STORED_LINK_COSTS[field]
      : "";
  });
  flagStoredRules(stored);
}

/** A note under each link template's field, said with it (`flagStored`). */
function setUpNotes() {
  Object.keys(STORED_LINK_COSTS).forEach((field) => {
    const id = TEMPLATE_FIELDS[field];
    const note = el("div", "field-error");
    note.id = id + "-note";
    $(id + "-error").after(note);
    $(id).setAttribute("aria-describedby", $(id).getAttribute("aria-describedby") + " " + note.id);
  });
  // A note is about the stored value: it follows the field as the admin edits it.
  ["input", "change"].forEach((type) =>
    $("settings-form").addEventListener(type, () => {
      if (bar.data) flagStored(bar.data);
    })
  );
}

function checkEmail(id) {
  const value = $(id).value.trim();
  // What the server takes (email-validator) is stricter; this catches the usual slips in words.
  if (!value || /^[^@\s]+@[^@\s]+\.[^@\s.]+$/.test(value)) return true;
  fieldError(id, "Write a whole e-mail address, like shop@example.com.");
  return false;
}

// Before a save, only the fields' errors of the last attempt go: every check runs in `check`,
// so one Save shows every problem at once, the page's and the server's.
function validateSettings() {
  ["product-url", "checkout-url", "order-url", "store-email"].forEach(clearFieldError);
  return true;
}

/** The page's own checks, then the server's on the changed templates and rules; rejects (the
 * save bar says so and focuses the first field marked) when any fails. */
function check(values, changed) {
  const local = [checkEmail("store-email"), validateFields(), validatePromos()].every(Boolean);
  const draft = promoDraft(values, changed);
  changed
    .filter((key) => key in TEMPLATE_FIELDS || key === "tracking_rules")
    .forEach((key) => {
      draft[key] = values[key];
    });
  const asked = Object.keys(draft).length
    ? bridge.api("POST", "/api/ecommerce/settings/check", draft)
    : Promise.resolve({ problems: [] });
  return asked.then(({ problems }) => {
    problems.forEach((problem) => {
      if (problem.field === "tracking_rules") showRuleProblem(problem);
      else fieldError(TEMPLATE_FIELDS[problem.field], problem.message);
    });
    if (!local || problems.length) throw new Error("Correct the highlighted fields, then save.");
  });
}

// The app names a refused field by its words (addon/validation_messages.py): the field it is.
const FIELD_WORDS = [
  [/^Default timezone\b/i, "default-timezone"],
  [/^Default locale\b/i, "default-locale"],
  [/^Store email\b/i, "store-email"],
  [/^Product URL template\b/i, "product-url"],
  [/^Checkout URL template\b/i, "checkout-url"],
  [/^Order URL template\b/i, "order-url"],
];

function markRefused(error) {
  // Only the app's refusal of a value (4xx) is about a field; an outage is not.
  if (!(error.status >= 400 && error.status < 500)) return;
  const hit = FIELD_WORDS.find(([words]) => words.test(error.message || ""));
  if (hit) fieldError(hit[1], error.message);
}

// Only what changed is sent (as Saleor's dashboard does): a stored value the app checks more
// strictly now (a tracking rule saved before its link was checked) keeps the other settings
// savable; it is flagged where it is (ecommerce-fields.js).
function saveSettings(values, changed) {
  const rest = (changes) =>
    bridge.api("PATCH", "/api/ecommerce/settings", changes).then(
      (data) => {
        renderChannels(data);
        // The health depends on these settings (carts on, the checkout URL): read it again.
        loadHealth(() => loader.run());
        return data.settings;
      },
      (error) => {
        markRefused(error);
        throw error;
      }
    );
  return check(values, changed).then(() => savePromos(values, changed, rest));
}

setUpFields();
setUpNotes();
setUpPromos(() => loader.run());
setUpChannels({ changed: afterChange, reload: () => loader.run() });
const bar = new SaveBar({
  form: $("settings-form"),
  read: readSettings,
  fill: fillSettings,
  validate: validateSettings,
  save: saveSettings,
  savedTitle: "E-commerce settings saved",
});

// --- loading -------------------------------------------------------------------------------

// A re-render between a press and its release would swallow the click (the pressed control is
// replaced before the release lands), so an answer arriving meanwhile waits for the release.
let pressed = false;
let heldResults = null;

function release() {
  if (!pressed) return;
  pressed = false;
  // After the click that the release completes has run.
  setTimeout(() => {
    if (pressed || !heldResults) return;
    const results = heldResults;
    heldResults = null;
    show(results);
  }, 0);
}

$("content").addEventListener("pointerdown", () => {
  pressed = true;
});
["pointerup", "pointercancel"].forEach((type) => document.addEventListener(type, release, true));
window.addEventListener("blur", release);

function render(data) {
  $("content").hidden = false;
  $("not-connected").hidden = data.connected;
  $("audience-note").textContent = data.audience_note;
  $("last-push").textContent = data.last_push_at
    ? "Last sent to Mailchimp " + formatTime(data.last_push_at) + "."
    : "Nothing sent to Mailchimp yet.";
  // A setting changed elsewhere on the page (the health panel's fix) reaches the form; the
  // admin's unsaved edits stay.
  bar.refresh(data.settings);
  renderChannels(data);
}

/** Once per visit, ask Mailchimp whether the tracked channels' stores still exist. */
function readEcommerce() {
  if (checkedStores) return bridge.api("GET", "/api/ecommerce");
  checkedStores = true;
  return bridge.api("POST", "/api/ecommerce/stores/check").catch((error) => {
    if (error.status === 404 || error.status === 405) return bridge.api("GET", "/api/ecommerce");
    notice("stores", "warning", "The stores could not be checked in Mailchimp", error.message);
    return bridge.api("GET", "/api/ecommerce");
  });
}

const loader = new PageLoader({
  errorTitle: "E-commerce sync could not be loaded",
  load: () =>
    Promise.all([
      withPromos(readEcommerce()),
      bridge.api("GET", "/api/audiences").catch(() => null),
      bridge.api("GET", "/api/ecommerce/records?status=quarantined&limit=100").catch(() => []),
    ]),
  render: (results) => {
    if (pressed) heldResults = results;
    else show(results);
  },
});

function show(results) {
  heldResults = null;
  setAudiences(results[1] ? results[1].audiences.filter((a) => !a.removed) : []);
  render(results[0]);
  renderQuarantine(results[2], () => loader.run());
  loadHealth(() => loader.run());
}

onSyncEnded(() => loader.run());
$("reload-button").addEventListener("click", () => {
  clear("reload");
  loader.run();
});
// Poll only while the page is seen; the answer on return says what happened meanwhile.
document.addEventListener("visibilitychange", () => {
  if (document.hidden) pauseAll();
  else pollAll();
});
window.addEventListener("pagehide", pauseAll);
window.addEventListener("pageshow", (event) => {
  if (event.persisted) pollAll();
});
loader.run();
