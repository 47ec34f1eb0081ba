"""Contacts: the uniqueness rules with Xero's messages, create-or-update matching, and the read filters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.fixtures.xero_demo import demo_id
from sandbox.xero.testing import XeroSandbox

CONTACTS = "/api.xro/2.0/Contacts"


def _names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["Name"] for c in response.json()["Contacts"]]


def _messages(element: dict[str, Any]) -> list[str]:
    return [e["Message"] for e in element["ValidationErrors"]]


def test_name_must_be_unique_among_active_contacts(api: httpx.Client) -> None:
    refused = api.put(CONTACTS, json={"Contacts": [{"Name": "Kauri Accounting Ltd"}, {"Name": "Totara Tech Ltd"}]})
    assert refused.status_code == 400
    body = refused.json()
    assert (body["ErrorNumber"], body["Type"], body["Message"]) == (
        10, "ValidationException", "A validation exception occurred")
    [element] = body["Elements"]
    assert _messages(element) == ["The contact name Kauri Accounting Ltd is already assigned to another contact. "
                                  "The contact name must be unique across all active contacts."]
    # the valid element of the same batch was created anyway
    assert _names(api.get(CONTACTS, params={"where": 'Name=="Totara Tech Ltd"'})) == ["Totara Tech Ltd"]


def test_name_uniqueness_ignores_case(api: httpx.Client) -> None:
    refused = api.put(CONTACTS, json={"Contacts": [{"Name": "Pohutukawa Dental"}]})
    assert refused.status_code == 400
    assert "The contact name Pohutukawa Dental is already assigned" in _messages(refused.json()["Elements"][0])[0]


def test_archived_contact_does_not_block_its_name(api: httpx.Client) -> None:
    created = api.put(CONTACTS, json={"Contacts": [{"Name": "Old Mate Plumbing Ltd"}]})
    assert created.status_code == 200
    assert created.json()["Contacts"][0]["ContactStatus"] == "ACTIVE"
    # …but un-archiving the old one now collides
    old = demo_id("contact", "Old Mate Plumbing Ltd")
    refused = api.post(f"{CONTACTS}/{old}", json={"Contacts": [{"ContactStatus": "ACTIVE"}]})
    assert refused.status_code == 400
    assert "is already assigned to another contact" in _messages(refused.json()["Elements"][0])[0]


def test_contact_number_is_unique_across_all_contacts(api: httpx.Client) -> None:
    first = api.put(CONTACTS, json={"Contacts": [{"Name": "Rimu Rentals", "ContactNumber": "AT-100"}]})
    assert first.status_code == 200
    second = api.put(CONTACTS, params={"summarizeErrors": "false"},
                     json={"Contacts": [{"Name": "Matai Motors", "ContactNumber": "at-100"},
                                        {"Name": "Miro Media", "ContactNumber": "AT-101"}]})
    assert second.status_code == 200
    bad, good = second.json()["Contacts"]
    assert bad["StatusAttributeString"] == "ERROR" and bad["HasErrors"] is True
    assert _messages(bad) == ["The contact number at-100 is already assigned to another contact. "
                              "The contact number must be unique across all contacts."]
    assert good["StatusAttributeString"] == "OK" and good["ValidationErrors"] == []


def test_post_updates_by_contact_id_or_by_name(api: httpx.Client, xero: XeroSandbox) -> None:
    kauri = demo_id("contact", "Kauri Accounting Ltd")
    by_name = api.post(CONTACTS, json={"Contacts": [{"Name": "Kauri Accounting Ltd", "ContactNumber": "AT-7"}]})
    assert by_name.status_code == 200
    assert by_name.json()["Contacts"][0]["ContactID"] == kauri
    by_id = api.post(CONTACTS, json={"Contacts": [{"ContactID": kauri, "EmailAddress": "new@kauri.example"}]})
    assert by_id.json()["Contacts"][0]["EmailAddress"] == "new@kauri.example"
    assert by_id.json()["Contacts"][0]["ContactNumber"] == "AT-7"
    assert sum(1 for c in xero.sim.state("Contacts") if c["Name"] == "Kauri Accounting Ltd") == 1
    # PUT with the same name is a create, and so a conflict
    assert api.put(CONTACTS, json={"Contacts": [{"Name": "Kauri Accounting Ltd"}]}).status_code == 400


def test_invalid_email_and_missing_name(api: httpx.Client) -> None:
    response = api.put(CONTACTS, params={"summarizeErrors": "False"},
                       json={"Contacts": [{"Name": "Kowhai Kids", "EmailAddress": "not-an-email"},
                                          {"EmailAddress": "ok@example.com"}]})
    first, second = response.json()["Contacts"]
    assert _messages(first) == ["Email address must be valid."]
    assert _messages(second) == ["Contact Name cannot be empty."]


def test_updated_date_bumps_only_on_change(api: httpx.Client, xero: XeroSandbox) -> None:
    kauri = demo_id("contact", "Kauri Accounting Ltd")
    before = api.get(f"{CONTACTS}/{kauri}").json()["Contacts"][0]["UpdatedDateUTC"]
    xero.sim.clock.advance(60)
    same = api.post(f"{CONTACTS}/{kauri}", json={"Contacts": [{"Name": "Kauri Accounting Ltd"}]})
    assert same.json()["Contacts"][0]["UpdatedDateUTC"] == before
    changed = api.post(f"{CONTACTS}/{kauri}", json={"Contacts": [{"Website": "https://kauri.example"}]})
    assert changed.json()["Contacts"][0]["UpdatedDateUTC"] != before


@pytest.mark.parametrize(("where", "expected"), [
    ('Name=="Kauri Accounting Ltd"', ["Kauri Accounting Ltd"]),
    ('Name=="Pohutukawa Dental"', []),  # exact comparison: the lower-case contact is not found
    ('Name.ToLower()=="pohutukawa dental"', ["pohutukawa dental"]),
    ('AccountNumber=="TUI-100"', ["Tui Logistics Ltd"]),
    ('ContactNumber=="AT-1"', []),
    ('Name=="Kauri Accounting Ltd" OR Name=="Tui Logistics Ltd"', ["Kauri Accounting Ltd", "Tui Logistics Ltd"]),
    ('Name=="Kauri Accounting Ltd" AND IsSupplier==true', []),
    ('(IsSupplier==true && IsCustomer==false) || Name.StartsWith("Kauri")',
     ["Kauri Accounting Ltd", "Dicker Data NZ", "Spark Business"]),
    ('EmailAddress.Contains("spark")', ["Spark Business"]),
    ('ContactStatus=="ARCHIVED"', []),  # archived contacts need includeArchived
])
def test_where_filters(api: httpx.Client, where: str, expected: list[str]) -> None:
    assert sorted(_names(api.get(CONTACTS, params={"where": where}))) == sorted(expected)


def test_where_strings_have_no_escapes(api: httpx.Client) -> None:
    """XeroAPI/Xero-Java#347: a backslash-escaped quote is a 400 "Syntax error"; a backslash is just a character."""
    api.put(CONTACTS, json={"Contacts": [{"Name": 'The "Best" Cafe'}, {"Name": "Back\\slash Ltd"}]})
    refused = api.get(CONTACTS, params={"where": r'Name=="The \"Best\" Cafe"'})
    assert refused.status_code == 400
    assert refused.json() == {"ErrorNumber": 16, "Type": "QueryParseException", "Message": "Syntax error"}
    assert _names(api.get(CONTACTS, params={"where": 'Name=="Back\\slash Ltd"'})) == ["Back\\slash Ltd"]


