"""Holds: a document refused for a lasting reason waits, without being sent again, until what it is made from
changes. The hold is the fingerprint of its inputs (mapping/refusals.py), kept in its attention item's context;
a person's retry or resolve clears the item and so the hold."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from autoxero.autotask import models as at
from autoxero.mapping import refusals
from autoxero.mapping.common import Problem
from autoxero.sync.reference import xero_reference_versions

if TYPE_CHECKING:
    from autoxero.sync.run import FlowRun


def _inputs(run: FlowRun, invoice: at.Invoice, pieces: Iterable[str]) -> dict[str, Any]:
    lines = run.cache.get("invoice_lines", {}).get(invoice.id, [])
    made_of = run.cache.get("invoice_sources", {}).get(invoice.id, [])
    versions = xero_reference_versions(run, pieces)
    return {"inputs": refusals.inputs_hash(invoice, lines, run.settings.model_dump(mode="json"), versions, made_of),
            "pieces": sorted(versions)}


def holding(run: FlowRun, invoice: at.Invoice, problem: Problem, pieces: Iterable[str]) -> Problem:
    """The problem, with the fingerprint of the inputs it was found with (the hold)."""
    return Problem(problem.code, problem.message, problem.fix, {**problem.context, **_inputs(run, invoice, pieces)})


def held(run: FlowRun, flow: str, invoice: at.Invoice) -> bool:
    """Waiting on a person with the same inputs as when it was refused: trying again would be refused again."""
    if f"held:{flow}" not in run.cache:
        run.cache[f"held:{flow}"] = {i.record_id: i.context for i in run.state.attention.list(flow)
                                      if i.context.get("inputs")}
    hold = run.cache[f"held:{flow}"].get(str(invoice.id))
    return bool(hold) and hold["inputs"] == _inputs(run, invoice, hold.get("pieces") or ())["inputs"]
