"""Naming things the way people do: a flow with a typo gets a "did you mean", and an invoice or purchase
order may be given by its number (INV-10005) as well as its Autotask id."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from autoxero.sync.flows import FLOWS as REGISTRY

FLOWS = tuple(REGISTRY)
_BY_NUMBER = {"invoices": ("Invoices", "invoiceNumber", "invoice"),
              "purchase_orders": ("PurchaseOrders", "purchaseOrderNumber", "purchase order")}


class UnknownRecord(ValueError):
    """Said to the user as one line."""


def did_you_mean(given: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(given, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_flow(flow: str) -> str:
    if flow not in FLOWS:
        raise UnknownRecord(f"unknown flow {flow!r}{did_you_mean(flow, FLOWS)} (the flows are "
                            f"{', '.join(FLOWS)})")
    return flow


@dataclass(frozen=True, slots=True)
class Record:
    flow: str
    id: str
    label: str


def resolve_record(rt: Any, flow: str, given: str) -> Record:
    """An Autotask id, or an invoice / purchase order number, to the record's id (asking Autotask)."""
    check_flow(flow)
    given = given.strip()
    if given.isdigit() or flow not in _BY_NUMBER:
        return Record(flow, given, given)
    from autoxero.autotask.query import Query, eq

    entity, field, noun = _BY_NUMBER[flow]
    found = list(rt.autotask_client().query(entity, Query([eq(field, given)])))
    if not found:
        raise UnknownRecord(f"Autotask has no {noun} numbered {given!r}; give its number exactly as Autotask shows "
                            "it, or its Autotask id")
    if len(found) > 1:
        raise UnknownRecord(f"{len(found)} {noun}s are numbered {given!r} (ids "
                            f"{', '.join(str(r['id']) for r in found)}); give the Autotask id")
    return Record(flow, str(found[0]["id"]), f"{noun.capitalize()} {given}")
