/*
 * The customer panel (manifest extension CUSTOMER_DETAILS_MORE_ACTIONS, target POPUP): Saleor's
 * dashboard opens it with the dashboard query plus `customerId`. Per active audience: status,
 * groups, tags, marketing permissions, the last change and its source; subscribe, unsubscribe
 * and change groups (POST /api/subscriptions/customers/{id}, needs MANAGE_USERS).
 *
 * Everything comes from GET /api/subscriptions/customers/{id} (MANAGE_USERS is enough): group
 * names, the offered groups, and whether staff may subscribe the customer (and why not).
 */
import {
  $,
  PageLoader,
  bridge,
  button,
  clearAll,
  confirmDialog,
  confirmed,
  el,
  formatTime,
  notice,
  setBusy,
} from "../app.js";
import { mountEngagement } from "./customer-engagement.js";
import { mountErasure } from "./customer-erasure.js";

var POLL_MS = 1000;
var POLL_LIMIT_MS = 20000;
var customerId = new URLSearchParams(window.location.search).get("customerId") || "";
var current = null; // the last CustomerSubscriptions
// The control a change was asked from ([list id, focus key]): once the change is applied the
// card is drawn again, and the keyboard goes on from its new equivalent (see render).
var keep = null;

var STATUS = {
  subscribed: { label: "Subscribed", tone: "success" },
  pending: { label: "Waiting for confirmation", tone: "info" },
  unsubscribed: { label: "Unsubscribed", tone: "warning" },
  cleaned: { label: "Cleaned (address bounced)", tone: "critical" },
  transactional: { label: "Transactional only", tone: "" },
  archived: { label: "Archived in Mailchimp", tone: "" },
  none: { label: "Not subscribed", tone: "" },
};
var SOURCES = {
  checkout: "at checkout",
  registration: "at registration",
  storefront: "on the storefront's newsletter form",
  account_page: "on their account page",
  admin: "by staff in the dashboard",
  mailchimp: "in Mailchimp",
};

function lastChange(a) {
  if (!a.last_change_at && !a.last_change_source) return "No change recorded by the app yet.";
  var how = SOURCES[a.last_change_source] || a.last_change_source || "";
  return (
    "Last change " +
    (how ? how + ", " : "") +
    (formatTime(a.last_change_at) || "time unknown") +
    "."
  );
}

