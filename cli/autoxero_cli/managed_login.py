"""A local stand-in for Cognito's managed login (moto has the user-pool API and its JWKS, not the sign-in pages).

It speaks the endpoints the console's sign-in script uses, as Cognito documents them: /oauth2/authorize (the
authorization-code grant with PKCE), /oauth2/token (authorization_code and refresh_token grants, form-encoded,
answering id_token, access_token, refresh_token, expires_in and token_type) and /logout (client_id and
logout_uri) — docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html, token-endpoint.html
and logout-endpoint.html; PKCE per RFC 7636 (S256). The tokens themselves are moto's (InitiateAuth with the
person's password), signed with the key moto publishes as the pool's JWKS, so the local gateway verifies them as
API Gateway would. MFA is not simulated.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from autoxero_cli.local_stack import LocalStack

PREFIX = "/_cognito"
_CORS = {"access-control-allow-origin": "*", "access-control-allow-headers": "content-type"}
_FORM = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head><body style="font-family:system-ui;
max-width:24rem;margin:4rem auto"><h1>Sign in</h1><p style="color:#666">Local stand-in for Cognito's managed login
</p>{error}<form method="post"><input type="hidden" name="q" value="{query}">
<p><label>E-mail<br><input name="username" type="email" autocomplete="username" required></label></p>
<p><label>Password<br><input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button id="signin-submit">Sign in</button></p></form></body></html>"""


async def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True))


class ManagedLogin:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.codes: dict[str, dict[str, Any]] = {}

    @property
    def pool_id(self) -> str:
        return self.stack.physical["ConsoleUserPool"]

    def _client(self, client_id: str) -> dict[str, Any] | None:
        idp = self.stack.client("cognito-idp")
        try:
            return dict(idp.describe_user_pool_client(UserPoolId=self.pool_id, ClientId=client_id)["UserPoolClient"])
        except idp.exceptions.ResourceNotFoundException:
            return None

    def _check(self, params: dict[str, str]) -> str | None:
        client = self._client(params.get("client_id", ""))
        if client is None:
            return "unknown client_id"
        if params.get("redirect_uri") not in client.get("CallbackURLs", []):
            return "redirect_mismatch"
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "PKCE (S256) is required for a public client"
        return None

    async def authorize(self, request: Request) -> Response:
        if request.method == "GET":
            params = dict(request.query_params)
            problem = self._check(params)
            if problem:
                return HTMLResponse(f"<p>{html.escape(problem)}</p>", status_code=400)
            return HTMLResponse(_FORM.format(error="", query=html.escape(request.url.query)))
        form = await _form(request)
        query = form.get("q", "")
        params = dict(parse_qsl(query))
        problem = self._check(params)
        if problem:
            return HTMLResponse(f"<p>{html.escape(problem)}</p>", status_code=400)
        idp = self.stack.client("cognito-idp")
        try:
            answer = idp.initiate_auth(ClientId=params["client_id"], AuthFlow="USER_PASSWORD_AUTH",
                                       AuthParameters={"USERNAME": str(form.get("username", "")),
                                                       "PASSWORD": str(form.get("password", ""))})
        except (idp.exceptions.NotAuthorizedException, idp.exceptions.UserNotFoundException):
            error = '<p style="color:#b3261e" id="signin-error">Incorrect username or password.</p>'
            return HTMLResponse(_FORM.format(error=error, query=html.escape(query)), status_code=400)
        if "AuthenticationResult" not in answer:
            return HTMLResponse(f"<p>{html.escape(answer.get('ChallengeName', 'a challenge'))} is not simulated "
                                "locally: invite the user again with `autoxero users invite`.</p>", status_code=400)
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"tokens": answer["AuthenticationResult"], "client_id": params["client_id"],
                            "redirect_uri": params["redirect_uri"], "challenge": params["code_challenge"],
                            "expires": time.time() + 300}
        target = f"{params['redirect_uri']}?{urlencode({'code': code, 'state': params.get('state', '')})}"
        return RedirectResponse(target, status_code=302)

    async def token(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={**_CORS, "access-control-allow-methods": "POST"})
        form = await _form(request)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            issued = self.codes.pop(form.get("code", ""), None)
            if (issued is None or issued["expires"] < time.time() or issued["client_id"] != form.get("client_id")
                    or issued["redirect_uri"] != form.get("redirect_uri")):
                return JSONResponse({"error": "invalid_grant"}, status_code=400, headers=_CORS)
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if base64.urlsafe_b64encode(digest).decode().rstrip("=") != issued["challenge"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400, headers=_CORS)
            result = issued["tokens"]
        elif grant == "refresh_token":
            idp = self.stack.client("cognito-idp")
            try:
                result = idp.initiate_auth(ClientId=form.get("client_id", ""), AuthFlow="REFRESH_TOKEN_AUTH",
                                           AuthParameters={"REFRESH_TOKEN": form.get("refresh_token", "")}
                                           )["AuthenticationResult"]
            except Exception:  # any refusal is invalid_grant to the caller, as Cognito answers
                return JSONResponse({"error": "invalid_grant"}, status_code=400, headers=_CORS)
        else:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400, headers=_CORS)
        body = {"id_token": result["IdToken"], "access_token": result["AccessToken"],
                "expires_in": result.get("ExpiresIn", 3600), "token_type": "Bearer"}
        if result.get("RefreshToken"):
            body["refresh_token"] = result["RefreshToken"]
        return JSONResponse(body, headers=_CORS)

    async def logout(self, request: Request) -> Response:
        client = self._client(request.query_params.get("client_id", ""))
        target = request.query_params.get("logout_uri", "")
        if client is None or target not in client.get("LogoutURLs", []):
            return HTMLResponse("<p>logout_uri is not one of the client's sign-out URLs</p>", status_code=400)
        return RedirectResponse(target, status_code=302)

    def routes(self) -> list[Route]:
        return [Route(f"{PREFIX}/oauth2/authorize", self.authorize, methods=["GET", "POST"]),
                Route(f"{PREFIX}/oauth2/token", self.token, methods=["POST", "OPTIONS"]),
                Route(f"{PREFIX}/logout", self.logout, methods=["GET"])]
