"""The README's pasted `make demo` output shows the columns the demo prints today."""

from __future__ import annotations

from pathlib import Path

from autoxero_cli.summary import counts_table

README = Path(__file__).parents[2] / "README.md"


def test_the_readme_demo_table_has_the_demo_columns():
    header = next(line for line in README.read_text().splitlines() if line.startswith("┃ flow"))
    pasted = [cell.strip() for cell in header.strip("┃").split("┃")]
    printed = [str(column.header) for column in counts_table({}, "t").columns]
    assert pasted == printed
