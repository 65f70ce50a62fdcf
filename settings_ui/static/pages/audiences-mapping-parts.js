/*
 * The parts of an audience's merge-field mapping card (`audiences-mapping.js`): the table of its
 * merge fields and what fills each, the tags' source, reading the choices back, and the values
 * recently left out.
 */
import { badge, clearFieldError, el, formatTime } from "../app.js";

export var TYPE_NAMES = {
  text: "Text",
  number: "Number",
  address: "Address",
  phone: "Phone",
  date: "Date",
  birthday: "Birthday",
  zip: "Zip code",
  url: "Website",
  imageurl: "Image",
  radio: "Radio buttons",
  dropdown: "Drop-down",
};
export var NEW_TYPES = ["text", "number", "date", "birthday", "phone", "address", "zip", "url"];
export var DATE_FORMATS = {
  date: ["MM/DD/YYYY", "DD/MM/YYYY"],
  birthday: ["MM/DD", "DD/MM"],
};

var serial = 0;

export function uid(prefix) {
  serial += 1;
  return prefix + "-" + serial;
}

/** A form control with its own visible label; `withError`: with a place under it for its
 * inline error (app.js `fieldError(control.id, …)`). */
export function labelled(labelText, control, hint, withError) {
  var box = el("div", "field");
  control.id = control.id || uid("map");
  var label = el("label", "", labelText);
  label.setAttribute("for", control.id);
  box.appendChild(label);
  box.appendChild(control);
  var described = [];
  if (hint) {
    var h = el("div", "field-hint", hint);
    h.id = control.id + "-hint";
    described.push(h.id);
    box.appendChild(h);
  }
  if (withError) {
    box.appendChild(errorFor(control));
    described.push(control.id + "-error");
  }
  if (described.length) control.setAttribute("aria-describedby", described.join(" "));
  return box;
}

/** The inline error under a control (empty until `fieldError`), said as it appears. */
export function errorFor(control) {
  control.id = control.id || uid("map");
  var error = el("div", "field-error");
  error.id = control.id + "-error";
  error.setAttribute("aria-live", "polite");
  return error;
}

export function option(value, text, selected) {
  var o = el("option", "", text);
  o.value = value;
  o.selected = !!selected;
  return o;
}

function sourceSelect(mapping, field, chosen) {
  var select = el("select");
  select.dataset.mergeTag = field.tag;
  select.appendChild(option("", "Not filled by the store", !chosen));
  var allowed = mapping.compatible[field.type] || ["metadata", "private_metadata"];
  mapping.sources.forEach(function (s) {
    if (allowed.indexOf(s.value) >= 0) {
      select.appendChild(option(s.value, s.label, chosen && chosen.source === s.value));
    }
  });
  return select;
}

function needsKey(mapping, source) {
  return mapping.sources.some(function (s) {
    return s.value === source && s.needs_key;
  });
}

function keyInput(value, labelText) {
  var input = el("input");
  input.type = "text";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.maxLength = 255;
  input.value = value || "";
  if (labelText) input.setAttribute("aria-label", labelText);
  return input;
}

function fieldRow(mapping, field) {
  var chosen = mapping.fields.filter(function (f) {
    return f.merge_tag === field.tag;
  })[0];
  var row = el("tr");
  row.dataset.tag = field.tag;
  var head = el("th");
  head.scope = "row";
  head.appendChild(el("span", "merge-name", field.name || field.tag));
  // The space between the name and its tag is outside the chip (inside, the chip broke over
  // two lines and left a stray edge after the name).
  head.appendChild(document.createTextNode(" "));
  head.appendChild(el("code", "muted small merge-tag", field.tag));
  if (field.required) {
    head.appendChild(document.createTextNode(" "));
    head.appendChild(badge("Required", "warning"));
  }
  row.appendChild(head);
  var format = field.options && field.options.date_format;
  row.appendChild(el("td", "", (TYPE_NAMES[field.type] || field.type) + (format ? " · " + format : "")));
  // The source, with the metadata key it needs under it (one column: both stay readable).
  var sourceCell = el("td", "mapping-source");
  var select = sourceSelect(mapping, field, chosen);
  select.setAttribute("aria-label", "Filled from, for " + (field.name || field.tag));
  select.style.width = "100%";
  sourceCell.appendChild(select);
  var key = keyInput(chosen ? chosen.key : "", "Metadata key, for " + (field.name || field.tag));
  key.dataset.keyFor = field.tag;
  key.placeholder = "Metadata key";
  key.className = "mt-8";
  key.style.width = "100%";
  sourceCell.appendChild(key);
  var keyError = errorFor(key);
  key.setAttribute("aria-describedby", keyError.id);
  sourceCell.appendChild(keyError);
  row.appendChild(sourceCell);
  function sync() {
    var show = needsKey(mapping, select.value);
    key.hidden = !show;
    key.disabled = !show;
    if (!show) clearFieldError(key.id);
  }
  select.addEventListener("change", sync);
  sync();
  return row;
}

