"""Autotask company (+ its contacts) -> Xero contact, and how a company finds its Xero contact."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from autoxero.autotask import models as at
from autoxero.mapping.common import content_hash, fail
from autoxero.mapping.reference import AutotaskReference
from autoxero.settings import ContactMatch, ContactSettings
from autoxero.xero import models as xm

CONTACT_NUMBER_PREFIX = "AT-"


def contact_number(company_id: int) -> str:
    """Stored in Xero's API-only ContactNumber: the company's identity in Xero, whatever its name becomes."""
    return f"{CONTACT_NUMBER_PREFIX}{company_id}"


def xero_name(company: at.Company) -> str:
    return " ".join(company.companyName.split())


@dataclass(frozen=True, slots=True)
class ContactPlan:
    company_id: int
    name: str
    payload: dict[str, Any]
    content_hash: str


def choose_billing_contact(company: at.Company, contacts: list[at.Contact], udf_name: str | None) -> at.Contact | None:
    """The UDF-named contact, else the flagged billing contact, else the primary contact."""
    active = [c for c in contacts if c.isActive and c.companyID == company.id]
    named = company.udf(udf_name) if udf_name else None
    if named:
        wanted = " ".join(named.split()).casefold()
        for contact in active:
            if contact.full_name.casefold() == wanted or (contact.emailAddress or "").casefold() == wanted:
                return contact
        raise fail("billing_contact_unknown",
                   f"{company.companyName}: the '{udf_name}' field names '{named}', but the company has no active "
                   "contact of that name.",
                   f"In Autotask, correct the company's '{udf_name}' field to an active contact's full name "
                   "(or e-mail), or add that contact.", company_id=company.id, udf_value=named)
    for flag in ("billingContact", "primaryContact"):
        flagged = sorted((c for c in active if getattr(c, flag)), key=lambda c: c.id)
        if flagged:
            return flagged[0]
    return None


def _address(kind: str, lines: Iterable[str | None], *, city: str | None, region: str | None,
             postcode: str | None, country: str | None, attention: str | None = None) -> dict[str, Any] | None:
    parts = [line.strip() for line in lines if line and line.strip()]
    if not parts and not city and not postcode:
        return None
    address: dict[str, Any] = {"AddressType": kind}
    for index, line in enumerate(parts[:4], start=1):
        address[f"AddressLine{index}"] = line
    for key, value in (("City", city), ("Region", region), ("PostalCode", postcode), ("Country", country),
                       ("AttentionTo", attention)):
        if value and value.strip():
            address[key] = value.strip()
    return address


def map_company(company: at.Company, contacts: list[at.Contact], ref: AutotaskReference,
                settings: ContactSettings) -> ContactPlan:
    billing = choose_billing_contact(company, contacts, settings.billing_contact_udf)
    country = ref.countries.get(company.countryID or -1)
    bill_country = ref.countries.get(company.billToCountryID or company.countryID or -1)
    street = _address("STREET", (company.address1, company.address2, company.additionalAddressInformation),
                      city=company.city, region=company.state, postcode=company.postalCode,
                      country=country.name if country else None)
    if company.billingAddress1 or company.billToCity:
        postal = _address("POBOX", (company.billingAddress1, company.billingAddress2), city=company.billToCity,
                          region=company.billToState, postcode=company.billToZipCode,
                          country=bill_country.name if bill_country else None, attention=company.billToAttention)
    else:
        postal = dict(street, AddressType="POBOX") if street else None
    phones = [{"PhoneType": kind, "PhoneNumber": number.strip()}
              for kind, number in (("DEFAULT", company.phone), ("FAX", company.fax),
                                   ("MOBILE", billing.mobilePhone if billing else None)) if number and number.strip()]
    payload: dict[str, Any] = {
        "Name": xero_name(company),
        "ContactNumber": contact_number(company.id),
        "AccountNumber": (company.companyNumber or "").strip() or None,
        "FirstName": billing.firstName.strip() if billing else None,
        "LastName": billing.lastName.strip() if billing else None,
        "EmailAddress": (billing.emailAddress or "").strip() or None if billing else None,
        "TaxNumber": (company.taxID or "").strip() or None,
        "Addresses": [a for a in (postal, street) if a],
        "Phones": phones,
    }
    currency = ref.currencies.get(company.currencyID or -1)
    if currency:
        payload["DefaultCurrency"] = currency.name
    if settings.contact_persons:
        others = [c for c in contacts if c.isActive and c.companyID == company.id and c is not billing
                  and c.emailAddress]
        payload["ContactPersons"] = [
            {"FirstName": c.firstName, "LastName": c.lastName, "EmailAddress": c.emailAddress,
             "IncludeInEmails": bool(c.billingContact)}
            for c in sorted(others, key=lambda c: c.id)[:settings.max_contact_persons]]
    payload = {k: v for k, v in payload.items() if v not in (None, [])}
    return ContactPlan(company.id, payload["Name"], payload, content_hash(payload))


class XeroContactIndex:
    """The Xero contacts a run can match against, indexed the ways matching needs."""

    def __init__(self, contacts: Iterable[xm.Contact]) -> None:
        self.by_number: dict[str, xm.Contact] = {}
        self.active_by_name: dict[str, xm.Contact] = {}
        self.active_by_folded: dict[str, list[xm.Contact]] = defaultdict(list)
        self.archived_by_name: dict[str, xm.Contact] = {}
        self.by_account_number: dict[str, list[xm.Contact]] = defaultdict(list)
        for contact in contacts:
            self.add(contact)

    def add(self, contact: xm.Contact) -> None:
        name = contact.Name or ""
        if contact.ContactNumber:
            self.by_number[contact.ContactNumber] = contact
        if (contact.ContactStatus or "ACTIVE") == "ACTIVE":
            self.active_by_name[name] = contact
            self.active_by_folded[name.casefold()].append(contact)
            if contact.AccountNumber:
                self.by_account_number[contact.AccountNumber].append(contact)
        else:
            self.archived_by_name[name] = contact


def match_contact(plan: ContactPlan, company: at.Company, index: XeroContactIndex,
                  settings: ContactSettings) -> str | None:
    """The ContactID this company should update, None to create one, or Unmappable for a conflict."""
    own = index.by_number.get(contact_number(company.id))
    if own is not None:
        return own.ContactID
    name = plan.name
    if settings.match_by is ContactMatch.ACCOUNT_NUMBER and company.companyNumber:
        found = index.by_account_number.get(company.companyNumber.strip(), [])
        if len(found) > 1:
            raise fail("contact_conflict",
                       f"{name}: {len(found)} Xero contacts carry account number {company.companyNumber}.",
                       "In Xero, give the account number to one contact only (or merge the duplicates).",
                       company_id=company.id)
        if found:
            return found[0].ContactID
    exact = index.active_by_name.get(name)
    if exact is not None:
        if settings.match_by is ContactMatch.NAME:
            return exact.ContactID
        raise fail("contact_conflict",
                   f"{name}: a Xero contact already has this name but a different account number, so a new "
                   "contact cannot be created.",
                   "In Xero, set that contact's account number to the Autotask company number, or rename it.",
                   company_id=company.id, xero_contact_id=exact.ContactID)
    similar = [c for c in index.active_by_folded.get(name.casefold(), []) if c.Name != name]
    if similar:
        raise fail("contact_conflict",
                   f"{name}: Xero has '{similar[0].Name}', which differs only in capitals. Matching is exact, "
                   "so autoxero will not guess which is right or create a near-duplicate.",
                   "Rename the Xero contact (or the Autotask company) so the two names are identical.",
                   company_id=company.id, xero_contact_id=similar[0].ContactID)
    archived = index.archived_by_name.get(name)
    if archived is not None:
        raise fail("contact_archived",
                   f"{name}: a Xero contact with this name is archived. autoxero will not create a second one.",
                   "In Xero, restore the archived contact (autoxero then matches it), or rename it.",
                   company_id=company.id, xero_contact_id=archived.ContactID)
    return None
