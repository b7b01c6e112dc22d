// A refused save: the summary of errors at the top of the form takes the focus (autofocus does not
// reach a div in every browser), and each of its links moves the focus to the field it names, which
// following an #anchor alone does not do.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (!summary) { return; }
  if (document.activeElement !== summary) { summary.focus(); }
  summary.scrollIntoView({ block: "start" });

  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) { return; }
    event.preventDefault();
    var field = target.matches("input, select, textarea")
      ? target : target.querySelector("input:not([type=hidden]), select, textarea");
    var details = target.closest("details");
    if (details) { details.open = true; }
    (field || target).focus();
    (field || target).scrollIntoView({ block: "center" });
  });
}());
