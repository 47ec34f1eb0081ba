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
from urllib.parse import parse_qsl, urlencode

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from autoxero.autotask.errors import AutotaskError
from autoxero.console import FLOWS, replies, web
from autoxero.console.actions import ActionRefused, Outcome
from autoxero.console.auth import Csrf, Forbidden, Notices, NotSignedIn, Person, Role
from autoxero.observability import logger
from autoxero.runtime import runtime
from autoxero.xero.errors import XeroError, XeroNotConnected, XeroReconnectRequired

if TYPE_CHECKING:
    from autoxero.runtime import Runtime
    from autoxero.settings import SyncSettings
    from autoxero.sync.run import FlowRun

app = APIGatewayHttpResolver(strip_prefixes=[])
HTML = "text/html; charset=utf-8"
PAGES = (("/console/", "Overview"), ("/console/attention", "Needs attention"), ("/console/invoices", "Invoices"),
         ("/console/reconciliation", "Reconciliation"), ("/console/mappings", "Mappings"),
         ("/console/preview", "Preview"))
# A person's page views are seconds apart and make a few Autotask reads each: one block of granted requests
# serves them for this long (Runtime._pacer), instead of a ThresholdInformation read per page.
PACER_SECONDS = 120
AGREEMENTS_SHOWN = 25  # the reconciliation's rows in agreement shown before "show all"
# ----------------------------------------------------------------------------- plumbing


@cache
def _console_key() -> bytes:
    secret = runtime().secrets.read(os.environ["AUTOXERO_CONSOLE_SECRET"])
    return str(secret["csrf_key"]).encode()


def _csrf() -> Csrf:
    return Csrf(_console_key())


def _login_url() -> str:
    return os.environ.get("AUTOXERO_CONSOLE_LOGIN_URL", "").rstrip("/")


def _console_runtime() -> Runtime:
    rt = runtime()
    # An HTTP API waits 30 s for its integration: a console run stops with its state saved well before that.
    rt.run_options.setdefault("safety_ms", 8_000)
    return rt


def _claims() -> dict[str, Any] | None:
    """The claims API Gateway's JWT authorizer verified, if a token came with the request."""
    authorizer = app.current_event.request_context.authorizer
    return authorizer.jwt_claim if authorizer else None


def _person(role: Role) -> Person:
    person = Person.from_claims(_claims())
    person.require(role)
    return person


def _operator(fields: dict[str, str]) -> Person:
    person = _person("operator")
    _csrf().check(person, fields.get("csrf"))
    return person


def _page(template: str, person: Person, status: int = 200, **context: Any) -> Response[str]:
    if context.get("notice") is None:
        context["notice"] = _arriving_notice(person)
    context.setdefault("back", _here())
    body = web.render(template, person=person, pages=PAGES, path=app.current_event.raw_path,
                      csrf=_csrf().issue(person), customer=runtime().config.customer, **context)
    return Response(status_code=status, content_type=HTML, body=body)


def _here() -> str:
    """This page's address for its forms' `back` field (without a notice it arrived with); "" on a POST."""
    event = app.current_event
    if event.http_method != "GET":
        return ""
    query = urlencode([(k, v) for k, v in (event.query_string_parameters or {}).items() if k != "notice"])
    return event.raw_path + (f"?{query}" if query else "")


def _arriving_notice(person: Person) -> Outcome | None:
    """The outcome an action's redirect carried here (Post/Redirect/Get), when it is genuinely ours."""
    sealed = _query("notice")
    opened = Notices(_console_key()).open(person, sealed) if sealed else None
    return Outcome(*opened) if opened else None


def _see_other(person: Person, outcome: Outcome, to: str | None, default: str) -> Response[str]:
    """303 to the page the action came from, with its outcome: a reload there reads, it does not act again."""
    path, _, query = replies.back(to, default).partition("?")
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "notice"]
    pairs.append(("notice", Notices(_console_key()).seal(person, outcome.ok, outcome.message)))
    return Response(status_code=303, content_type=HTML, body="", headers={"Location": f"{path}?{urlencode(pairs)}"})


def _standalone(status: int, heading: str, message: str) -> Response[str]:
    """A page that needs nobody signed in (refusals, not found, failures)."""
    return Response(status_code=status, content_type=HTML,
                    body=web.render("refused.html", heading=heading, message=message))


def _request_id() -> str:
    return str(app.current_event.request_context.request_id or "")


def _run(flow: str, dry_run: bool = True, settings: SyncSettings | None = None) -> FlowRun:
    from autoxero.sync.build import build_run

    rt = _console_runtime()
    return build_run(rt, flow, app.lambda_context, dry_run, settings=settings, pacer_max_age=PACER_SECONDS,
                     kept=rt.kept)


def _query(name: str) -> str:
    return app.current_event.get_query_string_value(name) or ""


@app.exception_handler(NotSignedIn)  # type: ignore[untyped-decorator]
def _not_signed_in(err: NotSignedIn) -> Response[str]:
    return Response(status_code=401, content_type=HTML, body=web.render("signed_out.html", message=str(err)))


@app.exception_handler(Forbidden)  # type: ignore[untyped-decorator]
def _forbidden(err: Forbidden) -> Response[str]:
    logger.warning("console refused", reason=str(err), path=app.current_event.raw_path)
    return _standalone(403, "Not allowed", str(err))


@app.not_found
def _not_found(_: Exception) -> Response[str]:
    return _missing()


def _missing() -> Response[str]:
    return _standalone(404, "Not found", f"The console has no page at {app.current_event.raw_path}.")


