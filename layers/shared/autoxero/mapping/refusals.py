"""Which refusals last, and when a refused (or unmappable) document is worth trying again.

A document Xero refused for a lasting reason — its number is taken, it names a code Xero does not have, its
date is in a locked period — would be refused again by the same request, so it is not sent again until one
of its inputs changes: the Autotask invoice, its billing items, the records they are made from (the company,
each line's charge, the product, service or bundle it sells, its tax category), the settings, or the Xero
reference lists it draws on. `inputs_hash` is that fingerprint; the attention item keeps it, and a person's
retry clears it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from autoxero.autotask import models as at
from autoxero.mapping.common import content_hash

# Xero's validation messages (the wording of the Accounting API's ValidationErrors, as integrators quote them:
# "Invoice # must be unique.", "Account code '…' is not a valid code for this document.", "The TaxType code …
# does not exist or cannot be used …", "Item code '…' is not valid", "The document date cannot be before the
# end of year lock date, currently set at 31-Jul-2013" (waynerobinson/xeroizer#92)).
_UNKNOWN_CODE: dict[str, re.Pattern[str]] = {
    "accounts": re.compile(r"account code|accountid", re.IGNORECASE),
    "tax_rates": re.compile(r"taxtype", re.IGNORECASE),
    "items": re.compile(r"item code", re.IGNORECASE),
    "tracking": re.compile(r"tracking (category|option)", re.IGNORECASE),
    "themes": re.compile(r"brandingtheme", re.IGNORECASE),
    "currencies": re.compile(r"currency code", re.IGNORECASE),
}
_NOT_FOUND = re.compile(r"not (a )?valid|does not exist|cannot be used|archived|been deleted|no active",
                        re.IGNORECASE)
_DUPLICATE = re.compile(r"must be unique", re.IGNORECASE)
_LOCKED = re.compile(r"lock date", re.IGNORECASE)


def refused_pieces(errors: Sequence[str]) -> set[str]:
    """The Xero reference lists a refusal says are wrong (their cached copies are stale)."""
    return {piece for message in errors if _NOT_FOUND.search(message)
            for piece, pattern in _UNKNOWN_CODE.items() if pattern.search(message)}


def lasting(errors: Sequence[str]) -> bool:
    """True when the same request would be refused again: a taken number, an unknown code, a locked period."""
    return bool(errors) and all(_DUPLICATE.search(e) or _LOCKED.search(e) or refused_pieces([e]) for e in errors)


def named_pieces(payload: Mapping[str, Any]) -> set[str]:
    """The Xero reference lists a document draws on."""
    pieces: set[str] = set()
    for line in payload.get("LineItems") or []:
        pieces |= {piece for field, piece in (("AccountCode", "accounts"), ("TaxType", "tax_rates"),
                                              ("ItemCode", "items"), ("Tracking", "tracking")) if line.get(field)}
        if line.get("AccountCode"):
            pieces.add("tax_rates")  # an account's default tax rate applies when the line names none
    if payload.get("BrandingThemeID"):
        pieces.add("themes")
    if payload.get("CurrencyCode"):
        pieces |= {"currencies", "organisation"}
    return pieces


def inputs_hash(invoice: at.Invoice, items: Iterable[at.BillingItem], settings: Mapping[str, Any],
                reference_versions: Mapping[str, str], sources: Iterable[Mapping[str, Any]] = ()) -> str:
    """A fingerprint of everything a document is made from: a change to any of them is worth a new attempt.
    `sources`: the Autotask records the mapping read beside the invoice and its items (mapping/billing.py)."""
    return content_hash({"invoice": invoice.model_dump(mode="json"),
                         "items": sorted((i.model_dump(mode="json") for i in items), key=lambda i: str(i.get("id"))),
                         "sources": list(sources),
                         "settings": settings, "xero": dict(sorted(reference_versions.items()))})
