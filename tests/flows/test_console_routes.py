"""The console's routes through its Lambda handler, on one deployment synced once from the demo fixture with
hostile names given to a company held on the attention list, a company whose invoices sync, a billing code and
an invoice template (as Autotask and Xero would hand them over):

- every POST route registered on the console's resolver, read from the resolver itself so that a new route is
  covered the day it is added, refuses a viewer holding a valid form token, and an operator without a token or
  with a wrong one — and the state the route would change (the attention list, skipped records, the settings'
  version, the paused/active switch, the ledger) is the same afterwards;
- every page shows the hostile names escaped, never as markup;
- every page shows records of the demo data, read from the state table and the fixture, not only its heading.

tests/flows/test_console_handler.py covers what an operator's actions do.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

import pytest
from aws_lambda_powertools.utilities import parameters
from markupsafe import escape

from autoxero.console.app import app
from autoxero.runtime import Runtime
from autoxero.sync.build import build_run, execute_run
from autoxero.sync.contacts import run_contacts
from autoxero.sync.invoices import run_invoices
from autoxero_cli.local import LocalDeployment
from tests.conftest import fresh_moto
from tests.flows.conftest import deploy
from tests.flows.test_console_handler import csrf, request

OPERATOR = {"sub": "op-2", "email": "op@msp.example", "cognito:groups": "[operator]"}
VIEWER = {"sub": "vi-2", "email": "vi@msp.example", "cognito:groups": "[viewer]"}

MARKUP = "<img src=x onerror=alert(1)>"
HOSTILE = f"{MARKUP}&\"'"
# Pohutukawa Dental's Xero contact differs from it only in capitals: it stays on the attention list (and so do its
# invoices) under its hostile name. Rimu Architecture's invoices sync.
HELD = {"id": 29683502, "name": f"{HOSTILE} Dental", "xero": f"{HOSTILE} dental"}
SYNCED = {"id": 29683508, "name": f"<script>alert('rimu')</script> Rimu & \"Co\" {HOSTILE}"}
BILLING_CODE = {"id": 29682803, "name": f"{HOSTILE} Hardware"}
INVOICE_TEMPLATE = {"id": 101, "name": f"{HOSTILE} Standard Invoice"}

# What each route's form would carry from the page: enough for the route to change something if it let the
# request through (a record on the list, a settings version that exists, a document that validates).
ROUTE_FIELDS = {
    "/console/attention/retry": lambda w: {"flow": "contacts", "record": str(HELD["id"])},
    "/console/attention/skip": lambda w: {"flow": "contacts", "record": str(HELD["id"]), "reason": "forged"},
    "/console/attention/unskip": lambda w: {"flow": "invoices", "record": w.skipped},
    "/console/control": lambda w: {"action": "pause", "reason": "forged"},
    "/console/xero/reconnect": lambda w: {},
    "/console/mappings/review": lambda w: {"default_account_code": "230"},
    "/console/mappings/rollback": lambda w: {"version": "1"},
    "/console/mappings/suggest": lambda w: {},
    "/console/mappings/push": lambda w: {"base_version": str(w.runtime.state.settings.load()[1]),
                                         "document": w.changed_settings()},
}


def post_routes() -> list[str]:
    """Every POST route the console's resolver has: a new one fails test_every_post_route_has_a_form below until
    it is given its form fields here."""
    return sorted(route.path for route in app._static_routes + app._dynamic_routes if route.method == "POST")


def hostile_fixture(demo: dict[str, Any]) -> dict[str, Any]:
    fixture = copy.deepcopy(demo)
    autotask = fixture["autotask"]
    names = {HELD["id"]: HELD["name"], SYNCED["id"]: SYNCED["name"]}
    for company in autotask["Companies"]:
        company["companyName"] = names.get(company["id"], company["companyName"])
    [contact] = [c for c in fixture["xero"]["Contacts"] if c["Name"] == "pohutukawa dental"]
    contact["Name"] = HELD["xero"]
    [code] = [c for c in autotask["BillingCodes"] if c["id"] == BILLING_CODE["id"]]
    code["name"] = BILLING_CODE["name"]
    [template] = [t for t in autotask["InvoiceTemplates"] if t["id"] == INVOICE_TEMPLATE["id"]]
    template["name"] = INVOICE_TEMPLATE["name"]
    return fixture


class World:
    def __init__(self, local: LocalDeployment, runtime: Runtime, fixture: dict[str, Any]) -> None:
        self.local, self.runtime, self.fixture = local, runtime, fixture
        self.skipped = ""  # an invoice a person skipped: unskip's record

    def get(self, path: str, claims: dict[str, Any] | None = VIEWER) -> dict[str, Any]:
        return request(self.local, path, claims)

    def post(self, path: str, claims: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
        return request(self.local, path, claims, "POST", form)

    def changed_settings(self) -> str:
        current, _ = self.runtime.state.settings.load()
        document = current.model_dump(mode="json")
        document["invoices"]["default_account_code"] = "230"
        return current.model_validate(document).model_dump_json()

    def snapshot(self) -> dict[str, Any]:
        """Everything a console action changes, read from the state table and Xero's own state."""
        state = self.runtime.state
        settings, version = state.settings.load()
        records = [("contacts", str(HELD["id"])), ("invoices", self.skipped), ("control", "xero"),
                   ("settings", "current"), ("control", "switch")]
        return {"attention": sorted((i.flow, i.record_id, i.message) for i in state.attention.list()),
                "skipped": sorted((s.flow, s.record_id) for s in state.attention.skipped(None)),
                "settings": (version, settings.model_dump(mode="json"), len(state.settings.versions())),
                "control": state.control.status(), "switch": list(state.control.history()),
                "ledger": {r: len(state.ledger.history(*r)) for r in records},
                "xero": {kind: len(self.local.sandbox.xero.state(kind)) for kind in ("Contacts", "Invoices")}}


