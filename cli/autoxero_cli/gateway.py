"""A local stand-in for API Gateway: HTTP requests become proxy events for the stack's functions.

The routes come from the functions' `Api` events in template.yaml; each request is handed to the handler
in-process (see invoke.py), exactly as API Gateway would hand it over in AWS. The demo registers this
server's URLs as the sandbox's webhook targets, so webhooks travel over real HTTP.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from autoxero_cli.invoke import invoke
from autoxero_cli.local_stack import LocalStack
from autoxero_cli.template import functions
from sandbox.core import RunningServer, serve_in_thread


def api_routes() -> list[tuple[str, str, str]]:
    """(method, path, function logical id) for every Api event in the template."""
    routes = []
    for logical_id, spec in functions().items():
        for event in spec.events.values():
            if event.get("Type") == "Api":
                props = event["Properties"]
                routes.append((props["Method"].upper(), props["Path"], logical_id))
    return routes


async def proxy_event(request: Request, stage: str = "live") -> dict[str, Any]:
    body = await request.body()
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    path = request.url.path
    return {
        "resource": path, "path": path, "httpMethod": request.method,
        # API Gateway tells functions the scheme the client used, as X-Forwarded-Proto.
        "headers": {"x-forwarded-proto": request.url.scheme, **dict(request.headers)}, "multiValueHeaders": {},
        "queryStringParameters": dict(request.query_params) or None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "body": text or None, "isBase64Encoded": encoded,
        "requestContext": {"resourcePath": path, "httpMethod": request.method, "path": f"/{stage}{path}",
                           "stage": stage, "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "127.0.0.1"}},
    }


def create_gateway(stack: LocalStack, environment: dict[str, str]) -> Starlette:
    """The REST API's routes, the console's HTTP API routes (with its JWT authorizer) and the managed login."""
    from autoxero_cli.http_api import JwtVerifier, http_api_routes
    from autoxero_cli.managed_login import ManagedLogin

    def endpoint(logical_id: str) -> Any:
        async def handle(request: Request) -> Response:
            from starlette.concurrency import run_in_threadpool

            event = await proxy_event(request)
            reply = await run_in_threadpool(invoke, logical_id, event, stack, environment)
            headers = {k: ", ".join(v) for k, v in (reply.get("multiValueHeaders") or {}).items()}
            headers.update(reply.get("headers") or {})
            body = reply.get("body") or ""
            content = base64.b64decode(body) if reply.get("isBase64Encoded") else body.encode()
            return Response(content, status_code=int(reply.get("statusCode", 200)), headers=headers)

        return handle

    routes = [Route(path, endpoint(logical_id), methods=[method]) for method, path, logical_id in api_routes()]
    pool = stack.physical.get("ConsoleUserPool")
    if pool:
        verifier = JwtVerifier(f"{stack.endpoint_url}/{pool}/.well-known/jwks.json")
        routes += ManagedLogin(stack).routes() + http_api_routes(stack, environment, verifier)
    return Starlette(routes=routes)


def serve_gateway(stack: LocalStack, environment: dict[str, str], port: int = 0) -> RunningServer:
    environment = dict(environment)  # completed below, once the server knows its own address
    server = serve_in_thread(create_gateway(stack, environment), port)
    if stack.physical.get("ConsoleUserPool"):
        from autoxero_cli.managed_login import PREFIX

        environment["AUTOXERO_CONSOLE_LOGIN_URL"] = f"{server.url}{PREFIX}"
        environment["AUTOXERO_XERO_CONNECT_URL"] = f"{server.url}/xero/connect"
        stack.point_console_at(server.url)
    return server
