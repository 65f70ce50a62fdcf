// Small DOM helpers shared by the page scripts (loaded before them).
(function () {
  "use strict";

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function button(text, className) {
    var b = el("button", "button small " + (className || "secondary"), text);
    b.type = "button";
    return b;
  }

  // A button that is working: disabled, announced as busy, optionally relabelled.
  function setBusy(target, busy, label) {
    if (busy) {
      target.dataset.label = target.textContent;
      target.disabled = true;
      target.setAttribute("aria-busy", "true");
      if (label) target.textContent = label;
    } else {
      target.disabled = false;
      target.removeAttribute("aria-busy");
      if (target.dataset.label) target.textContent = target.dataset.label;
    }
  }

  window.dom = { $: $, el: el, button: button, setBusy: setBusy };
})();
