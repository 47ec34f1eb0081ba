"""The official xero-python SDK (15.2.0) round-trips against the simulator."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from xero_python.accounting import (
    Account,
    AccountingApi,
    Allocation,
    Allocations,
    Contact,
    Contacts,
    CreditNote,
    CreditNotes,
    Invoice,
    Invoices,
    LineItem,
    Payment,
    PaymentDelete,
    Payments,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import AccountingBadRequestException, NotFoundException, RateLimitException
from xero_python.identity import IdentityApi

from sandbox.fixtures.xero_demo import demo_id, xero_sandbox_credentials
from sandbox.xero.testing import XeroSandbox

CREDS = xero_sandbox_credentials()


@pytest.fixture(scope="module")
def server() -> Iterator[XeroSandbox]:
    with XeroSandbox.start() as sandbox:
        yield sandbox


@pytest.fixture
def xero(server: XeroSandbox, monkeypatch: pytest.MonkeyPatch) -> XeroSandbox:
    server.reset()
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{server.url}/connect/token")
    monkeypatch.setattr(TokenApi, "client_credentials_token_url", f"{server.url}/connect/token")
    return server


def _configuration() -> Configuration:
    # xero-python's Configuration is a process-wide "first one wins" default: Configuration(oauth2_token=…)
    # returns a copy of the first instance ever made, ignoring its arguments. Set the token on the copy.
    configuration = Configuration()
    configuration.oauth2_token = OAuth2Token(client_id=CREDS["client_id"], client_secret=CREDS["client_secret"])
    return configuration


def _client(xero: XeroSandbox, *, expires_at: float | None = None) -> tuple[ApiClient, dict[str, Any]]:
    issued = xero.token()
    store: dict[str, Any] = {"token": dict(issued, scope=issued["scope"].split(),
                                           expires_at=expires_at or time.time() + 1800)}
    client = ApiClient(_configuration(), pool_threads=1, oauth2_token_getter=lambda: store["token"],
                       oauth2_token_saver=lambda token: store.update(token=token))
    return client, store


def test_token_refresh_through_the_sdk(xero: XeroSandbox) -> None:
    client, store = _client(xero, expires_at=time.time() - 10)  # already expired: the SDK refreshes first
    old_refresh = store["token"]["refresh_token"]
    organisations = AccountingApi(client, base_url=f"{xero.url}/api.xro/2.0").get_organisations(xero.tenant_id)
    assert organisations.organisations[0].name == "Harbour IT Ltd"
    assert xero.sim.token_refreshes == 1
    assert store["token"]["refresh_token"] != old_refresh
    assert set(store["token"]) <= {"access_token", "refresh_token", "expires_in", "expires_at", "token_type",
                                   "scope", "id_token"}


def test_identity_api_get_connections(xero: XeroSandbox) -> None:
    client, _ = _client(xero)
    [connection] = IdentityApi(client, base_url=xero.url).get_connections()
    assert str(connection.tenant_id) == xero.tenant_id
    assert connection.tenant_name == "Harbour IT Ltd"
    assert connection.created_date_utc is not None


def test_client_credentials_through_the_sdk(xero: XeroSandbox) -> None:
    client = ApiClient(_configuration(), pool_threads=1, oauth2_token_getter=lambda: {},
                       oauth2_token_saver=lambda token: None)
    token = client.get_client_credentials_token()
    assert "refresh_token" not in token


def test_contacts_invoices_payments_credit_notes_round_trip(xero: XeroSandbox) -> None:
    client, _ = _client(xero)
    api = AccountingApi(client, base_url=f"{xero.url}/api.xro/2.0")
    tenant = xero.tenant_id

    created = api.create_contacts(tenant, Contacts(contacts=[
        Contact(name="Rimu Rentals Ltd", email_address="accounts@rimu.example", contact_number="AT-42")]))
    contact_id = created.contacts[0].contact_id
    assert created.contacts[0].updated_date_utc is not None
    found = api.get_contacts(tenant, where='ContactNumber=="AT-42"')
    assert [c.name for c in found.contacts] == ["Rimu Rentals Ltd"]

    invoice = Invoice(type="ACCREC", contact=Contact(contact_id=contact_id), invoice_number="AT-5001",
                      status="AUTHORISED", date=dt.date(2026, 1, 20), due_date=dt.date(2026, 2, 20),
                      line_items=[LineItem(description="Managed services", quantity=Decimal("1"),
                                           unit_amount=Decimal("100"), account_code="210", tax_type="OUTPUT2")])
    result = api.create_invoices(tenant, Invoices(invoices=[invoice]), summarize_errors=False, unitdp=4,
                                 idempotency_key="sdk-invoice-1")
    saved = result.invoices[0]
    assert (saved.total, saved.status, saved.date) == (Decimal("115.00"), "AUTHORISED", dt.date(2026, 1, 20))
    assert saved.status_attribute_string == "OK"

    duplicate = api.create_invoices(tenant, Invoices(invoices=[invoice]), summarize_errors=False)
    assert duplicate.invoices[0].status_attribute_string == "ERROR"
    assert duplicate.invoices[0].validation_errors[0].message == "Invoice # must be unique."
    with pytest.raises(AccountingBadRequestException) as refused:
        api.create_invoices(tenant, Invoices(invoices=[invoice]))
    assert refused.value.reason == "Invoice # must be unique."

    paid = api.create_payments(tenant, Payments(payments=[Payment(
        invoice=Invoice(invoice_id=saved.invoice_id), account=Account(code="090"), amount=Decimal("50.00"),
        date=dt.date(2026, 1, 25))]))
    assert paid.payments[0].invoice.amount_due == Decimal("65.00")

    note = api.create_credit_notes(tenant, CreditNotes(credit_notes=[CreditNote(
        type="ACCRECCREDIT", contact=Contact(contact_id=contact_id), status="AUTHORISED",
        line_items=[LineItem(description="Goodwill", quantity=Decimal(1), unit_amount=Decimal(10),
                             account_code="200", tax_type="OUTPUT2")])]))
    note_id = note.credit_notes[0].credit_note_id
    assert note.credit_notes[0].remaining_credit == Decimal("11.50")
    allocated = api.create_credit_note_allocation(tenant, note_id, Allocations(allocations=[Allocation(
        invoice=Invoice(invoice_id=saved.invoice_id), amount=Decimal("11.50"), date=dt.date(2026, 1, 26))]))
    assert allocated.allocations[0].amount == Decimal("11.50")

    fetched = api.get_invoice(tenant, saved.invoice_id).invoices[0]
    assert (fetched.amount_due, fetched.amount_paid, fetched.amount_credited) == (
        Decimal("53.50"), Decimal("50.00"), Decimal("11.50"))
    assert fetched.line_items[0].line_amount == Decimal("100.00")

    deleted = api.delete_payment(tenant, paid.payments[0].payment_id, PaymentDelete(status="DELETED"))
    assert deleted.payments[0].status == "DELETED"
    assert api.get_invoice(tenant, saved.invoice_id).invoices[0].amount_due == Decimal("103.50")

    page = api.get_invoices(tenant, page=1, page_size=10, statuses=["AUTHORISED"])
    assert [i.invoice_number for i in page.invoices] == ["AT-5001"]
    assert page.pagination.item_count == 1
    notes = api.get_credit_notes(tenant)
    assert notes.credit_notes[0].allocations[0].amount == Decimal("11.50")
    assert api.get_payments(tenant).payments[0].status == "DELETED"


def test_reference_data_through_the_sdk(xero: XeroSandbox) -> None:
    client, _ = _client(xero)
    api = AccountingApi(client, base_url=f"{xero.url}/api.xro/2.0")
    tenant = xero.tenant_id
    assert {a.code for a in api.get_accounts(tenant).accounts} >= {"200", "210", "090"}
    assert {t.tax_type for t in api.get_tax_rates(tenant).tax_rates} >= {"OUTPUT2", "INPUT2", "NONE"}
    assert {i.code for i in api.get_items(tenant).items} >= {"HW-LAP-14", "SW-M365-BP"}
    assert {t.name for t in api.get_tracking_categories(tenant).tracking_categories} == {"Region", "Service Line"}
    assert [b.name for b in api.get_branding_themes(tenant).branding_themes] == ["Standard", "Managed Services"]
    assert {c.code.value for c in api.get_currencies(tenant).currencies} == {"NZD", "AUD", "USD"}
    contact = api.get_contact(tenant, demo_id("contact", "Kauri Accounting Ltd")).contacts[0]
    assert contact.name == "Kauri Accounting Ltd"
    with pytest.raises(NotFoundException):
        api.get_invoice(tenant, "00000000-0000-0000-0000-000000000000")


def test_sdk_sees_rate_limits(xero: XeroSandbox) -> None:
    client, _ = _client(xero)
    api = AccountingApi(client, base_url=f"{xero.url}/api.xro/2.0")
    xero.sim.set_limits(minute=1)
    api.get_organisations(xero.tenant_id)
    # A POST: urllib3 (under the SDK) silently retries GET and PUT 429s after sleeping Retry-After seconds.
    with pytest.raises(RateLimitException) as limited:
        api.update_or_create_contacts(xero.tenant_id, Contacts(contacts=[Contact(name="Limited Ltd")]))
    assert limited.value.rate_limit == "minute"
    assert limited.value.headers["Retry-After"] == "60"
