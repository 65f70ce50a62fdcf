/*
 * The E-commerce page's abandoned-cart health (a section of its own below the channels): per
 * tracked channel, whether Mailchimp's abandoned-cart e-mails can fire, what blocks them in
 * words with the action that fixes it, Mailchimp's consent rule, and the channel's site script
 * with "Verify the site script". The server decides the state (GET /api/ecommerce/health,
 * the same answer the Activity page lists); this module only shows it.
 */
import { $, badge, bridge, button, details, el, formatTime, setBusy } from "../app.js";
import { cardAction } from "./ecommerce-channel-actions.js";

const STATES = {
  healthy: { label: "E-mails can fire", tone: "success" },
  no_automation: { label: "No automation sending", tone: "critical" },
  no_checkout_url: { label: "No checkout URL", tone: "critical" },
  store_syncing: { label: "Paused while syncing", tone: "warning" },
  carts_not_flowing: { label: "Carts not sent", tone: "critical" },
  not_checked: { label: "Not checked yet", tone: "" },
};

let checked = false;
let reads = 0; // only the latest read is drawn (a save's re-read may race the page's reload)
let reloadPage = () => {};

function section() {
  let list = $("cart-health-list");
  if (list) return list;
  const box = el("section", "app-section");
  box.id = "cart-health";
  box.setAttribute("aria-labelledby", "cart-health-title");
  const side = el("div", "section-side");
  const title = el("h2", "", "Abandoned-cart e-mails");
  title.id = "cart-health-title";
  side.appendChild(title);
  side.appendChild(
    el(
      "p",
      "small muted",
      "Whether Mailchimp can send its abandoned-cart e-mails for each tracked channel, and what to do when it cannot."
    )
  );
  box.appendChild(side);
  list = el("div", "section-main");
  list.id = "cart-health-list";
  list.setAttribute("aria-live", "polite");
  box.appendChild(list);
  $("channel-list").closest("section").after(box);
  return list;
}

function fixControl(channel, action, describedBy) {
  if (!action) return null;
  if (action.url) {
    const link = el("a", "button small", action.label);
    link.href = action.url;
    link.target = "_blank";
    link.rel = "noopener";
    link.setAttribute("aria-describedby", describedBy);
    return link;
  }
  if (action.code === "enable_carts") {
    const b = button(action.label, "", describedBy);
    let problem = null; // one line, replaced on each failed press
    b.addEventListener("click", async () => {
      setBusy(b, true, "Turning on…");
      try {
        await bridge.api("PATCH", "/api/ecommerce/settings", { abandoned_carts_enabled: true });
        // The page's reload also ticks the settings' checkbox (the save bar keeps other edits).
        reloadPage();
      } catch (error) {
        setBusy(b, false);
        if (!problem) {
          problem = el("p", "field-error");
          problem.setAttribute("role", "alert");
          b.after(problem);
        }
        problem.textContent = error.message;
      }
    });
    return b;
  }
  if (action.code === "set_checkout_url") {
    // The checkout URL is a field of the abandoned-cart settings on this page: focus it.
    const b = button(action.label, "secondary", describedBy);
    b.addEventListener("click", () => {
      const field = $("checkout-url");
      if (field) {
        field.scrollIntoView({ block: "center" });
        field.focus();
      }
    });
    return b;
  }
  // The channel card above offers the same action: take the admin to its control, which does it.
  const b = button(action.label, "secondary", describedBy);
  b.addEventListener("click", () => {
    let target = cardAction(channel.channel);
    if (!target) {
      // Nothing to press there now (a sync started meanwhile): the card itself, which says why.
      target = document.querySelector('[data-channel="' + CSS.escape(channel.channel) + '"]');
      if (!target) return;
      target.setAttribute("tabindex", "-1");
    }
    target.scrollIntoView({ block: "center" });
    target.focus();
  });
  return b;
}

