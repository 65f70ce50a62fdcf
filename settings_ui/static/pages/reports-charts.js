/*
 * The Reports page's figures in words (counts, rates, money, days as the admin's locale writes
 * them) and in pictures: the three charts of GET /api/engagement/campaigns, each with its table
 * (charts.js draws them).
 */
import { $ } from "../app.js";
import { barChart, lineChart, shareChart } from "../charts.js";

// --- formatting ----------------------------------------------------------------------------

export function count(n) {
  return Number(n).toLocaleString();
}

export function percent(rate) {
  if (rate === null || rate === undefined) return "—";
  return new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 }).format(rate);
}

/** An amount in its currency; `ownDigits`: with the currency's usual decimals (¥12, US$0.74)
 * rather than two (an amount per recipient). */
export function money(amount, currency, ownDigits) {
  const digits = { minimumFractionDigits: 2, maximumFractionDigits: 2 };
  if (currency) {
    try {
      const options = ownDigits ? { style: "currency", currency } : { style: "currency", currency, ...digits };
      return new Intl.NumberFormat(undefined, options).format(amount);
    } catch (e) {
      // not an ISO currency code Intl knows: the number and the code as Mailchimp sent it
    }
  }
  const number = Number(amount).toLocaleString(undefined, digits);
  return currency ? number + " " + currency : number;
}

export function amounts(list, ownDigits) {
  if (!list.length) return money(0, null);
  return list.map((a) => money(a.amount, a.currency, ownDigits)).join(" + ");
}

export function day(value) {
  if (!value) return "";
  return new Date(value).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

export function shortDay(isoDay) {
  // A calendar day (YYYY-MM-DD) read as UTC, shown without a time-zone shift.
  return new Date(isoDay + "T00:00:00Z").toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
}

export function every(minutes) {
  if (minutes === 60) return "every hour";
  if (minutes === 1440) return "once a day";
  if (minutes % 60 === 0) return "every " + minutes / 60 + " hours";
  return "every " + minutes + " minutes";
}

/** A calendar day (YYYY-MM-DD, UTC) with its year: "1 Jan 2025". */
function fullDay(isoDay) {
  return new Date(isoDay + "T00:00:00Z").toLocaleDateString(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    timeZone: "UTC",
  });
}

/** How the days `isoDays` (YYYY-MM-DD, UTC) are named together: "3 Dec" while all are of this
 * year, else each with its year ("30 Dec 2025", "2 Jan 2026"), as the range in words has it. */
function dayNamer(isoDays) {
  const thisYear = String(new Date().getUTCFullYear());
  return isoDays.every((d) => d.slice(0, 4) === thisYear) ? shortDay : fullDay;
}

/** The date range in words, years included (a range may be of any year): "sent from 1 Jan
 * 2030 until 1 Feb 2030". The one helper for the Reports page's range (table and charts). */
export function rangeText(from, to) {
  if (from && to) return "sent from " + fullDay(from) + " until " + fullDay(to);
  if (from) return "sent from " + fullDay(from);
  if (to) return "sent until " + fullDay(to);
  return "sent at any time";
}

// --- charts --------------------------------------------------------------------------------

function revenueChart(data) {
  const bars = data.top_revenue.map((b) => ({
    label: b.title,
    value: b.revenue,
    text: money(b.revenue, b.currency),
  }));
  // The bars are of one currency (amounts in two cannot be compared): say which, when the
  // range's campaigns brought revenue in others too (those are in the table).
  const shown = data.top_revenue.length ? data.top_revenue[0].currency : null;
  const others = [
    ...new Set(
      data.campaigns
        .filter((c) => c.revenue > 0 && c.currency && c.currency !== shown)
        .map((c) => c.currency),
    ),
  ].sort();
  return barChart({
    title: "Revenue per campaign",
    description:
      "The campaigns whose e-mails brought the most revenue, up to 10." +
      (shown && others.length
        ? " In " + shown + ", the currency of the most orders; revenue in " +
          others.join(", ") + " is in the table."
        : ""),
    summary: bars.length ? "Most revenue: " + bars[0].label + ", " + bars[0].text + "." : "",
    bars,
    labelName: "Campaign",
    valueName: "Revenue",
    empty: "No campaign " + rangeText(data.sent_from, data.sent_to) + " has brought an order yet.",
  });
}

function activityChart(data) {
  const points = data.activity;
  const opens = points.map((p) => p.opens);
  const clicks = points.map((p) => p.clicks);
  const sum = (values) => values.reduce((a, b) => a + b, 0);
  const dayText = dayNamer(points.map((p) => p.day));
  let busiest = 0;
  opens.forEach((v, i) => {
    if (v > opens[busiest]) busiest = i;
  });
  const figure = lineChart({
    title: "Opens and clicks over time",
    description: "Per day (UTC), for the campaigns " + rangeText(data.sent_from, data.sent_to) + ".",
    summary: points.length
      ? count(sum(opens)) + " opens and " + count(sum(clicks)) + " clicks from " +
        dayText(points[0].day) + " to " + dayText(points[points.length - 1].day) +
        "; the most opens, " + count(opens[busiest]) + ", on " + dayText(points[busiest].day) + "."
      : "",
    labels: points.map((p) => dayText(p.day)),
    series: [
      { name: "Opens", values: opens },
      { name: "Clicks", values: clicks },
    ],
    xName: "Day",
    empty: "No opens or clicks recorded for these campaigns yet.",
  });
  figure.classList.add("wide");
  return figure;
}

function splitChart(data, run) {
  const s = data.split;
  const share = (a, b) => (a + b ? Math.round((a / (a + b)) * 100) + " %" : "none");
  return shareChart({
    title: "Engaged and unengaged customers",
    description:
      "Engaged: opened or clicked a campaign in the last " + run.activity_interval_days +
      " days. Guests (no account in the store) are counted here but not written anywhere.",
    summary:
      "Customers: " + count(s.engaged_customers) + " engaged, " + count(s.unengaged_customers) +
      " not (" + share(s.engaged_customers, s.unengaged_customers) + " engaged). Guests: " +
      count(s.engaged_guests) + " engaged, " + count(s.unengaged_guests) + " not.",
    rows: [
      { label: "Customers", parts: [{ value: s.engaged_customers }, { value: s.unengaged_customers }] },
      { label: "Guests", parts: [{ value: s.engaged_guests }, { value: s.unengaged_guests }] },
    ],
    parts: ["Engaged", "Not engaged"],
    rowName: "Recipients",
    empty: "No recipient's activity has been collected yet.",
  });
}

let drawn = ""; // what the charts show: a new sort order leaves them (and open tables) as they are

export function renderCharts(data) {
  const what = JSON.stringify([
    data.sent_from,
    data.sent_to,
    data.top_revenue,
    data.activity,
    data.split,
    data.run.activity_interval_days,
  ]);
  if (what === drawn) return;
  drawn = what;
  $("charts").replaceChildren(activityChart(data), revenueChart(data), splitChart(data, data.run));
}
