/*
 * The Audiences page's merge-field mapping: for each offered audience, which customer data
 * fills each of its Mailchimp merge fields, which metadata key holds its tags, a form to create
 * a merge field the audience lacks, and the values recently left out (they were not valid for
 * their field). Each audience's mapping is saved on its own (PUT /api/audiences/{id}/mapping).
 */
import { $, badge, bridge, confirmed, details, el, formatTime, setBusy } from "../app.js";

var TYPE_NAMES = {
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
var NEW_TYPES = ["text", "number", "date", "birthday", "phone", "address", "zip", "url"];
var DATE_FORMATS = {
  date: ["MM/DD/YYYY", "DD/MM/YYYY"],
  birthday: ["MM/DD", "DD/MM"],
};

var serial = 0;

function uid(prefix) {
  serial += 1;
  return prefix + "-" + serial;
}

/** A form control with its own visible label. */
function labelled(labelText, control, hint) {
  var box = el("div", "field");
  control.id = control.id || uid("map");
  var label = el("label", "", labelText);
  label.setAttribute("for", control.id);
  box.appendChild(label);
  box.appendChild(control);
  if (hint) {
    var h = el("div", "field-hint", hint);
    h.id = control.id + "-hint";
    control.setAttribute("aria-describedby", h.id);
    box.appendChild(h);
  }
  return box;
}

function option(value, text, selected) {
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
  input.setAttribute("aria-label", labelText);
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
  head.appendChild(el("span", "", field.name || field.tag));
  head.appendChild(el("code", "muted small merge-tag", " " + field.tag));
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
  row.appendChild(sourceCell);
  function sync() {
    var show = needsKey(mapping, select.value);
    key.hidden = !show;
    key.disabled = !show;
  }
  select.addEventListener("change", sync);
  sync();
  return row;
}

function mappingTable(mapping) {
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

function tagsControls(mapping) {
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
  var key = keyInput(mapping.tags ? mapping.tags.key : "", "Metadata key holding the tags");
  key.dataset.tagsKey = "true";
  box.appendChild(key);
  function sync() {
    key.hidden = !select.value;
    key.disabled = !select.value;
  }
  select.addEventListener("change", sync);
  sync();
  return box;
}

function readMapping(card) {
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

function problem(card, title, error) {
  var box = card.querySelector(".mapping-problem");
  box.textContent = "";
  if (!title) {
    box.hidden = true;
    return;
  }
  var body = el("div", "notice-body");
  body.appendChild(el("strong", "", title));
  body.appendChild(el("p", "", error.message));
  if (error.code) body.appendChild(details("Technical details", error.code));
  box.appendChild(body);
  box.hidden = false;
}

function newFieldForm(mapping, card) {
  var box = el("fieldset", "fieldset mt-16 new-merge-field");
  box.appendChild(el("legend", "", "Add a merge field to " + mapping.audience_name));
  var name = el("input");
  name.type = "text";
  name.maxLength = 100;
  name.autocomplete = "off";
  box.appendChild(labelled("Field name", name));
  var type = el("select");
  NEW_TYPES.forEach(function (t) {
    type.appendChild(option(t, TYPE_NAMES[t], t === "text"));
  });
  box.appendChild(labelled("Type", type));
  var format = el("select");
  var formatBox = labelled("Date format", format, "How the audience shows and takes dates.");
  box.appendChild(formatBox);
  var tag = el("input");
  tag.type = "text";
  tag.maxLength = 10;
  tag.autocomplete = "off";
  tag.spellcheck = false;
  box.appendChild(labelled("Merge tag (optional)", tag, "Up to 10 letters or digits; Mailchimp makes one from the name if empty."));
  function syncFormat() {
    var formats = DATE_FORMATS[type.value];
    formatBox.hidden = !formats;
    format.textContent = "";
    (formats || []).forEach(function (f, i) {
      format.appendChild(option(f, f, i === 0));
    });
  }
  type.addEventListener("change", syncFormat);
  syncFormat();
  var create = el("button", "button small secondary", "Create in Mailchimp");
  create.type = "button";
  create.addEventListener("click", function () {
    problem(card, null);
    if (!name.value.trim()) {
      problem(card, "The field was not created", { message: "Give the field a name." });
      name.focus();
      return;
    }
    var body = { name: name.value.trim(), type: type.value };
    if (tag.value.trim()) body.tag = tag.value.trim().toUpperCase();
    if (DATE_FORMATS[type.value]) body.date_format = format.value;
    setBusy(create, true, "Creating…");
    bridge
      .api("POST", "/api/audiences/" + encodeURIComponent(mapping.list_id) + "/merge-fields", body)
      .then(function (fresh) {
        var kept = readMapping(card);
        fresh.fields = kept.fields;
        fresh.tags = kept.tags;
        fill(card, fresh);
        confirmed("Merge field “" + body.name + "” created in Mailchimp");
      })
      .catch(function (error) {
        setBusy(create, false);
        problem(card, "The field was not created", error);
      });
  });
  var actions = el("div", "mt-8");
  actions.appendChild(create);
  box.appendChild(actions);
  return box;
}

function notSentList(mapping) {
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

function fill(card, mapping) {
  var body = card.querySelector(".mapping-body");
  body.textContent = "";
  body.appendChild(mappingTable(mapping));
  body.appendChild(tagsControls(mapping));
  var save = el("button", "button small mt-16", "Save mapping");
  save.type = "button";
  save.addEventListener("click", function () {
    problem(card, null);
    setBusy(save, true, "Saving…");
    bridge
      .api("PUT", "/api/audiences/" + encodeURIComponent(mapping.list_id) + "/mapping", readMapping(card))
      .then(function (fresh) {
        fill(card, fresh);
        confirmed("Mapping of " + fresh.audience_name + " saved");
      })
      .catch(function (error) {
        setBusy(save, false);
        problem(card, "The mapping was not saved", error);
      });
  });
  body.appendChild(save);
  body.appendChild(newFieldForm(mapping, card));
  body.appendChild(notSentList(mapping));
}

function mappingCard(audience) {
  var card = el("article", "card mapping");
  card.dataset.listId = audience.list_id;
  var headingId = uid("mapping-title");
  card.setAttribute("aria-labelledby", headingId);
  var h3 = el("h3", "", "Merge fields of " + audience.name);
  h3.id = headingId;
  card.appendChild(h3);
  var problemBox = el("div", "notice critical mapping-problem");
  problemBox.setAttribute("role", "alert");
  problemBox.hidden = true;
  card.appendChild(problemBox);
  var body = el("div", "mapping-body");
  body.appendChild(el("p", "muted small", "Loading the audience's merge fields…"));
  card.appendChild(body);
  bridge
    .api("GET", "/api/audiences/" + encodeURIComponent(audience.list_id) + "/mapping")
    .then(function (mapping) {
      fill(card, mapping);
    })
    .catch(function (error) {
      body.textContent = "";
      problem(card, "The merge fields could not be loaded", error);
    });
  return card;
}

/** One card per audience the store offers (as saved). */
export function renderMappings(data) {
  var section = $("mapping-section");
  var list = $("mapping-list");
  list.textContent = "";
  var offered = data.audiences.filter(function (a) {
    return a.active && !a.removed;
  });
  offered.forEach(function (audience) {
    list.appendChild(mappingCard(audience));
  });
  $("no-mapping").hidden = offered.length > 0;
  section.hidden = false;
}
