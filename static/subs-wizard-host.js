// For the page that frames the subscription wizard (docs/embedding.md):
//
//   <iframe data-subs-wizard src="https://wizard.example/embed?parent=https://intranet.example"
//           title="New subscription"></iframe>
//   <script src="https://wizard.example/static/subs-wizard-host.js" defer></script>
//
// Messages are taken only from a marked frame's own window and from the wizard's origin (the
// frame's src, or the origin given as data-subs-wizard="https://wizard.example"). Each one sizes
// the frame (subs-wizard:height) and is dispatched on the iframe as a bubbling DOM CustomEvent of
// the same type, with the message as `detail`:
//
//   frame.addEventListener("subs-wizard:saved", function (e) { console.log(e.detail.number); });
(function () {
  "use strict";

  var TYPES = ["subs-wizard:step", "subs-wizard:height", "subs-wizard:saved"];

  function wizardOrigin(frame) {
    var given = frame.getAttribute("data-subs-wizard");
    try {
      return new URL(given || frame.getAttribute("src"), document.baseURI).origin;
    } catch (e) {
      return null;
    }
  }

  function frameOf(source) {
    var frames = document.querySelectorAll("iframe[data-subs-wizard]");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === source) return frames[i];
    }
    return null;
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data !== "object" || TYPES.indexOf(data.type) < 0) return;
    var frame = frameOf(event.source);
    if (!frame || event.origin !== wizardOrigin(frame)) return;
    if (data.type === "subs-wizard:height") {
      var height = Number(data.height);
      if (!(height > 0)) return;
      frame.style.height = Math.ceil(height) + "px";
    }
    frame.dispatchEvent(new CustomEvent(data.type, { bubbles: true, detail: data }));
  });
})();
