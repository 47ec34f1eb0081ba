"""The Starlette app: identity routes at the server root, the Accounting API under /api.xro/2.0, and the
control API under /_sandbox (never faulted, never rate-limited, no auth)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.core import FaultMiddleware, request_route

from . import api
from .api import COLLECTIONS, Call
from .org import WriteContext
from .simulator import Reply, XeroSimulator, error_reply
from .wire import NOT_FOUND_TEXT, XeroError, dumps

PREFIX = "/api.xro/2.0"
Operation = Callable[[WriteContext, Call], tuple[int, dict[str, Any]]]
Endpoint = Callable[[Request], Awaitable[Response]]

_ID_PARAM = {"Invoices": "InvoiceID", "CreditNotes": "CreditNoteID", "PurchaseOrders": "PurchaseOrderID",
             "Contacts": "ContactID", "Payments": "PaymentID", "Items": "ItemID", "Accounts": "AccountID",
             "TaxRates": "TaxType", "TrackingCategories": "TrackingCategoryID",
             "BrandingThemes": "BrandingThemeID"}
_SEGMENTS = {name.lower(): name for name in [*COLLECTIONS, "Organisation", "Allocations"]}


class CanonicalPaths:
    """Xero's paths are case-insensitive (`/invoices` works); route them to the canonical spelling."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].lower().startswith(PREFIX.lower() + "/"):
            parts = scope["path"].split("/")
            parts[1], parts[2] = "api.xro", "2.0"
            for index in (3, 5):
                if index < len(parts):
                    parts[index] = _SEGMENTS.get(parts[index].lower(), parts[index])
            path = "/".join(parts)
            scope = dict(scope, path=path, raw_path=path.encode())
        await self.app(scope, receive, send)


def _response(reply: Reply) -> Response:
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type, headers=reply.headers)


def _call(request: Request, body: bytes) -> Call:
    return Call(method=request.method, path=request.url.path, route=request_route(request),
                query=list(request.query_params.multi_items()), headers=request.headers, body=body,
                path_params={k: str(v) for k, v in request.path_params.items()},
                base_url=str(request.base_url))


def _api(sim: XeroSimulator, operation: Operation, *, envelope: bool = True) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        body = await request.body()
        reply = await run_in_threadpool(sim.handle_api, _call(request, body), operation, envelope=envelope)
        return _response(reply)
    return endpoint


