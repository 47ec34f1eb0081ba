"""Rendering and reading forms: Jinja2 with autoescaping always on, and the console's small helpers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape

from autoxero.xero.links import record_link

HERE = Path(__file__).parent


def money(value: Any) -> str:
    if value is None or value == "":
        return ""
    return f"{Decimal(str(value)):,.2f}"


def when(value: Any) -> str:
    """An ISO timestamp or epoch seconds as 'YYYY-MM-DD HH:MM UTC'."""
    if value in (None, ""):
        return ""
    if isinstance(value, int | float):
        stamp = dt.datetime.fromtimestamp(float(value), dt.UTC)
    else:
        try:
            stamp = dt.datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def count(n: int, noun: str) -> str:
    """'1 call', '3 calls'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def days(value: float | None) -> str:
    """Whole days, rounded down: '1 day', '59 days'."""
    return count(int(value or 0), "day")


def days_ago(value: float | None) -> str:
    """'today' under a day, else '1 day ago', '12 days ago'."""
    return "today" if (value or 0) < 1 else f"{days(value)} ago"


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True,
                      auto_reload=False)  # the templates ship in the layer and never change in a container
    env.filters["money"] = money
    env.filters["when"] = when
    env.filters.update(count=count, days=days, days_ago=days_ago)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def static_file(name: str) -> tuple[str, str] | None:
    """(body, content type) of a file under static/, or None; never a path outside it."""
    path = (HERE / "static" / name).resolve()
    if path.parent != (HERE / "static").resolve() or not path.is_file():
        return None
    kind = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}.get(path.suffix, "text/plain")
    return path.read_text(), f"{kind}; charset=utf-8"


def form(body: str | None) -> dict[str, str]:
    """An application/x-www-form-urlencoded body; the last value of a repeated field wins."""
    return {key: values[-1] for key, values in parse_qs(body or "", keep_blank_values=True).items()}


def xero_link(kind: str, xero_id: str | None) -> str | None:
    return record_link("credit_note" if kind == "credit_note" else "invoice", xero_id)
