// The console's service worker: every request under /console/ (pages and form posts) carries the signed-in
// person's ID token as "Authorization: Bearer", which API Gateway's JWT authorizer checks. Browsers only send
// cookies or HTTP auth by themselves, and a JWT authorizer reads a header or a query parameter, never a cookie.
importScripts("/console/static/store.js");
var PUBLIC = ["/console/login", "/console/auth/callback", "/console/sw.js", "/console/static/"];

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function signIn() { return Response.redirect(new URL("/console/login", self.location.origin).href, 302); }

function withToken(request) {
  return self.AutoxeroSession.current().then(function (session) {
    if (!session) { return signIn(); }
    var headers = new Headers(request.headers);
    headers.set("Authorization", "Bearer " + session.idToken);
    // A page's redirect (e.g. on to Xero's sign-in) is left to the browser, which follows it as a navigation.
    var init = {method: request.method, headers: headers, credentials: "omit",
                redirect: request.mode === "navigate" ? "manual" : "follow"};
    var body = request.method === "GET" || request.method === "HEAD" ? Promise.resolve(null)
      : request.clone().arrayBuffer();
    return body.then(function (bytes) {
      if (bytes) { init.body = bytes; }
      return fetch(request.url, init);
    }).then(function (response) {
      if (response.status === 401) {
        return self.AutoxeroSession.clear().then(signIn);
      }
      return response;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var url = new URL(event.request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/console/") !== 0) { return; }
  if (PUBLIC.some(function (p) { return url.pathname.indexOf(p) === 0; })) { return; }
  event.respondWith(withToken(event.request));
});
