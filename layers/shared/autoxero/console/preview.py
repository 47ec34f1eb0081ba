"""Preview: a dry run of the next run of a flow, readable — what would be created or changed, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from autoxero.state.attention import without_label

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from autoxero.runtime import Runtime



@dataclass
class Preview:
    flow: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def _describe(detail: Any, label: str) -> tuple[str, list[str]]:
    """A plan's detail (a Xero payload, a message) as a short sentence and its lines."""
    if isinstance(detail, str):
        return without_label(detail, label), []
    if not isinstance(detail, dict):
        return "", []
    lines = []
    total = Decimal(0)
    for line in detail.get("LineItems") or []:
        amount = Decimal(str(line.get("Quantity", 1))) * Decimal(str(line.get("UnitAmount", 0)))
        total += amount
        tracking = ", ".join(f"{t.get('Name')}: {t.get('Option')}" for t in line.get("Tracking") or [])
        lines.append(f"{line.get('Description', '')[:60]} — {amount:,.2f} to account {line.get('AccountCode')}"
                     f"{', tax ' + line['TaxType'] if line.get('TaxType') else ''}"
                     f"{', ' + tracking if tracking else ''}")
    parts = [f"{k} {detail[k]}" for k in ("Name", "Date", "DueDate", "Status", "paidDate") if detail.get(k)]
    if lines:
        parts.append(f"{len(lines)} line(s), {total:,.2f} before tax")
    return "; ".join(parts), lines


def preview(rt: Runtime, flow: str, context: LambdaContext | None, pacer_max_age: float = 0) -> Preview:
    from autoxero.sync.build import build_run, execute_run
    from autoxero.sync.flows import flow_named

    run = build_run(rt, flow, context, dry_run=True, pacer_max_age=pacer_max_age, kept=rt.kept)
    summary = execute_run(rt, run, flow_named(flow).run)
    result = Preview(flow, summary=summary)
    for plan in run.plans:
        sentence, lines = _describe(plan["detail"], plan["label"])
        result.rows.append({"record": plan["record"], "label": plan["label"], "action": plan["action"],
                            "flow": plan["flow"], "detail": sentence, "lines": lines})
    return result
