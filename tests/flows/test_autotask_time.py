"""Autotask time, one rule: every datetime is UTC, zone or no zone; a date-only field is the date as written.

Sources: "The REST API stores and returns all time data in UTC" and, for fields the UI gives no time, "we don't
convert timezone datetime values for date-only fields, we just set the time portion to midnight and accept the
date value" (Autotask REST_API_Calls.htm, "Timestamp format"); "invoice.paidDate ignores time stamp information
and stores the date only" (InvoicesEntity.htm); older responses carry no zone at all ("2016-03-30T13:10:35.563",
apigrate/autotask-restapi README). The customer here is in New Zealand (UTC+13 in October).
"""

from __future__ import annotations

from autoxero.autotask.models import Contact, Invoice
from autoxero.sync.contacts import run_contacts
from autoxero.sync.payments import run_payments
from sandbox.fixtures.builder import Tenant
from tests.flows.test_invoice_rules import contacts_named, run, settle
from tests.flows.test_purchase_orders_and_payments import paid_date, pay
from tests.flows.test_purchase_orders_and_payments import synced as synced  # noqa: PLC0414 (a fixture)


def test_zone_less_datetimes_are_utc_and_the_contacts_cursor_moves(local):
    tenant = Tenant().company(3, "Charlie Ltd").contact(31, 3, "Cai", "Ro", billingContact=True)
    rt = settle(local, tenant)
    local.sandbox.autotask.zone_less_datetimes = True   # an older tenant's answers
    first = run(rt, "contacts", run_contacts)
    assert first["created"] == 1
    cursor = rt.state.cursors.get("contacts")
    assert cursor and cursor.endswith("+00:00")
    local.sandbox.autotask.touch("Companies", 3, {"companyName": "Charlie Holdings Ltd"})
    assert not local.sandbox.autotask.record("Companies", 3)["lastTrackedModifiedDateTime"].endswith("Z")
    run(local.runtime(), "contacts", run_contacts)
    assert [c["Name"] for c in contacts_named(local, "Charlie Holdings Ltd")] == ["Charlie Holdings Ltd"]


def test_a_new_zealand_paid_date_is_the_same_day_both_ways(local, synced):
    local.sandbox.autotask.zone_less_datetimes = True
    pay(local, synced, 6001, date="2026-10-05")      # Xero dates are the organisation's (NZ) calendar dates
    assert run(synced, "payments", run_payments)["paid"] == 1
    assert paid_date(local, 6001) == "2026-10-05"
    assert run(synced, "payments", run_payments).get("paid", 0) == 0   # read back as the same day: no re-write
    # A person in Auckland marks 6002 paid on 6 October; a client sends local midnight with its offset.
    local.sandbox.autotask.touch("Invoices", 6002, {"paidDate": "2026-10-06T00:00:00+13:00"})
    assert paid_date(local, 6002) == "2026-10-06"
    pay(local, synced, 6002, date="2026-10-06")
    run(synced, "payments", run_payments)
    assert paid_date(local, 6002) == "2026-10-06"
    assert not [e for e in synced.state.ledger.history("payments", 6002) if e.action == "set paidDate"]


def test_the_models_apply_the_rule():
    invoice = Invoice.model_validate({"id": 1, "companyID": 2, "invoiceDateTime": "2026-10-05T00:00:00",
                                      "paidDate": "2026-10-05T00:00:00+13:00", "dueDate": "2026-10-19T00:00:00Z",
                                      "createDateTime": "2026-10-04T20:15:00.1234567"})
    assert invoice.invoiceDateTime.date().isoformat() == "2026-10-05"
    assert invoice.paidDate is not None and invoice.paidDate.date().isoformat() == "2026-10-05"
    assert invoice.dueDate is not None and invoice.dueDate.date().isoformat() == "2026-10-19"
    created = invoice.createDateTime
    assert created is not None and created.isoformat() == "2026-10-04T20:15:00.123456+00:00"
    contact = Contact.model_validate({"id": 1, "companyID": 2, "lastModifiedDate": "2026-10-05T09:00:00+13:00"})
    assert contact.lastModifiedDate is not None and contact.lastModifiedDate.isoformat() == "2026-10-04T20:00:00+00:00"
