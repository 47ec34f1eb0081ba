"""`autoxero settings`: show, validate, diff, push and suggest the settings document.

validate and push check the document against the live systems (accounts, tax types, tracking, themes,
items, Autotask codes and fields) and list every problem at once with its YAML line.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from autoxero_cli.common import By, Stack, console, err_console, fail, target, who


@dataclass(frozen=True, slots=True)
class Finding:
    line: int | None
    where: str
    message: str

    def text(self, path: Path) -> str:
        return f"{path}:{self.line}: {self.where}: {self.message}" if self.line else f"{path}: {self.where}: " \
                                                                                     f"{self.message}"


def yaml_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Document path -> 1-based line of its key (or item), from the YAML node tree."""
    import yaml

    found: dict[tuple[str | int, ...], int] = {}

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                here = (*path, str(key.value))
                found[here] = key.start_mark.line + 1
                walk(value, here)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                found[(*path, index)] = item.start_mark.line + 1
                walk(item, (*path, index))

    with contextlib.suppress(yaml.YAMLError):  # parse errors are reported by the loader, with their line
        walk(yaml.compose(text), ())
    return found


def line_of(lines: dict[tuple[str | int, ...], int], path: tuple[str | int, ...]) -> int | None:
    for end in range(len(path), 0, -1):  # the nearest enclosing key that is written in the file
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def read_document(path: Path) -> tuple[Any, list[Finding], dict[tuple[str | int, ...], int]]:
    """The settings model (None if invalid) and every problem the document has on its own."""
    import yaml
    from pydantic import ValidationError

    from autoxero.settings import SyncSettings

    try:
        text = path.read_text()
    except FileNotFoundError:
        raise fail(f"settings file {path} does not exist") from None
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise fail(f"settings file {path}{line} is not valid YAML: {problem}") from None
    if not isinstance(document, dict):
        raise fail(f"settings file {path} must be a mapping of sections (contacts:, invoices:, ...)")
    lines = yaml_lines(text)
    try:
        return SyncSettings.model_validate(document), [], lines
    except ValidationError as err:
        findings = []
        for error in err.errors():
            loc = tuple(p for p in error["loc"] if not isinstance(p, str) or not p.startswith("function-"))
            where = ".".join(str(p) for p in loc) or "document"
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                from autoxero_cli.records import did_you_mean

                known = _known_keys(loc[:-1])
                message = f"unknown setting{did_you_mean(str(loc[-1]), known)}"
            findings.append(Finding(line_of(lines, loc), where, message))
        return None, findings, lines


def _known_keys(section: tuple[Any, ...]) -> list[str]:
    from pydantic import BaseModel

    from autoxero.settings import SyncSettings

    model: Any = SyncSettings
    for part in section:
        field = model.model_fields.get(str(part)) if isinstance(model, type) else None
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def live_findings(stack: str | None, settings: Any, lines: dict[tuple[str | int, ...], int]) -> list[Finding]:
    from autoxero.autotask.errors import AutotaskError
    from autoxero.sync.build import build_run
    from autoxero.sync.settings_check import check_against_live
    from autoxero.xero.errors import XeroError

    tgt = target(stack)
    rt = tgt.runtime()
    try:
        problems = check_against_live(build_run(rt, "settings", None, True), settings)
    except (XeroError, AutotaskError) as err:
        raise fail(f"cannot check the settings against {tgt.name}: {err} (fix the connection, or "
                   "`settings validate --offline` checks the document alone)") from None
    return [Finding(line_of(lines, p.path), p.where, p.message) for p in problems]


def report(path: Path, findings: list[Finding], what: str) -> None:
    for finding in sorted(findings, key=lambda f: (f.line or 0, f.where)):
        console.print(finding.text(path), highlight=False, markup=False, soft_wrap=True)
    raise fail(f"{len(findings)} problem(s) in {path}; {what}")


