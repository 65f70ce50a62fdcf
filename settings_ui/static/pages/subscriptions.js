/*
 * The Subscriptions page: two-way sync and its priority (newsletter settings; saving sends only
 * these two with PATCH /api/audiences/settings, so the Audiences page's choices stay as they are),
 * and the storefront developer's reference filled in with this installation's values.
 */
import {
  $,
  PageLoader,
  SaveBar,
  bridge,
  clearFieldError,
  confirmDialog,
  confirmed,
  el,
  fieldError,
  notice,
  setBusy,
} from "../app.js";
import { partlySaved } from "../save-bar.js";

var current = null; // the last AudiencesRead

function code(text) {
  return el("code", "", text);
}

// --- two-way sync ----------------------------------------------------------------------

function renderSync(settings) {
  $("two-way").checked = settings.two_way;
  $("priority-mailchimp").checked = settings.priority !== "store_wins";
  $("priority-store").checked = settings.priority === "store_wins";
  syncPriority();
}

/** The priority settles conflicts between the two sides: without two-way there are none. */
function syncPriority() {
  var on = $("two-way").checked;
  var radios = document.querySelectorAll('input[name="priority"]');
  for (var i = 0; i < radios.length; i++) radios[i].disabled = !on;
}

function read() {
  return {
    two_way: $("two-way").checked,
    priority: $("priority-store").checked ? "store_wins" : "mailchimp_wins",
    delete_orders: $("erase-orders").checked,
  };
}

function fill(data) {
  current = data;
  $("erase-orders").checked = Boolean(data.erasure && data.erasure.delete_orders);
  renderSync(data.settings);
  renderIds(data);
  renderSnippets(data);
}

// --- storefront integration ------------------------------------------------------------

function appUrl() {
  var fromServer = $("integration").getAttribute("data-app-url");
  return (fromServer || window.location.origin).replace(/\/+$/, "");
}

function renderIds(data) {
  var body = $("id-rows");
  body.textContent = "";
  var active = data.audiences.filter(function (a) {
    return a.active && !a.removed;
  });
  if (!active.length) {
    var row = el("tr");
    var td = el(
      "td",
      "empty",
      "The store offers no audience yet: choose one on the Audiences & groups page."
    );
    td.colSpan = 3;
    row.appendChild(td);
    body.appendChild(row);
    return;
  }
  active.forEach(function (a) {
    var row = el("tr");
    var name = el("td");
    name.appendChild(el("div", "", a.name + (a.is_default ? " (default)" : "")));
    name.appendChild(code(a.list_id));
    row.appendChild(name);
    var groups = el("td");
    var offered = a.groups.filter(function (g) {
      return g.offered && !g.removed;
    });
    if (!offered.length) groups.appendChild(el("span", "muted", "No groups offered"));
    offered.forEach(function (g) {
      var box = el("div", "mb-12");
      box.appendChild(el("div", "", g.title + " (" + g.type + ")"));
      g.interests.forEach(function (i) {
        var line = el("div", "small");
        line.appendChild(code(i.id));
        line.appendChild(document.createTextNode(" " + i.name));
        box.appendChild(line);
      });
      groups.appendChild(box);
    });
    row.appendChild(groups);
    var permissions = el("td");
    if (!a.marketing_permissions.length) permissions.appendChild(el("span", "muted", "None"));
    a.marketing_permissions.forEach(function (p) {
      var line = el("div", "small");
      line.appendChild(code(p.id));
      line.appendChild(document.createTextNode(" " + p.text));
      permissions.appendChild(line);
    });
    row.appendChild(permissions);
    body.appendChild(row);
  });
}

/** Example ids: the store's real ones where it has them. */
function exampleIds(data) {
  var active = data.audiences.filter(function (a) {
    return a.active && !a.removed;
  });
  var audience =
    active.filter(function (a) {
      return a.is_default;
    })[0] || active[0];
  var ids = { list: "AUDIENCE_ID", interest: "INTEREST_ID", permission: "PERMISSION_ID" };
  if (!audience) return ids;
  ids.list = audience.list_id;
  audience.groups.some(function (g) {
    if (g.offered && !g.removed && g.interests.length && g.type !== "hidden") {
      ids.interest = g.interests[0].id;
      return true;
    }
    return false;
  });
  if (audience.marketing_permissions.length) {
    ids.permission = audience.marketing_permissions[0].id;
  }
  return ids;
}

