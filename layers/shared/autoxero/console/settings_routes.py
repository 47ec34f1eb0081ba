"""The mappings page's routes: show the settings as forms, review a change (validate, diff, effect), push it as
a new version, roll back to an old one, or review a suggestion."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response

from autoxero.console import web
from autoxero.console.app import _operator, _page, _person, _run, _standalone, app
from autoxero.console.auth import Person
from autoxero.runtime import runtime
from autoxero.state import SettingsConflict

if TYPE_CHECKING:  # the mappings' module (Autotask models, the invoice mapping) loads on the first mappings page
    from autoxero.console.mappings import Review


def _mappings(person: Person, notice: str = "", status: int = 200, proposal: Review | None = None,
              reasons: list[str] | None = None) -> Response[str]:
    from autoxero.console.mappings import pickers

    rt = runtime()
    current, version = rt.state.settings.load()
    run = _run("settings", settings=current)
    return _page("mappings.html", person, status, settings=current, version=version,
                 history=rt.state.settings.versions(), pick=pickers(run), mapping_notice=notice, proposal=proposal,
                 reasons=reasons or [])


def _version(fields: dict[str, str], name: str) -> int | None:
    text = fields.get(name, "").strip()
    return int(text) if text.isdigit() else None


def _not_a_version(text: str) -> Response[str]:
    return _standalone(400, "Not a settings version", f"“{text[:40]}” is not a settings version (a whole number): "
                       "pick the version from the Mappings page's list.")


@app.get("/console/mappings")
def mappings_page() -> Response[str]:
    return _mappings(_person("viewer"))


def _review(person: Person, document: dict[str, Any], reasons: list[str] | None = None) -> Response[str]:
    from autoxero.console.mappings import review

    rt = runtime()
    current, version = rt.state.settings.load()
    checked = review(_run("settings", settings=current), current, version, document)
    return _mappings(person, proposal=checked, reasons=reasons, status=200 if not checked.errors else 422)


@app.post("/console/mappings/review")
def review_change() -> Response[str]:
    from autoxero.console.mappings import from_form

    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    current, _ = runtime().state.settings.load()
    return _review(person, from_form(current, fields))


@app.post("/console/mappings/rollback")
def rollback() -> Response[str]:
    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    version = _version(fields, "version")
    if version is None:
        return _not_a_version(fields.get("version", ""))
    old = runtime().state.settings.version(version)
    if old is None:
        return _mappings(person, notice=f"there is no settings version {version}", status=404)
    return _review(person, old.model_dump(mode="json"), [f"Rolling back to version {version}."])


@app.post("/console/mappings/suggest")
def suggest() -> Response[str]:
    from autoxero.mapping.suggest import merge
    from autoxero.sync.suggest import suggest_settings

    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    current, _ = runtime().state.settings.load()
    proposal = suggest_settings(_run("settings", settings=current))
    return _review(person, merge(current.model_dump(mode="json"), proposal.patch), proposal.reasons)


@app.post("/console/mappings/push")
def push() -> Response[str]:
    from autoxero.console.mappings import review

    fields = web.form(app.current_event.decoded_body)
    person = _operator(fields)
    rt = runtime()
    current, version = rt.state.settings.load()
    expected = _version(fields, "base_version")
    if expected is None:
        return _not_a_version(fields.get("base_version", ""))
    try:
        document = json.loads(fields.get("document") or "{}")
    except ValueError:
        return _standalone(400, "Not a settings document", "The settings sent are not a settings document: "
                           "review the change again from the Mappings page.")
    if expected != version:
        return _mappings(person, status=409, notice=f"someone pushed version {version} since you reviewed this "
                         "change: review it again")
    checked = review(_run("settings", settings=current), current, version, document)
    if not checked.pushable:
        return _mappings(person, proposal=checked, status=422,
                         notice="not pushed: " + ("; ".join(checked.errors) or "nothing changes"))
    from autoxero.settings import SyncSettings

    try:
        new = rt.state.settings.save(SyncSettings.model_validate(document), version, author=person.email)
    except SettingsConflict as err:
        return _mappings(person, status=409, notice=str(err))
    rt.state.ledger.append("settings", "current", "push", f"version {new}",
                           {"by": person.email, "changes": checked.diff[:50]})
    return _mappings(person, notice=f"Pushed as version {new}: the next run uses it.")
