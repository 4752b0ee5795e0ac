// Progressive enhancement on top of htmx: focus and announcements after swaps.
// No inline handlers anywhere (the CSP forbids them); everything is wired here.
(function () {
  "use strict";

  function focusAfterSwap(root) {
    var summary = root.querySelector(".error-summary");
    var target = summary || root.querySelector("h1");
    if (!target) return;
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
    var heading = root.querySelector("[data-title]");
    if (heading) document.title = heading.getAttribute("data-title");
  }

  function announce(message) {
    var region = document.getElementById("announcer");
    if (!region || !message) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = message; }, 50);
  }

  document.addEventListener("htmx:after:swap", function (event) {
    var target = event.detail && event.detail.ctx && event.detail.ctx.target;
    var root = target instanceof Element ? target : document;
    focusAfterSwap(root);
    var saved = root.querySelector("[data-announce]");
    if (saved) announce(saved.getAttribute("data-announce"));
  });
})();
