/*
 * The Audiences page's audience cards (see audiences.js): one card per audience imported from
 * Mailchimp, with whether the store offers it, whether it is the default, its marketing
 * permissions and the groups shoppers may pick. The page fills the list with renderAudience and
 * reads the choices back from the cards' inputs.
 */
import { badge, el, plural } from "../app.js";

var GROUP_TYPES = {
  checkboxes: "Checkboxes · shoppers pick any",
  radio: "Radio buttons · shoppers pick one",
  dropdown: "Drop-down · shoppers pick one",
  hidden: "Hidden · set by the store, never shown to shoppers",
};


function renderGroup(audience, group) {
  var row = el("div", "group-row");
  row.dataset.categoryId = group.category_id;
  var id = "group-" + audience.list_id + "-" + group.category_id;
  var label = el("label", "checkbox group-pick");
  label.setAttribute("for", id);
  var input = el("input");
  input.type = "checkbox";
  input.id = id;
  input.dataset.group = group.category_id;
  input.dataset.listId = audience.list_id;
  input.checked = group.offered && !group.removed;
  input.disabled = group.removed;
  if (group.removed) input.dataset.removed = "true";
  label.appendChild(input);
  label.appendChild(el("strong", "", group.title));
  var kind = el("span", "field-hint indent", GROUP_TYPES[group.type] || group.type);
  kind.id = id + "-type";
  input.setAttribute("aria-describedby", kind.id);
  var pick = el("div");
  pick.appendChild(label);
  pick.appendChild(kind);
  row.appendChild(pick);

  var right = el("div", "group-interests");
  if (group.removed) right.appendChild(badge("Removed in Mailchimp", "critical"));
  var chips = el("ul", "chips");
  chips.setAttribute("aria-label", "Interests in " + group.title);
  group.interests.forEach(function (interest) {
    chips.appendChild(el("li", "chip", interest.name));
  });
  if (!group.interests.length) chips.appendChild(el("li", "muted small", "No interests yet"));
  right.appendChild(chips);
  row.appendChild(right);
  return row;
}

export function renderAudience(audience) {
  var card = el("article", "card audience");
  card.dataset.listId = audience.list_id;
  var headingId = "audience-" + audience.list_id;
  card.setAttribute("aria-labelledby", headingId);

  var header = el("div", "card-header");
  var titleBox = el("div");
  var h3 = el("h3", "audience-name", audience.name);
  h3.id = headingId;
  titleBox.appendChild(h3);
  titleBox.appendChild(
    el(
      "div",
      "muted small",
      plural(audience.member_count, "member", "members") + " · audience ID " + audience.list_id
    )
  );
  header.appendChild(titleBox);
  var badges = el("div", "badges");
  if (audience.removed) badges.appendChild(badge("Removed in Mailchimp", "critical"));
  if (audience.is_default && !audience.removed) badges.appendChild(badge("Default", "info"));
  badges.appendChild(
    audience.double_optin
      ? badge("Double opt-in on", "success")
      : badge("Double opt-in off")
  );
  header.appendChild(badges);
  card.appendChild(header);

  var choices = el("div", "audience-choices");
  var activeLabel = el("label", "checkbox");
  var active = el("input");
  active.type = "checkbox";
  active.dataset.active = audience.list_id;
  active.checked = audience.active && !audience.removed;
  active.disabled = audience.removed;
  activeLabel.appendChild(active);
  activeLabel.appendChild(el("span", "", "Offer in the store"));
  choices.appendChild(activeLabel);

  var defaultLabel = el("label", "checkbox");
  var radio = el("input");
  radio.type = "radio";
  radio.name = "default-audience";
  radio.value = audience.list_id;
  radio.checked = audience.is_default && !audience.removed;
  radio.disabled = audience.removed || !active.checked;
  defaultLabel.appendChild(radio);
  defaultLabel.appendChild(el("span", "", "Default audience"));
  choices.appendChild(defaultLabel);
  card.appendChild(choices);

  var facts = el("dl", "facts mt-16");
  facts.appendChild(el("dt", "", "Marketing permissions"));
  var permissions = el("dd");
  if (audience.marketing_permissions.length) {
    var list = el("ul", "chips");
    audience.marketing_permissions.forEach(function (p) {
      list.appendChild(el("li", "chip", p.text));
    });
    permissions.appendChild(list);
  } else {
    permissions.textContent = audience.marketing_permissions_enabled
      ? "Enabled in Mailchimp; none imported yet"
      : "None (GDPR fields are off for this audience)";
    permissions.className = "muted";
  }
  facts.appendChild(permissions);
  card.appendChild(facts);

  var groupsBox = el("div", "groups mt-16");
  var groupsTitle = el("h4", "", "Groups shoppers may pick");
  groupsBox.appendChild(groupsTitle);
  if (audience.groups.length) {
    var hint = el(
      "p",
      "field-hint groups-hint",
      "Offer the audience in the store to let shoppers pick its groups."
    );
    hint.hidden = active.checked;
    groupsBox.appendChild(hint);
    audience.groups
      .slice()
      .sort(function (a, b) {
        return a.display_order - b.display_order;
      })
      .forEach(function (group) {
        groupsBox.appendChild(renderGroup(audience, group));
      });
  } else {
    groupsBox.appendChild(el("p", "muted small", "This audience has no groups in Mailchimp."));
  }
  card.appendChild(groupsBox);

  active.addEventListener("change", function () {
    syncAudienceControls(card);
  });
  syncAudienceControls(card);
  return card;
}

/** Default and groups only make sense for an audience the store offers. */
function syncAudienceControls(card) {
  var active = card.querySelector("[data-active]");
  var radio = card.querySelector('input[name="default-audience"]');
  var on = active.checked && !active.disabled;
  radio.disabled = !on;
  if (!on && radio.checked) radio.checked = false;
  var groups = card.querySelectorAll("[data-group]");
  for (var i = 0; i < groups.length; i++) {
    groups[i].disabled = !on || groups[i].dataset.removed === "true";
  }
  var hint = card.querySelector(".groups-hint");
  if (hint) hint.hidden = on;
  // The only offered audience is the default one.
  var actives = document.querySelectorAll("[data-active]:checked:not(:disabled)");
  var checkedDefault = document.querySelector('input[name="default-audience"]:checked');
  if (actives.length === 1 && !checkedDefault) {
    var only = actives[0].closest(".audience").querySelector('input[name="default-audience"]');
    only.checked = true;
  }
}

