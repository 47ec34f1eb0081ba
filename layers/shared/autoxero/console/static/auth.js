// Sign-in with Cognito's managed login: authorization code with PKCE (RFC 7636), as a public client (no
// client secret in any page). /console/login starts it; /console/auth/callback finishes it, stores the
// session for the service worker, and opens the console.
(function () {
  "use strict";
  var root = document.getElementById("auth");
  var clientId = root.dataset.clientId, loginUrl = root.dataset.loginUrl;
  var redirectUri = location.origin + "/console/auth/callback";
  var say = function (text) { document.getElementById("auth-status").textContent = text; };

  function b64url(bytes) {
    return btoa(String.fromCharCode.apply(null, new Uint8Array(bytes)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function random() { return b64url(crypto.getRandomValues(new Uint8Array(32))); }

  function start() {
    var verifier = random(), state = random();
    sessionStorage.setItem("pkce", JSON.stringify({verifier: verifier, state: state}));
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)).then(function (hash) {
      var query = new URLSearchParams({response_type: "code", client_id: clientId, redirect_uri: redirectUri,
        scope: "openid email", state: state, code_challenge: b64url(hash), code_challenge_method: "S256"});
      location.assign(loginUrl + "/oauth2/authorize?" + query.toString());
    });
  }

  function worker() {
    return navigator.serviceWorker.register("/console/sw.js", {scope: "/console/"}).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  function finish(params) {
    var pkce = JSON.parse(sessionStorage.getItem("pkce") || "{}");
    sessionStorage.removeItem("pkce");
    if (params.get("error")) { throw new Error(params.get("error_description") || params.get("error")); }
    if (!params.get("code") || params.get("state") !== pkce.state) { throw new Error("this sign-in link is stale"); }
    var session = {clientId: clientId, loginUrl: loginUrl};
    return self.AutoxeroSession.token(session, {grant_type: "authorization_code", code: params.get("code"),
      redirect_uri: redirectUri, code_verifier: pkce.verifier}).then(worker).then(function () {
      location.replace("/console/");
    });
  }

  function signOut() {
    return self.AutoxeroSession.clear().then(function () {
      var query = new URLSearchParams({client_id: clientId, logout_uri: location.origin + "/console/login"});
      location.assign(loginUrl + "/logout?" + query.toString());
    });
  }

  if (!("serviceWorker" in navigator) || !self.crypto || !crypto.subtle) {
    say("This browser cannot sign in to the console (it needs service workers over HTTPS).");
    return;
  }
  var params = new URLSearchParams(location.search);
  var step;
  if (location.pathname === "/console/auth/callback") { say("Finishing sign-in…"); step = finish(params); }
  else if (params.get("signout")) { say("Signing you out…"); step = signOut(); }
  else {
    step = self.AutoxeroSession.current().then(function (session) {
      return session ? worker().then(function () { location.replace("/console/"); }) : start();
    });
  }
  step.catch(function (err) { say("Sign-in failed: " + err.message); });
  document.getElementById("signin").addEventListener("click", function (event) {
    event.preventDefault(); start();
  });
})();
