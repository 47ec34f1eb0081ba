"""The demo path end to end (what `make demo` runs, and what `autoxero console` runs before it serves): every flow
through its Lambda handler, real OAuth, webhooks over HTTP, then a clean reconciliation whose counts are checked
against the fixture itself. Then the console as the finance team uses it, in Chromium, on the world that demo left:
sign in as each role, read every page, and change things only as an operator — with every change checked in the
state table, the ledger and the simulators themselves.

One module, so that one demo serves both (pytest-xdist's --dist loadfile keeps a module in one process)."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from sandbox.server import load_fixture

pytestmark = pytest.mark.timeout(900)

BLOCKED = {"Pohutukawa Dental", "Old Mate Plumbing Ltd"}  # the fixture's deliberate contact conflicts

PAGES = {"overview": ("/console/", "Overview"), "attention": ("/console/attention", "Needs attention"),
         "invoices": ("/console/invoices?q=Harbour", "Invoices"), "reconciliation": ("/console/reconciliation",
                                                                                     "Reconciliation"),
         "mappings": ("/console/mappings", "Mappings"), "preview": ("/console/preview?flow=invoices", "Preview")}


# ------------------------------------------------------------------ the demo, end to end

@pytest.fixture(scope="module")
def demo(served):
    """The demo's result, and the simulators' own state it left: Xero's customer invoices and Autotask's
    invoices, read before anything else touched the world."""
    return served.demo


@pytest.fixture(scope="module")
def outcome(demo):
    return demo[0]


@pytest.mark.e2e
def test_demo_reconciles(outcome):
    rec = outcome.reconciliation
    assert rec is not None and rec.ok, [(r.number, r.issue, r.note) for r in rec.problems]
    assert outcome.report.exists() and outcome.report.with_suffix(".html").exists()
    assert "Reconciled" in outcome.report.read_text()


@pytest.mark.e2e
def test_counts_match_the_fixture(outcome):
    data = load_fixture()["autotask"]
    companies = {c["id"]: c for c in data["Companies"]}
    customer_or_vendor = [c for c in companies.values() if c.get("isActive", True) and c["companyType"] in (1, 7)]
    contacts = outcome.summaries["contacts"]
    assert contacts["created"] + contacts["updated"] == len(customer_or_vendor) - len(BLOCKED)
    assert contacts["attention"] == len(BLOCKED)

    candidates = [i for i in data["Invoices"] if not i.get("isVoided") and not i.get("webServiceDate")]
    blocked = [i for i in candidates if companies[i["companyID"]]["companyName"] in BLOCKED]
    invoices = outcome.summaries["invoices"]
    assert invoices["created"] == len(candidates) - len(blocked)
    # An inactive company still being invoiced gets its contact from the invoices flow.
    inactive_invoiced = {i["companyID"] for i in candidates if not companies[i["companyID"]].get("isActive", True)}
    assert invoices.get("contacts_created", 0) == len(inactive_invoiced)
    assert outcome.reconciliation.matched == invoices["created"]
    assert len(outcome.reconciliation.explained) == len(blocked)


@pytest.mark.e2e
def test_payments_came_back_through_the_poll(demo):
    # Customers pay after the invoices' own webhooks were delivered, and Xero documents no event for a payment
    # (the simulator sends none): the scheduled poll must bring them back. Truth is the simulators' state:
    # every invoice PAID in Xero is paid in Autotask on its payment date, and no other one is.
    outcome, xero, autotask = demo
    paid_in_xero = {i["InvoiceNumber"] for i in xero if i["Status"] == "PAID"}
    in_xero = {i["InvoiceNumber"] for i in xero}
    paid_in_autotask = {i["invoiceNumber"]: str(i["paidDate"])[:10] for i in autotask
                        if i.get("paidDate") and i["invoiceNumber"] in in_xero}
    assert paid_in_xero, "the demo paid nothing in full"
    assert paid_in_autotask == dict.fromkeys(paid_in_xero, "2026-11-20")
    payments = outcome.summaries["payments"]
    assert payments["paid"] == outcome.paid_by_poll == len(paid_in_xero)
    assert len(paid_in_xero) < outcome.payments_applied  # the part payments and the removed one are not paid
    assert payments["messages"] >= outcome.summaries["invoices"]["created"]  # the invoices' own events


# ------------------------------------------------------------------ the console it serves, in Chromium

def attention_ids(served, flow: str) -> set[str]:
    return {i.record_id for i in served.runtime().state.attention.list(flow)}


def test_the_gateway_refuses_requests_without_a_valid_token(served):
    pages = httpx.get(f"{served.url}/console/", timeout=60)
    assert pages.status_code == 401 and pages.json() == {"message": "Unauthorized"}
    forged = httpx.get(f"{served.url}/console/", headers={"Authorization": "Bearer e30.e30.c2ln"}, timeout=60)
    assert forged.status_code == 401
    # The sign-in page itself is public, and carries no secret: the client id of a public client only.
    login = httpx.get(f"{served.url}/console/login", timeout=60)
    assert login.status_code == 200 and "client_secret" not in login.text.lower()


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_each_role_signs_in_and_every_page_renders(served, ui, role: str):
    page = ui.sign_in(role)
    assert page.locator("#who").inner_text() == ui.users[role]
    assert page.locator(".role").inner_text().lower() == role
    rt = served.runtime()
    held = sorted(re.search(r"INV-\d+", i.label).group(0) for i in rt.state.attention.list("invoices"))
    # A record of the demo on each page, besides its heading: (selector, text it must contain).
    shows = {"overview": ("#xero-health", "Harbour IT Ltd"), "attention": ("article.item", held[0]),
             "invoices": ("#results td.company", "Harbour"), "reconciliation": ("main", held[0]),
             "mappings": ("tr[data-billing-code='Managed Services']", "Managed Services"),
             "preview": ("#preview tbody tr", held[0])}
    for name, (path, heading) in PAGES.items():
        answer = page.goto(f"{served.url}{path}")
        assert answer is not None and answer.status == 200, f"{name}: {answer and answer.status}"
        assert page.locator("h1").first.inner_text().startswith(heading)
        selector, text = shows[name]
        assert text in " ".join(page.locator(selector).all_inner_texts()), f"{name}: {text} is not in {selector}"
        ui.shoot(page, f"{role}-{name}")
    # Demo data is on the pages: the Xero organisation, the flows' runs, the attention items, the settings.
    page.goto(f"{served.url}/console/")
    assert "Harbour IT Ltd" in page.locator("#xero-health").inner_text()
    assert page.locator("tbody tr").count() == 4
    # The quota is Autotask's own count at the runs' last ThresholdInformation read, as the table keeps it.
    reading = served.runtime().state.autotask_quota.last_reading()
    quota = " ".join(page.locator("#autotask-quota").inner_text().split())
    assert reading and f"{reading['count']:,} of {reading['threshold']:,} requests" in quota, quota
    page.goto(f"{served.url}/console/attention")
    assert page.locator("article.item").count() == len(served.runtime().state.attention.list())
    buttons = page.locator("button.retry").count()
    assert (buttons > 0) if role == "operator" else (buttons == 0)
    page.context.close()


def test_an_invoice_tells_its_story(served, ui):
    rt = served.runtime()
    synced = next(e for e in rt.state.ids.get_many("invoice", range(24001, 24160)).values() if e.status == "synced")
    page = ui.sign_in("viewer")
    page.goto(f"{served.url}/console/invoices/{synced.autotask_id}")
    assert page.locator("#xero-doc a[href^='https://go.xero.com/']").count() == 1
    reasons = page.locator("tr.why li").all_inner_texts()
    assert any(r.startswith("account:") for r in reasons) and any(r.startswith("tax:") for r in reasons)
    assert "create invoice" in page.locator("#history").inner_text()
    ui.shoot(page, "viewer-invoice-story")
    page.context.close()


def test_a_viewer_cannot_change_anything_and_the_server_refuses(served, ui):
    rt = served.runtime()
    item = rt.state.attention.list("invoices")[0]
    current, version = rt.state.settings.load()
    changed = current.model_dump(mode="json")
    changed["invoices"]["default_account_code"] = "230"
    pushable = json.dumps(changed)  # what an operator's push would send
    switch = rt.state.control.status()
    page = ui.sign_in("viewer")
    page.goto(f"{served.url}/console/attention")
    for path, fields in (("/console/attention/retry", {"flow": "invoices", "record": item.record_id}),
                         ("/console/attention/skip", {"flow": "invoices", "record": item.record_id, "reason": "x"}),
                         ("/console/control", {"action": "pause", "reason": "x"}),
                         ("/console/attention/unskip", {"flow": "invoices", "record": item.record_id}),
                         ("/console/xero/reconnect", {}),
                         ("/console/mappings/review", {"default_account_code": "210"}),
                         ("/console/mappings/push", {"base_version": str(version), "document": pushable}),
                         ("/console/mappings/rollback", {"version": str(version)}),
                         ("/console/mappings/suggest", {})):
        answer = ui.post(page, path, fields)
        assert answer["status"] == 403, path
        assert "viewers can look but not change anything" in answer["text"]
    assert rt.state.attention.get("invoices", item.record_id) is not None
    assert not rt.state.attention.is_skipped("invoices", item.record_id)
    assert [e for e in rt.state.ledger.history("invoices", item.record_id) if e.action in ("retry", "skipped")] == []
    assert rt.state.settings.load()[1] == version and rt.state.control.status() == switch
    page.context.close()


def test_a_form_without_its_csrf_token_is_refused(served, ui):
    item = served.runtime().state.attention.list("invoices")[-1]
    page = ui.sign_in("operator")
    answer = page.evaluate("""async (record) => {
        const body = new URLSearchParams({flow: "invoices", record, reason: "forged"});
        const r = await fetch("/console/attention/skip", {method: "POST", body});
        return {status: r.status, text: await r.text()};
    }""", item.record_id)
    assert answer["status"] == 403 and "security token" in answer["text"]
    assert not served.runtime().state.attention.is_skipped("invoices", item.record_id)
    page.context.close()


def test_skip_and_unskip_change_the_list_and_the_ledger(served, ui):
    rt = served.runtime()
    item = sorted(rt.state.attention.list("invoices"), key=lambda i: i.record_id)[0]
    page = ui.sign_in("operator")
    page.goto(f"{served.url}/console/attention?flow=invoices")
    card = page.locator(f"article.item[data-record='{item.record_id}']")
    card.locator("input.reason").fill("entered in Xero by hand in October")
    card.locator("button.skip").click()
    page.wait_for_selector("#notice")
    assert page.locator(f"article.item[data-record='{item.record_id}']").count() == 0
    assert "entered in Xero by hand" in page.locator(f"#skipped tr[data-record='{item.record_id}']").inner_text()
    assert item.record_id not in attention_ids(served, "invoices")
    assert rt.state.attention.is_skipped("invoices", item.record_id)
    [entry] = [e for e in rt.state.ledger.history("invoices", item.record_id) if e.action == "skipped"]
    assert entry.detail["by"] == ui.users["operator"]
    ui.shoot(page, "operator-after-skip")

    page.locator(f"#skipped tr[data-record='{item.record_id}'] button.unskip").click()
    page.wait_for_selector("#notice")
    assert not rt.state.attention.is_skipped("invoices", item.record_id)
    [entry] = [e for e in rt.state.ledger.history("invoices", item.record_id) if e.action == "unskipped"]
    assert entry.detail["by"] == ui.users["operator"]
    page.context.close()


def test_fix_retry_then_a_mapping_edit_is_validated_pushed_and_used_by_the_next_run(served, ui):
    rt = served.runtime()
    # The demo's Pohutukawa Dental differs from its Xero contact only in capitals; a person fixes that in Xero.
    [item] = [i for i in rt.state.attention.list("contacts") if "Pohutukawa" in i.label]
    [contact] = [c for c in served.xero_state("Contacts") if c["Name"] == "pohutukawa dental"]
    client = rt.xero_client()
    assert client.update_contacts([{"ContactID": contact["ContactID"], "Name": "Pohutukawa Dental"}])[0].ok

    page = ui.sign_in("operator")
    page.goto(f"{served.url}/console/attention?flow=contacts")
    page.locator(f"article.item[data-record='{item.record_id}'] button.retry").click()
    page.wait_for_selector("#notice")
    assert "nothing left to fix" in page.locator("#notice").inner_text()
    assert item.record_id not in attention_ids(served, "contacts")
    assert rt.state.ids.get("contact", item.record_id).xero_id == contact["ContactID"]
    [retried] = [e for e in rt.state.ledger.history("contacts", item.record_id) if e.action == "retry"]
    assert retried.detail["by"] == ui.users["operator"]

    # A mapping edit: first one the settings refuse (a prefix longer than Xero allows), then a real one.
    held = [i for i in rt.state.attention.list("invoices") if "Pohutukawa" in i.label]
    assert held
    page.goto(f"{served.url}/console/mappings")
    page.fill("input[name=number_prefix]", "X" * 25)
    page.click("#check")
    assert "number_prefix" in page.locator("#review-errors").inner_text()
    assert page.locator("#push").count() == 0
    ui.shoot(page, "operator-mapping-refused")
    # The page offers no push for it; and the server refuses a push that skipped the review, forged from the
    # browser: valid settings naming an account Xero does not have.
    current, version = rt.state.settings.load()
    forged = current.model_dump(mode="json")
    forged["invoices"]["default_account_code"] = "999"
    answer = ui.post(page, "/console/mappings/push", {"base_version": str(version), "document": json.dumps(forged)})
    assert answer["status"] == 422 and "not pushed" in answer["text"]
    assert rt.state.settings.load() == (current, version)

    page.goto(f"{served.url}/console/mappings")
    account = "tr[data-billing-code='Managed Services'] select[name^='account_by_billing_code']"
    page.locator(account).select_option("260")
    page.click("#check")
    assert "260" in page.locator("#diff").inner_text()
    version = rt.state.settings.load()[1]
    page.click("#push")
    page.wait_for_selector("#mapping-notice")
    assert f"version {version + 1}" in page.locator("#mapping-notice").inner_text()
    assert ui.users["operator"] in page.locator("#versions").inner_text()
    ui.shoot(page, "operator-mapping-pushed")
    settings, now = rt.state.settings.load()
    assert now == version + 1 and "260" in settings.invoices.account_by_billing_code.values()

    # The next scheduled run sends the held invoices with the new mapping.
    served.invoke("SyncInvoicesFunction", {"flow": "invoices"})
    numbers = {re.search(r"INV-\d+", i.label).group(0) for i in held}
    sent = [x for x in served.xero_state("Invoices") if x.get("InvoiceNumber") in numbers]
    assert sent and all(x["Contact"]["ContactID"] == contact["ContactID"] for x in sent)
    managed = [line for x in sent for line in x["LineItems"] if "Managed" in line.get("Description", "")]
    assert managed and {line["AccountCode"] for line in managed} == {"260"}

    # Roll back to the version before: reviewed like any change, pushed as a new version.
    page.goto(f"{served.url}/console/mappings")
    page.locator("#versions button.rollback").first.click()
    assert f"Rolling back to version {version}." in page.locator("#review").inner_text()
    page.click("#push")
    page.wait_for_selector("#mapping-notice")
    settings, latest = rt.state.settings.load()
    assert latest == version + 2 and "260" not in settings.invoices.account_by_billing_code.values()
    # Suggestions are reviewed the same way before anything is pushed.
    page.click("#suggest")
    assert page.locator("#review").count() == 1 and rt.state.settings.load()[1] == latest
    page.context.close()


def test_a_hostile_company_name_renders_as_text(served, ui):
    hostile = '<img src=x onerror="window.pwned=1">Evil & Co <script>window.pwned=2</script>'
    rt = served.runtime()
    [item] = [i for i in rt.state.attention.list("contacts") if "Old Mate" in i.label]
    rt.autotask_client().patch("Companies", {"id": int(item.record_id), "companyName": hostile})
    page = ui.sign_in("viewer")
    page.goto(f"{served.url}/console/invoices?q=Evil")
    cells = page.locator("#results td.company")
    assert cells.count() > 0
    assert set(cells.all_inner_texts()) == {hostile}
    assert page.locator("#results img").count() == 0 and page.locator("#results script").count() == 0
    assert page.evaluate("window.pwned") is None
    ui.shoot(page, "viewer-hostile-name")
    page.context.close()


def test_an_operator_reconnects_xero_from_the_overview(served, ui):
    rt = served.runtime()
    before = rt.secrets.read(rt.config.xero_secret_id, fresh=True)["connected_at"]
    page = ui.sign_in("operator")
    page.click("#reconnect")
    page.click("#continue-to-xero")  # the stack's connect endpoint, Xero's sign-in (the sandbox approves), back
    page.wait_for_url("**/xero/callback**")
    assert "Connected to Xero organisation 'Harbour IT Ltd'" in page.content()
    assert rt.secrets.read(rt.config.xero_secret_id, fresh=True)["connected_at"] >= before
    [issued] = [e for e in rt.state.ledger.history("control", "xero") if e.action == "reconnect link issued"]
    assert issued.detail["by"] == ui.users["operator"]
    page.context.close()


def test_an_operator_pauses_and_resumes_the_stack(served, ui):
    rt = served.runtime()
    page = ui.sign_in("operator")
    page.fill("#switch input[name=reason]", "month-end close")
    page.click("#pause")
    page.wait_for_selector("#notice")
    assert page.locator("#switch h2").inner_text() == "Paused"
    status = rt.state.control.status()
    assert status.paused and status.by == ui.users["operator"] and status.reason == "month-end close"
    ui.shoot(page, "operator-paused")
    page.click("#resume")
    page.wait_for_selector("#notice")
    assert page.locator("#switch h2").inner_text() == "Active"
    assert not rt.state.control.paused()
    actions = [(action, by) for _, action, by in rt.state.control.history()]
    assert ("pause", ui.users["operator"]) in actions and ("resume", ui.users["operator"]) in actions
    page.context.close()
