/* The Activity page: recent events and jobs, filtered by status; Retry for quarantined ones. */
(function () {
  "use strict";

  var bridge = window.appBridge;
  var statusFilter = "";

  var STATUS = {
    pending: { label: "Waiting", tone: "info" },
    running: { label: "Running", tone: "warning" },
    done: { label: "Done", tone: "success" },
    quarantined: { label: "Quarantined", tone: "critical" },
  };

  var $ = window.dom.$;

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function message(text) {
    var body = $("activity-rows");
    body.textContent = "";
    var row = document.createElement("tr");
    var td = cell(row, text, "empty");
    td.colSpan = 7;
    body.appendChild(row);
  }

  function renderCounts(counts) {
    var total = 0;
    Object.keys(STATUS).forEach(function (status) {
      var n = counts[status] || 0;
      total += n;
      document.querySelector('[data-count="' + status + '"]').textContent = "(" + n + ")";
    });
    document.querySelector('[data-count="all"]').textContent = "(" + total + ")";
    var notice = $("quarantine-notice");
    notice.hidden = !counts.quarantined;
    $("quarantine-title").textContent =
      counts.quarantined === 1
        ? "1 item is quarantined"
        : counts.quarantined + " items are quarantined";
  }

  function renderRows(items) {
    var body = $("activity-rows");
    body.textContent = "";
    if (!items.length) {
      message(
        statusFilter
          ? "Nothing " + STATUS[statusFilter].label.toLowerCase() + " right now."
          : "Nothing happened yet. Events from Saleor and the app's work appear here."
      );
      return;
    }
    items.forEach(function (item) {
      var row = document.createElement("tr");
      row.dataset.jobId = String(item.id);
      var what = cell(row, "");
      var title = document.createElement("div");
      title.textContent = item.summary;
      what.appendChild(title);
      var sub = document.createElement("div");
      sub.className = "muted small";
      sub.textContent = (item.category === "event" ? "Event from Saleor" : "Job") + " · #" + item.id;
      what.appendChild(sub);
      var statusCell = cell(row, "");
      var badge = document.createElement("span");
      var info = STATUS[item.status] || { label: item.status, tone: "" };
      badge.className = "badge " + info.tone;
      badge.textContent = info.label;
      statusCell.appendChild(badge);
      cell(row, String(item.attempts));
      cell(row, item.last_error || "—", item.last_error ? "error-text" : "muted");
      cell(row, bridge.formatTime(item.created_at));
      cell(row, bridge.formatTime(item.finished_at || item.updated_at));
      var actions = cell(row, "");
      if (item.can_retry) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button small";
        button.textContent = "Retry";
        button.setAttribute("aria-label", "Retry " + item.summary + " (#" + item.id + ")");
        button.addEventListener("click", function () {
          retry(item, button);
        });
        actions.appendChild(button);
      }
      body.appendChild(row);
    });
  }

  function load() {
    var query = statusFilter ? "?status=" + encodeURIComponent(statusFilter) : "";
    return bridge
      .api("GET", "/api/activity" + query)
      .then(function (page) {
        renderCounts(page.counts);
        renderRows(page.items);
      })
      .catch(function (error) {
        message(error.message);
      });
  }

  function retry(item, button) {
    button.disabled = true;
    button.textContent = "Retrying…";
    bridge
      .api("POST", "/api/activity/jobs/" + encodeURIComponent(item.id) + "/retry")
      .then(function (result) {
        bridge.notify("success", "Retry scheduled", result.message);
        return load();
      })
      .catch(function (error) {
        bridge.notify("error", "Retry failed", error.message);
        button.disabled = false;
        button.textContent = "Retry";
        return load();
      });
  }

  var filters = document.querySelectorAll("#filters button");
  for (var i = 0; i < filters.length; i++) {
    filters[i].addEventListener("click", function (event) {
      statusFilter = event.currentTarget.getAttribute("data-status") || "";
      for (var j = 0; j < filters.length; j++) {
        filters[j].setAttribute("aria-pressed", String(filters[j] === event.currentTarget));
      }
      load();
    });
  }
  $("refresh").addEventListener("click", load);
  load();
})();
