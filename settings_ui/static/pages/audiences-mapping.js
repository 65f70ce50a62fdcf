/*
 * The Audiences page's merge-field mapping: for each offered audience, which customer data
 * fills each of its Mailchimp merge fields, which metadata key holds its tags, a form to create
 * a merge field the audience lacks, and the values recently left out (they were not valid for
 * their field). Each audience's mapping is saved on its own (PUT /api/audiences/{id}/mapping);
 * a card holding unsaved choices is kept when the page's save bar redraws the page, and
 * leaving asks first.
 */
import {
  $,
  bridge,
  clearFieldError,
  confirmed,
  details,
  el,
  fieldError,
  setBusy,
  trackUnsaved,
  unconfirmed,
} from "../app.js";
import {
  DATE_FORMATS,
  NEW_TYPES,
  TYPE_NAMES,
  labelled,
  mappingTable,
  notSentList,
  option,
  readMapping,
  tagsControls,
  uid,
} from "./audiences-mapping-parts.js";

/** A place for an action's failure, right under the button that failed (an alert, said as it
 * appears; hidden until then). */
function problemBox(kind) {
  var box = el("div", "notice critical mapping-problem");
  box.dataset.problem = kind;
  box.setAttribute("role", "alert");
  box.hidden = true;
  return box;
}

/** Show what went wrong in `box` (`title` null: nothing, the box hidden), in view. */
function problem(box, title, error) {
  box.textContent = "";
  if (!title) {
    box.hidden = true;
    return;
  }
  var body = el("div", "notice-body");
  body.appendChild(el("strong", "", title));
  // The server's sentence may start with the same title: said once.
  var said = title + ": ";
  var message =
    error.message.indexOf(said) === 0 ? error.message.slice(said.length) : error.message;
  body.appendChild(el("p", "", message));
  if (error.code) body.appendChild(details("Technical details", error.code));
  box.appendChild(body);
  box.hidden = false;
  // An action's failure is brought into view (the card's own, at its top, is not jumped to).
  if (box.dataset.problem !== "load") box.scrollIntoView({ block: "nearest" });
}

// This card's last confirmation in the page's save bar: a later failure takes it away (it
// would say "saved" beside the error).
var lastSaid = null;

function say(title) {
  lastSaid = title;
  return confirmed(title);
}

function unsay() {
  if (lastSaid !== null) unconfirmed(lastSaid);
  lastSaid = null;
}

/** Inline errors under the card's controls (app.js `fieldError`); the first is focused. */
function invalid(errors) {
  errors.forEach(function (e) {
    fieldError(e.control.id, e.message);
  });
  if (errors.length) {
    errors[0].control.focus();
    $(errors[0].control.id + "-error").scrollIntoView({ block: "nearest" });
  }
  return errors.length === 0;
}

function clearErrors(scope) {
  scope.querySelectorAll('[aria-invalid="true"]').forEach(function (control) {
    clearFieldError(control.id);
  });
}

/** The metadata keys a chosen metadata source needs, named before anything is sent. */
function keysNamed(card) {
  var errors = [];
  card.querySelectorAll("input[data-key-for]").forEach(function (key) {
    if (key.disabled || key.value.trim()) return;
    var name = key.closest("tr").querySelector(".merge-name").textContent;
    errors.push({
      control: key,
      message: "Name the metadata key that fills " + name + ".",
    });
  });
  var tags = card.querySelector("[data-tags-key]");
  if (tags && !tags.disabled && !tags.value.trim()) {
    errors.push({
      control: tags,
      message: "Name the metadata key that holds the tags, e.g. segments.",
    });
  }
  return errors;
}

function newFieldForm(mapping, card) {
  var box = el("fieldset", "fieldset mt-16 new-merge-field");
  box.appendChild(el("legend", "", "Add a merge field to " + mapping.audience_name));
  var name = el("input");
  name.type = "text";
  name.maxLength = 100;
  name.autocomplete = "off";
  box.appendChild(labelled("Field name", name, null, true));
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
  box.appendChild(
    labelled(
      "Merge tag (optional)",
      tag,
      "Up to 10 letters, digits or underscores; left empty, Mailchimp numbers one (MMERGE…).",
      true
    )
  );
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
  var failed = problemBox("create");
  create.addEventListener("click", function () {
    problem(failed, null);
    clearErrors(box);
    var errors = [];
    if (!name.value.trim()) errors.push({ control: name, message: "Give the field a name." });
    if (tag.value.trim() && !/^[A-Za-z0-9_]{1,10}$/.test(tag.value.trim())) {
      errors.push({
        control: tag,
        message: "A merge tag takes up to 10 letters, digits or underscores (no spaces).",
      });
    }
    if (!invalid(errors)) {
      unsay();
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
        var saved = card.dataset.saved;
        var before = mapping.merge_fields.map(function (f) {
          return f.tag;
        });
        fresh.fields = kept.fields;
        fresh.tags = kept.tags;
        fill(card, fresh);
        card.dataset.saved = saved; // the choices kept are as unsaved as before
        // Focus on the new field's choice, to map it at once.
        var made = Array.from(card.querySelectorAll("select[data-merge-tag]")).filter(function (x) {
          return before.indexOf(x.dataset.mergeTag) < 0;
        });
        if (made.length) made[0].focus();
        say("Merge field “" + body.name + "” created in Mailchimp");
      })
      .catch(function (error) {
        setBusy(create, false);
        unsay();
        problem(failed, "The field was not created", error);
      });
  });
  // Typing again takes the field's own error away.
  [name, tag].forEach(function (control) {
    control.addEventListener("input", function () {
      clearFieldError(control.id);
    });
  });
  var actions = el("div", "mt-8");
  actions.appendChild(create);
  box.appendChild(actions);
  box.appendChild(failed);
  return box;
}

