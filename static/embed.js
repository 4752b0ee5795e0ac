// The wizard framed in another site (templates/wizard/embed.html): tell the parent page which step
// is shown, how tall the page is, and what was bought, as `message` events posted to the one
// allow-listed parent origin the server put in data-embed-parent (never to "*").
// Event schema: docs/embedding.md. The host's side: subs-wizard-host.js.
(function () {
  "use strict";

  // Once a document: htmx runs this script again when it restores a page from its history.
  if (window.subsWizardEmbedded) return;
  window.subsWizardEmbedded = true;

  var holder = document.querySelector("[data-embed-parent]");
  var parentOrigin = holder && holder.getAttribute("data-embed-parent");
  if (!parentOrigin || window.parent === window) return;

  function post(message) {
    window.parent.postMessage(message, parentOrigin);
  }

  // subs-wizard:step, once per step shown (a swap that only reveals fields or shows an error is the same step).
  var lastStep = null;
  function postStep() {
    var step = document.getElementById("step");
    if (!step || !step.hasAttribute("data-step-key")) return;
    var message = {
      type: "subs-wizard:step",
      key: step.getAttribute("data-step-key"),
      title: step.getAttribute("data-step-title"),
      index: parseInt(step.getAttribute("data-step-index"), 10),
      count: parseInt(step.getAttribute("data-step-count"), 10)
    };
    var id = [message.key, message.index, message.count].join("/");
    if (id === lastStep) return;
    lastStep = id;
    post(message);
  }

  // subs-wizard:saved, on the confirmation page.
  function postSaved() {
    var saved = document.querySelector("[data-saved-subscription]");
    if (!saved) return;
    post({
      type: "subs-wizard:saved",
      subscription_id: parseInt(saved.getAttribute("data-saved-subscription"), 10),
      number: saved.getAttribute("data-saved-number"),
      reference: saved.getAttribute("data-saved-reference") || null
    });
  }

  // subs-wizard:height, whenever the page's height changes (the host sizes the frame to it).
  var lastHeight = -1;
  function postHeight() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === lastHeight) return;
    lastHeight = height;
    post({ type: "subs-wizard:height", height: height });
  }

  postStep();
  postSaved();
  postHeight();
  document.addEventListener("htmx:after:swap", postStep);
  if (window.ResizeObserver) new ResizeObserver(postHeight).observe(document.documentElement);
  else window.addEventListener("resize", postHeight);
})();