function renderAudience(a) {
  var card = el("section", "card audience");
  card.dataset.listId = a.list_id;
  var headingId = "aud-" + a.list_id;
  card.setAttribute("aria-labelledby", headingId);
  var header = el("div", "card-header");
  var title = el("div");
  var h2 = el("h2", "", a.name);
  h2.id = headingId;
  title.appendChild(h2);
  title.appendChild(el("div", "muted small", lastChange(a)));
  header.appendChild(title);
  var info = STATUS[a.status] || { label: a.status, tone: "" };
  var status = el("span", "badge " + info.tone, info.label);
  status.setAttribute("data-status", a.status);
  header.appendChild(status);
  card.appendChild(header);

  if (a.last_problem) {
    var problem = el("div", "notice warning");
    problem.setAttribute("role", "status");
    problem.appendChild(el("strong", "", "Last change not applied"));
    problem.appendChild(el("p", "", a.last_problem));
    card.appendChild(problem);
  }

  var facts = el("dl", "facts");
  if (a.contact_email) {
    // Mailchimp refused the customer's address: the contact stays at its old one.
    facts.appendChild(el("dt", "", "Contact's address"));
    var held = el("dd", "", a.contact_email + " ");
    held.appendChild(el("span", "muted", "(Mailchimp refused the customer's current address)"));
    facts.appendChild(held);
  }
  var names = a.group_names || {};
  facts.appendChild(el("dt", "", "Groups"));
  var groups = el("dd");
  if (a.groups.length) {
    var chips = el("ul", "chips");
    a.groups.forEach(function (id) {
      chips.appendChild(el("li", "chip", names[id] || id));
    });
    groups.appendChild(chips);
  } else {
    groups.className = "muted";
    groups.textContent = "None";
  }
  facts.appendChild(groups);
  facts.appendChild(el("dt", "", "Tags"));
  var tags = el("dd");
  if (a.tags.length) {
    var tagChips = el("ul", "chips");
    a.tags.forEach(function (t) {
      tagChips.appendChild(el("li", "chip", t));
    });
    tags.appendChild(tagChips);
  } else {
    tags.className = "muted";
    tags.textContent = "None";
  }
  facts.appendChild(tags);
  facts.appendChild(el("dt", "", "Marketing permissions"));
  var permissions = el("dd");
  if (a.marketing_permissions.length) {
    var list = el("ul", "plain-list");
    a.marketing_permissions.forEach(function (p) {
      list.appendChild(el("li", "", p.text + (p.enabled ? " — agreed" : " — not agreed")));
    });
    permissions.appendChild(list);
  } else {
    permissions.className = "muted";
    permissions.textContent = "None in this audience";
  }
  facts.appendChild(permissions);
  card.appendChild(facts);

  var subscribed = a.status === "subscribed" || a.status === "pending";
  // The app says whether staff may subscribe (an unsubscribed or cleaned contact needs the
  // shopper's own consent) and why not.
  var blocked = a.can_subscribe === false;

  // The choices first, then the button that uses them.
  var offered = a.offered_groups || [];
  // Groups of a contact who left stay as they are: only the shopper can come back.
  if (offered.length && !blocked) {
    var fieldset = el("fieldset", "fieldset mt-16 groups");
    fieldset.appendChild(el("legend", "", subscribed ? "Groups" : "Groups to subscribe with"));
    offered.forEach(function (g) {
      var box = el("div", "group-choice");
      box.appendChild(el("div", "small muted", g.title));
      var kind = g.type === "radio" || g.type === "dropdown" ? "radio" : "checkbox";
      g.interests.forEach(function (i) {
        var label = el("label", "checkbox");
        var input = el("input");
        input.type = kind;
        input.name = "g-" + a.list_id + "-" + g.category_id;
        input.value = i.id;
        input.dataset.interest = i.id;
        input.dataset.focusKey = "g-" + i.id;
        input.checked = a.groups.indexOf(i.id) >= 0;
        label.appendChild(input);
        label.appendChild(el("span", "", i.name));
        box.appendChild(label);
      });
      fieldset.appendChild(box);
    });
    card.appendChild(fieldset);
  }

  var actions = el("div", "panel-actions");
  if (subscribed) {
    if (offered.length && !blocked) {
      var save = button("Save groups", "", headingId);
      save.dataset.focusKey = "primary";
      save.addEventListener("click", function () {
        change(a, "set_groups", selectedGroups(card), save);
      });
      actions.appendChild(save);
    }
    var unsub = button("Unsubscribe", "danger secondary", headingId);
    unsub.dataset.focusKey = "leave";
    unsub.addEventListener("click", function () {
      confirmDialog({
        title: "Unsubscribe " + (current ? current.email : "this customer") + " from " + a.name + "?",
        text:
          "Mailchimp stops sending this audience's e-mails to them. Only the customer can " +
          "subscribe again, with their own consent.",
        confirm: "Unsubscribe",
        cancel: "Keep subscribed",
        danger: true,
      }).then(function (yes) {
        if (yes) change(a, "unsubscribe", null, unsub);
      });
    });
    actions.appendChild(unsub);
  } else {
    var sub = button("Subscribe", "", headingId);
    sub.dataset.focusKey = "primary";
    if (blocked) {
      sub.setAttribute("aria-disabled", "true");
      sub.setAttribute("aria-describedby", headingId + " consent-" + a.list_id);
    }
    sub.addEventListener("click", function () {
      if (blocked) return;
      change(a, "subscribe", selectedGroups(card), sub);
    });
    actions.appendChild(sub);
  }
  card.appendChild(actions);
  if (blocked) {
    var note = el("p", "field-hint mt-8", a.subscribe_blocked_reason || "Only the customer can subscribe again.");
    note.id = "consent-" + a.list_id;
    card.appendChild(note);
  }
  return card;
}

