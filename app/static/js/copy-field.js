// A value to copy whole from a read-only box (a new API token): a tap in the box selects all of it, and the
// Copy button puts it on the clipboard. Without this script the box stays, and a long press selects the value.
(function () {
  "use strict";
  function wire(box) {
    var input = box.querySelector("input[readonly]");
    var copy = box.querySelector("[data-copy]");
    var status = box.querySelector("[data-copy-status]");
    if (!input || !copy || !status || box.hasAttribute("data-wired")) return;
    box.setAttribute("data-wired", "");

    function say(key) { status.textContent = status.getAttribute(key) || ""; }
    function selectAll() { input.setSelectionRange(0, input.value.length); }
    function byHand() {
      input.focus();
      selectAll();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      say(copied ? "data-copied" : "data-select");
    }

    input.addEventListener("focus", selectAll);
    // A tap puts the caret where the finger was, after the focus: select it all again.
    input.addEventListener("click", selectAll);
    copy.hidden = false;
    copy.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { say("data-copied"); }, byHand);
      } else {
        byHand();
      }
    });
  }
  document.querySelectorAll("[data-copy-field]").forEach(wire);
})();
