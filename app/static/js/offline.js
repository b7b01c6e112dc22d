// For team leaders and members: the visit, class and shift forms without signal. A visit saved while offline waits
// in IndexedDB on the phone ("3 visits waiting") and is sent by itself when the connection returns,
// with the form key it was made with, so a retry or a second tab never records it twice (the server
// answers a known key with the visit it already made). A visit the server refuses stays here with
// the server's reason until the member fixes or discards it. Signing out clears all of it.
// Without JavaScript none of this runs and the form posts as usual.
(function () {
  "use strict";
  if (!window.indexedDB || !window.fetch || !window.FormData) { return; }
  var DB = "cnscd", AGE = 10 * 60 * 1000, SENT = /^\/(visits|activities\/classes|activities\/shifts)\/\d+$/;
  // When the visits that wait are tried again (again(), below), and the timer that will do it.
  var retryIn = 2000, retry = null;
  // The forms kept on the phone and sent later; an entry remembers which one it was made with.
  var FORMS = ["/visits/new", "/activities/classes/new", "/activities/shifts/new"];
  // Whose phone session this is: another account signed in on the same phone (without signing
  // out) neither sends nor sees the visits kept by the first; they wait for their author.
  var USER = (document.currentScript && document.currentScript.getAttribute("data-user")) || "";
  var box = document.querySelector("[data-outbox]");
  var form = document.querySelector("form.visit-form");
  var formPath = form ? new URL(form.action, location.href).pathname : "";
  if (FORMS.indexOf(formPath) < 0) { form = null; }
  function urlOf(item) { return item.url || "/visits/new"; }
  // The phone says so, or the service worker answered with the copy kept on the phone (the network
  // did not answer, though the phone believed it was online).
  function noSignal() { return !navigator.onLine || document.documentElement.hasAttribute("data-kept-copy"); }

  function open() {
    return new Promise(function (done, fail) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore("outbox", {keyPath: "key"});
        req.result.createObjectStore("team", {keyPath: "id"});
      };
      req.onsuccess = function () {
        var db = req.result;
        db.onversionchange = function () { db.close(); };  // another tab signs out: let it clear
        done(db);
      };
      req.onerror = function () { fail(req.error); };
    });
  }

  function store(name, mode, work) {
    return open().then(function (db) {
      return new Promise(function (done, fail) {
        var tx = db.transaction(name, mode), result;
        var req = work(tx.objectStore(name));
        if (req) { req.onsuccess = function () { result = req.result; }; }
        tx.oncomplete = function () { db.close(); done(result); };
        tx.onerror = tx.onabort = function () { db.close(); fail(tx.error); };
      });
    });
  }

  function all() {
    return store("outbox", "readonly", function (s) { return s.getAll(); }).then(function (items) {
      return items.filter(function (i) { return i.user === USER; });
    });
  }
  function put(item) { return store("outbox", "readwrite", function (s) { return s.put(item); }); }
  function drop(key) { return store("outbox", "readwrite", function (s) { return s.delete(key); }); }

  function text(name, values) {
    var s = (box && box.getAttribute("data-" + name)) || "";
    Object.keys(values || {}).forEach(function (k) { s = s.replace("{" + k + "}", values[k]); });
    return s;
  }

  function el(tag, attrs, content) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (content) { node.textContent = content; }
    return node;
  }

  var onlineSeen = false;  // an "online" event came since this page loaded
  var sentNow = 0;  // records this page sent since the last one was kept: said once the outbox is empty of them

  function render() {
    if (!box) { return Promise.resolve(); }
    return all().then(function (items) {
      var waiting = items.filter(function (i) { return !i.reason; });
      var refused = items.filter(function (i) { return i.reason; });
      var kept = form && document.documentElement.hasAttribute("data-kept-copy");
      var online = navigator.onLine && onlineSeen;
      box.textContent = "";
      box.hidden = !items.length && !kept;
      if (kept && !online) { box.appendChild(el("p", {"class": "flash", id: "kept-copy"}, text("kept-copy"))); }
      if (kept && online) {  // the copy kept on the phone, with the signal back: the page from the server is a tap away
        var back = el("p", {"class": "flash", id: "kept-copy"}, text("kept-copy-online") + " ");
        var reload = el("a", {href: location.href}, text("reload"));
        back.appendChild(reload);
        box.appendChild(back);
      }
      if (waiting.length) {
        // What was just saved without signal is said here, at the top where the next visit starts, and each
        // waiting record is named (household or class, and its day as people write it).
        if (noSignal()) { box.appendChild(el("p", {"class": "flash flash-success", id: "outbox-kept"}, text("kept"))); }
        box.appendChild(el("p", {"class": "flash flash-info", id: "outbox-count"}, text("waiting", {n: waiting.length})));
        var named = el("ul", {"class": "outbox-waiting"});
        waiting.forEach(function (item) {
          named.appendChild(el("li", null, (item.label || "").replace(/(\d{4})-(\d{2})-(\d{2})$/, "$3/$2/$1")));
        });
        box.appendChild(named);
      }
      if (sentNow) {
        box.hidden = false;
        box.appendChild(el("p", {"class": "flash flash-success", id: "outbox-sent"}, text("sent", {n: sentNow})));
      }
      if (!refused.length) { return; }
      box.appendChild(el("p", {"class": "flash flash-error", role: "alert"}, text("refused-title")));
      var list = el("ul", {"class": "outbox-refused"});
      refused.forEach(function (item) {
        var li = el("li", {"data-key": item.key});
        li.appendChild(el("strong", null, item.label));
        li.appendChild(el("span", {"class": "error"}, item.reason));
        if (form && urlOf(item) === formPath) {
          li.appendChild(el("button", {type: "button", "data-fix": item.key}, text("fix")));
        } else {  // made with another form (a class seen from the visit form, or any from the list): open it there
          li.appendChild(el("a", {"class": "button", href: urlOf(item) + "#fix-" + item.key}, text("fix")));
        }
        li.appendChild(el("button", {type: "button", "data-discard": item.key}, text("discard")));
        list.appendChild(li);
      });
      box.appendChild(list);
    });
  }

  // --- the team's data, for the household search without signal ------------------------------
  function teamData(force) {
    return store("team", "readonly", function (s) { return s.get("team"); }).then(function (kept) {
      if (kept && kept.user !== USER) { kept = null; }
      if (!force && kept && Date.now() - kept.at < AGE) { return kept.data; }
      if (!navigator.onLine) { return kept ? kept.data : null; }
      return fetch("/visits/team.json", {credentials: "same-origin"}).then(function (resp) {
        if (!resp.ok || resp.redirected) { return null; }  // signed out or not a field user
        return resp.json().then(function (data) {
          return store("team", "readwrite", function (s) {
            return s.put({id: "team", user: USER, at: Date.now(), data: data});
          }).then(function () { return data; });
        });
      }, function () { return kept ? kept.data : null; });
    });
  }

  function fold(s) {
    return (s || "").replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .toLowerCase().trim().replace(/\s+/g, " ");
  }

  function showHouseholds(found) {
    var target = document.getElementById("hh-results");
    if (!target) { return; }
    target.textContent = "";
    var list = el("ul", {"class": "choices"});
    found.slice(0, 8).forEach(function (h) {
      var li = el("li");
      li.appendChild(el("input", {type: "radio", name: "household_id", value: String(h.id), id: "hh-" + h.id}));
      var label = el("label", {"for": "hh-" + h.id});
      label.appendChild(el("strong", null, h.name));
      label.appendChild(el("span", {"class": "meta"}, " " + h.hamlet));
      li.appendChild(label);
      list.appendChild(li);
    });
    target.appendChild(found.length ? list : el("p", {"class": "hint"}, text("none-found")));
  }

  function searchKept(q) {
    return teamData(false).then(function (data) {
      var key = fold(q);
      var found = ((data && data.households) || []).filter(function (h) { return h.folded.indexOf(key) >= 0; });
      showHouseholds(found);
      return found;
    });
  }

  // --- saving without signal and sending later ----------------------------------------------
  function keep(body) {
    var fields = [];
    body.forEach(function (value, name) { if (typeof value === "string") { fields.push([name, value]); } });
    var get = function (n) { var f = fields.filter(function (p) { return p[0] === n; })[0]; return f ? f[1] : ""; };
    var label = get("new_name");
    if (!label) {
      var radio = form.querySelector("input[name=household_id]:checked");
      var lab = radio && form.querySelector("label[for='" + radio.id + "'] strong");
      label = lab ? lab.textContent : "";
    }
    if (form.hasAttribute("data-offline-label")) {  // a class or a shift: its count, from the field named
      label = form.getAttribute("data-offline-label").replace("{n}", get(form.getAttribute("data-offline-count")));
    }
    label = (label || "") + " · " + (get("visited_on") || get("held_on"));
    return put({key: get("key"), user: USER, fields: fields, label: label, at: Date.now(), url: formPath}).then(function () {
      form.reset();
      form.querySelector("input[name=key]").value = crypto.randomUUID().replace(/-/g, "");
      var results = document.getElementById("hh-results");
      if (results) { results.textContent = ""; }
      var details = form.querySelector("details.new-household");
      if (details) { details.open = false; }
      window.scrollTo(0, 0);  // to the outbox, which says it was kept
      sentNow = 0;
      retryIn = 2000;  // a new visit waits: try soon again
      return render().then(again);
    });
  }
  window.cnscdKeepVisit = function (body) { return keep(body); };

  function reasonOf(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var parts = [];
    doc.querySelectorAll("main .error, main #key-notice, main .flash-error").forEach(function (n) {
      var t = n.textContent.replace(/\s+/g, " ").trim();
      if (t && parts.indexOf(t) < 0) { parts.push(t); }
    });
    return parts.join(" ") || text("refused-unknown");
  }

  function sendOne(item, token) {
    var body = new FormData();
    item.fields.forEach(function (p) { body.append(p[0], p[0] === "csrf_token" && token ? token : p[1]); });
    return fetch(urlOf(item), {method: "POST", body: body, credentials: "same-origin"}).then(function (resp) {
      var path = new URL(resp.url).pathname;
      if (resp.ok && SENT.test(path)) { return drop(item.key).then(function () { sentNow += 1; return true; }); }
      if (path.indexOf("/auth/") === 0 || resp.status === 503 || resp.status >= 500 || resp.ok) { return false; }
      return resp.text().then(function (html) {
        item.reason = reasonOf(html);
        return put(item).then(function () { return true; });
      });
    }, function () { return false; });
  }

  function flush() {
    if (!navigator.onLine) { return Promise.resolve(); }
    var run = function () {
      return all().then(function (items) {
        var waiting = items.filter(function (i) { return !i.reason; });
        if (!waiting.length) { return null; }
        return teamData(true).then(function (data) {
          if (!data) { return null; }
          var next = function (i) {
            if (i >= waiting.length) { return null; }
            return sendOne(waiting[i], data.csrf_token).then(function (goOn) { return goOn ? next(i + 1) : null; });
          };
          return next(0);
        });
      });
    };
    // One tab sends at a time; the server's key check covers the rest.
    var before = sentNow;
    var sent = navigator.locks ? navigator.locks.request("cnscd-outbox", run) : run();
    return sent.then(render, render).then(function () {
      return sentNow > before ? refreshParts() : null;
    }).then(again, again);
  }

  // A page that lists what was just sent (the visits list) reads its list again, so the visits sent
  // from the phone show without a reload; the page's other parts (a form being filled) stay as they are.
  function refreshParts() {
    var parts = document.querySelectorAll("[data-refresh-after-send][id]");
    if (!parts.length) { return null; }
    return fetch(location.href, {credentials: "same-origin"}).then(function (resp) {
      return resp.ok && !resp.redirected ? resp.text() : null;
    }).then(function (html) {
      if (!html) { return; }
      var doc = new DOMParser().parseFromString(html, "text/html");
      parts.forEach(function (part) {
        var fresh = doc.getElementById(part.id);
        if (fresh) { part.replaceWith(document.importNode(fresh, true)); }
      });
    }, function () { return null; });
  }
  window.cnscdFlush = flush;

  // The "online" event cannot be waited for: on a weak signal, or on a page the phone loaded
  // without signal, the browser says it is online all along and never sends one. While visits
  // wait, try again soon after a failed attempt, then less and less often (2 s, 4 s, … 30 s).
  function again() {
    return all().then(function (items) {
      clearTimeout(retry);
      if (!items.some(function (i) { return !i.reason; })) { retryIn = 2000; return; }
      retry = setTimeout(flush, retryIn);
      retryIn = Math.min(retryIn * 2, 30000);
    });
  }

  function fix(key) {
    return all().then(function (items) {
      var item = items.filter(function (i) { return i.key === key; })[0];
      if (!item || urlOf(item) !== formPath) { return null; }
      var chosen = item.fields.filter(function (p) { return p[0] === "household_id"; })[0];
      var show = chosen && chosen[1] !== "new"
        ? teamData(false).then(function (data) {
          showHouseholds(((data && data.households) || []).filter(function (h) { return String(h.id) === chosen[1]; }));
        }) : Promise.resolve();
      return show.then(function () {
        form.querySelectorAll("input[type=checkbox], input[type=radio]").forEach(function (i) { i.checked = false; });
        item.fields.forEach(function (p) {
          if (p[0] === "csrf_token" || p[0] === "save") { return; }
          form.querySelectorAll("[name='" + p[0] + "']").forEach(function (input) {
            if (input.type === "checkbox" || input.type === "radio") {
              if (input.value === p[1]) { input.checked = true; }
            } else { input.value = p[1]; }
          });
        });
        if (chosen && chosen[1] === "new") { form.querySelector("details.new-household").open = true; }
        if (item.fields.some(function (p) { return /^learners-\d+-name$/.test(p[0]) && p[1]; })) {
          form.querySelector("details.new-household").open = true;
        }
        form.scrollIntoView();
      });
    });
  }

  // --- wiring -----------------------------------------------------------------------------------
  if (form) {
    // Before resend.js: without signal the visit is kept on the phone, not posted.
    window.addEventListener("submit", function (event) {
      var finding = event.submitter && event.submitter.name === "find";
      if (event.target === form && finding && noSignal()) {
        event.preventDefault();
        event.stopImmediatePropagation();
        searchKept(form.querySelector("#q").value);
        return;
      }
      if (event.target !== form || navigator.onLine) {
        if (event.target === form) {
          // Sent now with signal: a refused visit being fixed leaves the list (the form carries it).
          all().then(function (items) {
            var key = form.querySelector("input[name=key]").value;
            if (items.some(function (i) { return i.key === key && i.reason; })) { drop(key).then(render); }
          });
        }
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      if (event.submitter && event.submitter.name === "more_learners") { return; }  // the rows given will do
      var body = new FormData(form);
      if (event.submitter && event.submitter.name) { body.append(event.submitter.name, event.submitter.value); }
      keep(body);
    }, true);
    var q = form.querySelector("#q");
    if (q) { q.addEventListener("input", function () { if (noSignal()) { searchKept(q.value); } }); }
    document.addEventListener("htmx:beforeRequest", function (event) {
      if (noSignal()) { event.preventDefault(); }  // no signal: the kept list answers instead
    });
    // Weak signal: the phone says it is online but the search gets no answer (or only a gateway's
    // error). The kept list answers, as it does without signal.
    ["htmx:sendError", "htmx:timeout", "htmx:responseError"].forEach(function (name) {
      document.addEventListener(name, function (event) {
        if (q && event.detail && event.detail.elt === q) { searchKept(q.value); }
      });
    });
  }

  if (box) {
    box.addEventListener("click", function (event) {
      var key = event.target.getAttribute("data-discard");
      if (key) { drop(key).then(render); return; }
      key = event.target.getAttribute("data-fix");
      if (key) { fix(key); }
    });
  }

  // Signing out clears every record kept on the phone: the outbox, the team's data, the caches.
  document.querySelectorAll("form[action$='/auth/logout']").forEach(function (out) {
    out.addEventListener("submit", function (event) {
      event.preventDefault();
      var gone = new Promise(function (done) {
        var req = indexedDB.deleteDatabase(DB);
        req.onsuccess = req.onerror = req.onblocked = function () { done(); };
      });
      var cleared = window.caches ? caches.keys().then(function (names) {
        return Promise.all(names.map(function (n) { return caches.delete(n); }));
      }) : Promise.resolve();
      var unregistered = navigator.serviceWorker ? navigator.serviceWorker.getRegistrations().then(function (regs) {
        return Promise.all(regs.map(function (r) { return r.unregister(); }));
      }) : Promise.resolve();
      Promise.all([gone, cleared, unregistered]).then(function () { out.submit(); }, function () { out.submit(); });
    });
  });

  if (navigator.serviceWorker && window.isSecureContext) {
    // Whether the worker answered this page, asked now: once the new worker takes the page over
    // (clients.claim), `controller` is set although the page came from the network and was never kept.
    var answered = !!navigator.serviceWorker.controller;
    navigator.serviceWorker.register("/sw.js", {scope: "/"}).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      // What this page loaded before the worker controlled it, for the first time without signal. A
      // page the worker answered is kept by the worker already: asking again could fetch it twice
      // (the worker's copy may still be on its way into the cache).
      var keep = location.search || answered ? [] : [location.pathname];
      document.querySelectorAll("link[rel=stylesheet], script[src], link[rel=manifest]").forEach(function (n) {
        keep.push(n.href || n.src);
      });
      // From any other page (the visits list, a saved visit's page), the field forms, once each (the
      // worker skips what it keeps already): a member who has only ever opened the visit form can still
      // log a class or a shift where there is no signal. Not from a form itself, whose first and repeat
      // loads stay as light as they were (bench/page_weight.py).
      if (FORMS.indexOf(location.pathname) < 0) { FORMS.forEach(function (path) { keep.push(path); }); }
      if (reg.active) { reg.active.postMessage({keep: keep}); }
    }).catch(function () { return null; });
  }

  // Only an "online" event says the signal came back: a page loaded without it may be told it is online all along.
  window.addEventListener("online", function () { onlineSeen = true; flush(); });
  setInterval(flush, 60000);
  render().then(function () {
    if (form) { teamData(false); }
    // Opened from another page's "Fix" link: the refused record goes back into this form.
    if (form && location.hash.indexOf("#fix-") === 0) { fix(location.hash.slice(5)); }
    return flush();
  });
}());
