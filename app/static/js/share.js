// A ready-made message (a team's month, a unit's summary) to copy, or to hand to the phone's share
// sheet (Zalo, Messenger, SMS) where the browser has one. Without this script the text stays in its
// box, which a long press selects.
(function () {
  "use strict";
  function wire(box) {
    var text = box.querySelector("textarea");
    var copy = box.querySelector("[data-copy]");
    var share = box.querySelector("[data-share-button]");
    var status = box.querySelector("[data-share-status]");
    if (!text || !copy || !status || box.hasAttribute("data-wired")) return;
    box.setAttribute("data-wired", "");

    function say(key) { status.textContent = status.getAttribute(key) || ""; }
    function byHand() {
      text.focus();
      text.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      say(copied ? "data-copied" : "data-select");
    }

    copy.hidden = false;
    copy.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text.value).then(function () { say("data-copied"); }, byHand);
      } else {
        byHand();
      }
    });
    if (share && navigator.share) {
      share.hidden = false;
      share.addEventListener("click", function () {
        // A user who closes the share sheet rejects the promise: nothing to say then.
        navigator.share({ text: text.value }).catch(function () {});
      });
    }
  }
  function wireAll(root) { root.querySelectorAll("[data-share]").forEach(wire); }
  wireAll(document);
  // A page of a long report swapped in by htmx brings its own box.
  document.addEventListener("htmx:load", function (event) { wireAll(event.detail.elt); });
})();