@pytest.fixture(scope="module")
def world(sandbox, demo_fixture) -> Iterator[World]:
    """One deployment for the module, contacts and invoices synced once from the hostile fixture; one invoice
    skipped by an operator (so that unskip has a record to act on)."""
    fixture = hostile_fixture(demo_fixture)
    with fresh_moto():
        local = deploy(sandbox, fixture, lambda _: None)
        runtime = local.runtime()
        for flow, body in (("contacts", run_contacts), ("invoices", run_invoices)):
            execute_run(runtime, build_run(runtime, flow, None, False), body)
        # A person edits the synced company in Autotask: the contacts' preview has a record to show.
        sandbox.autotask.touch("Companies", SYNCED["id"], {"phone": "09 555 0199"})
        made = World(local, runtime, fixture)
        held = sorted(i.record_id for i in runtime.state.attention.list("invoices"))
        made.skipped = held[-1]
        runtime.state.attention.skip("invoices", made.skipped, "entered by hand", by="someone@msp.example")
        yield made
        parameters.clear_caches()


# ----------------------------------------------------------------------------- who may change what


def test_every_post_route_has_a_form():
    routes = post_routes()
    assert {"/console/attention/retry", "/console/mappings/push", "/console/control"} <= set(routes), routes
    assert sorted(ROUTE_FIELDS) == routes, "give each POST route its form's fields in ROUTE_FIELDS"


@pytest.mark.parametrize("path", post_routes())
def test_a_viewer_and_a_forged_form_change_nothing(world, path):
    fields = ROUTE_FIELDS[path](world)
    assert world.runtime.state.attention.get("contacts", str(HELD["id"])) is not None
    assert world.runtime.state.attention.is_skipped("invoices", world.skipped)
    viewer_token = csrf(world.get("/console/", VIEWER))
    operator_token = csrf(world.get("/console/", OPERATOR))
    before = world.snapshot()
    attempts = {
        "a viewer with the form's token": (VIEWER, {**fields, "csrf": viewer_token}, "viewers can look"),
        "an operator without a token": (OPERATOR, fields, "security token"),
        "an operator with an empty token": (OPERATOR, {**fields, "csrf": ""}, "security token"),
        "an operator with a viewer's token": (OPERATOR, {**fields, "csrf": viewer_token}, "security token"),
        "an operator with a tampered token": (OPERATOR, {**fields, "csrf": operator_token[:-2] + "xx"},
                                              "security token"),
        "nobody signed in": (None, {**fields, "csrf": operator_token}, "sign in"),
    }
    for who, (claims, form, says) in attempts.items():
        answer = world.post(path, claims, form)
        assert answer["statusCode"] == (401 if claims is None else 403), (who, answer["statusCode"],
                                                                          answer["body"][:300])
        assert says in answer["body"], who
        assert world.snapshot() == before, f"{path}: {who} changed the state"


# ----------------------------------------------------------------------------- hostile names render as text


def shows_as_text(body: str, name: str, where: str) -> None:
    assert MARKUP not in body and "<script>alert" not in body, f"{where}: markup from a name reached the page"
    assert str(escape(name)) in body, f"{where}: {name!r} is not on the page, escaped"


