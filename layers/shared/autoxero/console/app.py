"""The console's routes: parse the request, check who is asking, call the page's module, render.

Every route under /console/ except the sign-in pages, the service worker and the stylesheet sits behind API
Gateway's JWT authorizer (template.yaml); each checks the role again here. Pages read; POSTs change something
and need the operator role and the form's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from autoxero.console import FLOWS, web
from autoxero.console.actions import ActionRefused, Outcome
from autoxero.console.auth import Csrf, Forbidden, NotSignedIn, Person, Role
from autoxero.observability import logger
from autoxero.runtime import runtime

if TYPE_CHECKING:
    from autoxero.runtime import Runtime
    from autoxero.sync.run import FlowRun

app = APIGatewayHttpResolver(strip_prefixes=[])
HTML = "text/html; charset=utf-8"
PAGES = (("/console/", "Overview"), ("/console/attention", "Needs attention"), ("/console/invoices", "Invoices"),
         ("/console/reconciliation", "Reconciliation"), ("/console/mappings", "Mappings"),
         ("/console/preview", "Preview"))
# A person's page views are seconds apart and make a few Autotask reads each: one block of granted requests
# serves them for this long (Runtime._pacer), instead of a ThresholdInformation read per page.
PACER_SECONDS = 120
SECURITY_HEADERS = {
    # Scripts only from our own origin; the sign-in script talks to Cognito's managed login (connect-src).
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self' https://*.amazoncognito.com http://127.0.0.1:*; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
}


# ----------------------------------------------------------------------------- plumbing


@cache
def _csrf() -> Csrf:
    rt = runtime()
    secret = rt.secrets.read(os.environ["AUTOXERO_CONSOLE_SECRET"])
    return Csrf(str(secret["csrf_key"]).encode())


def _console_runtime() -> Runtime:
    rt = runtime()
    # An HTTP API waits 30 s for its integration: a console run stops with its state saved well before that.
    rt.run_options.setdefault("safety_ms", 8_000)
    return rt


def _person(role: Role) -> Person:
    claims = app.current_event.request_context.authorizer.jwt_claim if app.current_event.request_context.authorizer \
        else None
    person = Person.from_claims(claims)
    person.require(role)
    return person


def _operator(fields: dict[str, str]) -> Person:
    person = _person("operator")
    _csrf().check(person, fields.get("csrf"))
    return person


def _page(template: str, person: Person, status: int = 200, **context: Any) -> Response[str]:
    body = web.render(template, person=person, pages=PAGES, path=app.current_event.raw_path,
                      csrf=_csrf().issue(person), customer=runtime().config.customer, **context)
    return Response(status_code=status, content_type=HTML, body=body, headers=dict(SECURITY_HEADERS))


def _run(flow: str, dry_run: bool = True) -> FlowRun:
    from autoxero.sync.build import build_run

    return build_run(_console_runtime(), flow, app.lambda_context, dry_run, pacer_max_age=PACER_SECONDS)


def _query(name: str) -> str:
    return app.current_event.get_query_string_value(name) or ""


@app.exception_handler(NotSignedIn)  # type: ignore[untyped-decorator]
def _not_signed_in(err: NotSignedIn) -> Response[str]:
    return Response(status_code=401, content_type=HTML, headers=dict(SECURITY_HEADERS),
                    body=web.render("signed_out.html", message=str(err)))


@app.exception_handler(Forbidden)  # type: ignore[untyped-decorator]
def _forbidden(err: Forbidden) -> Response[str]:
    logger.warning("console refused", reason=str(err), path=app.current_event.raw_path)
    return Response(status_code=403, content_type=HTML, headers=dict(SECURITY_HEADERS),
                    body=web.render("refused.html", message=str(err)))


# ----------------------------------------------------------------------------- sign-in (no authorizer)


@app.get("/console/login")
def login() -> Response[str]:
    return Response(status_code=200, content_type=HTML, headers=dict(SECURITY_HEADERS), body=web.render(
        "login.html", client_id=os.environ.get("AUTOXERO_CONSOLE_CLIENT_ID", ""),
        login_url=os.environ.get("AUTOXERO_CONSOLE_LOGIN_URL", "").rstrip("/"),
        customer=runtime().config.customer))


@app.get("/console/auth/callback")
def callback() -> Response[str]:
    return login()


@app.get("/console/sw.js")
def service_worker() -> Response[str]:
    found = web.static_file("sw.js")
    assert found is not None
    return Response(status_code=200, content_type=found[1], body=found[0],
                    headers={"Service-Worker-Allowed": "/console/", "Cache-Control": "no-cache"})


@app.get("/console/static/<name>")
def static(name: str) -> Response[str]:
    found = web.static_file(name)
    if found is None:
        return Response(status_code=404, content_type="text/plain", body="not found")
    return Response(status_code=200, content_type=found[1], body=found[0],
                    headers={"Cache-Control": "public, max-age=300"})


# ----------------------------------------------------------------------------- pages


@app.get("/console/")
def overview_page(notice: Outcome | None = None) -> Response[str]:
    from autoxero.console.overview import overview

    person = _person("viewer")
    return _page("overview.html", person, view=overview(runtime()), notice=notice)


@app.get("/console/attention")
def attention_page(notice: Outcome | None = None, status: int = 200) -> Response[str]:
    person = _person("viewer")
    rt = runtime()
    flow = _query("flow") or None
    items = sorted(rt.state.attention.list(flow), key=lambda i: (i.flow, i.label))
    # Two queries, whatever the number of items: each item's history is a link (a ledger query per record).
    return _page("attention.html", person, status, items=items, flow=flow or "",
                 skipped=rt.state.attention.skipped(flow), flows=FLOWS, notice=notice)


@app.get("/console/records/<flow>/<record_id>")
def record_page(flow: str, record_id: str) -> Response[str]:
    """One record's history: everything autoxero did with it and what people decided, newest first."""
    person = _person("viewer")
    if flow not in FLOWS:
        return _page("refused.html", person, 404, message=f"autoxero has no flow called {flow}.")
    state = runtime().state
    return _page("record.html", person, flow=flow, record_id=record_id,
                 item=state.attention.get(flow, record_id), skipped=state.attention.is_skipped(flow, record_id),
                 history=sorted(state.ledger.history(flow, record_id), key=lambda e: e.at, reverse=True))