function renderScript(channel, card, titleId) {
  if (!channel.script_url) return;
  const box = el("div", "mt-16");
  box.appendChild(el("strong", "", "Mailchimp site script"));
  const url = el("p", "small");
  url.appendChild(el("code", "", channel.script_url));
  box.appendChild(url);
  const statusId = "site-script-status-" + channel.channel;
  const status = el(
    "p",
    "small muted",
    channel.script_verified_at
      ? "Found on the storefront " + formatTime(channel.script_verified_at) + "."
      : "Not verified on the storefront yet. Load this script on every page of the storefront " +
          "(whoever builds the storefront adds it to the head of each page), then press Verify the site script."
  );
  status.id = statusId;
  box.appendChild(status);
  const verify = button("Verify the site script", "secondary", titleId + " " + statusId);
  const result = el("div", "");
  verify.addEventListener("click", async () => {
    setBusy(verify, true, "Asking Mailchimp…");
    result.textContent = "";
    try {
      const health = await bridge.api(
        "POST",
        "/api/ecommerce/channels/" + encodeURIComponent(channel.channel) + "/site-script/verify"
      );
      renderHealth(health);
    } catch (error) {
      setBusy(verify, false);
      const problem = el("div", "notice critical mt-8");
      problem.setAttribute("role", "alert");
      const body = el("div", "notice-body");
      body.appendChild(el("strong", "", "The site script was not verified"));
      body.appendChild(el("p", "", error.message));
      if (error.details) body.appendChild(details("Details", error.details));
      problem.appendChild(body);
      result.appendChild(problem);
    }
  });
  box.appendChild(verify);
  box.appendChild(result);
  card.appendChild(box);
}

function renderChannel(channel, rule) {
  const card = el("div", "card");
  card.dataset.healthChannel = channel.channel;
  const titleId = "health-title-" + channel.channel;
  const header = el("div", "card-header");
  const title = el("h3", "", channel.name);
  title.id = titleId;
  header.appendChild(title);
  const info = STATES[channel.state] || { label: channel.state, tone: "" };
  header.appendChild(badge(info.label, info.tone));
  card.appendChild(header);

  channel.problems.forEach((problem, i) => {
    const id = "health-problem-" + channel.channel + "-" + i;
    const row = el("div", "mt-8");
    const text = el("p", "", problem.message);
    text.id = id;
    row.appendChild(text);
    const fix = fixControl(channel, problem.action, titleId + " " + id);
    if (fix) row.appendChild(fix);
    card.appendChild(row);
  });
  if (channel.state === "healthy") {
    card.appendChild(el("p", "", "Carts reach Mailchimp and the store's abandoned-cart automation is sending."));
  }
  const facts = el("dl", "facts mt-8");
  facts.appendChild(el("dt", "", "Carts sent in the last 24 hours"));
  facts.appendChild(el("dd", "", String(channel.carts_sent_last_24h)));
  if (channel.carts_quarantined) {
    facts.appendChild(el("dt", "", "Carts that could not be sent"));
    facts.appendChild(el("dd", "", String(channel.carts_quarantined)));
  }
  facts.appendChild(el("dt", "", "Checked in Mailchimp"));
  facts.appendChild(el("dd", "", channel.checked_at ? formatTime(channel.checked_at) : "Not yet"));
  card.appendChild(facts);

  const consent = el("p", "small muted mt-8");
  consent.appendChild(document.createTextNode((channel.consent_note ? channel.consent_note + " " : "") + "Mailchimp: “" + rule.consent_rule + "” "));
  const source = el("a", "", "Mailchimp's help");
  source.href = rule.consent_source;
  source.target = "_blank";
  source.rel = "noopener";
  consent.appendChild(source);
  card.appendChild(consent);
  renderScript(channel, card, titleId);
  return card;
}

export function renderHealth(health) {
  const list = section();
  list.textContent = "";
  if (!health.channels.length) {
    list.appendChild(el("p", "muted", "Track a channel to see whether its abandoned-cart e-mails can fire."));
    return;
  }
  health.channels.forEach((c) => list.appendChild(renderChannel(c, health)));
}

/** Once per visit ask Mailchimp (POST /health/check), afterwards read the last answer. */
export function loadHealth(reload) {
  reloadPage = reload;
  const first = !checked;
  checked = true;
  const run = ++reads;
  const read = first
    ? bridge.api("POST", "/api/ecommerce/health/check").catch(() => bridge.api("GET", "/api/ecommerce/health"))
    : bridge.api("GET", "/api/ecommerce/health");
  return read.then((health) => {
    if (run === reads) renderHealth(health);
  }).catch((error) => {
    if (run !== reads) return;
    const list = section();
    list.textContent = "";
    const problem = el("div", "notice warning");
    problem.setAttribute("role", "status");
    const body = el("div", "notice-body");
    body.appendChild(el("strong", "", "The abandoned-cart health could not be loaded"));
    body.appendChild(el("p", "", error.message));
    problem.appendChild(body);
    list.appendChild(problem);
  });
}
