"""How a company finds its Xero contact (mapping/contacts.py::match_contact) and which Autotask contact is
its billing contact (mapping/contacts.py::choose_billing_contact)."""

from __future__ import annotations

from typing import Any

import pytest

from autoxero.autotask import models as at
from autoxero.mapping.common import Unmappable
from autoxero.mapping.contacts import XeroContactIndex, choose_billing_contact, map_company, match_contact
from autoxero.mapping.reference import AutotaskReference
from autoxero.settings import ContactSettings
from autoxero.xero import models as xm


def company(**fields: Any) -> at.Company:
    return at.Company.model_validate({"id": 7, "companyName": "Acme Ltd", "companyNumber": "C-7", **fields})


def xero_contact(contact_id: str, name: str, **fields: Any) -> xm.Contact:
    return xm.Contact.model_validate({"ContactID": contact_id, "Name": name, **fields})


OWN = xero_contact("x-own", "Acme Limited (old name)", ContactNumber="AT-7")
SAME_NAME = xero_contact("x-name", "Acme Ltd")
SAME_NAME_OTHER_NUMBER = xero_contact("x-name", "Acme Ltd", AccountNumber="C-99")
CAPITALS = xero_contact("x-caps", "ACME LTD")
ARCHIVED = xero_contact("x-arch", "Acme Ltd", ContactStatus="ARCHIVED")
BY_NUMBER = xero_contact("x-num", "Acme (accounts)", AccountNumber="C-7")
BY_NUMBER_TWICE = xero_contact("x-num2", "Acme (other)", AccountNumber="C-7")
ARCHIVED_BY_NUMBER = xero_contact("x-arch-num", "Acme (gone)", AccountNumber="C-7", ContactStatus="ARCHIVED")
OTHER = xero_contact("x-other", "Beta Ltd", ContactNumber="AT-8", AccountNumber="C-8")

MATCHED = [
    pytest.param("name", {}, [OTHER], None, id="nothing like it in Xero: create one"),
    pytest.param("name", {}, [SAME_NAME, OWN], "x-own", id="its own ContactNumber stamp wins over a name"),
    pytest.param("account_number", {}, [BY_NUMBER, OWN], "x-own", id="its stamp wins over an account number"),
    pytest.param("name", {}, [SAME_NAME, OTHER], "x-name", id="by name: the exact name"),
    pytest.param("name", {"companyName": "Acme  Ltd "}, [SAME_NAME], "x-name",
                 id="by name: Autotask's extra spaces do not count"),
    pytest.param("name", {}, [BY_NUMBER], None, id="by name: an account number alone does not match"),
    pytest.param("account_number", {}, [BY_NUMBER, OTHER], "x-num", id="by account number: the one carrying it"),
    pytest.param("account_number", {}, [ARCHIVED_BY_NUMBER], None,
                 id="by account number: an archived contact's number does not match"),
    pytest.param("account_number", {"companyNumber": None}, [OTHER], None,
                 id="by account number: a company without number and no same name: create one"),
]


@pytest.mark.parametrize(("match_by", "fields", "in_xero", "expected"), MATCHED)
def test_match_contact(match_by, fields, in_xero, expected):
    settings = ContactSettings(match_by=match_by)
    acme = company(**fields)
    plan = map_company(acme, [], AutotaskReference(), settings)
    assert match_contact(plan, acme, XeroContactIndex(in_xero), settings) == expected


CONFLICTS = [
    pytest.param("name", [CAPITALS], "contact_conflict", id="by name: differs only in capitals"),
    pytest.param("name", [ARCHIVED], "contact_archived", id="by name: an archived contact of that name"),
    pytest.param("account_number", [BY_NUMBER, BY_NUMBER_TWICE], "contact_conflict",
                 id="by account number: two contacts carry it"),
    pytest.param("account_number", [SAME_NAME_OTHER_NUMBER], "contact_conflict",
                 id="by account number: the name is taken by a contact with another number"),
]


@pytest.mark.parametrize(("match_by", "in_xero", "code"), CONFLICTS)
def test_match_contact_refused(match_by, in_xero, code):
    settings = ContactSettings(match_by=match_by)
    acme = company()
    plan = map_company(acme, [], AutotaskReference(), settings)
    with pytest.raises(Unmappable) as refused:
        match_contact(plan, acme, XeroContactIndex(in_xero), settings)
    assert refused.value.problem.code == code


def person(contact_id: int, first: str, last: str, **fields: Any) -> at.Contact:
    return at.Contact.model_validate({"id": contact_id, "companyID": 7, "firstName": first, "lastName": last,
                                      "emailAddress": f"{first.lower()}@acme.example", **fields})


ANA = person(1, "Ana", "Ng", primaryContact=True)
BO = person(2, "Bo", "Li", billingContact=True)
CY = person(3, "Cy", "Ro")
DEE = person(4, "Dee", "Su", billingContact=True)
GONE = person(5, "Ed", "Old", isActive=0, billingContact=True)
ELSEWHERE = person(6, "Fay", "Far", companyID=8, billingContact=True)
UDF = "Billing Contact"

BILLING = [
    pytest.param(None, [ANA, BO, CY], 2, id="no field value: the flagged billing contact"),
    pytest.param(None, [ANA, CY], 1, id="no billing flag: the primary contact"),
    pytest.param(None, [CY], None, id="no flag at all: none"),
    pytest.param(None, [DEE, BO], 2, id="two flagged: the lowest id"),
    pytest.param(None, [GONE, ANA], 1, id="an inactive billing contact is passed over"),
    pytest.param(None, [ELSEWHERE, ANA], 1, id="another company's contact is passed over"),
    pytest.param("Cy Ro", [ANA, BO, CY], 3, id="the field names a contact: it wins over the flags"),
    pytest.param("  cy   RO ", [CY], 3, id="the field's spaces and capitals do not count"),
    pytest.param("CY@acme.example", [ANA, CY], 3, id="the field gives an e-mail address"),
]


@pytest.mark.parametrize(("named", "people", "expected"), BILLING)
def test_billing_contact(named, people, expected):
    acme = company(userDefinedFields=[{"name": UDF, "value": named}] if named else [])
    chosen = choose_billing_contact(acme, people, UDF)
    assert (chosen.id if chosen else None) == expected


@pytest.mark.parametrize("people", [pytest.param([ANA, BO], id="nobody of that name"),
                                    pytest.param([GONE], id="only an inactive contact of that name")])
def test_billing_contact_field_naming_nobody_active_stops_the_company(people):
    acme = company(userDefinedFields=[{"name": UDF, "value": "Ed Old"}])
    with pytest.raises(Unmappable) as refused:
        choose_billing_contact(acme, people, UDF)
    assert refused.value.problem.code == "billing_contact_unknown"


def test_billing_contact_field_not_read_when_settings_name_none():
    acme = company(userDefinedFields=[{"name": UDF, "value": "Cy Ro"}])
    assert choose_billing_contact(acme, [BO, CY], None) == BO
