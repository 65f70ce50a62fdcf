/*
 * The E-commerce page's settings for the fields marketers segment on (part of the page's save
 * bar, see ecommerce.js): where a product's vendor and type come from, the carrier and tracking
 * link per shipping method, the stores' default language and time zone.
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
const PLACEHOLDERS = ["{number}", "{postal_code}", "{country}"];
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
  return td;
}

function textInput(className, label, value, placeholder) {
  const input = el("input", className);
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
  const method = textInput("rule-method", "Shipping method of carrier " + n, rule.shipping_method, "Every other method");
  const carrier = textInput("rule-carrier", "Carrier " + n, rule.carrier, "DHL");
  const link = textInput("rule-url", "Tracking link of carrier " + n, rule.url_template, "https://carrier.example/track?n={number}");
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

function readRules() {
  return Array.from($("tracking-rows").querySelectorAll("tr[data-rule]"))
    .map((row) => ({
      shipping_method: row.querySelector(".rule-method").value.trim(),
      carrier: row.querySelector(".rule-carrier").value.trim(),
      url_template: row.querySelector(".rule-url").value.trim() || null,
    }))
    .filter((rule) => rule.shipping_method || rule.carrier || rule.url_template);
}

function ruleProblem(rules) {
  const seen = new Set();
  for (const rule of rules) {
    const which = rule.shipping_method ? "“" + rule.shipping_method + "”" : "every other method";
    if (!rule.carrier) return "Name the carrier for " + which + ".";
    const url = rule.url_template;
    if (url && !/^https?:\/\/[^/\s]+/.test(url)) {
      return "The tracking link for " + which + " must be a full address starting with https://.";
    }
    const unknown = url ? (url.match(/\{(\w*)\}/g) || []).filter((p) => PLACEHOLDERS.indexOf(p) < 0) : [];
    if (unknown.length) return unknown.join(", ") + " is not a placeholder; use " + PLACEHOLDERS.join(", ") + ".";
    if (url && url.indexOf("{number}") < 0) return "The tracking link for " + which + " needs {number}, where the tracking number goes.";
    const name = rule.shipping_method.toLowerCase();
    if (seen.has(name)) return "There are two carriers for " + which + "; keep one.";
    seen.add(name);
  }
  return null;
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
  $("tracking-rules-error").textContent = "";
  const problem = ruleProblem(readRules());
  if (problem) {
    $("tracking-rules-error").textContent = problem;
    ok = false;
  }
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
