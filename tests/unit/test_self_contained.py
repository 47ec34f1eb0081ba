"""The repository stands on its own: no file points at the team's notebook beside it (its folder, absolute
machine paths, its reference sections or design page); the facts such pointers stood for live in docs/ with their
public sources. The patterns are assembled from parts so that this file is checked like every other."""

from __future__ import annotations

import re
import subprocess

from autoxero_cli.template import ROOT

_NOTEBOOK = "sha" + "red"
OUTSIDE = re.compile("|".join((
    re.escape("../" + _NOTEBOOK),
    re.escape("/wo" + "rk/"),
    r"(?<![\w/.])" + "refer" + r"ence/[\w-]+\.md",
    r"(?<![\w/.])" + "refer" + "ence §",
    r"(?<![\w/])" + "DES" + r"IGN\.md",
)))


def tracked_text_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [f for f in listed if not f.startswith("tests/contract/specs/") and not f.endswith((".json", ".png"))]


def test_no_file_refers_outside_the_repository():
    offenders = []
    for name in tracked_text_files():
        text = (ROOT / name).read_text(errors="replace")
        offenders += [f"{name}:{n}: {line.strip()[:100]}" for n, line in enumerate(text.splitlines(), 1)
                      if OUTSIDE.search(line)]
    assert offenders == []


def test_every_docs_pointer_names_a_file_that_exists():
    pointers = set()
    for name in tracked_text_files():
        pointers |= set(re.findall(r"docs/[\w-]+\.md", (ROOT / name).read_text(errors="replace")))
    missing = sorted(p for p in pointers if not (ROOT / p).exists())
    assert pointers and missing == []


def test_docs_settings_documents_every_setting():
    from pydantic import BaseModel

    from autoxero.settings import SyncSettings

    text = (ROOT / "docs" / "settings.md").read_text()

    def names(model: type[BaseModel], prefix: str = "") -> list[str]:
        found = []
        for name, field in model.model_fields.items():
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found += names(kind, f"{prefix}{name}." if prefix or name == "tax" else "")
            else:
                found.append(f"{prefix}{name}")
        return found

    undocumented = [n for n in names(SyncSettings) if f"`{n}`" not in text]
    assert undocumented == []
