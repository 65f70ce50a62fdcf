/*
 * The customer panel's "Campaign engagement": what Mailchimp reported of this customer
 * (GET /api/engagement/customers/{id}, MANAGE_USERS): campaigns received, opens and clicks,
 * the last of each, Mailchimp's member rating, the last campaigns and the orders Mailchimp
 * attributes to a campaign. A customer Mailchimp told nothing of gets one plain sentence.
 */
import { $, bridge, details, el, formatTime } from "../app.js";

const TITLE_ID = "engagement-title";

function path(customerId) {
  return "/api/engagement/customers/" + encodeURIComponent(customerId);
}

function money(amount, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency }).format(amount);
  } catch (e) {
    return Number(amount).toFixed(2) + (currency ? " " + currency : "");
  }
}

function day(value) {
  if (!value) return "";
  return new Date(value).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/** A scrolling table that keyboards can reach and readers can name (as app.js does at load). */
function tableBox(caption, columns, rows) {
  const wrap = el("div", "table-wrap mt-8");
  wrap.tabIndex = 0;
  wrap.setAttribute("role", "region");
  wrap.setAttribute("aria-label", caption);
  const table = el("table");
  table.appendChild(el("caption", "visually-hidden", caption));
  const head = el("tr");
  columns.forEach((c) => {
    const th = el("th", "", c);
    th.scope = "col";
    head.appendChild(th);
  });
  const thead = el("thead");
  thead.appendChild(head);
  table.appendChild(thead);
  const body = el("tbody");
  rows.forEach((cells) => {
    const tr = el("tr");
    cells.forEach((text) => tr.appendChild(el("td", "", text)));
    body.appendChild(tr);
  });
  table.appendChild(body);
  wrap.appendChild(table);
  return wrap;
}

function rating(stars) {
  if (stars === null || stars === undefined) return "Not rated yet";
  const box = el("span");
  const shown = el("span", "", "★".repeat(stars) + "☆".repeat(Math.max(0, 5 - stars)));
  shown.setAttribute("aria-hidden", "true");
  box.appendChild(shown);
  box.appendChild(document.createTextNode(" " + stars + " of 5"));
  return box;
}

function fact(list, term, value) {
  list.appendChild(el("dt", "", term));
  const dd = el("dd");
  if (typeof value === "string") dd.textContent = value;
  else dd.appendChild(value);
  list.appendChild(dd);
}

export function renderEngagement(body, e) {
  const facts = el("dl", "facts");
  fact(facts, "Campaigns received", e.campaigns_received.toLocaleString());
  fact(facts, "Opens", e.opens.toLocaleString() + (e.last_open ? ", last " + formatTime(e.last_open) : ""));
  fact(facts, "Clicks", e.clicks.toLocaleString() + (e.last_click ? ", last " + formatTime(e.last_click) : ""));
  fact(facts, "Member rating", rating(e.member_rating));
  body.appendChild(facts);

  body.appendChild(el("h3", "mt-16", "Last campaigns"));
  if (e.last_campaigns.length) {
    body.appendChild(
      tableBox(
        "Last campaigns sent to this customer",
        ["Campaign", "Sent", "Opened", "Clicked"],
        e.last_campaigns.map((c) => [c.title, day(c.sent_at), c.opened ? "Yes" : "No", c.clicked ? "Yes" : "No"])
      )
    );
  } else {
    body.appendChild(el("p", "muted", "No campaign recorded yet."));
  }

  body.appendChild(el("h3", "mt-16", "Orders from campaigns"));
  if (e.attributed_orders.length) {
    body.appendChild(
      tableBox(
        "Orders Mailchimp attributes to a campaign",
        ["Order", "Campaign", "Total", "Ordered"],
        e.attributed_orders.map((o) => [
          o.order_id,
          o.campaign_title || o.campaign_id,
          money(o.total, o.currency),
          day(o.ordered_at),
        ])
      )
    );
  } else {
    body.appendChild(el("p", "muted", "No order came from a campaign so far."));
  }
}

/** The card above the erasure card: a skeleton, then the customer's engagement. */
export function mountEngagement(customerId) {
  if (!customerId) return Promise.resolve(null);
  let card = $("engagement");
  if (!card) {
    card = el("section", "card mt-16");
    card.id = "engagement";
    card.setAttribute("aria-labelledby", TITLE_ID);
    const erasure = $("erasure");
    erasure.parentNode.insertBefore(card, erasure);
  }
  card.textContent = "";
  const header = el("div", "card-header");
  const title = el("div");
  const h2 = el("h2", "", "Campaign engagement");
  h2.id = TITLE_ID;
  title.appendChild(h2);
  title.appendChild(el("p", "muted small mb-0", "What Mailchimp reported of the campaigns this customer received."));
  header.appendChild(title);
  card.appendChild(header);
  const body = el("div");
  body.setAttribute("aria-busy", "true");
  const skeleton = el("div");
  skeleton.setAttribute("aria-hidden", "true");
  ["w-60", "", "w-80"].forEach((w) => skeleton.appendChild(el("div", "skeleton-line " + w)));
  body.appendChild(skeleton);
  card.appendChild(body);

  return bridge
    .api("GET", path(customerId))
    .then((engagement) => {
      body.textContent = "";
      renderEngagement(body, engagement);
      return engagement;
    })
    .catch((error) => {
      body.textContent = "";
      if (error.status === 404) {
        body.appendChild(
          el("p", "mb-0", "Mailchimp has reported no campaign activity for this customer yet: no campaign they received has been collected, or none was sent to them.")
        );
        return null;
      }
      const problem = el("div", "notice critical");
      problem.setAttribute("role", "alert");
      const text = el("div", "notice-body");
      text.appendChild(el("strong", "", "The engagement could not be loaded"));
      text.appendChild(el("p", "", "Reopen the panel to try again."));
      text.appendChild(details("Details", error.message + (error.code ? " (" + error.code + ")" : "")));
      problem.appendChild(text);
      body.appendChild(problem);
      return null;
    })
    .then((result) => {
      body.removeAttribute("aria-busy");
      return result;
    });
}
