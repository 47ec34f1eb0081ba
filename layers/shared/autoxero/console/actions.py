"""What a person can change from the console: retry, skip and unskip a record, pause and resume the stack.

Every action is checked for the operator role by the route, and lands in the ledger with the person's e-mail
(skip, unskip, pause and resume are recorded by the state stores themselves, with `by`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autoxero.state import LeaseBusy

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from autoxero.console.auth import Person
    from autoxero.runtime import Runtime



class ActionRefused(ValueError):
    """Said to the person as it is: what is wrong and what to do."""


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    message: str


def _flow(flow: str) -> None:
    from autoxero.sync.flows import UnknownFlow, flow_named

    try:
        flow_named(flow)
    except UnknownFlow:
        raise ActionRefused(f"there is no flow called {flow!r}") from None


def _retry_body(flow: str, record_id: str) -> Any:
    """Just this record where the flow can do one record (the registry's retry); otherwise its full run."""
    from autoxero.sync.flows import flow_named

    chosen = flow_named(flow)
    return lambda run: chosen.retry(run, [record_id])


def retry(rt: Runtime, flow: str, record_id: str, person: Person, context: LambdaContext | None) -> Outcome:
    """Clear the item and send the record again now; what is still wrong comes straight back. A run that stops
    before it sends anything (the stack paused, out of time, a connection down) puts the item back as it was."""
    from autoxero.sync.build import build_run, execute_run
    from autoxero.sync.flows import flow_named

    _flow(flow)
    item = rt.state.attention.get(flow, record_id)
    if item is None:
        raise ActionRefused(f"{flow} record {record_id} is not on the attention list (any more)")
    if rt.state.control.paused():
        raise ActionRefused("the stack is paused, so nothing would be sent: resume it on the Overview page, "
                            "then retry")
    kind = flow_named(flow).kind
    if kind:
        rt.state.ids.retry(kind, record_id)
    rt.state.attention.clear(flow, record_id)
    rt.state.ledger.append(flow, record_id, "retry", "requested", {"by": person.email, "was": item.message})
    def put_back() -> None:
        rt.state.attention.raise_(flow, record_id, code=item.code, message=item.message, fix=item.fix,
                                  label=item.label, context=item.context)

    try:
        summary = execute_run(rt, build_run(rt, flow, context, dry_run=False), _retry_body(flow, record_id))
    except LeaseBusy:
        put_back()
        raise ActionRefused(f"a {flow} run is in progress right now: try again in a minute") from None
    again = rt.state.attention.get(flow, record_id)
    if again is not None:
        return Outcome(False, f"{item.label or record_id} still needs attention: {again.message}")
    if summary.get("stopped"):
        if not any(summary.get(done) for done in ("created", "updated", "resolved")):
            put_back()
            return Outcome(False, f"the {flow} run stopped before sending {item.label or record_id}, which is "
                                  f"back on the list: {summary['stopped']}")
        return Outcome(False, f"the {flow} run stopped: {summary['stopped']}")
    return Outcome(True, f"{item.label or record_id}: sent again, nothing left to fix")


def skip(rt: Runtime, flow: str, record_id: str, reason: str, person: Person) -> Outcome:
    _flow(flow)
    if not reason.strip():
        raise ActionRefused("say why this record should never sync (the reason is kept in the ledger)")
    item = rt.state.attention.get(flow, record_id)
    rt.state.attention.skip(flow, record_id, reason.strip(), by=person.email, label=item.label if item else "")
    return Outcome(True, f"{(item.label if item else '') or record_id} will not be synced: {reason.strip()}")


def unskip(rt: Runtime, flow: str, record_id: str, person: Person) -> Outcome:
    _flow(flow)
    if not rt.state.attention.unskip(flow, record_id, by=person.email):
        raise ActionRefused(f"{flow} record {record_id} was not skipped")
    return Outcome(True, f"{flow} record {record_id} syncs again from the next run")


def pause(rt: Runtime, reason: str, person: Person) -> Outcome:
    status = rt.state.control.pause(by=person.email, reason=reason.strip() or "paused from the console")
    return Outcome(True, status.describe())


def resume(rt: Runtime, person: Person) -> Outcome:
    from autoxero.state import ResumeRefused

    try:
        status = rt.state.control.resume(by=person.email)
    except ResumeRefused as err:
        raise ActionRefused(str(err)) from None
    return Outcome(True, status.describe())
