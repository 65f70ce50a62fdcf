/*
 * The E-commerce page's promo codes (a section of the settings form, saved by the page's save
 * bar, see ecommerce.js): which Saleor vouchers become Mailchimp promo codes (none, all, or
 * those flagged in their metadata) and where a code is redeemed. Its values travel in the
 * page's settings under `promo_*` keys; they are read from and saved to /api/ecommerce/promos.
 */
import { $, bridge, button, clearFieldError, details, el, fieldError, setBusy } from "../app.js";
import { partlySaved } from "../save-bar.js";

const OFFERS = [
  ["none", "No vouchers", "Nothing is sent: Mailchimp's e-mails offer no code from the store."],
  ["all", "Every voucher", "All vouchers of the tracked channels, with all their codes."],
  [
    "flagged",
    "Only vouchers flagged in their metadata",
    "A voucher is offered when its public metadata key below is set to \"true\" in Saleor.",
  ],
];
let counts = null; // the last PromosRead's counts
// Whether the form shows the saved promo choice: not while its read has failed (the section
// says so, with Retry; the rest of the page works, and Save leaves the choice alone).
let shown = false;
let reload = () => {};

function radio([value, label, hint]) {
  const box = el("div", "choice-card");
  const wrap = el("label", "checkbox");
  const input = el("input");
  input.type = "radio";
  input.name = "promo-offer";
  input.value = value;
  input.id = "promo-offer-" + value;
  input.setAttribute("aria-describedby", input.id + "-hint");
  wrap.appendChild(input);
  wrap.appendChild(document.createTextNode(" "));
  const text = el("span");
  text.appendChild(el("strong", "", label));
  wrap.appendChild(text);
  box.appendChild(wrap);
  const note = el("span", "field-hint indent", hint);
  note.id = input.id + "-hint";
  box.appendChild(note);
  return box;
}

function field(id, label, placeholder, hint) {
  const box = el("div", "field");
  box.id = id + "-field";
  const name = el("label", "", label);
  name.htmlFor = id;
  box.appendChild(name);
  const input = el("input");
  input.type = "text";
  input.id = id;
  input.spellcheck = false;
  input.autocomplete = "off";
  input.placeholder = placeholder;
  input.setAttribute("aria-describedby", id + "-hint " + id + "-error");
  box.appendChild(input);
  const note = el("div", "field-hint");
  note.id = id + "-hint";
  note.innerHTML = hint;
  box.appendChild(note);
  const error = el("div", "field-error");
  error.id = id + "-error";
  box.appendChild(error);
  return box;
}

function showFlag() {
  const flagged = offer() === "flagged";
  $("promo-flag-key-field").hidden = !flagged;
  if (!flagged) clearFieldError("promo-flag-key");
}

function offer() {
  const checked = document.querySelector('input[name="promo-offer"]:checked');
  return checked ? checked.value : "none";
}

function renderCounts() {
  const line = $("promo-status");
  if (!counts) {
    line.textContent = "";
    return;
  }
  const sent = counts.rules_sent;
  let text = sent === 1 ? "1 voucher is in Mailchimp." : sent + " vouchers are in Mailchimp.";
  if (counts.rules_pending) text += " " + counts.rules_pending + " waiting to be sent.";
  line.textContent = text;
  // What a voucher's push left for the admin (codes left out or refused, a permission).
  const list = $("promo-notices");
  list.replaceChildren(
    ...(counts.notices || []).map((n) => el("li", "", n.voucher + " (" + n.channel + "): " + n.message))
  );
  list.hidden = !list.children.length;
}

