"""A local stand-in for an API Gateway HTTP API (the console's): routes, the JWT authorizer and payload 2.0.

What it copies, and from where:
- Routes are the template's AWS::ApiGatewayV2::Route resources; the most specific route wins over a greedy
  `{proxy+}` one ("Working with routes for HTTP APIs", docs.aws.amazon.com/apigateway/latest/developerguide/
  http-api-develop-routes.html).
- The JWT authorizer ("Control access to HTTP APIs with JWT authorizers", .../http-api-jwt-authorizer.html):
  the token comes from the identity source (the Authorization header, with or without "Bearer "); its `kid`
  must be in the issuer's JWKS (`{issuer}/.well-known/jwks.json`, which moto's cognito-idp serves); only RSA
  algorithms; `iss` must equal the configured issuer; `aud` or `client_id` one of the audiences; `exp`, `nbf`
  and `iat` are checked. A refused request gets 401 {"message":"Unauthorized"} and never reaches the function.
- The verified claims reach the function as `requestContext.authorizer.jwt.claims`, every value as text and
  arrays as "[a b]" (measured against API Gateway in floci-io/floci#2011 and reported in aws-solutions-library-
  samples/guidance-for-claude-code-with-amazon-bedrock#802).
- The event and the reply follow payload format 2.0 (.../http-api-develop-integrations-lambda.html).
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from autoxero_cli.local_stack import ACCOUNT, LocalStack
from autoxero_cli.template import resources

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
_LOCK = threading.Lock()  # the local invoker swaps os.environ per call: one console request at a time


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str
    function: str
    authorizer: dict[str, Any] | None

    @property
    def starlette_path(self) -> str:
        return self.path.replace("{proxy+}", "{proxy:path}")

    @property
    def greedy(self) -> bool:
        return "+}" in self.path


def http_routes(stack: LocalStack) -> list[HttpRoute]:
    integrations = resources("AWS::ApiGatewayV2::Integration")
    authorizers = resources("AWS::ApiGatewayV2::Authorizer")
    routes = []
    for res in resources("AWS::ApiGatewayV2::Route").values():
        props = res["Properties"]
        method, path = props["RouteKey"].split(" ", 1)
        integration_id = str(stack.resolve(props["Target"])).split("/", 1)[1]
        function = integrations[integration_id]["Properties"]["IntegrationUri"]["Fn::GetAtt"][0]
        authorizer = None
        if props.get("AuthorizationType") == "JWT":
            config = authorizers[props["AuthorizerId"]["Ref"]]["Properties"]["JwtConfiguration"]
            authorizer = {"issuer": stack.resolve(config["Issuer"]),
                          "audience": [stack.resolve(a) for a in config["Audience"]]}
        routes.append(HttpRoute(method, path, function, authorizer))
    return sorted(routes, key=lambda r: (r.greedy, -len(r.path)))


class Unauthorized(Exception):
    pass


class JwtVerifier:
    """API Gateway's JWT authorizer checks, against the issuer's JWKS (moto serves it for its user pools)."""

    def __init__(self, jwks_url: str) -> None:
        self._jwks_url = jwks_url
        self._keys: KeySet | None = None

    def keys(self) -> KeySet:
        if self._keys is None:
            self._keys = KeySet.import_key_set(httpx.get(self._jwks_url, timeout=10).raise_for_status().json())
        return self._keys

    def verify(self, header: str | None, issuer: str, audience: list[str]) -> dict[str, Any]:
        token = (header or "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if not token:
            raise Unauthorized("no token")
        try:
            decoded = jwt.decode(token, self.keys(), algorithms=["RS256", "RS384", "RS512"])
        except (JoseError, ValueError) as err:
            raise Unauthorized(f"bad token: {err}") from None
        claims = dict(decoded.claims)
        now = time.time()
        if claims.get("iss") != issuer:
            raise Unauthorized("wrong issuer")
        if not ({str(claims.get("aud", "")), str(claims.get("client_id", ""))} & set(audience)):
            raise Unauthorized("wrong audience")
        if float(claims.get("exp", 0)) <= now:
            raise Unauthorized("expired")
        if float(claims.get("nbf", 0)) > now or float(claims.get("iat", 0)) > now + 300:
            raise Unauthorized("not valid yet")
        return claims


def gateway_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as the authorizer hands them to the integration: text, arrays as "[a b]"."""
    out = {}
    for key, value in claims.items():
        if isinstance(value, list | tuple):
            out[key] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            out[key] = str(value).lower()
        else:
            out[key] = str(value)
    return out


async def v2_event(request: Request, route: HttpRoute, claims: dict[str, str] | None) -> dict[str, Any]:
    body = await request.body()
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        headers[key.lower()] = f"{headers[key.lower()]},{value}" if key.lower() in headers else value
    now = time.time()
    context: dict[str, Any] = {
        "accountId": ACCOUNT, "apiId": "local", "domainName": request.url.hostname, "domainPrefix": "local",
        "http": {"method": request.method, "path": request.url.path, "protocol": "HTTP/1.1",
                 "sourceIp": request.client.host if request.client else "127.0.0.1",
                 "userAgent": request.headers.get("user-agent", "")},
        "requestId": str(uuid.uuid4()), "routeKey": f"{route.method} {route.path}", "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return {
        "version": "2.0", "routeKey": f"{route.method} {route.path}", "rawPath": request.url.path,
        "rawQueryString": request.url.query, "headers": headers,
        "cookies": [f"{k}={v}" for k, v in request.cookies.items()] or None,
        "queryStringParameters": dict(request.query_params) or None,
        "pathParameters": dict(request.path_params) or None, "requestContext": context,
        "body": text or None, "isBase64Encoded": encoded,
    }


def v2_response(reply: dict[str, Any]) -> Response:
    body = reply.get("body") or ""
    content = base64.b64decode(body) if reply.get("isBase64Encoded") else body.encode()
    response = Response(content, status_code=int(reply.get("statusCode", 200)), headers=reply.get("headers") or {})
    for cookie in reply.get("cookies") or []:
        response.headers.append("set-cookie", cookie)
    return response


def http_api_routes(stack: LocalStack, environment: dict[str, str], verifier: JwtVerifier) -> list[Route]:
    from starlette.concurrency import run_in_threadpool

    from autoxero_cli.invoke import invoke

    def endpoint(route: HttpRoute) -> Any:
        async def handle(request: Request) -> Response:
            claims = None
            if route.authorizer:
                try:
                    verified = verifier.verify(request.headers.get("authorization"), **route.authorizer)
                except Unauthorized:
                    return JSONResponse({"message": "Unauthorized"}, status_code=401,
                                        headers={"www-authenticate": "Bearer"})
                claims = gateway_claims(verified)
            event = await v2_event(request, route, claims)

            def call() -> Any:
                with _LOCK:
                    return invoke(route.function, event, stack, environment)

            return v2_response(await run_in_threadpool(call))

        return handle

    methods = lambda r: ALL_METHODS if r.method == "ANY" else [r.method]  # noqa: E731
    return [Route(r.starlette_path, endpoint(r), methods=methods(r)) for r in http_routes(stack)]