export function mappingTable(mapping) {
  var wrap = el("div", "table-wrap");
  var table = el("table");
  var caption = el("caption", "visually-hidden", "Merge fields of " + mapping.audience_name);
  table.appendChild(caption);
  var thead = el("thead");
  var tr = el("tr");
  ["Merge field", "Type", "Filled from"].forEach(function (name) {
    var th = el("th", "", name);
    th.scope = "col";
    tr.appendChild(th);
  });
  thead.appendChild(tr);
  table.appendChild(thead);
  var body = el("tbody");
  mapping.merge_fields.forEach(function (field) {
    body.appendChild(fieldRow(mapping, field));
  });
  table.appendChild(body);
  wrap.appendChild(table);
  return wrap;
}

export function tagsControls(mapping) {
  var box = el("fieldset", "fieldset mt-16");
  box.appendChild(el("legend", "", "Tags from customer data"));
  box.appendChild(
    el(
      "p",
      "field-hint",
      "A metadata key holding a list (a JSON array or names separated by commas): the contact gets these tags, and loses them when they leave the list."
    )
  );
  var select = el("select");
  select.dataset.tagsSource = "true";
  select.appendChild(option("", "No tags from data", !mapping.tags));
  select.appendChild(
    option("metadata", "Customer metadata key", mapping.tags && mapping.tags.source === "metadata")
  );
  select.appendChild(
    option(
      "private_metadata",
      "Customer private metadata key",
      mapping.tags && mapping.tags.source === "private_metadata"
    )
  );
  box.appendChild(labelled("Tags come from", select));
  var key = keyInput(mapping.tags ? mapping.tags.key : "");
  key.dataset.tagsKey = "true";
  key.placeholder = "e.g. segments";
  var keyBox = labelled("Metadata key holding the tags", key, null, true);
  box.appendChild(keyBox);
  function sync() {
    keyBox.hidden = !select.value;
    key.disabled = !select.value;
    if (!select.value) clearFieldError(key.id);
  }
  select.addEventListener("change", sync);
  sync();
  return box;
}

export function readMapping(card) {
  var fields = [];
  card.querySelectorAll("select[data-merge-tag]").forEach(function (select) {
    if (!select.value) return;
    var key = card.querySelector('input[data-key-for="' + select.dataset.mergeTag + '"]');
    fields.push({
      merge_tag: select.dataset.mergeTag,
      source: select.value,
      key: key && !key.disabled ? key.value.trim() : "",
    });
  });
  var tagsSource = card.querySelector("[data-tags-source]").value;
  var tagsKey = card.querySelector("[data-tags-key]").value.trim();
  return { fields: fields, tags: tagsSource ? { source: tagsSource, key: tagsKey } : null };
}

export function notSentList(mapping) {
  var box = el("div", "mt-16 not-sent");
  var headingId = uid("not-sent");
  var h = el("h4", "", "Values not sent recently");
  h.id = headingId;
  box.appendChild(h);
  if (!mapping.not_sent.length) {
    box.appendChild(el("p", "muted small", "None: every mapped value was valid for its field."));
    return box;
  }
  box.appendChild(
    el(
      "p",
      "field-hint",
      "These values did not fit their merge field, so they were left out; the rest of each contact's update reached Mailchimp. Correct the customer's data or the mapping."
    )
  );
  var list = el("ul", "plain-list");
  list.setAttribute("aria-labelledby", headingId);
  mapping.not_sent.forEach(function (item) {
    var li = el("li", "not-sent-item");
    li.appendChild(el("span", "", item.message));
    li.appendChild(el("span", "muted small", " " + formatTime(item.created_at)));
    list.appendChild(li);
  });
  box.appendChild(list);
  return box;
}