@pytest.mark.parametrize(("where", "message"), [
    ('Name=="Kauri', "Unterminated string literal"),
    ("Name==", "Expression expected"),
    ('Nickname=="x"', "No property or field 'Nickname' exists in type 'Contact'"),
    ('ContactID=="234cef22-f644-5469-b877-cae613b70d29"',
     "Operator '==' incompatible with operand types 'Guid' and 'String'"),
    ('Name=="a" AND', "Expression expected"),
    ('(Name=="a"', "')' or operator expected"),
    ("Name=='a'", "Character literal must contain exactly one character"),
])
def test_malformed_where_is_a_query_parse_exception(api: httpx.Client, where: str, message: str) -> None:
    response = api.get(CONTACTS, params={"where": where})
    assert response.status_code == 400
    assert response.json() == {"ErrorNumber": 16, "Type": "QueryParseException", "Message": message}


def test_guid_filter_and_ids(api: httpx.Client) -> None:
    kauri, tui = demo_id("contact", "Kauri Accounting Ltd"), demo_id("contact", "Tui Logistics Ltd")
    assert _names(api.get(CONTACTS, params={"where": f'ContactID==Guid("{kauri}")'})) == ["Kauri Accounting Ltd"]
    old = demo_id("contact", "Old Mate Plumbing Ltd")
    listed = _names(api.get(CONTACTS, params={"IDs": f"{kauri},{tui},{old}"}))
    assert sorted(listed) == ["Kauri Accounting Ltd", "Old Mate Plumbing Ltd", "Tui Logistics Ltd"]