def _unavailable(heading: str, message: str, reconnect: str = "") -> Response[str]:
    """A page that needed Xero or Autotask, which did not answer as it should: say so, and offer what helps
    (`reconnect`: the Xero button's verb for operators, "Connect" or "Reconnect")."""
    try:
        person = Person.from_claims(_claims())
    except NotSignedIn:
        return _standalone(503, heading, message)
    return _page("unavailable.html", person, 503, heading=heading, message=message, reconnect=reconnect)


@app.exception_handler(XeroError)  # type: ignore[untyped-decorator]
def _xero_trouble(err: XeroError) -> Response[str]:
    logger.warning("console page needs Xero", error=type(err).__name__, path=app.current_event.raw_path)
    if isinstance(err, XeroNotConnected):
        return _unavailable("Xero is not connected", f"This page reads Xero, and {err}. An operator can connect it "
                            "with the button below.", "Connect")
    if isinstance(err, XeroReconnectRequired):
        return _unavailable("Connect Xero again", f"{err} This page needs Xero.", "Reconnect")
    return _unavailable("Xero did not answer", f"Xero did not answer as it should: {err} Try again in a minute.")


@app.exception_handler(AutotaskError)  # type: ignore[untyped-decorator]
def _autotask_trouble(err: AutotaskError) -> Response[str]:  # its message is redacted (autotask/errors.py)
    logger.warning("console page needs Autotask", error=type(err).__name__, path=app.current_event.raw_path)
    return _unavailable("Autotask did not answer", f"This page reads Autotask, which refused: {err}")


@app.exception_handler(Exception)  # type: ignore[untyped-decorator]
def _failed(err: Exception) -> Response[str]:
    """Anything else: a page with the request id to quote, never the exception's text (it could hold a secret)."""
    logger.exception("console page failed", path=app.current_event.raw_path, request_id=_request_id())
    return _standalone(500, "Something went wrong",
                       f"This page failed. Try again; if it keeps failing, give your administrator the request id "
                       f"{_request_id()} (it is in the console's log).")


# ----------------------------------------------------------------------------- sign-in (no authorizer)


@app.get("/console/login")
def login() -> Response[str]:
    return Response(status_code=200, content_type=HTML, body=web.render(
        "login.html", client_id=os.environ.get("AUTOXERO_CONSOLE_CLIENT_ID", ""), login_url=_login_url(),
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
        return _missing()
    return Response(status_code=200, content_type=found[1], body=found[0],
                    headers={"Cache-Control": "public, max-age=300"})


# ----------------------------------------------------------------------------- pages


@app.get("/console")
def without_slash() -> Response[str]:
    return Response(status_code=308, content_type=HTML, body="", headers={"Location": "/console/"})


@app.get("/console/")
def overview_page(notice: Outcome | None = None, status: int = 200) -> Response[str]:
    from autoxero.console.overview import overview

    person = _person("viewer")
    return _page("overview.html", person, status, view=overview(runtime()), notice=notice)


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
        return _page("refused.html", person, 404, heading="Not found", message=f"autoxero has no flow called {flow}.")
    state = runtime().state
    return _page("record.html", person, flow=flow, record_id=record_id,
                 item=state.attention.get(flow, record_id), skipped=state.attention.is_skipped(flow, record_id),
                 history=sorted(state.ledger.history(flow, record_id), key=lambda e: e.at, reverse=True))


def _act(person: Person, fields: dict[str, str], action: Any, page: Any = None,
         default: str = "/console/attention") -> Response[str]:
    """Do the action; the console's own forms name the page they are on (`back`), and get a 303 back to it with
    the outcome (Post/Redirect/Get: a reload there reads, it does not act again). A bare POST gets the page."""
    try:
        outcome, status = action(), 200
    except ActionRefused as err:
        outcome, status = Outcome(False, str(err)), 409
    logger.info("console action", path=app.current_event.raw_path, ok=outcome.ok)
    if "back" in fields:
        return _see_other(person, outcome, fields["back"], default)
    return (page or attention_page)(notice=outcome, status=status)


@app.post("/console/attention/retry")
def retry() -> Response[str]:
    from autoxero.console import actions

    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    return _act(person, fields, lambda: actions.retry(_console_runtime(), fields.get("flow", ""),
                                                      fields.get("record", ""), person, app.lambda_context))


@app.post("/console/attention/skip")
def skip() -> Response[str]:
    from autoxero.console import actions

    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    return _act(person, fields, lambda: actions.skip(runtime(), fields.get("flow", ""), fields.get("record", ""),
                                                     fields.get("reason", ""), person))


@app.post("/console/attention/unskip")
def unskip() -> Response[str]:
    from autoxero.console import actions

    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    return _act(person, fields, lambda: actions.unskip(runtime(), fields.get("flow", ""), fields.get("record", ""),
                                                       person))


@app.post("/console/control")
def control() -> Response[str]:
    from autoxero.console import actions

    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    return _act(person, fields, lambda: actions.resume(runtime(), person) if fields.get("action") == "resume"
                else actions.pause(runtime(), fields.get("reason", ""), person), overview_page, "/console/")


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
        return _page("refused.html", person, 404, heading="Not found", message=f"Autotask has no invoice {invoice_id}.")
    return _page("invoice.html", person, story=told, lines=line_rows(told),
                 xero_link=web.xero_link(told.kind, told.entry.xero_id if told.entry else None))


@app.get("/console/reconciliation")
def reconciliation_page() -> Response[str]:
    from autoxero.sync.reconcile import reconcile

    person = _person("viewer")
    return _page("reconciliation.html", person, result=reconcile(_run("reconcile")),
                 agreements_shown=None if _query("agreements") == "all" else AGREEMENTS_SHOWN)


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
    return replies.secure(app.resolve(event, context), _login_url())


from autoxero.console import settings_routes  # noqa: E402, F401 (registers the mappings routes on `app`)
