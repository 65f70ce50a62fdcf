/*
 * The E-commerce page's settings for the fields marketers segment on (part of the page's save
 * bar, see ecommerce.js): where a product's vendor and type come from, the carrier and tracking
 * link per shipping method, the stores' default language and time zone. The carriers' rows are
 * checked by the server (ecommerce.js asks POST /api/ecommerce/settings/check), whose words go
 * to the row; a stored rule the server now refuses is flagged at the row that shows it.
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
  // The ids stay unique; the labels name the row by its place (`renumber`).
  const id = "rule-" + ruleCount;
  const row = el("tr");
  row.dataset.rule = String(ruleCount);
  const method = textInput("rule-method", "", rule.shipping_method, "Every other method", id + "-method");
  const carrier = textInput("rule-carrier", "", rule.carrier, "DHL", id + "-carrier");
  const link = textInput("rule-url", "", rule.url_template, "https://carrier.example/track?n={number}", id + "-url");
  row.appendChild(cell("Shipping method", method));
  row.appendChild(cell("Carrier", carrier));
  row.appendChild(cell("Tracking link", link));
  const remove = button("Remove", "secondary");
  remove.classList.add("rule-remove");
  remove.addEventListener("click", () => {
    const form = row.closest("form");
    row.remove();
    renumber();
    $("tracking-rules-error").textContent = "";
    $("add-rule").focus();
    if (form) form.dispatchEvent(new Event("change"));
  });
  row.appendChild(cell("", remove));
  $("tracking-rows").appendChild(row);
  renumber();
  if (focus) method.focus();
}

function tableRows() {
  return Array.from($("tracking-rows").querySelectorAll("tr[data-rule]"));
}

/** Each row named by its place from the top, as the server counts the rules ("row 2"), after
 * a Remove too. */
function renumber() {
  tableRows().forEach((row, i) => {
    const n = i + 1;
    row.querySelector(".rule-method").setAttribute("aria-label", "Shipping method of carrier " + n);
    row.querySelector(".rule-carrier").setAttribute("aria-label", "Carrier " + n);
    row.querySelector(".rule-url").setAttribute("aria-label", "Tracking link of carrier " + n);
    row.querySelector(".rule-remove").setAttribute("aria-label", "Remove carrier " + n);
  });
}

/** The server's words about the rule it counted `counted`th (from 0: "Tracking rules, row 2,",
 * addon/validation_messages.py), said of `row`'s place in the table: an empty row is not sent,
 * and a stored rule's place may have moved since (a row removed, not saved yet). */
function inRowWords(message, counted, row) {
  const said = "Tracking rules, row " + (counted + 1) + ", ";
  if (!message.startsWith(said)) return message;
  return "Tracking rules, row " + (tableRows().indexOf(row) + 1) + ", " + message.slice(said.length);
}

/** The rows that hold a rule, each with its values, in the order they are saved (the server's
 * `row` counts these). */
function ruleRows() {
  return tableRows()
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
  fieldError(ruleInput(found.row, problem.column).id, inRowWords(problem.message, problem.row, found.row));
}

export function clearRuleProblems() {
  $("tracking-rules-error").textContent = "";
  $("tracking-rows").querySelectorAll("input").forEach((input) => clearFieldError(input.id));
}

function sameRule(a, b) {
  const text = (value) => (value || "").trim();
  return ["shipping_method", "carrier", "url_template"].every((key) => text(a[key]) === text(b[key]));
}

/** Stored rules the server now refuses (saved before its check: `stored`, the server's settings
 * with its `problems`), flagged with what they cost until fixed and saved. Not an error of this
 * edit: the page's other settings save. A rule's note goes to the row that shows that stored
 * rule, wherever it is now (rows removed or edited since, not saved), and to no row once none
 * does; a note on the rules together while the table shows them as stored. */
export function flagStoredRules(stored) {
  tableRows().forEach((row) => row.querySelectorAll("[id$='-note']").forEach((note) => (note.textContent = "")));
  $("tracking-rules-note").textContent = "";
  const saved = stored.tracking_rules || [];
  const shown = ruleRows();
  const placed = new Map(); // a stored rule's index → the row that shows it
  (stored.problems || [])
    .filter((p) => p.field === "tracking_rules")
    .forEach((p) => {
      if (p.row === null) {
        const asStored = shown.length === saved.length && shown.every(({ rule }, i) => sameRule(rule, saved[i]));
        if (asStored) {
          $("tracking-rules-note").textContent =
            "These saved rules are refused now: " + p.message + " Until they are fixed, an order gets the last rule in this table for its shipping method.";
        }
        return;
      }
      if (!placed.has(p.row)) {
        // Twins are told apart by place: the one still where it was stored, else the first free.
        const taken = Array.from(placed.values());
        const showing = shown.filter(({ row, rule }) => !taken.includes(row) && saved[p.row] && sameRule(rule, saved[p.row]));
        const found = showing.find((entry) => shown.indexOf(entry) === p.row) || showing[0];
        placed.set(p.row, found ? found.row : null);
      }
      const row = placed.get(p.row);
      if (!row) return;
      $(ruleInput(row, p.column).id + "-note").textContent =
        "This saved link is not used: " +
        inRowWords(p.message, p.row, row) +
        " Until it is fixed, this carrier's shipments reach Mailchimp without a tracking link.";
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
  // The note on the stored rules together (`flagStoredRules`), under the table.
  const note = el("div", "field-error");
  note.id = "tracking-rules-note";
  $("tracking-rules-error").after(note);
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
