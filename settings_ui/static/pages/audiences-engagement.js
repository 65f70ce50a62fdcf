/*
 * The Audiences page's "Engagement" section: how long after a send a campaign's activity is
 * collected (the activity update interval, days) and how often the collection runs. Part of
 * the page's save bar: `withEngagement` adds the settings to the audiences data the page loads,
 * `engagementBar` wraps the save bar's functions so that Save also sends them (PUT
 * /api/engagement/settings, only when they changed) and Discard puts them back.
 */
import { $, bridge, clearFieldError, el, fieldError } from "../app.js";
import { partlySaved } from "../save-bar.js";

const SCHEDULES = [
  [15, "Every 15 minutes"],
  [30, "Every 30 minutes"],
  [60, "Every hour"],
  [120, "Every 2 hours"],
  [180, "Every 3 hours"],
  [360, "Every 6 hours"],
  [720, "Every 12 hours"],
  [1440, "Once a day"],
];
const MIN_DAYS = 1;
const MAX_DAYS = 365;

let saved = null; // the last settings read or saved (EngagementRun), null if they failed to load
let loadError = null;

function field(id, labelText, control, hint) {
  const box = el("div", "field");
  const label = el("label", "", labelText);
  label.setAttribute("for", id);
  control.id = id;
  control.setAttribute("aria-describedby", id + "-hint " + id + "-error");
  box.appendChild(label);
  box.appendChild(control);
  const h = el("div", "field-hint", hint);
  h.id = id + "-hint";
  box.appendChild(h);
  const error = el("div", "field-error");
  error.id = id + "-error";
  box.appendChild(error);
  return box;
}

function section(form) {
  const s = el("section", "app-section");
  s.id = "engagement-section";
  s.setAttribute("aria-labelledby", "engagement-title");
  const side = el("div", "section-side");
  const h2 = el("h2", "", "Engagement");
  h2.id = "engagement-title";
  side.appendChild(h2);
  side.appendChild(
    el(
      "p",
      "",
      "The app brings back from Mailchimp who opened, clicked and bought from each campaign, " +
        "for the Reports page and each customer's private metadata in Saleor."
    )
  );
  const link = el("a", "", "See the results on the Reports page");
  link.href = "/app/reports" + window.location.search; // the dashboard's query follows links
  link.dataset.nav = "";
  const more = el("p", "small");
  more.appendChild(link);
  more.appendChild(document.createTextNode("."));
  side.appendChild(more);
  s.appendChild(side);
  const main = el("div", "section-main");
  const card = el("div", "card");
  const problem = el("p", "notice critical");
  problem.id = "engagement-load-error";
  problem.setAttribute("role", "alert");
  problem.hidden = true;
  card.appendChild(problem);
  const days = el("input");
  days.type = "text";
  days.inputMode = "numeric";
  days.autocomplete = "off";
  card.appendChild(
    field(
      "engagement-days",
      "Activity update interval (days)",
      days,
      "How long after a campaign's send its opens, clicks and orders are still collected, " +
        "from " + MIN_DAYS + " to " + MAX_DAYS + " days. Customers who opened or clicked within it count as engaged."
    )
  );
  const schedule = el("select");
  SCHEDULES.forEach(([minutes, text]) => {
    const option = el("option", "", text);
    option.value = String(minutes);
    schedule.appendChild(option);
  });
  card.appendChild(
    field(
      "engagement-schedule",
      "Collect",
      schedule,
      "How often the app asks Mailchimp for new activity; the Reports page can also collect at once."
    )
  );
  main.appendChild(card);
  s.appendChild(main);
  form.appendChild(s);
}

function fillEngagement(run) {
  const problem = $("engagement-load-error");
  problem.hidden = !loadError;
  problem.textContent = loadError ? "The engagement settings could not be loaded: " + loadError : "";
  $("engagement-days").disabled = !run;
  $("engagement-schedule").disabled = !run;
  clearFieldError("engagement-days");
  if (!run) return;
  $("engagement-days").value = String(run.activity_interval_days);
  const select = $("engagement-schedule");
  const value = String(run.schedule_minutes);
  if (!Array.from(select.options).some((o) => o.value === value)) {
    // Set elsewhere (the API) to a value the list lacks: offer it as it is.
    const option = el("option", "", "Every " + value + " minutes");
    option.value = value;
    select.appendChild(option);
  }
  select.value = value;
}

function readEngagement() {
  if (!saved) return null;
  const raw = $("engagement-days").value.trim();
  return {
    activity_interval_days: /^\d{1,4}$/.test(raw) ? Number(raw) : raw,
    schedule_minutes: Number($("engagement-schedule").value),
  };
}

function validateEngagement() {
  clearFieldError("engagement-days");
  const values = readEngagement();
  if (!values) return true;
  const days = values.activity_interval_days;
  if (typeof days !== "number" || days < MIN_DAYS || days > MAX_DAYS) {
    fieldError("engagement-days", "Write a whole number of days from " + MIN_DAYS + " to " + MAX_DAYS + ".");
    return false;
  }
  return true;
}

/** The audiences data with the engagement settings (`engagement`) beside it. */
export function withEngagement(audiences) {
  const settings = bridge.api("GET", "/api/engagement/settings").then(
    (run) => {
      loadError = null;
      saved = run;
      return run;
    },
    (error) => {
      // The rest of the page still works; this section says why it cannot.
      loadError = error.message;
      saved = null;
      return null;
    }
  );
  return Promise.all([audiences, settings]).then(([data, run]) => Object.assign({}, data, { engagement: run }));
}

/** The app's refusal (4xx) names the field it refuses: marked there. An outage (5xx, no
 * answer) says nothing about the values: the save bar says it, no field is marked. */
function markRefused(error) {
  if (!(error.status >= 400 && error.status < 500)) return;
  const message = error.message || "";
  if (/activity (update )?interval/i.test(message)) fieldError("engagement-days", message);
  else if (/^(Collection|Schedule minutes)\b/i.test(message)) fieldError("engagement-schedule", message);
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The save bar's options with the engagement section's fields added. */
export function engagementBar(options) {
  section(options.form);
  return Object.assign({}, options, {
    read: () => Object.assign(options.read(), { engagement: readEngagement() }),
    fill: (data) => {
      options.fill(data);
      // A reload of the audiences alone (Refresh from Mailchimp) keeps what was last saved.
      fillEngagement(data.engagement === undefined ? saved : data.engagement);
    },
    apply:
      options.apply &&
      ((values) => {
        options.apply(values);
        if (values.engagement) fillEngagement(values.engagement);
      }),
    validate: () => {
      const audiences = options.validate();
      const engagement = validateEngagement();
      return audiences && engagement;
    },
    save: (values) => {
      const wanted = values.engagement;
      const rest = Object.assign({}, values);
      delete rest.engagement;
      const before = saved && {
        activity_interval_days: saved.activity_interval_days,
        schedule_minutes: saved.schedule_minutes,
      };
      const changed = Boolean(wanted) && !same(wanted, before);
      const first = changed
        ? bridge.api("PUT", "/api/engagement/settings", wanted).then(
            (run) => {
              saved = run;
              return run;
            },
            (error) => {
              markRefused(error);
              throw error;
            }
          )
        : Promise.resolve(saved);
      return first.then((run) =>
        options.save(rest).then(
          (data) => Object.assign({}, data, { engagement: run }),
          (error) => {
            // The engagement settings were saved before the rest failed: they are saved.
            if (!changed) throw error;
            throw partlySaved(error, { engagement: values.engagement }, (data) =>
              Object.assign({}, data, { engagement: run })
            );
          }
        )
      );
    },
  });
}