def _accounting_routes(sim: XeroSimulator) -> list[Route]:
    routes = [Route(f"{PREFIX}/Organisation", _api(sim, lambda ctx, call: api.get_organisation(ctx.org, call)),
                    methods=["GET"])]
    for name in COLLECTIONS:
        routes.append(Route(f"{PREFIX}/{name}", _api(sim, lambda ctx, call, n=name: api.get_collection(
            ctx.org, call, n)), methods=["GET"]))
        if name in _ID_PARAM:
            param = _ID_PARAM[name]
            one = _api(sim, lambda ctx, call, n=name, p=param: api.get_one(ctx.org, call, n, call.path_params[p]))
            routes.append(Route(f"{PREFIX}/{name}/{{{param}}}", one, methods=["GET"]))
    for name in ("Invoices", "CreditNotes", "PurchaseOrders"):
        param = _ID_PARAM[name]
        routes += [
            Route(f"{PREFIX}/{name}", _api(sim, lambda ctx, call, n=name: api.write_documents(
                ctx, call, n, upsert=False)), methods=["PUT"]),
            Route(f"{PREFIX}/{name}", _api(sim, lambda ctx, call, n=name: api.write_documents(
                ctx, call, n, upsert=True)), methods=["POST"]),
            Route(f"{PREFIX}/{name}/{{{param}}}", _api(sim, lambda ctx, call, n=name, p=param: api.write_documents(
                ctx, call, n, upsert=True, path_key=call.path_params[p])), methods=["POST"]),
        ]
    routes += [
        Route(f"{PREFIX}/Contacts", _api(sim, lambda ctx, call: api.write_contacts(ctx, call, upsert=False)),
              methods=["PUT"]),
        Route(f"{PREFIX}/Contacts", _api(sim, lambda ctx, call: api.write_contacts(ctx, call, upsert=True)),
              methods=["POST"]),
        Route(f"{PREFIX}/Contacts/{{ContactID}}", _api(sim, lambda ctx, call: api.write_contacts(
            ctx, call, upsert=True, path_key=call.path_params["ContactID"])), methods=["POST"]),
        Route(f"{PREFIX}/Items", _api(sim, lambda ctx, call: api.write_items(ctx, call, upsert=False)),
              methods=["PUT"]),
        Route(f"{PREFIX}/Items", _api(sim, lambda ctx, call: api.write_items(ctx, call, upsert=True)),
              methods=["POST"]),
        Route(f"{PREFIX}/Items/{{ItemID}}", _api(sim, lambda ctx, call: api.write_items(
            ctx, call, upsert=True, path_key=call.path_params["ItemID"])), methods=["POST"]),
        Route(f"{PREFIX}/Payments", _api(sim, api.write_payments), methods=["PUT", "POST"]),
        Route(f"{PREFIX}/Payments/{{PaymentID}}", _api(sim, lambda ctx, call: api.update_payment(
            ctx, call, call.path_params["PaymentID"])), methods=["POST"]),
        Route(f"{PREFIX}/CreditNotes/{{CreditNoteID}}/Allocations", _api(sim, lambda ctx, call: api.write_allocations(
            ctx, call, call.path_params["CreditNoteID"])), methods=["PUT"]),
        Route(f"{PREFIX}/CreditNotes/{{CreditNoteID}}/Allocations/{{AllocationID}}", _api(
            sim, lambda ctx, call: api.remove_allocation(ctx, call.path_params["CreditNoteID"],
                                                         call.path_params["AllocationID"]), envelope=False),
              methods=["DELETE"]),
    ]

    async def unknown(request: Request) -> Response:
        sim.calls.record(request.method, request_route(request))
        return PlainTextResponse(NOT_FOUND_TEXT, status_code=404)

    routes.append(Route(f"{PREFIX}/{{rest:path}}", unknown,
                        methods=["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"]))
    return routes


# ---------------------------------------------------------------------------------------------- identity


def _identity_routes(sim: XeroSimulator) -> list[Route]:
    def authorize(request: Request) -> Response:
        sim.calls.record(request.method, request_route(request))
        try:
            location = sim.auth.authorize(dict(request.query_params), sim.tenants())
        except XeroError as error:
            return _response(error_reply(error))
        return RedirectResponse(location, status_code=302)

    async def token(request: Request) -> Response:
        sim.calls.record(request.method, request_route(request))
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
        try:
            body = await run_in_threadpool(sim.auth.token, form, request.headers.get("authorization"), sim.tenants())
        except XeroError as error:
            return _response(error_reply(error, {"Cache-Control": "no-store"}))
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    async def revoke(request: Request) -> Response:
        sim.calls.record(request.method, request_route(request))
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        try:
            sim.auth.revoke(form, request.headers.get("authorization"))
        except XeroError as error:
            return _response(error_reply(error))
        return Response(status_code=200)

    def connections(request: Request) -> Response:
        sim.calls.record(request.method, request_route(request))
        try:
            access = sim.auth.check_access(request.headers.get("authorization"))
        except XeroError as error:
            return _response(error_reply(error))
        listed = sim.auth.connection_list(access, sim.tenants(), request.query_params.get("authEventId"))
        return JSONResponse(listed)

    def disconnect(request: Request) -> Response:
        sim.calls.record(request.method, request_route(request))
        try:
            sim.auth.check_access(request.headers.get("authorization"))
        except XeroError as error:
            return _response(error_reply(error))
        if not sim.auth.disconnect(str(request.path_params["id"]).lower()):
            return PlainTextResponse(NOT_FOUND_TEXT, status_code=404)
        return Response(status_code=204)

    return [
        Route("/identity/connect/authorize", authorize, methods=["GET"]),
        Route("/connect/token", token, methods=["POST"]),
        Route("/connect/revocation", revoke, methods=["POST"]),
        Route("/connections", connections, methods=["GET"]),
        Route("/Connections", connections, methods=["GET"]),
        Route("/connections/{id}", disconnect, methods=["DELETE"]),
        Route("/Connections/{id}", disconnect, methods=["DELETE"]),
    ]