/** The section's own error when the promo choice could not be read, with Retry. */
function problemBox() {
  const box = el("div", "notice critical");
  box.id = "promo-load-error";
  box.setAttribute("role", "alert");
  box.hidden = true;
  const body = el("div", "notice-body");
  body.appendChild(el("strong", "", "The promo codes could not be loaded"));
  const text = el("p");
  text.id = "promo-load-error-text";
  body.appendChild(text);
  box.appendChild(body);
  const actions = el("div", "notice-actions");
  const retry = button("Retry", "");
  retry.id = "promo-retry";
  retry.addEventListener("click", () => {
    setBusy(retry, true, "Retrying…");
    // The page's read failing as a whole is said by the page: Retry works again.
    Promise.resolve(reload()).finally(() => {
      if (retry.hasAttribute("aria-busy")) setBusy(retry, false);
    });
  });
  actions.appendChild(retry);
  box.appendChild(actions);
  return box;
}

function showProblem(error) {
  const box = $("promo-load-error");
  $("promo-load-error-text").textContent = error ? error.message + " The rest of the page works; press Retry to try again." : "";
  const old = box.querySelector(".tech-details");
  if (old) old.remove();
  if (error && error.details) box.querySelector(".notice-body").appendChild(details("Details", error.details));
  const retry = $("promo-retry");
  const retrying = retry.hasAttribute("aria-busy");
  const hadFocus = retry.dataset.hadFocus;
  box.hidden = !error;
  $("promo-fields").hidden = Boolean(error);
  if (retrying) setBusy(retry, false);
  // Read at last: the focus that was on Retry goes to the choice it brought back.
  if (!error && retrying && hadFocus) {
    const chosen = document.querySelector('input[name="promo-offer"]:checked') || $("promo-offer-none");
    chosen.focus();
  }
}

/** Build the section (inside the settings form, after the storefront links); `onRetry`
 * reads the page again when the promo choice failed to load. */
export function setUpPromos(onRetry) {
  if (onRetry) reload = onRetry;
  const section = el("section", "app-section");
  section.id = "promo-codes";
  section.setAttribute("aria-labelledby", "promo-title");
  const side = el("div", "section-side");
  const title = el("h2", "", "Promo codes");
  title.id = "promo-title";
  side.appendChild(title);
  side.appendChild(
    el(
      "p",
      "",
      "Saleor vouchers become promo codes in Mailchimp, for coupon blocks in e-mails and abandoned-cart reminders. Not every code belongs in a marketing e-mail, so choose which ones go."
    )
  );
  section.appendChild(side);
  const main = el("div", "section-main");
  const card = el("div", "card");
  card.appendChild(problemBox());
  // The section's fields: not shown while the saved choice is unknown (not a choice to make).
  const fields = el("div");
  fields.id = "promo-fields";
  const set = el("fieldset", "fieldset");
  set.appendChild(el("legend", "", "Vouchers offered to Mailchimp"));
  OFFERS.forEach((o) => set.appendChild(radio(o)));
  fields.appendChild(set);
  const flag = field(
    "promo-flag-key",
    "Flag (metadata key)",
    "mailchimp_promo",
    "Set this public metadata key to <code>true</code> on a voucher in Saleor to offer it."
  );
  flag.classList.add("mt-8");
  fields.appendChild(flag);
  fields.appendChild(
    field(
      "promo-url",
      "Redemption URL",
      "https://shop.example.com/cart?promo={code}",
      "Where a shopper uses a code. Placeholders: <code>{code}</code>, <code>{channel}</code>. Without one, codes link to your store."
    )
  );
  card.appendChild(fields);
  const status = el("p", "small muted");
  status.id = "promo-status";
  status.setAttribute("role", "status");
  card.appendChild(status);
  const notices = el("ul", "small");
  notices.id = "promo-notices";
  notices.hidden = true;
  card.appendChild(notices);
  main.appendChild(card);
  section.appendChild(main);
  const after = $("settings-title").closest("section");
  after.after(section);
  set.addEventListener("change", showFlag);
  showFlag();
}

/**
 * The page's settings with the promo choice merged in (`promo_*` keys). Its read failing
 * leaves them out: the section says why, the rest of the page loads.
 */
export function withPromos(reading) {
  const promos = bridge.api("GET", "/api/ecommerce/promos").catch((error) => ({ error }));
  return Promise.all([reading, promos]).then(([data, answer]) => {
    if (answer.error) {
      if (!shown) showProblem(answer.error);
      else if ($("promo-retry").hasAttribute("aria-busy")) setBusy($("promo-retry"), false);
      return data;
    }
    counts = answer;
    renderCounts();
    data.settings = { ...data.settings, ...promoValues(answer.settings) };
    return data;
  });
}