def test_include_archived_paging_order_and_search(api: httpx.Client) -> None:
    assert "Old Mate Plumbing Ltd" not in _names(api.get(CONTACTS))
    assert "Old Mate Plumbing Ltd" in _names(api.get(CONTACTS, params={"includeArchived": "true"}))
    page = api.get(CONTACTS, params={"page": 2, "pageSize": 2, "order": "Name ASC"}).json()
    assert page["pagination"] == {"page": 2, "pageSize": 2, "pageCount": 3, "itemCount": 5}
    assert [c["Name"] for c in page["Contacts"]] == ["pohutukawa dental", "Spark Business"]
    assert _names(api.get(CONTACTS, params={"order": "Name DESC"}))[0] == "Tui Logistics Ltd"
    assert _names(api.get(CONTACTS, params={"searchTerm": "DENTAL"})) == ["pohutukawa dental"]


def test_if_modified_since_is_strictly_after(api: httpx.Client, xero: XeroSandbox) -> None:
    xero.sim.clock.advance(600)
    created = api.put(CONTACTS, json={"Contacts": [{"Name": "Kahikatea Kitchens"}]}).json()["Contacts"][0]
    stamp = xero.sim.clock.now().replace(tzinfo=None).isoformat(timespec="milliseconds")
    assert _names(api.get(CONTACTS, headers={"If-Modified-Since": stamp})) == []
    xero.sim.clock.advance(1)
    api.post(f"{CONTACTS}/{created['ContactID']}", json={"Contacts": [{"FirstName": "Kara"}]})
    assert _names(api.get(CONTACTS, headers={"If-Modified-Since": stamp})) == ["Kahikatea Kitchens"]
    assert len(_names(api.get(CONTACTS, headers={"If-Modified-Since": "Thu, 15 Jan 2026 21:29:59 GMT"}))) == 6
    assert _names(api.get(CONTACTS, headers={"If-Modified-Since": "Thu, 15 Jan 2026 21:30:00 GMT"})) == [
        "Kahikatea Kitchens"]


def test_get_by_contact_number_and_unknown_id(api: httpx.Client) -> None:
    api.put(CONTACTS, json={"Contacts": [{"Name": "Rimu Rentals", "ContactNumber": "AT-55"}]})
    assert _names(api.get(f"{CONTACTS}/AT-55")) == ["Rimu Rentals"]
    missing = api.get(f"{CONTACTS}/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.text == "The resource you're looking for cannot be found"