function selectedGroups(card) {
  var inputs = card.querySelectorAll("[data-interest]");
  if (!inputs.length) return null;
  var ids = [];
  for (var i = 0; i < inputs.length; i++) if (inputs[i].checked) ids.push(inputs[i].value);
  return ids;
}

function render(data) {
  current = data;
  // An erased customer says so under their address (each audience says why Subscribe is off).
  $("customer-email").textContent = data.erased_at
    ? data.email + " · erased from Mailchimp " + formatTime(data.erased_at)
    : data.email;
  $("no-audiences").hidden = data.audiences.length > 0;
  var box = $("audiences");
  // Keep keyboard users where they were after a re-render: the same control of the same
  // audience, or its equivalent (Subscribe becomes Save groups), else the card's first button.
  // Focus lost while a change ran (its button was disabled) goes back to where it was asked.
  var focused = document.activeElement;
  var card = focused && box.contains(focused) ? focused.closest("[data-list-id]") : null;
  var where = null;
  if (card) where = [card.dataset.listId, focused.dataset.focusKey || ""];
  else if (keep && (!focused || focused === document.body)) where = keep;
  keep = null;
  box.textContent = "";
  data.audiences.forEach(function (a) {
    box.appendChild(renderAudience(a));
  });
  if (where) focusIn(box.querySelector('[data-list-id="' + CSS.escape(where[0]) + '"]'), where[1]);
}

function focusIn(card, key) {
  if (!card) return;
  var same = key ? card.querySelector('[data-focus-key="' + CSS.escape(key) + '"]') : null;
  var target = same || card.querySelector("button");
  if (target) target.focus();
}

function path() {
  return "/api/subscriptions/customers/" + encodeURIComponent(customerId);
}

function signature(data) {
  return JSON.stringify(
    data.audiences.map(function (a) {
      return [a.status, a.groups, a.last_change_at, a.last_problem];
    })
  );
}

/** After a change: re-read until the worker applied it (or give up quietly, then `stop()`). */
function follow(before, stop) {
  var started = Date.now();
  var done = stop || function () {};
  function tick() {
    bridge
      .api("GET", path())
      .then(function (data) {
        if (signature(data) !== before) {
          clearAll();
          render(data);
          return;
        }
        if (Date.now() - started < POLL_LIMIT_MS) window.setTimeout(tick, POLL_MS);
        else done();
      })
      .catch(done); // the next manual action re-reads
  }
  window.setTimeout(tick, POLL_MS);
}

function change(audience, action, groups, trigger) {
  var body = { list_id: audience.list_id, action: action };
  if (groups !== null && groups !== undefined) body.groups = groups;
  var before = current ? signature(current) : "";
  keep = [audience.list_id, trigger.dataset.focusKey || ""];
  setBusy(trigger, true);
  var titles = {
    subscribe: "Subscription requested",
    unsubscribe: "Unsubscribe requested",
    set_groups: "Groups change requested",
  };
  bridge
    .api("POST", path(), body)
    .then(function () {
      clearAll();
      confirmed(titles[action]);
      // Busy until the card is drawn with the change applied: pressed again meanwhile, it
      // would ask a second time.
      follow(before, function () {
        release(trigger);
      });
    })
    .catch(function (error) {
      notice("change", "critical", "The change was not made", error.message, null, error.details);
      release(trigger);
    });
}

/** The change's button works again (still on the page: the card was not drawn anew). */
function release(trigger) {
  keep = null;
  if (!trigger.isConnected) return;
  setBusy(trigger, false);
  if (!document.activeElement || document.activeElement === document.body) trigger.focus();
}

var loader = new PageLoader({
  errorTitle: "The subscriptions could not be loaded",
  load: function () {
    return bridge.api("GET", path());
  },
  render: render,
});

if (customerId) {
  loader.run().then(function (data) {
    if (!data) return;
    mountEngagement(customerId);
    mountErasure(customerId, function () {
      follow(current ? signature(current) : "");
    });
  });
} else {
  $("skeleton").hidden = true;
  $("main").removeAttribute("aria-busy");
  $("no-customer").hidden = false;
}