# ---------------------------------------------------------------------------------------------- control


async def _json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    return json.loads(raw)


def _control_routes(sim: XeroSimulator) -> list[Route]:  # noqa: PLR0915 - one small closure per control route
    def bad(message: str, status: int = 400) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def load(request: Request) -> Response:
        try:
            data = await _json(request)
            sim.load(data)
        except (ValueError, KeyError, TypeError, XeroError) as exc:
            return bad(f"fixture could not be loaded: {exc}")
        return JSONResponse({"loaded": True, "tenants": sim.tenants()})

    async def reset(request: Request) -> Response:
        sim.reset()
        return JSONResponse({"reset": True})

    async def calls(request: Request) -> Response:
        return JSONResponse(sim.calls.snapshot())

    async def calls_reset(request: Request) -> Response:
        sim.calls.reset()
        return JSONResponse({"reset": True})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            sim.faults.clear()
            return JSONResponse({"rules": []})
        try:
            data = await _json(request)
            sim.faults.configure(list(data.get("rules", [])), data.get("seed"))
        except (ValueError, TypeError, AttributeError) as exc:
            return bad(f"bad fault rules: {exc}")
        return JSONResponse({"rules": len(data.get("rules", []))})

    async def targets(request: Request) -> Response:
        if request.method == "DELETE":
            sim.webhooks.remove_targets()
            return JSONResponse({"targets": []})
        try:
            url = str((await _json(request))["url"])
        except (ValueError, KeyError, TypeError) as exc:
            return bad(f'expected {{"url": …}}: {exc}')
        sim.webhooks.add_target(url)
        return JSONResponse(sim.webhooks.snapshot()["targets"])

    async def webhooks(request: Request) -> Response:
        return JSONResponse(sim.webhooks.snapshot())

    async def settlement_events(request: Request) -> Response:
        if request.method == "POST":
            try:
                sim.settlement_events = bool((await _json(request))["enabled"])
            except (ValueError, KeyError, TypeError) as exc:
                return bad(f'expected {{"enabled": true|false}}: {exc}')
        return JSONResponse({"enabled": sim.settlement_events})

    async def deliver(request: Request) -> Response:
        results = await run_in_threadpool(sim.webhooks.deliver, sim.credentials["webhook_key"])
        return JSONResponse({"deliveries": results})

    async def intent(request: Request) -> Response:
        try:
            data = await _json(request)
        except ValueError as exc:
            return bad(str(exc))
        urls = [data["url"]] if isinstance(data, dict) and data.get("url") else list(sim.webhooks.targets)
        if not urls:
            return bad("no target: register one or pass {\"url\": …}")
        key = sim.credentials["webhook_key"]
        results = [await run_in_threadpool(sim.webhooks.intent_to_receive, url, key) for url in urls]
        return JSONResponse({"results": results, "ok": all(r["ok"] for r in results)})

    def clock_state() -> dict[str, Any]:
        now = sim.clock.now()
        return {"now": now.isoformat(), "time": sim.clock.time(), "frozen": sim.clock._frozen_at is not None}

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            try:
                data = await _json(request)
                if data.get("freeze") is True:
                    sim.clock.freeze()
                elif data.get("freeze") is False:
                    sim.clock.unfreeze()
                if data.get("set"):
                    sim.clock.set(datetime.fromisoformat(str(data["set"]).replace("Z", "+00:00")))
                if data.get("advance"):
                    sim.clock.advance(float(data["advance"]))
            except (ValueError, TypeError, AttributeError) as exc:
                return bad(f"bad clock request: {exc}")
        return JSONResponse(clock_state())

    async def limits(request: Request) -> Response:
        if request.method == "POST":
            try:
                data = await _json(request)

                def pick(*names: str) -> int | None:
                    value = next((data[n] for n in names if n in data), None)
                    return None if value is None else int(value)

                sim.set_limits(minute=pick("minute", "minute_limit"), concurrent=pick("concurrent", "concurrent_limit"),
                               day=pick("day", "day_limit"))
            except (ValueError, TypeError, AttributeError) as exc:
                return bad(f"bad limits: {exc}")
        return JSONResponse(sim.limiter.snapshot())

    async def hold(request: Request) -> Response:
        data = await _json(request)
        if data.get("hold", True):
            sim.hold()
        else:
            sim.release()
        return JSONResponse({"hold": not sim._gate.is_set(),
                             "in_flight": {t: sim.limiter.in_flight(t) for t in sim.orgs}})

    async def auth(request: Request) -> Response:
        if request.method == "POST":
            data = await _json(request)
            if "consent_tenants" in data:
                sim.auth.consent_tenants = [str(t).lower() for t in data["consent_tenants"] or []] or None
            if data.get("issue"):
                options = data["issue"] if isinstance(data["issue"], dict) else {}
                return JSONResponse(sim.issue_token_set(**options))
        return JSONResponse({"token_refreshes": sim.token_refreshes, "invalid_grants": sim.invalid_grants,
                             "connections": [c.wire() for c in sim.auth.connections.values()]})

    async def tenants(request: Request) -> Response:
        if request.method == "POST":
            data = await _json(request)
            try:
                sim.add_tenant(str(data["tenantId"]), str(data.get("tenantName", "")), data.get("data"))
            except (KeyError, ValueError, TypeError, XeroError) as exc:
                return bad(f"bad tenant: {exc}")
        return JSONResponse(sim.tenants())

    async def state(request: Request) -> Response:
        try:
            records = sim.state(request.path_params["entity"], request.query_params.get("tenant"))
        except KeyError:
            return bad(f"unknown entity {request.path_params['entity']}", 404)
        return Response(dumps({request.path_params["entity"]: records}), media_type="application/json")

    return [
        Route("/_sandbox/load", load, methods=["POST"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/calls", calls, methods=["GET"]),
        Route("/_sandbox/calls/reset", calls_reset, methods=["POST"]),
        Route("/_sandbox/faults", faults, methods=["POST", "DELETE"]),
        Route("/_sandbox/webhooks", webhooks, methods=["GET"]),
        Route("/_sandbox/webhooks/targets", targets, methods=["POST", "DELETE"]),
        Route("/_sandbox/webhooks/deliver", deliver, methods=["POST"]),
        Route("/_sandbox/webhooks/settlement-events", settlement_events, methods=["GET", "POST"]),
        Route("/_sandbox/webhooks/intent-to-receive", intent, methods=["POST"]),
        Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
        Route("/_sandbox/limits", limits, methods=["GET", "POST"]),
        Route("/_sandbox/hold", hold, methods=["POST"]),
        Route("/_sandbox/auth", auth, methods=["GET", "POST"]),
        Route("/_sandbox/tenants", tenants, methods=["GET", "POST"]),
        Route("/_sandbox/state/{entity}", state, methods=["GET"]),
    ]


def create_app(sim: XeroSimulator) -> Starlette:
    """The simulator as an ASGI app, with fault injection in front (the control API is never faulted)."""
    routes = _identity_routes(sim) + _accounting_routes(sim) + _control_routes(sim)
    return Starlette(routes=routes, middleware=[Middleware(FaultMiddleware, faults=sim.faults),
                                                Middleware(CanonicalPaths)])
