"""The HTTP face of the simulator: Autotask REST v1.0 routes plus the `/_sandbox/` control API.

Request flow (outermost first): path canonicalisation (Autotask routes are case-insensitive) → in-flight
counting per (integration code, endpoint) for the thread threshold → `FaultMiddleware` → Starlette routing →
an async shim that reads the body → the sync handler in Starlette's threadpool (real concurrency).
Fault rules therefore match the canonical path, e.g. `/atservicesrest/v1.0/Companies/query`, whatever
casing the client used.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.autotask.errors import AutotaskError, method_not_allowed, not_found
from sandbox.autotask.query import parse_search
from sandbox.autotask.schema import CHILD_SEGMENTS, ENTITIES, WEBHOOK_RESOURCES, EntityDef, entity
from sandbox.autotask.simulator import AutotaskSimulator, QueryPage
from sandbox.autotask.values import format_datetime, parse_datetime
from sandbox.core import FaultMiddleware

log = logging.getLogger("sandbox.autotask")

PREFIX = "/atservicesrest/v1.0"
INFLIGHT_KEY = "autotask.inflight"
ALL_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]
_KEYWORDS = {k.lower(): k for k in (
    "query", "count", "next", "entityInformation", "fields", "userDefinedFields", "zoneInformation",
    "ThresholdInformation", "versioninformation")}
_CHILD_NAMES = {(parent, seg): e.child_of.segment for (parent, seg), e in CHILD_SEGMENTS.items() if e.child_of}
_UNTHROTTLED = {"zoneInformation"}


def canonical_path(path: str) -> str:
    """`/ATServicesRest/V1.0/companies/5/contacts` → `/atservicesrest/v1.0/Companies/5/Contacts`."""
    parts = path.split("/")
    if len(parts) < 2 or parts[1].lower() != "atservicesrest":
        return path
    if len(parts) > 4 and parts[-1] == "":
        # A trailing slash on an entity path is accepted (`/Invoices/`, `/Invoices/entityInformation/fields/`):
        # KerkhoffTechnologies/django-autotask (djautotask/api.py get_api_url) has sent it to live tenants since 2021.
        parts = parts[:-1]
    parts[1] = "atservicesrest"
    if len(parts) > 2 and parts[2].lower() == "v1.0":
        parts[2] = "v1.0"
    for i in range(2, len(parts)):
        low = parts[i].lower()
        previous = parts[i - 1]
        if i >= 5 and previous.isdigit() and (parts[i - 2].lower(), low) in _CHILD_NAMES:
            parts[i] = _CHILD_NAMES[(parts[i - 2].lower(), low)]
        elif low in _KEYWORDS:
            parts[i] = _KEYWORDS[low]
        elif i == 3 and (e := entity(low)) is not None:
            parts[i] = e.name
    return "/".join(parts)


class _CanonicalPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = dict(scope, path=canonical_path(scope["path"]))
        await self.app(scope, receive, send)


class _Inflight:
    """Counts requests in flight per (integration code, endpoint) from the moment they arrive, so that
    injected latency (a slow server) holds a thread slot as a slow Autotask would."""

    def __init__(self, app: ASGIApp, sim: AutotaskSimulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        parts = scope["path"].split("/") if scope["type"] == "http" else []
        if len(parts) < 4 or "/".join(parts[:3]) != PREFIX or parts[3] in _UNTHROTTLED or not parts[3]:
            await self.app(scope, receive, send)
            return
        code = ""
        for name, value in scope.get("headers", []):
            if name.lower() == b"apiintegrationcode":
                code = value.decode("latin-1")
        key = (code, parts[3])
        scope = dict(scope)
        scope[INFLIGHT_KEY] = self.sim.inflight_enter(*key)
        try:
            await self.app(scope, receive, send)
        finally:
            self.sim.inflight_exit(*key)


@dataclass
class Call:
    request: Request
    body: bytes
    params: dict[str, Any] = field(default_factory=dict)
    resource_id: int = 0

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def base(self) -> str:
        return str(self.request.base_url).rstrip("/")

    def qparam(self, name: str) -> str | None:
        for key, value in self.request.query_params.multi_items():
            if key.lower() == name.lower():
                return value
        return None

    def json(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise AutotaskError("The request body is not valid JSON.") from None

    def entity(self, key: str = "entity") -> EntityDef:
        e = entity(str(self.params.get(key, "")))
        if e is None:
            raise not_found(self.request.url.path)
        return e

    def child(self) -> EntityDef:
        parent = self.entity()
        e = CHILD_SEGMENTS.get((parent.name.lower(), str(self.params["child"]).lower()))
        if e is None:
            raise not_found(self.request.url.path)
        return e


Handler = Callable[[AutotaskSimulator, Call], Any]


def _template(call: Call) -> str:
    route = call.request.scope.get("route")
    path: str = getattr(route, "path", call.request.url.path)
    e = entity(str(call.params.get("entity", "")))
    path = path.replace("{entity}", e.name if e else str(call.params.get("entity", "")))
    if "child" in call.params:
        path = path.replace("{child}", str(call.params["child"]))
    return path.replace("{id:int}", "{id}").replace("{pid:int}", "{parentId}")


def _run_api(sim: AutotaskSimulator, handler: Handler, call: Call, auth: bool) -> Response:
    try:
        if auth:
            call.resource_id = sim.authenticate(call.request.headers)
            endpoint = call.request.url.path.split("/")[3] if call.request.url.path.count("/") >= 3 else ""
            sim.admit(endpoint, int(call.request.scope.get(INFLIGHT_KEY, 0)))
        result = handler(sim, call)
        return result if isinstance(result, Response) else JSONResponse(result)
    except AutotaskError as exc:
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)
    except Exception:
        log.exception("autotask sandbox: unexpected error on %s %s", call.method, call.request.url.path)
        # An unhandled server fault: ASP.NET Web API's own answer, not Autotask's `{"errors": [...]}` refusal.
        return JSONResponse({"Message": "An error has occurred."}, status_code=500)
    finally:
        sim.calls.record(call.method, _template(call))


def _api(sim: AutotaskSimulator, handler: Handler, *, auth: bool = True) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        call = Call(request=request, body=await request.body(), params=dict(request.path_params))
        return await run_in_threadpool(_run_api, sim, handler, call, auth)

    return endpoint


# --- Autotask API handlers --------------------------------------------------------------------------

def _version(sim: AutotaskSimulator, call: Call) -> Any:
    return {"apiVersions": ["1.0"]}


def _zone(sim: AutotaskSimulator, call: Call) -> Any:
    if call.method != "GET":
        raise method_not_allowed(call.method)
    return sim.zone_information(call.qparam("user"), call.base)


def _threshold(sim: AutotaskSimulator, call: Call) -> Any:
    if call.method != "GET":
        raise method_not_allowed(call.method)
    return sim.threshold_information()


def _query_body(call: Call) -> Any:
    if call.method == "GET":
        return parse_search(call.qparam("search"))
    if call.method == "POST":
        return call.json()
    raise method_not_allowed(call.method)


def _page(call: Call, e: EntityDef, page: QueryPage, body: Any, origin: str) -> Any:
    def url(after: int | None) -> str:
        paging = json.dumps({"pageSize": page.max_records, "afterId": after, "method": origin},
                            separators=(",", ":"))
        search = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        return f"{call.base}{PREFIX}/{e.name}/query/next?paging={quote(paging)}&search={quote(search)}"

    return {"items": page.items, "pageDetails": {
        "count": len(page.items), "requestCount": page.max_records,
        "prevPageUrl": url(page.prev_after) if page.has_prev else None,
        "nextPageUrl": url(page.next_after) if page.next_after is not None else None,
    }}


def _query(sim: AutotaskSimulator, call: Call) -> Any:
    e = call.entity()
    body = _query_body(call)
    return _page(call, e, sim.api_query(e, body), body, call.method)


def _query_next(sim: AutotaskSimulator, call: Call) -> Any:
    e = call.entity()
    if call.method not in ("GET", "POST"):
        raise method_not_allowed(call.method)
    try:
        token = json.loads(call.qparam("paging") or "")
        after = token["afterId"]
        origin = str(token.get("method", "POST")).upper()
        if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
            raise TypeError(after)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise AutotaskError("Invalid paging information.") from None
    if call.method == "GET" and origin != "GET":
        raise method_not_allowed("GET")
    body = call.json() if call.method == "POST" and call.body.strip() else parse_search(call.qparam("search"))
    return _page(call, e, sim.api_query(e, body, after_id=after), body, origin)


def _count(sim: AutotaskSimulator, call: Call) -> Any:
    e = call.entity()
    return {"queryCount": sim.api_count(e, _query_body(call))}


def _entity_information(sim: AutotaskSimulator, call: Call) -> Any:
    if call.method != "GET":
        raise method_not_allowed(call.method)
    return call.entity().info()


def _fields(sim: AutotaskSimulator, call: Call) -> Any:
    if call.method != "GET":
        raise method_not_allowed(call.method)
    e = call.entity()
    fields = [f.info() for f in e.fields.values()]
    if e.name.endswith("WebhookUdfFields"):
        watched = WEBHOOK_RESOURCES[e.name.replace("WebhookUdfFields", "Webhooks")]
        for info in fields:
            if info["name"] == "udfFieldID":
                info["isPickList"] = True
                info["picklistValues"] = [
                    {"value": str(d["id"]), "label": d["name"], "isDefaultValue": False, "sortOrder": i,
                     "parentValue": "", "isActive": True, "isSystem": False}
                    for i, d in enumerate(sim.udf_definitions(ENTITIES[watched]))]
    return {"fields": fields}


def _udf_fields(sim: AutotaskSimulator, call: Call) -> Any:
    if call.method != "GET":
        raise method_not_allowed(call.method)
    return {"fields": sim.udf_definitions(call.entity())}


def _item(sim: AutotaskSimulator, call: Call) -> Any:
    e = call.entity()
    item_id = int(call.params["id"])
    if call.method == "GET":
        return {"item": sim.api_get(e, item_id)}
    if call.method == "DELETE":
        return {"itemId": sim.api_delete(e, item_id, resource_id=call.resource_id)}
    raise method_not_allowed(call.method)


def _write(sim: AutotaskSimulator, call: Call, e: EntityDef, parent_id: int | None) -> Any:
    if call.method == "POST":
        return {"itemId": sim.api_create(e, call.json(), resource_id=call.resource_id, parent_id=parent_id)}
    if call.method in ("PATCH", "PUT"):
        return {"itemId": sim.api_update(e, call.json(), replace=call.method == "PUT",
                                         resource_id=call.resource_id, parent_id=parent_id)}
    raise method_not_allowed(call.method)


def _collection(sim: AutotaskSimulator, call: Call) -> Any:
    return _write(sim, call, call.entity(), None)


def _child_collection(sim: AutotaskSimulator, call: Call) -> Any:
    return _write(sim, call, call.child(), int(call.params["pid"]))


def _child_item(sim: AutotaskSimulator, call: Call) -> Any:
    e = call.child()
    parent_id, item_id = int(call.params["pid"]), int(call.params["id"])
    if call.method == "GET":
        return {"item": sim.api_get(e, item_id, parent_id=parent_id)}
    if call.method == "DELETE":
        return {"itemId": sim.api_delete(e, item_id, resource_id=call.resource_id, parent_id=parent_id)}
    raise method_not_allowed(call.method)


def _unknown(sim: AutotaskSimulator, call: Call) -> Any:
    raise not_found(call.request.url.path)


# --- control API ------------------------------------------------------------------------------------

def _control(sim: AutotaskSimulator, handler: Handler) -> Callable[[Request], Any]:
    def run(call: Call) -> Response:
        try:
            result = handler(sim, call)
        except AutotaskError as exc:
            return JSONResponse({"error": str(exc), **exc.body}, status_code=400)
        except KeyError as exc:
            return JSONResponse({"error": str(exc.args[0]) if exc.args else "not found"}, status_code=404)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return result if isinstance(result, Response) else JSONResponse(result)

    async def endpoint(request: Request) -> Response:
        call = Call(request=request, body=await request.body(), params=dict(request.path_params))
        return await run_in_threadpool(run, call)

    return endpoint


def _body(call: Call) -> dict[str, Any]:
    if not call.body.strip():
        return {}
    try:
        data = json.loads(call.body)
    except ValueError:
        raise ValueError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _c_load(sim: AutotaskSimulator, call: Call) -> Any:
    sim.load(_body(call))
    return {"loaded": {name: len(sim.state(name)) for name in ENTITIES if sim.state(name)}}


def _c_reset(sim: AutotaskSimulator, call: Call) -> Any:
    sim.reset()
    return {"reset": True}


def _c_credentials(sim: AutotaskSimulator, call: Call) -> Any:
    sim.load_credentials(_body(call))
    return {"ok": True}


def _c_calls(sim: AutotaskSimulator, call: Call) -> Any:
    return sim.calls.snapshot()


def _c_calls_reset(sim: AutotaskSimulator, call: Call) -> Any:
    sim.calls.reset()
    return sim.calls.snapshot()


def _c_faults(sim: AutotaskSimulator, call: Call) -> Any:
    if call.method == "DELETE":
        sim.faults.clear()
        return {"rules": 0}
    body = _body(call)
    rules = body.get("rules", [])
    sim.faults.configure(rules, seed=body.get("seed"))
    return {"rules": len(rules)}


def _c_clock(sim: AutotaskSimulator, call: Call) -> Any:
    if call.method == "POST":
        body = _body(call)
        if body.get("freeze"):
            sim.clock.freeze()
        if body.get("unfreeze"):
            sim.clock.unfreeze()
        if body.get("set"):
            sim.clock.set(parse_datetime(str(body["set"])))
        if body.get("advance"):
            sim.clock.advance(float(body["advance"]))
    return {"now": format_datetime(sim.clock.now()), "time": sim.clock.time()}


def _c_limits(sim: AutotaskSimulator, call: Call) -> Any:
    body = _body(call) if call.method == "POST" else {}
    limits = sim.set_limits(thread_limit=body.get("thread_limit"), hourly_limit=body.get("hourly_limit"),
                            reset_counts=bool(body.get("reset_counts")))
    others = body.get("other_integrations_per_hour")
    return {**limits, "other_integrations": sim.other_integrations(None if others is None else float(others))}


def _c_webhooks(sim: AutotaskSimulator, call: Call) -> Any:
    return sim.webhook_status()


def _c_webhooks_config(sim: AutotaskSimulator, call: Call) -> Any:
    body = _body(call)
    return sim.configure_webhooks(signing=body.get("signing"), timeout=body.get("timeout"))


def _c_wire(sim: AutotaskSimulator, call: Call) -> Any:
    body = _body(call) if call.method == "POST" else {}
    if "zone_less_datetimes" in body:
        sim.zone_less_datetimes = bool(body["zone_less_datetimes"])
    return {"zone_less_datetimes": sim.zone_less_datetimes}


def _c_deliver(sim: AutotaskSimulator, call: Call) -> Any:
    return sim.deliver_webhooks()


def _c_touch(sim: AutotaskSimulator, call: Call) -> Any:
    body = _body(call)
    person = body.pop("personID", None)
    sim.touch(str(call.params["entity"]), int(call.params["id"]), body,
              person_id=int(person) if person is not None else None)
    return {"itemId": int(call.params["id"])}


def _c_create(sim: AutotaskSimulator, call: Call) -> Any:
    body = _body(call)
    person = body.pop("personID", None)
    item_id, line_ids = sim.create_with_items(str(call.params["entity"]), body,
                                              person_id=int(person) if person is not None else None)
    return {"itemId": item_id, "billingItemIds": line_ids}


def _c_state(sim: AutotaskSimulator, call: Call) -> Any:
    if "id" in call.params:
        return {"item": sim.record(str(call.params["entity"]), int(call.params["id"]))}
    return {"items": sim.state(str(call.params["entity"]))}


def _c_count(sim: AutotaskSimulator, call: Call) -> Any:
    """How many records of an entity lack a field (`?missing=webServiceDate`): a harness's progress check that
    does not copy 10,000 records into its own process (a benchmark measures that process's memory)."""
    missing = call.request.query_params.get("missing")
    items = sim.state(str(call.params["entity"]))
    return {"count": sum(1 for item in items if not missing or not item.get(missing))}


def create_app(sim: AutotaskSimulator) -> Starlette:
    def api(path: str, handler: Handler, *, auth: bool = True) -> Route:
        return Route(path, _api(sim, handler, auth=auth), methods=ALL_METHODS)

    def control(path: str, handler: Handler, methods: list[str]) -> Route:
        return Route(f"/_sandbox{path}", _control(sim, handler), methods=methods)

    routes = [
        control("/load", _c_load, ["POST"]),
        control("/reset", _c_reset, ["POST"]),
        control("/credentials", _c_credentials, ["POST"]),
        control("/calls", _c_calls, ["GET"]),
        control("/calls/reset", _c_calls_reset, ["POST"]),
        control("/faults", _c_faults, ["POST", "DELETE"]),
        control("/clock", _c_clock, ["GET", "POST"]),
        control("/limits", _c_limits, ["GET", "POST"]),
        control("/wire", _c_wire, ["GET", "POST"]),
        control("/webhooks", _c_webhooks, ["GET"]),
        control("/webhooks/config", _c_webhooks_config, ["POST"]),
        control("/webhooks/deliver", _c_deliver, ["POST"]),
        control("/touch/{entity}/{id:int}", _c_touch, ["POST"]),
        control("/create/{entity}", _c_create, ["POST"]),
        control("/state/{entity}", _c_state, ["GET"]),
        control("/state/{entity}/{id:int}", _c_state, ["GET"]),
        control("/count/{entity}", _c_count, ["GET"]),
        api("/atservicesrest/versioninformation", _version, auth=False),
        api(f"{PREFIX}/zoneInformation", _zone, auth=False),
        api(f"{PREFIX}/ThresholdInformation", _threshold),
        api(PREFIX + "/{entity}/query/count", _count),
        api(PREFIX + "/{entity}/query/next", _query_next),
        api(PREFIX + "/{entity}/query", _query),
        api(PREFIX + "/{entity}/entityInformation/fields", _fields),
        api(PREFIX + "/{entity}/entityInformation/userDefinedFields", _udf_fields),
        api(PREFIX + "/{entity}/entityInformation", _entity_information),
        api(PREFIX + "/{entity}/{id:int}", _item),
        api(PREFIX + "/{entity}/{pid:int}/{child}/{id:int}", _child_item),
        api(PREFIX + "/{entity}/{pid:int}/{child}", _child_collection),
        api(PREFIX + "/{entity}", _collection),
        api("/{path:path}", _unknown, auth=False),
    ]
    middleware = [Middleware(_CanonicalPath), Middleware(_Inflight, sim=sim),
                  Middleware(FaultMiddleware, faults=sim.faults)]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.sim = sim
    return app
