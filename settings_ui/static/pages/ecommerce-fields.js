/*
 * The E-commerce page's settings for the fields marketers segment on (part of the page's save
 * bar, see ecommerce.js): where a product's vendor and type come from, the carrier and tracking
 * link per shipping method, the stores' default language and time zone. The carriers' rows are
 * checked by the server (ecommerce.js asks POST /api/ecommerce/settings/check), whose words go
 * to the row; a stored rule the server now refuses is flagged at its row when the page loads.
 */
import { $, button, clearFieldError, el, fieldError } from "../app.js";

const SOURCES = [
  ["category", "Category"],
  ["product_type", "Product type"],
  ["attribute", "An attribute"],
  ["metadata", "A metadata key"],
  ["none", "Nothing"],
];
const KEY_LABELS = { attribute: "Attribute slug", metadata: "Metadata key" };
const FIELDS = ["vendor", "type"];
// A rule's field (as the server names it) → the class of its input in the row.
const RULE_INPUTS = { shipping_method: "rule-method", carrier: "rule-carrier", url_template: "rule-url" };
let ruleCount = 0;

function keyed(source) {
  return source === "attribute" || source === "metadata";
}

function showKey(name) {
  const source = $(name + "-source").value;
  $(name + "-key-field").hidden = !keyed(source);
  if (keyed(source)) $(name + "-key-label").textContent = KEY_LABELS[source];
  else clearFieldError(name + "-key");
}

// --- tracking rules ------------------------------------------------------------------------

function cell(label, input) {
  const td = el("td");
  td.dataset.label = label;
  td.appendChild(input);
  if (input.id) {
    // The server's word on this field (fieldError), and on the stored value (a note).
    const error = el("div", "field-error");
    error.id = input.id + "-error";
    td.appendChild(error);
    const note = el("div", "field-error");
    note.id = input.id + "-note";
    td.appendChild(note);
  }
  return td;
}

function textInput(className, label, value, placeholder, id) {
  const input = el("input", className);
  input.id = id;
  input.setAttribute("aria-describedby", id + "-error " + id + "-note");
  input.type = "text";
  input.value = value || "";
  input.placeholder = placeholder;
  input.spellcheck = false;
  input.autocomplete = "off";
  input.setAttribute("aria-label", label);
  return input;
}

function addRule(rule, focus) {
  ruleCount += 1;
  const n = ruleCount;
  const row = el("tr");
  row.dataset.rule = String(n);
  const id = "rule-" + n;
  const method = textInput("rule-method", "Shipping method of carrier " + n, rule.shipping_method, "Every other method", id + "-method");
  const carrier = textInput("rule-carrier", "Carrier " + n, rule.carrier, "DHL", id + "-carrier");
  const link = textInput("rule-url", "Tracking link of carrier " + n, rule.url_template, "https://carrier.example/track?n={number}", id + "-url");
  row.appendChild(cell("Shipping method", method));
  row.appendChild(cell("Carrier", carrier));
  row.appendChild(cell("Tracking link", link));
  const remove = button("Remove", "secondary");
  remove.setAttribute("aria-label", "Remove carrier " + n);
  remove.addEventListener("click", () => {
    const form = row.closest("form");
    row.remove();
    $("tracking-rules-error").textContent = "";
    $("add-rule").focus();
    if (form) form.dispatchEvent(new Event("change"));
  });
  row.appendChild(cell("", remove));
  $("tracking-rows").appendChild(row);
  if (focus) method.focus();
}

/** The rows that hold a rule, each with its values, in the order they are saved (the server's
 * `row` counts these). */
function ruleRows() {
  return Array.from($("tracking-rows").querySelectorAll("tr[data-rule]"))
    .map((row) => ({
      row,
      rule: {
        shipping_method: row.querySelector(".rule-method").value.trim(),
        carrier: row.querySelector(".rule-carrier").value.trim(),
        url_template: row.querySelector(".rule-url").value.trim() || null,
      },
    }))
    .filter(({ rule }) => rule.shipping_method || rule.carrier || rule.url_template);
}

function readRules() {
  return ruleRows().map(({ rule }) => rule);
}

