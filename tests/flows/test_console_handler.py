"""The Console function in this process, as the HTTP API hands requests to it (payload 2.0 with the authorizer's
claims): every page, the server-side refusals, and the actions — so that every AWS call it makes is checked
against its own IAM policy (conftest's every_aws_call_is_granted). The browser tests drive the same pages in
Chromium."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from autoxero.runtime import Runtime
from autoxero.sync.build import build_run, execute_run
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from autoxero_cli.aws_calls import RECORDER, acting_as, flow_function
from autoxero_cli.invoke import invoke
from autoxero_cli.local import LocalDeployment
from autoxero_cli.localenv import LOCAL_STACK_NAME

OPERATOR = {"sub": "op-1", "email": "op@msp.example", "cognito:groups": "[operator]"}
VIEWER = {"sub": "vi-1", "email": "vi@msp.example", "cognito:groups": "[viewer]"}


def request(local, path: str, claims: dict | None, method: str = "GET", form: dict | None = None) -> dict:
    path, _, query = path.partition("?")
    event = {"version": "2.0", "routeKey": "ANY /console/{proxy+}", "rawPath": path, "rawQueryString": query,
             "headers": {"host": "console.example", "content-type": "application/x-www-form-urlencoded"},
             "queryStringParameters": dict(p.split("=", 1) for p in query.split("&") if "=" in p) or None,
             "requestContext": {"http": {"method": method, "path": path, "sourceIp": "127.0.0.1"},
                                "routeKey": "ANY /console/{proxy+}", "stage": "$default", "requestId": "r"},
             "body": urlencode(form) if form is not None else None, "isBase64Encoded": False}
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    return invoke("ConsoleFunction", event, local.stack, local.sandbox.endpoints)


def csrf(page: dict) -> str:
    return re.search(r'<meta name="csrf" content="([^"]+)">', page["body"]).group(1)


@pytest.fixture(scope="module")
def world(module_local) -> tuple[LocalDeployment, Runtime]:
    """The module's deployment with the demo's contacts and invoices synced once: the tests read it, and the ones
    that change it (placed last) undo their change or check only what they changed. The runs' calls are checked
    against each function's IAM policy here, as the autouse check does for a test's own calls."""
    runtime = module_local.runtime()
    start = len(RECORDER.calls)
    for flow, body in (("contacts", run_contacts), ("invoices", run_invoices)):
        with acting_as(LOCAL_STACK_NAME, flow_function(flow)):
            execute_run(runtime, build_run(runtime, flow, None, False), body)
    refused = sorted({(c.function, c.action, c.resource) for c in RECORDER.denied(start)})
    if refused:
        pytest.fail(f"AWS calls their function's IAM policy does not grant: {refused}", pytrace=False)
    return module_local, runtime


@pytest.fixture
def local(world) -> LocalDeployment:
    return world[0]


@pytest.fixture
def synced(world) -> Runtime:
    return world[1]


def test_every_page_for_each_role(local, synced):
    invoice = next(e for e in synced.state.ids.get_many("invoice", range(24001, 24160)).values()
                   if e.status == "synced")
    for claims in (OPERATOR, VIEWER):
        for path in ("/console/", "/console/attention", "/console/attention?flow=contacts",
                     "/console/invoices?q=Harbour", f"/console/invoices/{invoice.autotask_id}",
                     "/console/reconciliation", "/console/mappings", "/console/preview?flow=contacts"):
            page = request(local, path, claims)
            assert page["statusCode"] == 200, (path, page["body"][:500])
            assert "client_secret" not in page["body"] and "refresh_token" not in page["body"]
    assert request(local, "/console/", None)["statusCode"] == 401
    assert request(local, "/console/", {"sub": "x", "email": "x@example.com"})["statusCode"] == 403  # no role


def _listed(page: dict) -> set[int]:
    return {int(i) for i in re.findall(r'<a href="/console/invoices/(\d+)">', page["body"])}


def test_invoice_search_by_number_id_and_customer(local, synced, demo_fixture):
    autotask = demo_fixture["autotask"]
    invoice = next(i for i in autotask["Invoices"] if i["id"] == 24005)
    company = next(c for c in autotask["Companies"] if c["id"] == invoice["companyID"])
    theirs = {i["id"] for i in autotask["Invoices"] if i["companyID"] == company["id"]}
    word = company["companyName"].split()[0]
    named = {c["id"] for c in autotask["Companies"] if word.lower() in c["companyName"].lower()}

    assert _listed(request(local, f"/console/invoices?q={invoice['invoiceNumber']}", VIEWER)) == {24005}
    assert _listed(request(local, "/console/invoices?q=24005", VIEWER)) == {24005}  # an id
    by_name = _listed(request(local, f"/console/invoices?q={word}", VIEWER))
    assert theirs <= by_name or len(by_name) == 50
    assert by_name and all(next(i for i in autotask["Invoices"] if i["id"] == found)["companyID"] in named
                           for found in by_name)
    assert _listed(request(local, "/console/invoices?q=No+Such+Customer+Ltd", VIEWER)) == set()


def test_an_attention_item_links_to_its_history(local, synced):
    item = synced.state.attention.list("invoices")[0]
    listing = request(local, "/console/attention", VIEWER)
    link = f'href="/console/records/invoices/{item.record_id}"'
    assert link in listing["body"]
    page = request(local, f"/console/records/invoices/{item.record_id}", VIEWER)
    assert page["statusCode"] == 200 and item.message in page["body"]
    history = [e.action for e in synced.state.ledger.history("invoices", item.record_id)]
    assert history and all(action in page["body"] for action in history)
    listed = page["body"].split('<ul id="history">')[1].split("</ul>")[0]  # one line per ledger entry
    assert listed.count("<li>") == len(history)
    assert request(local, "/console/records/nonsense/1", VIEWER)["statusCode"] == 404
    assert request(local, f"/console/records/invoices/{item.record_id}", None)["statusCode"] == 401


def test_the_reconciliation_shows_the_first_agreements_until_asked_for_all(local, synced):
    def agreed(body: str) -> int:
        return body.split("<h2>In agreement</h2>")[1].count("<tr>") - 1  # less the header row

    first = request(local, "/console/reconciliation", VIEWER)["body"]
    every = request(local, "/console/reconciliation?agreements=all", VIEWER)["body"]
    total = int(re.search(r"(\d+) invoice\(s\) agree", every).group(1))
    assert total > 25 and agreed(every) == total
    assert agreed(first) == 25 and f"show all {total}</a>" in first and "show all" not in every
    def before_agreements(body: str) -> str:  # problems, held, skipped, bills: always shown whole
        return body.split("<h2>Problems</h2>")[1].split("<h2>In agreement</h2>", maxsplit=1)[0]

    assert before_agreements(first) == before_agreements(every)


# These two change the module's deployment: they run last, and each checks only what it changed itself.
def test_actions_need_the_operator_role_and_the_form_token(local, synced):
    item = synced.state.attention.list("invoices")[0]
    fields = {"flow": "invoices", "record": item.record_id, "reason": "entered by hand"}
    viewer = request(local, "/console/attention/skip", VIEWER, "POST",
                     {**fields, "csrf": csrf(request(local, "/console/", VIEWER))})
    assert viewer["statusCode"] == 403 and "viewers can look" in viewer["body"]
    forged = request(local, "/console/attention/skip", OPERATOR, "POST", fields)
    assert forged["statusCode"] == 403 and "security token" in forged["body"]
    stolen = request(local, "/console/attention/skip", OPERATOR, "POST",
                     {**fields, "csrf": csrf(request(local, "/console/", VIEWER))})  # another person's token
    assert stolen["statusCode"] == 403
    assert not synced.state.attention.is_skipped("invoices", item.record_id)

    token = csrf(request(local, "/console/", OPERATOR))
    done = request(local, "/console/attention/skip", OPERATOR, "POST", {**fields, "csrf": token})
    assert done["statusCode"] == 200 and synced.state.attention.is_skipped("invoices", item.record_id)
    again = request(local, "/console/attention/unskip", OPERATOR, "POST", {**fields, "csrf": token})
    assert again["statusCode"] == 200 and not synced.state.attention.is_skipped("invoices", item.record_id)

    [contact] = synced.state.attention.list("contacts")[:1]
    retried = request(local, "/console/attention/retry", OPERATOR, "POST",
                      {"flow": "contacts", "record": contact.record_id, "csrf": token})
    assert retried["statusCode"] == 200 and "still needs attention" in retried["body"]  # nothing was fixed
    assert [e.detail.get("by") for e in synced.state.ledger.history("contacts", contact.record_id)
            if e.action == "retry"] == ["op@msp.example"]

    paused = request(local, "/console/control", OPERATOR, "POST", {"action": "pause", "reason": "x", "csrf": token})
    assert paused["statusCode"] == 200 and synced.state.control.paused()
    request(local, "/console/control", OPERATOR, "POST", {"action": "resume", "csrf": token})
    assert not synced.state.control.paused()


def test_a_mapping_change_is_reviewed_then_pushed_with_who(local, synced):
    token = csrf(request(local, "/console/", OPERATOR))
    _, version = synced.state.settings.load()
    bad = request(local, "/console/mappings/review", OPERATOR, "POST", {"number_prefix": "X" * 30, "csrf": token})
    assert bad["statusCode"] == 422 and "number_prefix" in bad["body"] and 'id="push"' not in bad["body"]
    review = request(local, "/console/mappings/review", OPERATOR, "POST",
                     {"default_account_code": "230", "csrf": token})
    assert review["statusCode"] == 200 and 'id="push"' in review["body"]
    document = re.search(r'name="document" value="([^"]+)"', review["body"]).group(1)
    import html

    pushed = request(local, "/console/mappings/push", OPERATOR, "POST",
                     {"document": html.unescape(document), "base_version": str(version), "csrf": token})
    assert pushed["statusCode"] == 200 and f"version {version + 1}" in pushed["body"]
    settings, now = synced.state.settings.load()
    assert now == version + 1 and settings.invoices.default_account_code == "230"
    assert synced.state.settings.versions()[0].author == "op@msp.example"
    stale = request(local, "/console/mappings/push", OPERATOR, "POST",
                    {"document": html.unescape(document), "base_version": str(version), "csrf": token})
    assert stale["statusCode"] == 409
