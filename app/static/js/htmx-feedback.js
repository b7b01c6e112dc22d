// What a tap that loads part of a page (htmx) tells the user, as a whole page's load would.
//
// A part that takes the place of a page (its address pushed into the history: a unit opened from the coverage
// page, a page of a list) takes the focus on its heading, so a screen reader reads where the user now is; the
// window's scroll is left to the link's own hx-swap (show:window:top).
//
// It must never seem to do nothing. While the request is on its way its
// target is marked busy (dimmed by the stylesheet); when no answer comes (no signal, a dropped connection) or
// the server fails (5xx), the page stays as it was, with whatever the user typed, and a bar at the foot of
// the screen says so in the page's language (the words come on this script's tag). The next answer to a
// request sent after the one that failed takes the bar away; one that was already on its way (a section the
// page loads as it is scrolled to) does not, or the bar would go before it could be read. No answer within
// htmx's timeout (the page's htmx-config) counts as none: a dead connection that never says so ends in the bar
// too. A part of a page that deals with a missing answer itself (the visit form's household search, which
// answers from the list kept on the phone) carries data-own-errors and is left to it.
(function () {
  "use strict";
  var words = document.currentScript;
  var bar = null;
  var sent = new WeakMap();  // each request's place in the order they were sent
  var count = 0;
  var failed = 0;  // the place of the request the bar speaks of

  function hide() {
    if (bar) { bar.hidden = true; }
  }

  function order(event) {
    var xhr = event.detail && event.detail.xhr;
    return (xhr && sent.get(xhr)) || 0;
  }

  function show(key, event) {
    failed = order(event);
    if (!bar || !bar.isConnected) {  // none yet, or gone with a page htmx put back from its history
      bar = document.createElement("div");
      bar.className = "no-answer";
      bar.setAttribute("role", "alert");
      var text = document.createElement("p");
      var close = document.createElement("button");
      close.type = "button";
      close.textContent = "×";
      close.setAttribute("aria-label", words.getAttribute("data-close"));
      close.addEventListener("click", hide);
      bar.appendChild(text);
      bar.appendChild(close);
      document.body.appendChild(bar);
    }
    bar.firstChild.textContent = words.getAttribute(key);
    bar.hidden = false;
  }

  function own(event) {
    var elt = event.detail && event.detail.elt;
    return elt && elt.closest && elt.closest("[data-own-errors]");
  }

  function target(event) {
    return (event.detail && (event.detail.target || event.detail.elt)) || null;
  }

  // On its way only once sent: a request another script calls off (the visit form without signal answers its
  // search from the phone) must not leave its target dimmed.
  document.addEventListener("htmx:beforeSend", function (event) {
    var t = target(event);
    if (t && t.setAttribute) { t.setAttribute("aria-busy", "true"); }
    if (event.detail && event.detail.xhr) { count += 1; sent.set(event.detail.xhr, count); }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var t = target(event);
    if (t && t.removeAttribute) { t.removeAttribute("aria-busy"); }
    if (event.detail && event.detail.successful === true && order(event) > failed) { hide(); }
  });
  // The history is written just before the swap; the new heading is there once it has settled. Only for a
  // link: a search box or a select that pushes its address keeps the focus the user is typing or choosing in.
  var pushed = false;
  document.addEventListener("htmx:pushedIntoHistory", function () { pushed = true; });
  document.addEventListener("htmx:afterSettle", function (event) {
    var asked = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!pushed) { return; }
    pushed = false;
    var heading = document.querySelector("main h1");
    if (!asked || asked.tagName !== "A" || !heading) { return; }
    if (!heading.hasAttribute("tabindex")) { heading.setAttribute("tabindex", "-1"); }
    heading.focus({preventScroll: true});
  });
  // Something sent (a member added, a change saved) may have arrived even though its answer did not: the bar
  // says to look before sending it again, rather than to try again outright.
  ["htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var config = event.detail && event.detail.requestConfig;
      var posted = config && config.verb && config.verb !== "get";
      if (!own(event)) { show(posted ? "data-no-answer-sent" : "data-no-answer", event); }
    });
  });
  document.addEventListener("htmx:responseError", function (event) {
    if (!own(event)) { show("data-failed", event); }
  });
})();
