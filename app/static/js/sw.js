// The service worker (served as /sw.js, scope "/"): keeps what the visit, class and shift forms need for a phone
// without signal. Static files (their URLs carry a digest of their content) come from the cache
// first; the visit form and the visits list from the network first, else the copy kept the last
// time. Visits saved without signal wait in IndexedDB (app/static/js/offline.js), not here.
"use strict";
var CACHE = "cnscd-__VERSION__";
var PAGES = ["/visits/new", "/visits/", "/activities/classes/new", "/activities/shifts/new"];

self.addEventListener("install", function () { self.skipWaiting(); });

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) {
      return caches.delete(n);
    }));
  }).then(function () { return self.clients.claim(); }));
});

// The page names what it loaded before this worker controlled it (the first visit).
self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.keep) || [];
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      var path = new URL(url, self.location.origin);
      var key = PAGES.indexOf(path.pathname) >= 0 ? path.pathname : url;
      return cache.match(key).then(function (hit) {
        if (hit) { return null; }
        return fetch(url, {credentials: "same-origin"}).then(function (resp) {
          if (resp.ok && !resp.redirected) { return cache.put(key, resp); }
          return null;
        }).catch(function () { return null; });
      });
    }));
  }));
});

// A kept copy of the form must not carry the key of a visit already made with it: a fresh one.
function freshKey(html) {
  var key = self.crypto.randomUUID().replace(/-/g, "");
  return html.replace(/(name="key" type="hidden" value=")[0-9a-f]{32}/, "$1" + key)
    .replace("<html ", "<html data-kept-copy ");
}

function fromNetworkFirst(request, key, keep) {
  return fetch(request).then(function (resp) {
    if (keep && resp.ok && !resp.redirected && resp.type === "basic") {
      var copy = resp.clone();
      caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
    }
    return resp;
  }).catch(function () {
    return caches.match(key).then(function (hit) {
      if (!hit) { return Response.error(); }
      return hit.text().then(function (html) {
        return new Response(freshKey(html), {headers: {"Content-Type": "text/html; charset=utf-8"}});
      });
    });
  });
}

function fromCacheFirst(request) {
  return caches.match(request).then(function (hit) {
    return hit || fetch(request).then(function (resp) {
      if (resp.ok) {
        var copy = resp.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return resp;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0 && url.searchParams.has("v")) {
    event.respondWith(fromCacheFirst(request));
  } else if (request.mode === "navigate" && PAGES.indexOf(url.pathname) >= 0) {
    event.respondWith(fromNetworkFirst(request, url.pathname, !url.search));
  }
});
