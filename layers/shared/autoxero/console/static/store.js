// The signed-in session (tokens from Cognito's managed login), kept in IndexedDB so the service worker can
// read it. Shared by the sign-in page and the service worker (importScripts).
(function (scope) {
  "use strict";
  function open() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("autoxero-console", 1);
      request.onupgradeneeded = function () { request.result.createObjectStore("kv"); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function run(mode, body) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("kv", mode);
        var request = body(tx.objectStore("kv"));
        tx.oncomplete = function () { resolve(request && request.result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function get() { return run("readonly", function (s) { return s.get("session"); }); }
  function put(session) { return run("readwrite", function (s) { return s.put(session, "session"); }); }
  function clear() { return run("readwrite", function (s) { return s.delete("session"); }); }

  // The token endpoint of the managed login (RFC 6749 section 4.1.3 and 6; Cognito's /oauth2/token).
  function token(session, fields) {
    var body = new URLSearchParams(fields);
    body.set("client_id", session.clientId);
    return fetch(session.loginUrl + "/oauth2/token", {
      method: "POST", body: body, credentials: "omit",
      headers: {"Content-Type": "application/x-www-form-urlencoded"}
    }).then(function (response) {
      if (!response.ok) { throw new Error("the sign-in service refused (" + response.status + ")"); }
      return response.json();
    }).then(function (answer) {
      var next = Object.assign({}, session, {
        idToken: answer.id_token, expiresAt: Date.now() + 1000 * (answer.expires_in || 3600)
      });
      if (answer.refresh_token) { next.refreshToken = answer.refresh_token; }
      return put(next).then(function () { return next; });
    });
  }
  // A session whose ID token is good for at least another minute (refreshed when it is not); null: sign in.
  function current() {
    return get().then(function (session) {
      if (!session || !session.idToken) { return null; }
      if (session.expiresAt - Date.now() > 60000) { return session; }
      if (!session.refreshToken) { return null; }
      return token(session, {grant_type: "refresh_token", refresh_token: session.refreshToken})
        .catch(function () { return null; });
    });
  }
  scope.AutoxeroSession = {get: get, put: put, clear: clear, token: token, current: current};
})(self);