def _act(fields: dict[str, str], action: Any) -> Response[str]:
    try:
        outcome = action()
    except ActionRefused as err:
        return attention_page(notice=Outcome(False, str(err)), status=409)
    logger.info("console action", path=app.current_event.raw_path, ok=outcome.ok)
    return attention_page(notice=outcome)


@app.post("/console/attention/retry")
def retry() -> Response[str]:
    from autoxero.console import actions

    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    return _act(fields, lambda: actions.retry(_console_runtime(), fields.get("flow", ""), fields.get("record", ""),
                                              person, app.lambda_context))


@app.post("/console/attention/skip")
def skip() -> Response[str]:
    from autoxero.console import actions

    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    return _act(fields, lambda: actions.skip(runtime(), fields.get("flow", ""), fields.get("record", ""),
                                             fields.get("reason", ""), person))


@app.post("/console/attention/unskip")
def unskip() -> Response[str]:
    from autoxero.console import actions

    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    return _act(fields, lambda: actions.unskip(runtime(), fields.get("flow", ""), fields.get("record", ""), person))


@app.post("/console/control")
def control() -> Response[str]:
    from autoxero.console import actions

    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    try:
        outcome = (actions.resume(runtime(), person) if fields.get("action") == "resume"
                   else actions.pause(runtime(), fields.get("reason", ""), person))
    except ActionRefused as err:
        outcome = Outcome(False, str(err))
    return overview_page(notice=outcome)


@app.post("/console/xero/reconnect")
def reconnect_xero() -> Response[str]:
    """A one-time link to the stack's Xero connect endpoint (the person approving in Xero picks the organisation)."""
    from autoxero.xero.connect import ConnectService

    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    rt = runtime()
    token = ConnectService.from_runtime(rt, redirect_uri="").issue_setup_token()
    rt.state.ledger.append("control", "xero", "reconnect link issued", "ok", {"by": person.email})
    return _page("reconnect.html", person, link=f"{os.environ['AUTOXERO_XERO_CONNECT_URL']}?setup_token={token}")


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


@app.get("/console/invoices")
def invoices_page() -> Response[str]:
    from autoxero.console.story import search

    person = _person("viewer")
    text, start, end = _query("q"), _date(_query("from")), _date(_query("to"))
    searched = bool(text or start or end)
    found = search(_run("invoices"), text, start, end) if searched else []
    return _page("invoices.html", person, found=found, q=text, start=_query("from"), end=_query("to"),
                 searched=searched)


@app.get("/console/invoices/<invoice_id>")
def invoice_page(invoice_id: str) -> Response[str]:
    from autoxero.console.story import line_rows, story

    person = _person("viewer")
    told = story(_run("invoices"), int(invoice_id)) if invoice_id.isdigit() else None
    if told is None:
        return _page("refused.html", person, 404, message=f"Autotask has no invoice {invoice_id}.")
    return _page("invoice.html", person, story=told, lines=line_rows(told),
                 xero_link=web.xero_link(told.kind, told.entry.xero_id if told.entry else None))


@app.get("/console/reconciliation")
def reconciliation_page() -> Response[str]:
    from autoxero.sync.reconcile import reconcile

    person = _person("viewer")
    return _page("reconciliation.html", person, result=reconcile(_run("reconcile")))


@app.get("/console/preview")
def preview_page() -> Response[str]:
    from autoxero.console.preview import preview

    person = _person("viewer")
    flow = _query("flow") or "invoices"
    if flow not in FLOWS:
        flow = "invoices"
    return _page("preview.html", person, flows=FLOWS,
                 result=preview(_console_runtime(), flow, app.lambda_context, pacer_max_age=PACER_SECONDS))


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)


from autoxero.console import settings_routes  # noqa: E402, F401 (registers the mappings routes on `app`)
