// The visit form resends itself when the server answers 503 (the database busy or restarting):
// the same fields and the same form key, after the Retry-After it gave, a few times, so a visit
// logged in a busy moment is saved once without the member tapping again. Without JavaScript the
// form posts as usual and the 503 page asks to try again.
(function () {
  "use strict";
  var TRIES = 5;

  function sleep(ms) { return new Promise(function (done) { setTimeout(done, ms); }); }

  function show(resp) {
    return resp.text().then(function (html) {
      if (resp.redirected) { history.replaceState(null, "", resp.url); }
      document.open();
      document.write(html);
      document.close();
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-resend]") || !window.fetch || !window.FormData) { return; }
    var submitter = event.submitter;
    if (submitter && submitter.name === "find") { return; }  // a search: nothing to save twice
    event.preventDefault();
    var body = new FormData(form);
    if (submitter && submitter.name) { body.append(submitter.name, submitter.value); }
    var status = document.getElementById("resend-status");
    var button = form.querySelector("button[name=save]");
    if (button) { button.disabled = true; }

    function attempt(n) {
      return fetch(form.action, {method: "POST", body: body, credentials: "same-origin"}).then(function (resp) {
        if (resp.status !== 503 || n >= TRIES) { return show(resp); }
        var wait = parseInt(resp.headers.get("Retry-After"), 10);
        wait = isNaN(wait) ? 3 : Math.min(Math.max(wait, 1), 30);
        if (status) {
          status.textContent = (form.getAttribute("data-resend-wait") || "").replace("{n}", wait);
          status.hidden = false;
        }
        return sleep(wait * 1000).then(function () { return attempt(n + 1); });
      }, function () {
        // No answer at all (offline): kept on the phone to send later (offline.js), else the
        // browser's own submission gets a go.
        if (button) { button.disabled = false; }
        if (window.cnscdKeepVisit) { window.cnscdKeepVisit(body); } else { form.submit(); }
      });
    }
    attempt(1);
  });
}());