function ruleInput(row, column) {
  return row.querySelector("." + (RULE_INPUTS[column] || "rule-url"));
}

/** The server's check refused a rule (`problem`: its SettingProblem): said at its field, or
 * under the table when it is about the rules together (two for one method). */
export function showRuleProblem(problem) {
  const found = problem.row === null ? null : ruleRows()[problem.row];
  if (!found) {
    $("tracking-rules-error").textContent = problem.message;
    return;
  }
  fieldError(ruleInput(found.row, problem.column).id, problem.message);
}

export function clearRuleProblems() {
  $("tracking-rules-error").textContent = "";
  $("tracking-rows").querySelectorAll("input").forEach((input) => clearFieldError(input.id));
}

/** A stored rule the server now refuses (saved before its check): flagged at its row, with
 * what its link loses, until it is fixed and saved. Not an error of this edit: the page's
 * other settings save. */
function flagStored(problems, rows) {
  problems
    .filter((p) => p.field === "tracking_rules" && p.row !== null && rows[p.row])
    .forEach((p) => {
      const input = ruleInput(rows[p.row], p.column);
      $(input.id + "-note").textContent =
        "This saved link is not used: " + p.message + " Until it is fixed, this carrier's shipments reach Mailchimp without a tracking link.";
    });
}

// --- the settings ----------------------------------------------------------------------------

export function readFields() {
  const values = {};
  FIELDS.forEach((name) => {
    const source = $(name + "-source").value;
    values["product_" + name] = { source, key: keyed(source) ? $(name + "-key").value.trim() || null : null };
  });
  values.tracking_rules = readRules();
  values.default_locale = $("default-locale").value.trim().toLowerCase() || null;
  values.default_timezone = $("default-timezone").value.trim() || null;
  return values;
}

export function fillFields(s) {
  FIELDS.forEach((name) => {
    const field = s["product_" + name] || { source: "none", key: null };
    $(name + "-source").value = field.source;
    $(name + "-key").value = field.key || "";
    showKey(name);
  });
  $("tracking-rows").textContent = "";
  ruleCount = 0;
  (s.tracking_rules || []).forEach((rule) => addRule(rule, false));
  flagStored(s.problems || [], Array.from($("tracking-rows").querySelectorAll("tr[data-rule]")));
  $("default-locale").value = s.default_locale || "";
  $("default-timezone").value = s.default_timezone || "";
}

export function validateFields() {
  let ok = true;
  FIELDS.forEach((name) => {
    clearFieldError(name + "-key");
    const source = $(name + "-source").value;
    if (keyed(source) && !$(name + "-key").value.trim()) {
      fieldError(name + "-key", "Name the " + KEY_LABELS[source].toLowerCase() + " to read, e.g. brand.");
      ok = false;
    }
  });
  clearRuleProblems(); // the rules are the server's to check (ecommerce.js)
  clearFieldError("default-locale");
  const locale = $("default-locale").value.trim();
  if (locale && !/^[a-zA-Z]{2}$/.test(locale)) {
    fieldError("default-locale", "Write a two-letter language code, like en or de.");
    ok = false;
  }
  clearFieldError("default-timezone");
  const zone = $("default-timezone").value.trim();
  if (zone && zone !== "UTC" && zone.indexOf("/") < 0) {
    fieldError("default-timezone", "Write a time zone name, like Europe/Warsaw (not an abbreviation such as CET).");
    ok = false;
  }
  return ok;
}

/** Options, time zone suggestions and the controls' own behaviour (once, at load). */
export function setUpFields() {
  FIELDS.forEach((name) => {
    const select = $(name + "-source");
    SOURCES.forEach(([value, label]) => {
      const option = el("option", null, label);
      option.value = value;
      select.appendChild(option);
    });
    select.addEventListener("change", () => showKey(name));
  });
  $("add-rule").addEventListener("click", () => {
    addRule({}, true);
    $("add-rule").closest("form").dispatchEvent(new Event("change"));
  });
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const list = $("timezones");
  zones.forEach((zone) => {
    const option = el("option");
    option.value = zone;
    list.appendChild(option);
  });
}