function promoValues(s) {
  return {
    promo_offer: s.offer,
    promo_flag_key: s.flag_key,
    promo_redemption_url_template: s.redemption_url_template,
  };
}

export function readPromos() {
  if (!shown) return {};
  return {
    promo_offer: offer(),
    promo_flag_key: $("promo-flag-key").value.trim() || "mailchimp_promo",
    promo_redemption_url_template: $("promo-url").value.trim() || null,
  };
}

export function fillPromos(s) {
  if (!("promo_offer" in s)) return; // a reply without them: what is shown stays
  shown = true;
  showProblem(null);
  const chosen = $("promo-offer-" + s.promo_offer) || $("promo-offer-none");
  chosen.checked = true;
  $("promo-flag-key").value = s.promo_flag_key || "";
  $("promo-url").value = s.promo_redemption_url_template || "";
  showFlag();
}

// The server's limits (PromoSettingsUpdate) checked before anything is saved, as the promo
// choice is saved after the rest of the page, which a refusal of it would leave saved alone.
// The redemption link is checked by the server itself (ecommerce.js, `promoDraft`).
const FLAG_KEY_MAX = 255;

export function validatePromos() {
  clearFieldError("promo-url");
  clearFieldError("promo-flag-key");
  let ok = true;
  if (!shown) return ok;
  // Checked whichever vouchers are offered: the key is saved with the choice all the same.
  const key = $("promo-flag-key").value.trim();
  let keyProblem = "";
  if (key.length > FLAG_KEY_MAX) {
    keyProblem = "Shorten the key: at most " + FLAG_KEY_MAX + " characters.";
  } else if (key && !/^[A-Za-z0-9_.:-]+$/.test(key)) {
    keyProblem = "Use letters, digits, and _ . : - only, like mailchimp_promo.";
  }
  if (keyProblem) {
    $("promo-flag-key-field").hidden = false; // where the admin can see and fix it
    fieldError("promo-flag-key", keyProblem);
    ok = false;
  }
  return ok;
}

function promoChanged(changed) {
  return changed.some((key) => key.startsWith("promo_"));
}

/** What of the promo choice the server checks before the page saves (POST
 * /api/ecommerce/settings/check): its redemption link, when the choice is to be saved. */
export function promoDraft(values, changed) {
  if (!("promo_offer" in values) || !promoChanged(changed)) return {};
  return { redemption_url_template: values.promo_redemption_url_template };
}

/**
 * Save the page's settings: the `changed` ones of the rest through `saveRest` (which answers
 * the saved settings), the promo choice through PUT /api/ecommerce/promos when part of it
 * changed (a PUT sends it whole); answers both merged.
 */
export function savePromos(values, changed, saveRest) {
  const rest = {};
  changed.forEach((key) => {
    if (!key.startsWith("promo_")) rest[key] = values[key];
  });
  const body = {
    offer: values.promo_offer,
    flag_key: values.promo_flag_key,
    redemption_url_template: values.promo_redemption_url_template,
  };
  // The promo choice not loaded (not in the values) or not changed: not sent.
  if (!("promo_offer" in values) || !promoChanged(changed)) return saveRest(rest);
  return saveRest(rest).then((settings) =>
    bridge.api("PUT", "/api/ecommerce/promos", body).then(
      (promos) => {
        counts = promos;
        renderCounts();
        return { ...settings, ...promoValues(promos.settings) };
      },
      // The rest was saved: the save bar takes it as saved, the promo choice stays unsaved.
      (error) => {
        throw partlySaved(error, rest, (data) => {
          const kept = {};
          Object.keys(data).forEach((key) => {
            if (key.startsWith("promo_")) kept[key] = data[key];
          });
          return { ...settings, ...kept };
        });
      }
    )
  );
}