function consentLines(ids, indent) {
  return [
    '{key: "mailchimp.consent.subscribe", value: "true"}',
    '{key: "mailchimp.consent.audiences", value: "' + ids.list + '"}',
    "# the whole choice of the groups shown (others off); no groups shown: leave this key out",
    '{key: "mailchimp.consent.groups", value: "' + ids.interest + '"}',
    '{key: "mailchimp.consent.permissions", value: "' + ids.permission + '"}',
  ]
    .map(function (line) {
      return indent + line;
    })
    .join(",\n");
}

function renderSnippets(data) {
  var base = appUrl() + "/api/storefront";
  var store = "saleor_api_url=" + encodeURIComponent(bridge.state.saleorApiUrl);
  var ids = exampleIds(data);
  $("base-url").textContent = base;
  $("store-param").textContent = store;
  var origins = data.settings.allowed_origins;
  var originsFact = $("origins-fact");
  originsFact.textContent = "";
  if (origins.length) {
    origins.forEach(function (o, i) {
      if (i) originsFact.appendChild(document.createTextNode(", "));
      originsFact.appendChild(code(o));
    });
  } else {
    originsFact.appendChild(
      el("span", "", "None yet: browsers cannot call the API, servers can.")
    );
  }

  $("snippet-checkout").textContent =
    "mutation {\n" +
    '  updateMetadata(id: "CHECKOUT_ID", input: [\n' +
    consentLines(ids, "    ") +
    "\n  ]) { errors { field message } }\n}";

  $("snippet-register").textContent =
    "mutation {\n" +
    "  accountRegister(input: {\n" +
    '    email: "ann@example.com", password: "…", channel: "CHANNEL_SLUG",\n' +
    '    redirectUrl: "https://shop.example.com/account/confirm",\n' +
    "    metadata: [\n" +
    consentLines(ids, "      ") +
    "\n    ]\n  }) { errors { field message } }\n}";

  $("snippet-offer").textContent =
    "const offer = await fetch(\n" +
    '  "' + base + "/newsletter?" + store + '"\n' +
    ").then((r) => r.json());\n" +
    "// {allow_multiple, audiences: [{list_id, name, is_default, double_optin,\n" +
    "//   marketing_permissions: [{id, text}], groups: [{category_id, title, type, interests}]}]}";

  $("snippet-subscribe").textContent =
    'const answer = await fetch("' + base + "/subscribe?" + store + '", {\n' +
    '  method: "POST",\n' +
    '  headers: {"Content-Type": "application/json"},\n' +
    "  body: JSON.stringify({\n" +
    '    email: "ann@example.com", first_name: "Ann", last_name: "Apple",\n' +
    '    audiences: ["' + ids.list + '"],\n' +
    '    groups: ["' + ids.interest + '"],\n' +
    '    permissions: ["' + ids.permission + '"],\n' +
    "  }),\n" +
    "}).then((r) => r.json());\n" +
    '// 202 {audiences: [{list_id, status: "subscribed" | "pending"}], message}';

  $("snippet-account").textContent =
    'const url = "' + base + "/me/subscriptions?" + store + '";\n' +
    "const auth = {Authorization: `Bearer ${accessToken}`}; // from Saleor's tokenCreate\n" +
    "const mine = await fetch(url, {headers: auth}).then((r) => r.json());\n" +
    "// {email, audiences: [{list_id, name, status, groups, marketing_permissions}]}\n" +
    "await fetch(url, {\n" +
    '  method: "PUT",\n' +
    '  headers: {...auth, "Content-Type": "application/json"},\n' +
    "  body: JSON.stringify({\n" +
    '    audiences: [{list_id: "' + ids.list + '", subscribed: true, groups: ["' + ids.interest + '"]}],\n' +
    '    permissions: ["' + ids.permission + '"], // the others are withdrawn; left out: kept\n' +
    "  }),\n" +
    "}); // 202 {queued, message}; subscribed: false unsubscribes";
}