def checked(path: Path, stack: str | None, offline: bool = False, what: str = "nothing was saved") -> Any:
    settings, findings, lines = read_document(path)
    if settings is not None and not offline:
        findings = live_findings(stack, settings, lines)
    if findings:
        report(path, findings, what)
    return settings


def as_yaml(settings: Any) -> str:
    import yaml

    return str(yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False, allow_unicode=True))


def show(stack: Stack = None) -> None:
    """The settings in force, as YAML."""
    settings, version = target(stack).runtime().state.settings.load()
    console.print(f"# version {version}", highlight=False)
    console.print(as_yaml(settings), highlight=False, markup=False)


def validate(path: Path, stack: Stack = None,
             offline: Annotated[bool, typer.Option("--offline", help="Check the document alone, not against the "
                                                                     "live systems")] = False) -> None:
    """Check a settings file: the document, then every account, tax type, tracking option, theme, item and
    Autotask code it names against the live systems (the sandbox, or --stack). Every problem at once."""
    checked(path, stack, offline, "fix them and validate again")
    console.print(f"{path}: valid" + (" (document only)" if offline else " against the live systems"))


def diff(path: Path, stack: Stack = None) -> None:
    """What pushing this file would change."""
    import difflib

    proposed, findings, _ = read_document(path)
    if findings:
        report(path, findings, "fix them first")
    current, version = target(stack).runtime().state.settings.load()
    lines = list(difflib.unified_diff(as_yaml(current).splitlines(), as_yaml(proposed).splitlines(),
                                      f"deployed (version {version})", str(path), lineterm=""))
    console.print("\n".join(lines) if lines else "no changes", highlight=False, markup=False)


def push(path: Path, stack: Stack = None, by: By = None) -> None:
    """Check a settings file against the live systems and save it as the next version (refused if anything
    is wrong, or if someone else pushed in between; an identical document is not saved again)."""
    from autoxero.state import SettingsConflict

    proposed = checked(path, stack)
    rt = target(stack).runtime()
    current, version = rt.state.settings.load()
    if version and current.model_dump_json() == proposed.model_dump_json():
        console.print(f"{path} is identical to version {version}; nothing saved")
        return
    author = who(stack, by)
    try:
        new = rt.state.settings.save(proposed, version, author=author)
    except SettingsConflict as err:
        raise fail(str(err)) from None
    rt.state.ledger.append("settings", "document", "pushed", f"version {new}", {"by": author, "file": str(path)})
    console.print(f"settings saved as version {new} (by {author})", highlight=False)
    if rt.state.control.paused():
        err_console.print("The stack is paused: try `autoxero sync FLOW --dry-run`, then `autoxero resume`.")


def suggest(stack: Stack = None,
            out: Annotated[Path | None, typer.Option(help="Write the proposed settings here")] = None) -> None:
    """Propose mappings from both systems' reference data, for a person to review, then push."""
    from autoxero.mapping.suggest import merge
    from autoxero.settings import SyncSettings
    from autoxero.sync.build import build_run
    from autoxero.sync.suggest import suggest_settings

    rt = target(stack).runtime()
    proposal = suggest_settings(build_run(rt, "settings", None, True))
    current, _ = rt.state.settings.load()
    patch = dict(proposal.patch)
    if current.invoices.start_date is not None and "invoices" in patch:  # a date a person chose stays
        patch["invoices"] = {k: v for k, v in patch["invoices"].items() if k != "start_date"}
    merged = SyncSettings.model_validate(merge(current.model_dump(mode="json"), patch))
    for reason in proposal.reasons:
        console.print(f"- {reason}", highlight=False, markup=False)
    if out:
        out.write_text(as_yaml(merged))
        console.print(f"proposed settings written to {out}: review, then `autoxero settings validate {out}` and "
                      f"`autoxero settings push {out}`")
    else:
        console.print(as_yaml(merged), highlight=False, markup=False)


def register(settings_app: typer.Typer) -> None:
    for command in (show, validate, diff, push, suggest):
        settings_app.command(command.__name__)(command)
