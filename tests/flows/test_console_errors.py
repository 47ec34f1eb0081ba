"""The console when something is wrong or missing: Xero not connected (or its connection lapsed), Autotask
refusing, an unexpected failure, an unknown address, bad form input — each answered with an HTML page that says
what is wrong (never a bare 500 from API Gateway, never an exception's text), with the security headers on every
response. Also: a new stack is set up and resumed from the console alone, and actions answer with a redirect
(Post/Redirect/Get) back to the page they came from.

The Console function is driven in this process as the HTTP API hands it requests (payload 2.0, the authorizer's
claims), on a fresh deployment whose Xero was never connected (connected part-way, for the tests that need it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from autoxero.runtime import Runtime
from autoxero_cli.invoke import invoke
from autoxero_cli.local import LocalDeployment
from tests.conftest import fresh_moto
from tests.flows.conftest import deploy

OPERATOR = {"sub": "op-1", "email": "op@msp.example", "cognito:groups": "[operator]"}
VIEWER = {"sub": "vi-1", "email": "vi@msp.example", "cognito:groups": "[viewer]"}
HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Strict-Transport-Security")


def request(local, path: str, claims: dict | None, method: str = "GET", form: dict | None = None,
            env: dict | None = None) -> dict:
    path, _, query = path.partition("?")
    event = {"version": "2.0", "routeKey": "ANY /console/{proxy+}", "rawPath": path, "rawQueryString": query,
             "headers": {"host": "console.example", "content-type": "application/x-www-form-urlencoded"},
             "queryStringParameters": {k: v[-1] for k, v in parse_qs(query).items()} or None,
             "requestContext": {"http": {"method": method, "path": path, "sourceIp": "127.0.0.1"},
                                "routeKey": "ANY /console/{proxy+}", "stage": "$default",
                                "requestId": "req-7f3a"},
             "body": urlencode(form) if form is not None else None, "isBase64Encoded": False}
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return invoke("ConsoleFunction", event, local.stack, {**local.sandbox.endpoints, **(env or {})})


def csrf(page: dict) -> str:
    return re.search(r'<meta name="csrf" content="([^"]+)">', page["body"]).group(1)


def headers(reply: dict) -> dict[str, str]:
    return {k.lower(): v for k, v in (reply.get("headers") or {}).items()}


def secured(reply: dict) -> bool:
    got = headers(reply)
    return all(name.lower() in got for name in HEADERS) and got["x-content-type-options"] == "nosniff"


@pytest.fixture(scope="module")
def world(sandbox, demo_fixture) -> Iterator[tuple[LocalDeployment, Runtime]]:
    """A new stack: Xero never connected, no settings pushed, paused."""
    with fresh_moto():
        local = deploy(sandbox, demo_fixture, lambda _: None, live=False)
        yield local, local.runtime()


@pytest.fixture
def local(world) -> LocalDeployment:
    return world[0]


@pytest.fixture
def state(world) -> Runtime:
    return world[1]


# ----------------------------------------------------------------------------- 1. Xero not connected, failures


def test_pages_that_need_xero_say_it_is_not_connected_and_offer_to_connect(local):
    for claims in (OPERATOR, VIEWER):
        for path in ("/console/invoices/24005", "/console/reconciliation", "/console/mappings"):
            page = request(local, path, claims)
            assert page["statusCode"] == 503, (path, page["body"][:300])
            assert "Xero is not connected" in page["body"] and secured(page), path
            assert ('id="reconnect"' in page["body"]) == (claims is OPERATOR), path
    token = csrf(request(local, "/console/", OPERATOR))
    reviewed = request(local, "/console/mappings/review", OPERATOR, "POST", {"csrf": token})
    assert reviewed["statusCode"] == 503 and 'id="reconnect"' in reviewed["body"] and secured(reviewed)


@pytest.mark.parametrize(("error", "said"), [
    ("xero_lapsed", "connect Xero again"), ("autotask_auth", "Autotask did not accept"),
    ("unexpected", "Something went wrong")])
def test_a_failure_gets_an_html_page_without_its_details(local, monkeypatch, error, said):
    from autoxero.autotask.errors import AutotaskAuthError
    from autoxero.console import overview
    from autoxero.xero.errors import XeroReconnectRequired

    raised = {"xero_lapsed": XeroReconnectRequired("Xero no longer accepts this connection: connect Xero again"),
              "autotask_auth": AutotaskAuthError("Autotask did not accept the API user"),
              "unexpected": KeyError("client_secret=hunter2-very-secret")}[error]

    def broken(rt):
        raise raised

    monkeypatch.setattr(overview, "overview", broken)
    page = request(local, "/console/", OPERATOR)
    assert page["statusCode"] in (500, 502, 503) and secured(page)
    assert headers(page)["content-type"].startswith("text/html") and said in page["body"]
    assert "hunter2" not in page["body"]
    if error == "unexpected":
        assert page["statusCode"] == 500 and "req-7f3a" in page["body"]  # the request id, to quote
    if error == "xero_lapsed":
        assert 'id="reconnect"' in page["body"] and "Reconnect Xero" in page["body"]


# ----------------------------------------------------------------------------- 2. headers on every response


def test_every_response_carries_the_security_headers(local):
    for path, claims, status in (("/console/nosuch", VIEWER, 404), ("/console/static/nosuch.css", None, 404),
                                 ("/console/static/console.css", None, 200), ("/console/sw.js", None, 200),
                                 ("/console/login", None, 200), ("/console/", None, 401)):
        reply = request(local, path, claims)
        assert reply["statusCode"] == status and secured(reply), (path, reply.get("headers"))
    missing = request(local, "/console/nosuch", VIEWER)
    assert headers(missing)["content-type"].startswith("text/html") and "Not found" in missing["body"]
    assert headers(request(local, "/console/static/console.css", None))["cache-control"].startswith("public")


def test_the_content_security_policy_lets_only_the_local_console_reach_a_loopback_sign_in(local):
    deployed = headers(request(local, "/console/login", None))
    assert "127.0.0.1" not in deployed["content-security-policy"]
    assert "amazoncognito.com" in deployed["content-security-policy"]
    assert deployed["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    at_home = headers(request(local, "/console/login", None,
                              env={"AUTOXERO_CONSOLE_LOGIN_URL": "http://127.0.0.1:8123/_cognito"}))
    assert "http://127.0.0.1:8123" in at_home["content-security-policy"]
    assert "strict-transport-security" not in at_home


# ----------------------------------------------------------------------------- 5. small ones (no Xero needed)


def test_console_without_its_slash_redirects(local):
    reply = request(local, "/console", VIEWER)
    assert reply["statusCode"] in (301, 302, 308) and headers(reply)["location"] == "/console/" and secured(reply)


def test_a_person_without_a_role_is_told_to_ask_their_administrator(local):
    page = request(local, "/console/", {"sub": "x", "email": "x@example.com"})
    assert page["statusCode"] == 403 and "administrator" in page["body"] and "autoxero users" not in page["body"]


def test_an_unknown_record_is_not_found_not_refused(local):
    page = request(local, "/console/records/nonsense/1", VIEWER)
    assert page["statusCode"] == 404 and "Not found" in page["body"] and "Not allowed" not in page["body"]


# ----------------------------------------------------------------------------- 4. Post/Redirect/Get


def _follow(local, reply: dict, claims: dict) -> dict:
    assert reply["statusCode"] == 303 and secured(reply), reply["body"][:300]
    return request(local, headers(reply)["location"], claims)


def test_actions_redirect_back_to_the_page_they_came_from_with_their_outcome(local, state):
    token = csrf(request(local, "/console/attention?flow=invoices", OPERATOR))
    skipped = request(local, "/console/attention/skip", OPERATOR, "POST",
                      {"flow": "invoices", "record": "24077", "reason": "entered <by> hand", "csrf": token,
                       "back": "/console/attention?flow=invoices"})
    where = urlsplit(headers(skipped)["location"])
    assert where.path == "/console/attention" and parse_qs(where.query)["flow"] == ["invoices"]
    page = _follow(local, skipped, OPERATOR)
    assert page["statusCode"] == 200 and "will not be synced: entered &lt;by&gt; hand" in page["body"]
    assert state.state.attention.is_skipped("invoices", "24077")
    assert 'value="invoices" selected' in page["body"] or 'name="flow" value="invoices"' in page["body"]

    refused = request(local, "/console/attention/unskip", OPERATOR, "POST",
                      {"flow": "contacts", "record": "1", "csrf": token, "back": "/console/attention"})
    page = _follow(local, refused, OPERATOR)
    assert "was not skipped" in page["body"] and 'class="notice bad"' in page["body"]

    elsewhere = request(local, "/console/attention/unskip", OPERATOR, "POST",
                        {"flow": "invoices", "record": "24077", "csrf": token, "back": "https://evil.example/"})
    assert urlsplit(headers(elsewhere)["location"]).netloc == ""  # never off the console

    forged = request(local, headers(skipped)["location"].replace("entered", "ignored"), OPERATOR)
    assert "ignored" not in forged["body"]  # a notice is signed: a link cannot put words in the console's mouth


# ----------------------------------------------------------------------------- 3. a new stack, then 5. the rest


def test_a_new_stack_is_accepted_and_resumed_from_the_console(local, state):
    token = csrf(request(local, "/console/", OPERATOR))
    refused = request(local, "/console/control", OPERATOR, "POST",
                      {"action": "resume", "csrf": token, "back": "/console/"})
    told = _follow(local, refused, OPERATOR)
    assert "Mappings" in told["body"] and state.state.control.paused()

    local.connect_xero_directly()
    review = request(local, "/console/mappings/review", OPERATOR, "POST", {"csrf": token})
    assert review["statusCode"] == 200 and "Accept these settings as version 1" in review["body"]
    document = re.search(r'name="document" value="([^"]+)"', review["body"]).group(1)
    import html

    pushed = request(local, "/console/mappings/push", OPERATOR, "POST",
                     {"document": html.unescape(document), "base_version": "0", "csrf": token})
    assert pushed["statusCode"] == 200 and state.state.settings.load()[1] == 1
    again = request(local, "/console/mappings/review", OPERATOR, "POST", {"csrf": token})
    assert 'id="push"' not in again["body"]  # from version 1 on, a push needs a change

    resumed = request(local, "/console/control", OPERATOR, "POST",
                      {"action": "resume", "csrf": token, "back": "/console/"})
    assert headers(resumed)["location"].startswith("/console/") and not state.state.control.paused()
    request(local, "/console/control", OPERATOR, "POST", {"action": "pause", "reason": "tests", "csrf": token,
                                                         "back": "/console/"})


def test_a_version_that_is_not_a_number_is_a_bad_request(local):
    token = csrf(request(local, "/console/", OPERATOR))
    for path in ("/console/mappings/push", "/console/mappings/rollback"):
        reply = request(local, path, OPERATOR, "POST",
                        {"version": "abc", "base_version": "abc", "document": "{}", "csrf": token})
        assert reply["statusCode"] == 400 and "version" in reply["body"] and secured(reply), path


def test_the_overview_links_to_every_attention_item_and_knows_a_custom_connection(local, state):
    local.connect_xero_directly()
    for n in range(11):
        state.state.attention.raise_("invoices", f"9{n:03d}", code="test", message="held for a test",
                                     fix="", label=f"INV-9{n:03d}", context={})
    page = request(local, "/console/", VIEWER)["body"]
    assert 'id="attention-more"' in page and "and 3 more" in page
    assert "unused for 60" in page  # an OAuth connection: its refresh token lapses unused

    from autoxero.settings import SyncSettings

    current, version = state.state.settings.load()
    custom = current.model_dump(mode="json")
    custom["xero"]["kind"] = "custom_connection"
    state.state.settings.save(SyncSettings.model_validate(custom), version, author="tests")
    page = request(local, "/console/", VIEWER)["body"]
    assert "custom connection" in page and "unused for 60" not in page  # no refresh token to lapse