function copy(event) {
  var button = event.currentTarget;
  var source = $(button.getAttribute("data-copy"));
  var text = source.textContent;

  function done(ok) {
    // The visible text is the name screen readers hear: it says the outcome.
    button.textContent = ok ? "Copied" : "Selected: press Ctrl+C";
    window.setTimeout(function () {
      button.textContent = "Copy";
    }, 2000);
  }

  function fallback() {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    if (ok) selection.removeAllRanges();
    done(ok);
  }

  // The dashboard's frame may not allow the clipboard API: fall back to a selection.
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(text).then(function () {
      done(true);
    }, fallback);
  } else {
    fallback();
  }
}

// --- erasing an address ----------------------------------------------------------------

/** Erase an address no customer panel reaches (POST /api/erasure/addresses, MANAGE_USERS). */
function eraseAddress(event) {
  event.preventDefault();
  var input = $("erase-email");
  var submit = $("erase-submit");
  var email = input.value.trim();
  clearFieldError("erase-email");
  // A domain with a dot, as the server's check asks (email-validator): caught here, before the
  // confirmation of an erasure that cannot be undone, not after it.
  if (!/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(email)) {
    fieldError("erase-email", "Enter the e-mail address to erase, like ann@example.com.");
    input.focus();
    return;
  }
  confirmDialog({
    title: "Erase " + email + " from Mailchimp?",
    text:
      "Mailchimp permanently deletes the address from every audience and will never let the " +
      "app add it again (they can still subscribe again themselves through a Mailchimp form). " +
      "Its customer record and carts are deleted in every store, its orders too if set above. " +
      "The app forgets the address in its own records. This cannot be undone.",
    confirm: "Erase",
    cancel: "Keep",
    danger: true,
  })
    .then(function (yes) {
      if (!yes) return;
      setBusy(submit, true);
      return bridge.api("POST", "/api/erasure/addresses", { email: email }).then(function (answer) {
        input.value = "";
        confirmed("Erasure requested");
        notice("erase-address", "", "Erasing " + email, answer.message);
      });
    })
    .catch(function (error) {
      if (error.status === 422) fieldError("erase-email", "This is not an e-mail address Mailchimp takes.");
      else notice("erase-address", "critical", "The address was not erased", error.message);
    })
    .then(function () {
      setBusy(submit, false);
    });
}

// --- loading ---------------------------------------------------------------------------

var bar = new SaveBar({
  form: $("sync-form"),
  read: read,
  fill: fill,
  save: function (values) {
    // The erasure choice has its own endpoint (addon/erasure); the answer holds both. One of
    // them failing leaves the other saved: the save bar takes that part as saved.
    return Promise.allSettled([
      bridge.api("PATCH", "/api/audiences/settings", {
        two_way: values.two_way,
        priority: values.priority,
      }),
      bridge.api("PUT", "/api/erasure/settings", { delete_orders: values.delete_orders }),
    ]).then(function (answers) {
      var sync = answers[0];
      var erasure = answers[1];
      if (sync.status === "fulfilled" && erasure.status === "fulfilled") {
        return Object.assign({}, sync.value, { erasure: erasure.value });
      }
      if (sync.status === "fulfilled") {
        throw partlySaved(
          erasure.reason,
          { two_way: values.two_way, priority: values.priority },
          function (data) {
            return Object.assign({}, sync.value, { erasure: data.erasure });
          }
        );
      }
      if (erasure.status === "fulfilled") {
        throw partlySaved(sync.reason, { delete_orders: values.delete_orders }, function (data) {
          return Object.assign({}, data, { erasure: erasure.value });
        });
      }
      throw sync.reason;
    });
  },
  savedTitle: "Subscription settings saved",
});

var loader = new PageLoader({
  errorTitle: "The subscription settings could not be loaded",
  load: function () {
    return Promise.all([
      bridge.api("GET", "/api/connection").catch(function () {
        return null;
      }),
      bridge.api("GET", "/api/audiences"),
      bridge.api("GET", "/api/erasure/settings"),
    ]);
  },
  render: function (results) {
    var connection = results[0];
    $("not-connected").hidden = !connection || connection.status === "connected";
    $("sync-form").hidden = false;
    $("integration").hidden = false;
    $("erase-address").hidden = false;
    bar.reset(Object.assign({}, results[1], { erasure: results[2] }));
  },
});

$("two-way").addEventListener("change", syncPriority);
$("erase-address-form").addEventListener("submit", eraseAddress);
document.querySelectorAll("[data-copy]").forEach(function (b) {
  b.addEventListener("click", copy);
});
loader.run();