function fill(card, mapping) {
  var body = card.querySelector(".mapping-body");
  body.textContent = "";
  body.appendChild(mappingTable(mapping));
  body.appendChild(tagsControls(mapping));
  var save = el("button", "button small mt-16", "Save mapping");
  save.type = "button";
  save.dataset.saveMapping = "";
  var failed = problemBox("save");
  save.addEventListener("click", function () {
    problem(failed, null);
    clearErrors(body);
    if (!invalid(keysNamed(card))) {
      unsay();
      return;
    }
    setBusy(save, true, "Saving…");
    bridge
      .api("PUT", "/api/audiences/" + encodeURIComponent(mapping.list_id) + "/mapping", readMapping(card))
      .then(function (fresh) {
        fill(card, fresh);
        focusIn(card, "[data-save-mapping]");
        say("Mapping of " + fresh.audience_name + " saved");
      })
      .catch(function (error) {
        setBusy(save, false);
        unsay();
        problem(failed, "The mapping was not saved", error);
      });
  });
  body.appendChild(save);
  body.appendChild(failed);
  body.appendChild(newFieldForm(mapping, card));
  body.appendChild(notSentList(mapping));
  card.dataset.saved = JSON.stringify(readMapping(card));
}

/** Choices made in the card and not saved yet. */
function edited(card) {
  return card.dataset.saved !== undefined && JSON.stringify(readMapping(card)) !== card.dataset.saved;
}

/** The card was rebuilt: focus goes back to its control, not to the page. */
function focusIn(card, selector) {
  var found = card.querySelector(selector);
  if (found) found.focus();
}

// Leaving the page (its tabs, the browser) asks first while a card holds unsaved choices.
trackUnsaved({
  get dirty() {
    return Array.from(document.querySelectorAll("#mapping-list .mapping")).some(edited);
  },
});

function mappingCard(audience) {
  var card = el("article", "card mapping");
  card.dataset.listId = audience.list_id;
  var headingId = uid("mapping-title");
  card.setAttribute("aria-labelledby", headingId);
  var h3 = el("h3", "", "Merge fields of " + audience.name);
  h3.id = headingId;
  card.appendChild(h3);
  // The card's own failure (its merge fields not loaded): at its top, where they would be.
  var loadProblem = problemBox("load");
  loadProblem.classList.add("card-problem");
  card.appendChild(loadProblem);
  var body = el("div", "mapping-body");
  body.appendChild(el("p", "muted small", "Loading the audience's merge fields…"));
  card.appendChild(body);
  // A metadata key typed takes its error away.
  body.addEventListener("input", function (event) {
    var target = event.target;
    if (target.matches("input[data-key-for], input[data-tags-key]")) clearFieldError(target.id);
  });
  bridge
    .api("GET", "/api/audiences/" + encodeURIComponent(audience.list_id) + "/mapping")
    .then(function (mapping) {
      fill(card, mapping);
    })
    .catch(function (error) {
      body.textContent = "";
      problem(loadProblem, "The merge fields could not be loaded", error);
    });
  return card;
}

/** A kept card's merge fields read afresh (a refresh may have brought new ones), its unsaved
 * choices and its saved baseline kept. */
function refreshKept(card, audience) {
  bridge
    .api("GET", "/api/audiences/" + encodeURIComponent(audience.list_id) + "/mapping")
    .then(function (fresh) {
      var choices = readMapping(card);
      var saved = card.dataset.saved;
      fresh.fields = choices.fields;
      fresh.tags = choices.tags;
      fill(card, fresh);
      card.dataset.saved = saved;
    })
    .catch(function () {
      // As it was: its choices are still there to save.
    });
}

/** One card per audience the store offers (as saved). */
export function renderMappings(data) {
  var section = $("mapping-section");
  var list = $("mapping-list");
  // A card with unsaved choices stays as it is (the page's save bar saving or discarding its
  // own fields, or a refresh, must not take them away); the others are read afresh.
  var kept = {};
  list.querySelectorAll(".mapping").forEach(function (card) {
    if (edited(card)) kept[card.dataset.listId] = card;
  });
  list.textContent = "";
  var offered = data.audiences.filter(function (a) {
    return a.active && !a.removed;
  });
  offered.forEach(function (audience) {
    var card = kept[audience.list_id];
    if (card) refreshKept(card, audience);
    list.appendChild(card || mappingCard(audience));
  });
  $("no-mapping").hidden = offered.length > 0;
  section.hidden = false;
}
