// Progressive enhancement on top of htmx: focus, announcements and double-submit protection.
// No inline handlers anywhere (the CSP forbids them); everything is wired here.
(function () {
  "use strict";

  var lastFocusedId = null;
  var lastMethod = null;
  var lastTotals = null;

  function totals() {
    var summary = document.getElementById("order-summary");
    return summary ? summary.getAttribute("data-announce") : null;
  }

  function focusable(el) {
    if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
    el.focus();
  }

  function announce(message) {
    var region = document.getElementById("announcer");
    if (!region || !message) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = message; }, 50);
  }

  // The order summary's own swaps (an option changed): focus stays put, the new total is announced.
  function isSummarySwap(event) {
    var ctx = event.detail && event.detail.ctx;
    return Boolean(ctx && ctx.sourceElement && ctx.sourceElement.id === "order-summary");
  }

  // Remember where focus was, so a swap that only reveals fields can put it back.
  document.addEventListener("htmx:before:swap", function (event) {
    if (isSummarySwap(event)) return;
    lastTotals = totals();
    lastFocusedId = document.activeElement ? document.activeElement.id : null;
    var ctx = event.detail && event.detail.ctx;
    lastMethod = ctx && ctx.request ? String(ctx.request.method).toUpperCase() : null;
  });

  document.addEventListener("htmx:after:swap", function (event) {
    if (isSummarySwap(event)) {
      announce(totals());
      return;
    }
    var step = document.getElementById("step");
    if (!step) return;
    if (step.hasAttribute("data-keep-focus")) {
      // Fields were revealed: focus stays where the user is (the swap replaced that element), and
      // a price the chosen option changed (a chosen number, a SIM card) is said as the summary's is.
      var again = lastFocusedId && document.getElementById(lastFocusedId);
      if (again && document.activeElement !== again) again.focus();
      if (totals() !== lastTotals) announce(totals());
      return;
    }
    var summary = step.querySelector(".error-summary");
    if (summary) {
      focusable(summary);
      return;
    }
    var heading = step.querySelector("h1");
    if (heading) focusable(heading);
    if (lastMethod === "POST") announce(step.getAttribute("data-saved-text"));
  });

  // A swapped-in block may say what just changed where the eye may not be (data-swap-message: "Line 3
  // added" on the bulk order page): said once in the live region, as the order summary's totals are.
  document.addEventListener("htmx:after:swap", function () {
    var block = document.querySelector("[data-swap-message]");
    if (!block) return;
    announce(block.getAttribute("data-swap-message"));
    block.removeAttribute("data-swap-message");
  });

  // A form marked data-once submits once: a double click cannot send it twice.
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("[data-once]");
    if (!button) return;
    if (event.target.dataset.submitted) {
      event.preventDefault();
      return;
    }
    event.target.dataset.submitted = "true";
    window.setTimeout(function () { button.disabled = true; }, 0);
  });
})();

// --- Users & Teams → Users (users_view.py): focus after a panel swap, warn before losing unsaved MEX changes.
(function () {
  "use strict";

  // A swapped-in panel marks what should take focus (its heading, the Connected field, the
  // pending line or the error summary) with data-autofocus; only htmx fragments carry it.
  document.addEventListener("htmx:after:swap", function () {
    var el = document.querySelector("[data-autofocus]");
    if (!el) return;
    el.removeAttribute("data-autofocus");
    if (!el.hasAttribute("tabindex") && !/^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(el.tagName)) el.setAttribute("tabindex", "-1");
    el.focus();
  });

  // Pending changes (Done, not yet Saved) are marked data-unsaved; leaving the page then asks first.
  window.addEventListener("beforeunload", function (event) {
    if (!document.querySelector("[data-unsaved]")) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();

// Print buttons (data-print) appear only where printing from script works.
(function () {
  "use strict";
  function wirePrint() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wirePrint);
  else wirePrint();
})();

// "Your order": a block above the form on phones, closed there at load (open without JavaScript);
// whoever opens or closes it keeps it so while steps and the summary swap in.
(function () {
  "use strict";
  var NARROW = "(max-width: 40rem)";
  var wasOpen = null;

  function details() {
    return document.querySelector(".order-summary details");
  }

  document.addEventListener("htmx:before:swap", function () {
    var block = details();
    wasOpen = block ? block.open : null;
  });

  document.addEventListener("htmx:after:swap", function () {
    var block = details();
    if (block && wasOpen !== null) block.open = wasOpen;
  });

  function closeOnPhones() {
    var block = details();
    if (block && window.matchMedia(NARROW).matches) block.open = false;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", closeOnPhones);
  else closeOnPhones();
})();

// A page that arrives with an error summary (a full page load, e.g. Save refused) focuses it, as a
// swapped-in one is (GOV.UK's error summary does the same).
(function () {
  "use strict";
  function focusErrors() {
    var summary = document.querySelector(".error-summary");
    if (!summary) return;
    if (!summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", focusErrors);
  else focusErrors();
})();

// Follow-up questions (GOV.UK's conditional reveal): every follow-up block is in the page, shown
// without JavaScript with a line saying when it applies; here each is shown only while the radio
// that names it (data-controls) is chosen. The server ignores the fields of an option not chosen.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function sync() {
    document.querySelectorAll("input[type=radio][data-controls]").forEach(function (radio) {
      var block = document.getElementById(radio.getAttribute("data-controls"));
      if (!block) return;
      // aria-controls only: aria-expanded is not allowed on a radio (GOV.UK dropped it for that reason).
      radio.setAttribute("aria-controls", block.id);
      block.hidden = !radio.checked;
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target && event.target.type === "radio") sync();
  });
  document.addEventListener("htmx:after:swap", sync);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", sync);
  else sync();
})();
