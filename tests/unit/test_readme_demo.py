"""The README's pasted `make demo` output shows columns the demo's counts table prints, in its order."""

from __future__ import annotations

from pathlib import Path

from autoxero_cli.summary import ALWAYS, COLUMNS

README = Path(__file__).parents[2] / "README.md"


def test_the_readme_demo_table_has_the_demo_columns():
    header = next(line for line in README.read_text().splitlines() if line.startswith("┃ flow"))
    pasted = [cell.strip() for cell in header.strip("┃").split("┃")]
    known = [name for name, _ in COLUMNS]
    assert pasted[0] == "flow" and set(ALWAYS) <= set(pasted)
    assert pasted[1:] == [name for name in known if name in pasted[1:]]  # only known columns, in the demo's order
