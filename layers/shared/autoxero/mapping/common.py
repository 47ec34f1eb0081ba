"""What every mapping shares: Decimal rounding as Xero does it, problems, and content hashes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
UNIT = Decimal("0.0001")  # Xero's 4 decimal places for quantities and unit amounts (unitdp=4)


def cents(value: Decimal) -> Decimal:
    """Round half away from zero to the cent, as Xero rounds line and tax amounts."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def four_places(value: Decimal) -> Decimal:
    return value.quantize(UNIT, rounding=ROUND_HALF_UP)


def findable(text: str) -> str:
    """Text autoxero later looks up in Xero with a `where` filter (a Reference, a credit-note number): Xero's
    filter cannot express a double quote (XeroAPI/Xero-Java#347), so one is written as an apostrophe."""
    return text.replace('"', "'")


def content_hash(payload: Any) -> str:
    """A stable hash of what would be sent, to skip records that have not changed."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a record cannot be synced, in a finance person's words, and what to change where."""

    code: str
    message: str
    fix: str
    context: dict[str, Any] = field(default_factory=dict)


class Unmappable(Exception):
    """Raised inside a mapping to stop one record; carries the Problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def fail(code: str, message: str, fix: str, **context: Any) -> Unmappable:
    return Unmappable(Problem(code, message, fix, context))