def test_hostile_names_render_as_text_on_every_page(world):
    rt = world.runtime
    held = [i for i in rt.state.attention.list("invoices") if i.record_id != world.skipped
            and HELD["name"] in i.label]
    assert held, "the held company's invoices are not on the attention list"
    synced = sorted(e.autotask_id for e in rt.state.ids.get_many("invoice", [
        i["id"] for i in world.fixture["autotask"]["Invoices"] if i["companyID"] == SYNCED["id"]]).values()
                    if e.status == "synced")
    assert synced, "none of the synced company's invoices synced"
    for claims in (VIEWER, OPERATOR):
        pages = {
            "/console/": [HELD["name"]],
            "/console/attention": [HELD["name"]],
            "/console/attention?flow=contacts": [HELD["name"]],
            f"/console/records/invoices/{held[0].record_id}": [HELD["name"]],
            f"/console/invoices?q={quote_plus('Rimu')}": [SYNCED["name"]],
            f"/console/invoices/{synced[0]}": [SYNCED["name"]],
            f"/console/invoices/{held[0].record_id}": [HELD["name"]],
            "/console/reconciliation?agreements=all": [HELD["name"], SYNCED["name"]],
            "/console/preview?flow=contacts": [SYNCED["name"]],
            "/console/preview?flow=invoices": [HELD["name"]],
            "/console/mappings": [BILLING_CODE["name"], INVOICE_TEMPLATE["name"]],
        }
        for path, names in pages.items():
            page = world.get(path, claims)
            assert page["statusCode"] == 200, (path, page["body"][:300])
            for name in names:
                shows_as_text(page["body"], name, path)


# ----------------------------------------------------------------------------- the demo's records on each page


def rows(body: str, table_id: str) -> str:
    found = re.search(rf'<table id="{table_id}">(.*?)</table>', body, re.S)
    assert found, f"no table #{table_id}"
    return found.group(1)


def test_every_page_shows_records_of_the_demo(world):
    rt = world.runtime
    autotask = world.fixture["autotask"]
    invoices = {i["id"]: i for i in autotask["Invoices"]}
    companies = {c["id"]: c["companyName"] for c in autotask["Companies"]}
    entries = rt.state.ids.get_many("invoice", list(invoices)).values()
    synced = sorted(e.autotask_id for e in entries if e.status == "synced")
    first = invoices[int(synced[0])]

    overview = world.get("/console/")["body"]
    newest = max(rt.state.attention.list(), key=lambda i: i.last_seen)
    assert str(escape(newest.label)) in overview
    assert "Harbour IT Ltd" in overview  # the Xero organisation the stack is connected to

    attention = world.get("/console/attention")["body"]
    items = rt.state.attention.list()
    assert attention.count('<article class="item"') == len(items) > 0
    assert all(f'data-record="{i.record_id}"' in attention for i in items)

    search = world.get(f"/console/invoices?q={first['invoiceNumber']}")["body"]
    assert f'<a href="/console/invoices/{first["id"]}">{first["invoiceNumber"]}</a>' in rows(search, "results")

    story = world.get(f"/console/invoices/{first['id']}")["body"]
    assert first["invoiceNumber"] in story and str(escape(companies[first["companyID"]])) in story
    xero_id = rt.state.ids.get("invoice", str(first["id"])).xero_id
    assert xero_id and xero_id in story  # the Xero document's link

    recon = world.get("/console/reconciliation?agreements=all")["body"]
    agreed = recon.split("<h2>In agreement</h2>")[1]
    assert all(f">{invoices[int(i)]['invoiceNumber']}</a>" in agreed for i in synced
               if not invoices[int(i)].get("webServiceDate"))

    mappings = world.get("/console/mappings")["body"]
    for code in autotask["BillingCodes"]:
        if code.get("isActive", True) and code.get("useType") != 5:
            assert f'data-billing-code="{escape(code["name"])}"' in mappings, code["name"]
    _, version = rt.state.settings.load()
    assert f"version {version}" in mappings

    # The dry runs: the company a person just edited in Autotask would be updated in Xero; the invoices held
    # on the attention list would stay held.
    contacts = rows(world.get("/console/preview?flow=contacts")["body"], "preview")
    assert f"<td>{escape(companies[SYNCED['id']])}</td><td>update contact</td>" in contacts
    invoices_preview = rows(world.get("/console/preview?flow=invoices")["body"], "preview")
    linked = set(re.findall(r'<a href="/console/invoices/(\d+)">', invoices_preview))
    waiting = {i.record_id for i in rt.state.attention.list("invoices")}
    assert linked and linked <= waiting, (linked, waiting)
