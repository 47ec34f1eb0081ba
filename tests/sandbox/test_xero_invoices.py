"""The rules that bite integrations, each with Xero's own message: a breaking request gets the error, a keeping
request passes. Plus totals, statuses, payments, allocations and the read filters for invoices."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox.fixtures.xero_demo import demo_id
from sandbox.xero.testing import XeroSandbox

INVOICES = "/api.xro/2.0/Invoices"
PAYMENTS = "/api.xro/2.0/Payments"
CREDIT_NOTES = "/api.xro/2.0/CreditNotes"
KAURI = demo_id("contact", "Kauri Accounting Ltd")
TUI = demo_id("contact", "Tui Logistics Ltd")
SUPPLIER = demo_id("contact", "Dicker Data NZ")


def line(**changes: Any) -> dict[str, Any]:
    return {"Description": "Managed services", "Quantity": 1, "UnitAmount": 100, "AccountCode": "210"} | changes


def invoice(**changes: Any) -> dict[str, Any]:
    return {"Type": "ACCREC", "Contact": {"ContactID": KAURI}, "LineItems": [line()]} | changes


def put(api: httpx.Client, *invoices: dict[str, Any], **params: Any) -> httpx.Response:
    return api.put(INVOICES, params=params, json={"Invoices": list(invoices)})


def saved(response: httpx.Response, collection: str = "Invoices") -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()[collection][0]


def refusal(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    return [e["Message"] for e in body["Elements"][0]["ValidationErrors"]]


def pay(api: httpx.Client, invoice_id: str, amount: Any, **extra: Any) -> httpx.Response:
    return api.put(PAYMENTS, json={"Payments": [{"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"},
                                                 "Amount": amount, "Date": "2026-03-01", **extra}]})


def update(api: httpx.Client, invoice_id: str, **changes: Any) -> httpx.Response:
    return api.post(f"{INVOICES}/{invoice_id}", json={"Invoices": [changes]})


# ---------------------------------------------------------------------------------------------- line rules

LINE_RULES = [
    ("unknown account code", line(AccountCode="999"), line(),
     "Account code '999' is not a valid code for this document."),
    ("bank account on a line", line(AccountCode="090"), line(AccountCode="200"),
     "Account code '090' is not a valid code for this document."),
    ("archived account", line(AccountCode="250"), line(AccountCode="230"),
     "Account code '250' has been archived, or has been deleted. Each line item must reference a valid account."),
    ("unknown tax type", line(TaxType="GST15"), line(TaxType="OUTPUT2"),
     "The TaxType code GST15 does not exist or cannot be used for this type of transaction."),
    ("tax type not for this account", line(AccountCode="300", TaxType="OUTPUT2"), line(AccountCode="200"),
     "The TaxType code 'OUTPUT2' cannot be used with account code '300'."),
    ("unknown item code", line(ItemCode="HW-FW-60F"), line(ItemCode="HW-LAP-14"), "Item code 'HW-FW-60F' is not valid"),
    ("unknown tracking category", line(Tracking=[{"Name": "Department", "Option": "Sales"}]),
     line(Tracking=[{"Name": "Region", "Option": "Wellington"}]),
     "There is no ACTIVE tracking category with the name 'Department'"),
    ("unknown tracking option", line(Tracking=[{"Name": "Region", "Option": "Hamilton"}]),
     line(Tracking=[{"Name": "Service Line", "Option": "Support"}, {"Name": "Region", "Option": "Auckland"}]),
     "The tracking option 'Hamilton' is not a valid option for the tracking category 'Region'."),
    ("negative quantity", line(Quantity=-2), line(Quantity=2),
     "The quantity value '-2.0000' is invalid. Quantity must not be less than zero."),
    ("line amount is not quantity x unit amount", line(Quantity=3, UnitAmount=33.33, LineAmount=100),
     line(Quantity=3, UnitAmount=33.33, LineAmount=99.99),
     "The line total 100.00 does not match the expected line total 99.99"),
    ("approved invoice line without an account", line(AccountCode=None), line(AccountCode="200"),
     "Account code must be specified for each line item."),
]


@pytest.mark.parametrize(("breaking", "keeping", "message"), [r[1:] for r in LINE_RULES],
                         ids=[r[0] for r in LINE_RULES])
def test_line_rules(api: httpx.Client, breaking: dict[str, Any], keeping: dict[str, Any], message: str) -> None:
    breaking = {k: v for k, v in breaking.items() if v is not None}
    assert message in refusal(put(api, invoice(LineItems=[breaking], Status="AUTHORISED")))
    kept = saved(put(api, invoice(LineItems=[keeping], Status="AUTHORISED")))
    assert kept["Status"] == "AUTHORISED"


def test_a_draft_may_leave_the_account_out(api: httpx.Client) -> None:
    draft = saved(put(api, invoice(LineItems=[{"Description": "To be coded", "Quantity": 1, "UnitAmount": 10}])))
    assert draft["Status"] == "DRAFT" and draft["Total"] == 10.00


# ---------------------------------------------------------------------------------------------- invoice rules


def test_accrec_invoice_number_must_be_unique_accpay_need_not(api: httpx.Client) -> None:
    saved(put(api, invoice(InvoiceNumber="AT-1001")))
    assert refusal(put(api, invoice(InvoiceNumber="at-1001 "))) == ["Invoice # must be unique."]
    bill = {"Type": "ACCPAY", "Contact": {"ContactID": SUPPLIER}, "InvoiceNumber": "DD-77",
            "LineItems": [line(AccountCode="310", TaxType="INPUT2")]}
    first, second = saved(put(api, bill)), saved(put(api, bill))
    assert first["InvoiceID"] != second["InvoiceID"] and second["InvoiceNumber"] == "DD-77"


def test_missing_accrec_numbers_are_generated(api: httpx.Client) -> None:
    numbers = [saved(put(api, invoice()))["InvoiceNumber"] for _ in range(2)]
    assert numbers == ["INV-0001", "INV-0002"]
    assert saved(put(api, {"Type": "ACCPAY", "Contact": {"ContactID": SUPPLIER},
                           "LineItems": [line(AccountCode="310")]}))["InvoiceNumber"] == ""


def test_branding_theme_must_exist(api: httpx.Client) -> None:
    bad = "7c2b8d1e-0000-4000-8000-000000000000"
    assert refusal(put(api, invoice(BrandingThemeID=bad))) == [f"The BrandingThemeID '{bad}' is not valid."]
    theme = demo_id("branding", "Managed Services")
    assert saved(put(api, invoice(BrandingThemeID=theme)))["BrandingThemeID"] == theme


def test_contact_must_exist_and_be_identified(api: httpx.Client) -> None:
    ghost = "11111111-2222-4333-8444-555555555555"
    assert refusal(put(api, invoice(Contact={"ContactID": ghost}))) == [
        f"A contact with the ContactID {ghost} could not be found."]
    assert refusal(put(api, invoice(Contact={}))) == [
        "The Contact must contain at least 1 of the following elements to identify the contact: "
        "Name, ContactID, ContactNumber"]
    assert saved(put(api, invoice(Contact={"ContactID": TUI})))["Contact"]["Name"] == "Tui Logistics Ltd"


def test_archived_contact_cannot_take_a_new_invoice(api: httpx.Client) -> None:
    archived = ("The contact with the specified contact details has been archived. "
                "The contact must be un-archived before creating new invoices or credit notes.")
    old = demo_id("contact", "Old Mate Plumbing Ltd")
    assert refusal(put(api, invoice(Contact={"ContactID": old}))) == [archived]
    assert refusal(put(api, invoice(Contact={"Name": "Old Mate Plumbing Ltd"}))) == [archived]
    assert saved(put(api, invoice(Contact={"Name": "Kauri Accounting Ltd"})))["Contact"]["ContactID"] == KAURI


def test_unknown_contact_name_creates_the_contact(api: httpx.Client, xero: XeroSandbox) -> None:
    created = saved(put(api, invoice(Contact={"Name": "Karaka Kindergarten"})))
    contact = next(c for c in xero.sim.state("Contacts") if c["Name"] == "Karaka Kindergarten")
    assert created["Contact"]["ContactID"] == contact["ContactID"] and contact["IsCustomer"] is True


def test_cannot_create_paid_or_voided(api: httpx.Client) -> None:
    assert refusal(put(api, invoice(Status="PAID"))) == ["Invoice not of valid status for creation"]
    assert saved(put(api, invoice(Status="SUBMITTED")))["Status"] == "SUBMITTED"


# ---------------------------------------------------------------------------------------------- amounts


def test_unit_amounts_round_to_two_places_unless_unitdp_4(api: httpx.Client) -> None:
    two = saved(put(api, invoice(LineItems=[line(Quantity=3, UnitAmount=33.335)])))
    assert two["LineItems"][0]["UnitAmount"] == 33.34 and two["LineItems"][0]["LineAmount"] == 100.02
    four = saved(put(api, invoice(LineItems=[line(Quantity=3, UnitAmount=33.335)]), unitdp=4))
    assert four["LineItems"][0]["UnitAmount"] == 33.335 and four["LineItems"][0]["LineAmount"] == 100.01
    raw = api.get(f"{INVOICES}/{four['InvoiceID']}", params={"unitdp": 4}).text
    assert '"UnitAmount":33.3350' in raw and '"LineAmount":100.01' in raw
    assert '"UnitAmount":33.34,' in api.get(f"{INVOICES}/{four['InvoiceID']}").text
    # an unrelated edit without unitdp does not re-round the stored unit amount
    edited = saved(update(api, four["InvoiceID"], DueDate="2026-04-30"))
    assert edited["LineItems"][0]["LineAmount"] == 100.01 and edited["Total"] == four["Total"]


@pytest.mark.parametrize(("amount_type", "lines", "expected"), [
    ("Exclusive", [line(Quantity=2, UnitAmount=150)], ("300.00", "45.00", "345.00", ["45.00"])),
    ("Inclusive", [line(Quantity=1, UnitAmount=115)], ("100.00", "15.00", "115.00", ["15.00"])),
    ("NoTax", [line(Quantity=2, UnitAmount=150)], ("300.00", "0.00", "300.00", ["0.00"])),
    ("Exclusive", [line(UnitAmount=0.33), line(UnitAmount=0.33), line(UnitAmount=0.33)],
     ("0.99", "0.15", "1.14", ["0.05", "0.05", "0.05"])),  # tax is rounded per line
    ("Exclusive", [line(Quantity=2, UnitAmount=100, DiscountRate=10)], ("180.00", "27.00", "207.00", ["27.00"])),
])
def test_totals(api: httpx.Client, amount_type: str, lines: list[dict[str, Any]],
                expected: tuple[str, str, str, list[str]]) -> None:
    result = api.put(INVOICES, json={"Invoices": [invoice(LineAmountTypes=amount_type, LineItems=lines)]})
    assert result.status_code == 200, result.text
    document = result.json()["Invoices"][0]
    sub, tax, total, per_line = expected
    assert (Decimal(str(document["SubTotal"])), Decimal(str(document["TotalTax"])),
            Decimal(str(document["Total"]))) == (Decimal(sub), Decimal(tax), Decimal(total))
    assert [Decimal(str(li["TaxAmount"])) for li in document["LineItems"]] == [Decimal(t) for t in per_line]
    assert Decimal(str(document["AmountDue"])) == Decimal(total)
    if amount_type == "NoTax":
        assert {li["TaxType"] for li in document["LineItems"]} == {"NONE"}
    else:
        assert {li["TaxType"] for li in document["LineItems"]} == {"OUTPUT2"}  # the account's default


def test_money_keeps_its_scale_on_the_wire(api: httpx.Client) -> None:
    text = put(api, invoice(LineItems=[line(Quantity=2, UnitAmount=150)])).text
    assert '"Total":345.00' in text and '"Quantity":2.0000' in text and '"CurrencyRate":1.000000' in text


def test_item_code_fills_in_the_item_defaults(api: httpx.Client) -> None:
    document = saved(put(api, invoice(LineItems=[{"ItemCode": "SW-M365-BP", "Quantity": 10}])))
    [item_line] = document["LineItems"]
    assert (item_line["UnitAmount"], item_line["AccountCode"], item_line["TaxType"], item_line["LineAmount"]) == (
        39.90, "210", "OUTPUT2", 399.00)
    assert item_line["Description"].startswith("Microsoft 365 Business Premium")


def test_default_tax_type_comes_from_the_account(api: httpx.Client) -> None:
    document = saved(put(api, invoice(LineItems=[line(AccountCode="270")])))
    assert document["LineItems"][0]["TaxType"] == "NONE" and document["TotalTax"] == 0


# ---------------------------------------------------------------------------------------------- statuses


def test_draft_to_submitted_to_authorised_and_delete_only_drafts(api: httpx.Client) -> None:
    draft = saved(put(api, invoice()))
    assert saved(update(api, draft["InvoiceID"], Status="SUBMITTED"))["Status"] == "SUBMITTED"
    assert saved(update(api, draft["InvoiceID"], Status="AUTHORISED"))["Status"] == "AUTHORISED"
    assert refusal(update(api, draft["InvoiceID"], Status="DELETED")) == [
        "Invoice not of valid status for modification"]
    assert refusal(update(api, draft["InvoiceID"], Status="DRAFT")) == [
        "Invoice not of valid status for modification"]
    other = saved(put(api, invoice()))
    deleted = saved(update(api, other["InvoiceID"], Status="DELETED"))
    assert deleted["Status"] == "DELETED" and deleted["AmountDue"] == 0


def test_void_only_authorised_without_payments(api: httpx.Client) -> None:
    draft = saved(put(api, invoice()))
    assert refusal(update(api, draft["InvoiceID"], Status="VOIDED")) == [
        "Invoice not of valid status for modification"]
    approved = saved(put(api, invoice(Status="AUTHORISED")))
    saved(pay(api, approved["InvoiceID"], 10), "Payments")
    assert refusal(update(api, approved["InvoiceID"], Status="VOIDED")) == [
        "This document cannot be edited as it has a payment or credit note allocated to it."]
    clean = saved(put(api, invoice(Status="AUTHORISED")))
    voided = saved(update(api, clean["InvoiceID"], Status="VOIDED"))
    assert (voided["Status"], voided["AmountDue"]) == ("VOIDED", 0)
    assert refusal(update(api, clean["InvoiceID"], Reference="again")) == [
        "Invoice not of valid status for modification"]


def test_payments_settle_and_reopen_invoices(api: httpx.Client) -> None:
    draft = saved(put(api, invoice()))
    assert refusal(pay(api, draft["InvoiceID"], 10)) == ["Payments can only be made against Authorised documents"]
    approved = saved(put(api, invoice(Status="AUTHORISED")))  # 115.00
    assert refusal(pay(api, approved["InvoiceID"], "115.01")) == [
        "Payment amount exceeds the amount outstanding on this document"]
    saved(pay(api, approved["InvoiceID"], 15), "Payments")
    part = saved(api.get(f"{INVOICES}/{approved['InvoiceID']}"))
    assert (part["AmountDue"], part["AmountPaid"], part["Status"]) == (100.00, 15.00, "AUTHORISED")
    full = saved(pay(api, approved["InvoiceID"], 100, Date="2026-03-02"), "Payments")
    paid = saved(api.get(f"{INVOICES}/{approved['InvoiceID']}"))
    assert (paid["Status"], paid["AmountDue"], paid["FullyPaidOnDate"]) == ("PAID", 0, "/Date(1772409600000+0000)/")
    assert len(paid["Payments"]) == 2
    assert refusal(update(api, approved["InvoiceID"], Reference="late edit")) == [
        "Invoice not of valid status for modification"]

    deleted = api.post(f"{PAYMENTS}/{full['PaymentID']}", json={"Payments": [{"Status": "DELETED"}]})
    assert saved(deleted, "Payments")["Status"] == "DELETED"
    reopened = saved(api.get(f"{INVOICES}/{approved['InvoiceID']}"))
    assert (reopened["Status"], reopened["AmountDue"], reopened["AmountPaid"]) == ("AUTHORISED", 100.00, 15.00)
    assert "FullyPaidOnDate" not in reopened
    assert refusal(update(api, approved["InvoiceID"], Reference="edit with a payment")) == [
        "This document cannot be edited as it has a payment or credit note allocated to it."]


def test_payments_need_a_bank_account(api: httpx.Client) -> None:
    approved = saved(put(api, invoice(Status="AUTHORISED")))
    response = api.put(PAYMENTS, json={"Payments": [{"Invoice": {"InvoiceID": approved["InvoiceID"]},
                                                     "Account": {"Code": "200"}, "Amount": 1}]})
    assert refusal(response) == ["Account code '200' is not a bank account and does not have payments enabled."]


def test_payment_by_invoice_number_and_several_at_once(api: httpx.Client) -> None:
    saved(put(api, invoice(Status="AUTHORISED", InvoiceNumber="AT-9")))
    other = saved(put(api, invoice(Status="AUTHORISED", InvoiceNumber="AT-10")))
    response = api.put(PAYMENTS, params={"summarizeErrors": "false"}, json={"Payments": [
        {"Invoice": {"InvoiceNumber": "AT-9"}, "Account": {"Code": "090"}, "Amount": 115},
        {"Invoice": {"InvoiceID": other["InvoiceID"]}, "Account": {"Code": "090"}, "Amount": 500}]})
    first, second = response.json()["Payments"]
    assert first["StatusAttributeString"] == "OK" and first["Invoice"]["Status"] == "PAID"
    assert second["StatusAttributeString"] == "ERROR"


def test_credit_note_allocations_reduce_amount_due(api: httpx.Client) -> None:
    approved = saved(put(api, invoice(Status="AUTHORISED")))  # 115.00
    note = saved(api.put(CREDIT_NOTES, json={"CreditNotes": [{
        "Type": "ACCRECCREDIT", "Contact": {"ContactID": KAURI}, "Status": "AUTHORISED",
        "LineItems": [line(UnitAmount=200)]}]}), "CreditNotes")  # 230.00 of credit
    assert note["CreditNoteNumber"] == "CN-0001" and note["RemainingCredit"] == 230.00
    path = f"{CREDIT_NOTES}/{note['CreditNoteID']}/Allocations"

    def allocate(amount: Any) -> httpx.Response:
        return api.put(path, json={"Allocations": [{"Invoice": {"InvoiceID": approved["InvoiceID"]},
                                                    "Amount": amount, "Date": "2026-03-02"}]})

    assert refusal(allocate(116)) == ["Credit Note cannot be allocated as amount is greater than amount outstanding"]
    saved(allocate(15), "Allocations")
    after = saved(api.get(f"{INVOICES}/{approved['InvoiceID']}"))
    assert (after["AmountDue"], after["AmountCredited"], after["CreditNotes"][0]["AppliedAmount"]) == (100, 15, 15)
    settled = saved(allocate(100), "Allocations")
    paid = saved(api.get(f"{INVOICES}/{approved['InvoiceID']}"))
    assert (paid["Status"], paid["AmountDue"]) == ("PAID", 0)
    remaining = saved(api.get(f"{CREDIT_NOTES}/{note['CreditNoteID']}"), "CreditNotes")
    assert (remaining["RemainingCredit"], remaining["Status"]) == (115.00, "AUTHORISED")
    removed = api.delete(f"{path}/{settled['AllocationID']}")
    assert removed.status_code == 200 and removed.json()["IsDeleted"] is True
    assert saved(api.get(f"{INVOICES}/{approved['InvoiceID']}"))["Status"] == "AUTHORISED"


def test_credit_note_cannot_be_allocated_to_a_draft_or_another_contact(api: httpx.Client) -> None:
    draft = saved(put(api, invoice()))
    foreign = saved(put(api, invoice(Status="AUTHORISED", Contact={"ContactID": TUI})))
    note = saved(api.put(CREDIT_NOTES, json={"CreditNotes": [{
        "Type": "ACCRECCREDIT", "Contact": {"ContactID": KAURI}, "Status": "AUTHORISED",
        "LineItems": [line()]}]}), "CreditNotes")
    path = f"{CREDIT_NOTES}/{note['CreditNoteID']}/Allocations"
    assert "Invoice must be AUTHORISED before a credit note can be allocated to it." in refusal(api.put(
        path, json={"Allocations": [{"Invoice": {"InvoiceID": draft["InvoiceID"]}, "Amount": 1}]}))
    assert refusal(api.put(path, json={"Allocations": [{"Invoice": {"InvoiceID": foreign["InvoiceID"]},
                                                        "Amount": 1}]})) == [
        "The credit note and the invoice must belong to the same contact."]


def test_updated_date_utc_bumps_on_every_change(api: httpx.Client, xero: XeroSandbox) -> None:
    approved = saved(put(api, invoice(Status="AUTHORISED")))
    xero.sim.clock.advance(5)
    same = saved(update(api, approved["InvoiceID"], Status="AUTHORISED"))
    assert same["UpdatedDateUTC"] == approved["UpdatedDateUTC"]
    xero.sim.clock.advance(5)
    saved(pay(api, approved["InvoiceID"], 1), "Payments")
    bumped = saved(api.get(f"{INVOICES}/{approved['InvoiceID']}"))
    assert bumped["UpdatedDateUTC"] != approved["UpdatedDateUTC"]


# ---------------------------------------------------------------------------------------------- batches


def test_without_summarize_errors_the_valid_elements_are_still_created(api: httpx.Client) -> None:
    response = put(api, invoice(InvoiceNumber="AT-1"), invoice(InvoiceNumber="AT-2", Contact={}),
                   invoice(InvoiceNumber="AT-3"))
    assert response.status_code == 400
    body = response.json()
    assert body["Message"] == "A validation exception occurred"
    assert [e["InvoiceNumber"] for e in body["Elements"]] == ["AT-2"]
    assert body["Elements"][0]["HasErrors"] is True
    listed = api.get(INVOICES, params={"InvoiceNumbers": "AT-1,AT-2,AT-3"}).json()["Invoices"]
    assert sorted(i["InvoiceNumber"] for i in listed) == ["AT-1", "AT-3"]


@pytest.mark.parametrize("flag", ["false", "False"])
def test_summarize_errors_false_reports_every_element(api: httpx.Client, flag: str) -> None:
    response = put(api, invoice(InvoiceNumber="AT-1"), invoice(InvoiceNumber="AT-1"), summarizeErrors=flag)
    assert response.status_code == 200
    ok, error = response.json()["Invoices"]
    assert (ok["StatusAttributeString"], ok["HasErrors"], ok["ValidationErrors"]) == ("OK", False, [])
    assert (error["StatusAttributeString"], error["HasErrors"]) == ("ERROR", True)
    assert error["ValidationErrors"] == [{"Message": "Invoice # must be unique."}]


def test_post_matches_accrec_by_invoice_number(api: httpx.Client) -> None:
    first = saved(put(api, invoice(InvoiceNumber="AT-500", Reference="one")))
    second = saved(api.post(INVOICES, json={"Invoices": [invoice(InvoiceNumber="AT-500", Reference="two")]}))
    assert second["InvoiceID"] == first["InvoiceID"] and second["Reference"] == "two"
    partial = saved(update(api, first["InvoiceID"], DueDate="2026-04-01"))
    assert partial["LineItems"][0]["LineItemID"] == second["LineItems"][0]["LineItemID"]
    assert partial["Total"] == first["Total"]


# ---------------------------------------------------------------------------------------------- reads


@pytest.fixture
def ledger(api: httpx.Client, xero: XeroSandbox) -> dict[str, dict[str, Any]]:
    documents = {}
    for number, status, contact, reference in (("AT-1", "AUTHORISED", KAURI, "Contract 1"),
                                               ("AT-2", "DRAFT", KAURI, "Contract 2"),
                                               ("AT-3", "AUTHORISED", TUI, "Contract 3")):
        xero.sim.clock.advance(10)
        documents[number] = saved(put(api, invoice(InvoiceNumber=number, Status=status, Reference=reference,
                                                   Contact={"ContactID": contact}, Date="2026-02-1" + number[-1])))
    xero.sim.clock.advance(10)
    documents["bill"] = saved(put(api, {"Type": "ACCPAY", "Contact": {"ContactID": SUPPLIER}, "InvoiceNumber": "B-1",
                                        "LineItems": [line(AccountCode="310")]}))
    return documents


def _numbers(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [i["InvoiceNumber"] for i in response.json()["Invoices"]]


def test_line_items_only_when_paged_or_fetched_by_id(api: httpx.Client, ledger: dict[str, Any]) -> None:
    listed = api.get(INVOICES).json()["Invoices"]
    assert {len(i["LineItems"]) for i in listed} == {0}
    assert "pagination" not in api.get(INVOICES).json()
    paged = api.get(INVOICES, params={"page": 1}).json()
    assert {len(i["LineItems"]) for i in paged["Invoices"]} == {1}
    assert paged["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 1, "itemCount": 4}
    one = api.get(f"{INVOICES}/{ledger['AT-2']['InvoiceID']}").json()["Invoices"][0]
    assert len(one["LineItems"]) == 1
    assert _numbers(api.get(f"{INVOICES}/AT-3")) == ["AT-3"]


@pytest.mark.parametrize(("params", "expected"), [
    ({"Statuses": "AUTHORISED"}, ["AT-1", "AT-3"]),
    ({"Statuses": "DRAFT,AUTHORISED"}, ["AT-1", "AT-2", "AT-3", "B-1"]),
    ({"InvoiceNumbers": "AT-1,AT-3,AT-99"}, ["AT-1", "AT-3"]),
    ({"ContactIDs": TUI}, ["AT-3"]),
    ({"where": 'InvoiceNumber=="AT-2"'}, ["AT-2"]),
    ({"where": 'Reference=="Contract 3"'}, ["AT-3"]),
    ({"where": 'Status=="AUTHORISED" AND Type=="ACCREC"'}, ["AT-1", "AT-3"]),
    ({"where": 'Type=="ACCPAY" OR Status=="DRAFT"'}, ["AT-2", "B-1"]),
    ({"where": f'Contact.ContactID==Guid("{TUI}")'}, ["AT-3"]),
    ({"where": 'Contact.Name=="Kauri Accounting Ltd" && Date>=DateTime(2026,02,12)'}, ["AT-2"]),
    ({"where": "AmountDue>100 AND Type==\"ACCREC\"", "order": "InvoiceNumber DESC"}, ["AT-3", "AT-2", "AT-1"]),
    ({"page": 2, "pageSize": 3}, ["B-1"]),
])
def test_invoice_filters(api: httpx.Client, ledger: dict[str, Any], params: dict[str, Any],
                         expected: list[str]) -> None:
    result = _numbers(api.get(INVOICES, params=params))
    if "order" in params or "page" in params:
        assert result == expected
    else:
        assert sorted(result) == sorted(expected)


def test_ids_filter_and_bad_ids(api: httpx.Client, ledger: dict[str, Any]) -> None:
    ids = f"{ledger['AT-1']['InvoiceID']},{ledger['bill']['InvoiceID']}"
    assert sorted(_numbers(api.get(INVOICES, params={"IDs": ids}))) == ["AT-1", "B-1"]
    bad = api.get(INVOICES, params={"IDs": "not-a-guid"})
    assert bad.status_code == 400 and "must be of type UUID" in bad.text


def test_if_modified_since_returns_only_later_changes(api: httpx.Client, ledger: dict[str, Any]) -> None:
    cutoff = ledger["AT-2"]["UpdatedDateUTCString"]
    assert sorted(_numbers(api.get(INVOICES, headers={"If-Modified-Since": cutoff}))) == ["AT-3", "B-1"]


# ---------------------------------------------------------------------------------------------- purchase orders


def test_purchase_orders(api: httpx.Client) -> None:
    orders = "/api.xro/2.0/PurchaseOrders"
    body = {"Contact": {"ContactID": SUPPLIER}, "DeliveryDate": "2026-03-10",
            "LineItems": [{"ItemCode": "HW-DOCK-USBC", "Quantity": 4}]}
    first = saved(api.put(orders, json={"PurchaseOrders": [body]}), "PurchaseOrders")
    assert (first["PurchaseOrderNumber"], first["Status"], first["Total"]) == ("PO-0001", "DRAFT", 1104.00)
    assert first["LineItems"][0]["AccountCode"] == "310"
    assert refusal(api.put(orders, json={"PurchaseOrders": [body | {"PurchaseOrderNumber": "PO-0001"}]})) == [
        "Order number must be unique"]
    approved = saved(api.post(f"{orders}/{first['PurchaseOrderID']}", json={"PurchaseOrders": [
        {"Status": "AUTHORISED"}]}), "PurchaseOrders")
    assert approved["Status"] == "AUTHORISED"
    listed = api.get(orders, params={"Status": "AUTHORISED"}).json()["PurchaseOrders"]
    assert [o["PurchaseOrderNumber"] for o in listed] == ["PO-0001"]
    assert len(listed[0]["LineItems"]) == 1


# ---------------------------------------------------------------------------------------------- items


def test_items_code_is_unique_and_prices_follow_unitdp(api: httpx.Client) -> None:
    items = "/api.xro/2.0/Items"
    duplicate = api.put(items, json={"Items": [{"Code": "HW-LAP-14", "Name": "Another laptop"}]})
    assert refusal(duplicate) == ["Price List Item with Code 'HW-LAP-14' already exists"]
    updated = saved(api.post(items, params={"unitdp": 4}, json={"Items": [
        {"Code": "HW-LAP-14", "SalesDetails": {"UnitPrice": 1999.955, "AccountCode": "220"}}]}), "Items")
    assert updated["ItemID"] == demo_id("item", "HW-LAP-14")
    assert api.get(f"{items}/HW-LAP-14").json()["Items"][0]["SalesDetails"]["UnitPrice"] == 1999.96
    assert '"UnitPrice":1999.9550' in api.get(f"{items}/HW-LAP-14", params={"unitdp": 4}).text
    assert refusal(api.put(items, json={"Items": [{"Name": "No code"}]})) == ["Item code cannot be empty."]
    bad_account = api.put(items, json={"Items": [{"Code": "NEW-1", "SalesDetails": {"AccountCode": "999"}}]})
    assert refusal(bad_account) == ["Account code '999' is not a valid code for this document."]
