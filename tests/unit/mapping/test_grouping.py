"""Line grouping (mapping/lines.py::grouped): one Xero line per printed group, split again wherever Xero
needs the line to differ (account, tax type, item, tracking). Each row: the lines given as (group,
description, amount, account, tax type, tracking) and the grouped lines as (description, amount, account)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from autoxero.mapping.lines import Line, grouped

NORTH = (("Region", "North"),)


def line(group: str | None, description: str, amount: str, account: str = "200", tax: str | None = None,
         tracking: tuple[tuple[str, str], ...] = ()) -> Line:
    return Line(description, Decimal(1), Decimal(amount), account, tax, None, tracking, group=group)


TABLE = [
    pytest.param([line("Managed", "Server", "100.00"), line("Managed", "Desktop", "50.50")],
                 [("Managed", "150.50", "200")], id="one group: one line of the group's name and summed amount"),
    pytest.param([line("Managed", "Server", "100.00"), line("Projects", "Install", "80.00")],
                 [("Managed", "100.00", "200"), ("Projects", "80.00", "200")], id="two groups: two lines, in order"),
    pytest.param([line("Managed", "Server", "100.00"), line("Managed", "Hosting", "20.00", account="210")],
                 [("Managed", "100.00", "200"), ("Managed", "20.00", "210")],
                 id="one group over two accounts: a line per account"),
    pytest.param([line("Managed", "Server", "100.00"), line("Managed", "Licence", "10.00", tax="NONE")],
                 [("Managed", "100.00", "200"), ("Managed", "10.00", "200")],
                 id="one group over two tax types: a line per tax type"),
    pytest.param([line("Managed", "Server", "100.00"), line("Managed", "Desk", "5.00", tracking=NORTH)],
                 [("Managed", "100.00", "200"), ("Managed", "5.00", "200")],
                 id="one group over two tracking options: a line per option"),
    pytest.param([line(None, "Support", "30.00"), line(None, "Support", "45.00"), line(None, "Travel", "9.99")],
                 [("Support", "75.00", "200"), ("Travel", "9.99", "200")],
                 id="no group: lines of the same description merge"),
    pytest.param([line("Managed", "Server", "100.00"), line("Managed", "Refund", "-100.00")],
                 [("Managed", "0.00", "200")], id="amounts that cancel: one line of zero, never dropped"),
]


@pytest.mark.parametrize(("lines", "expected"), TABLE)
def test_grouped(lines, expected):
    result = grouped(lines)
    assert [(g.description, str(g.unit_amount), g.account_code) for g in result] == expected
    assert all(g.quantity == 1 for g in result)
    assert sum(g.amount for g in result) == sum(g.amount for g in lines)
