"""The `where` and `order` query parameters: a strict subset of the Dynamic-LINQ dialect Xero accepts.

Supported: comparisons `== = != <> < <= > >=` between a field path (`Name`, `Contact.ContactID`) and a literal
(`"text"`, numbers, `true`/`false`, `null`, `Guid("…")`, `DateTime(2026,1,31)`, `DateTime.Parse("…")`);
string methods `ToLower() ToUpper() Trim() ToString() Contains() StartsWith() EndsWith()`; `AND`/`&&`, `OR`/`||`,
`NOT`/`!` and parentheses.

A string literal has no escapes: a backslash is an ordinary character and the next `"` ends the string, so a
`"` cannot be written inside one. Xero answers `Name=="asd\\"asd"` (backslash-escaped quote) and the
unescaped form alike with 400 QueryParseException "Syntax error" (XeroAPI/Xero-Java#347, "Not able to find
contact if name contains double quotes", open since 2023). Whether Xero accepts a doubled `""` inside a
string is unconfirmed; here it reads as two strings in a row, a "Syntax error" too.

Everything else is a `QueryParseException` (HTTP 400, ErrorNumber 16) with the message Xero's parser gives,
including unknown fields and type mismatches (a Guid field compared with a plain string).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cmp_to_key
from typing import Any

from .wire import query_parse

# Field types: "String", "Guid", "Decimal", "Boolean", "DateTime", "Int32", or a nested dict for an object.
FieldTypes = dict[str, Any]

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<>|<=|>=|&&|\|\||[=<>!().,])
""", re.VERBOSE)

_COMPARE = {"==", "=", "!=", "<>", "<", "<=", ">", ">="}
_STRING_TO_STRING = {"tolower", "toupper", "trim", "tostring"}
_STRING_TO_BOOL = {"contains", "startswith", "endswith"}


@dataclass
class Tok:
    kind: str  # str | num | ident | op | end | bad (a lexical error, raised only when the parser gets to it)
    text: str
    value: Any = None


def _tokenize(text: str) -> list[Tok]:
    tokens: list[Tok] = []
    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch == '"':
            end = text.find('"', pos + 1)
            if end < 0:
                tokens.append(Tok("bad", "Unterminated string literal"))
                return tokens
            value = text[pos + 1:end]
            tokens.append(Tok("str", value, value))
            pos = end + 1
            continue
        if ch == "'":
            tokens.append(Tok("bad", "Character literal must contain exactly one character"))
            return tokens
        match = _TOKEN.match(text, pos)
        if not match:
            tokens.append(Tok("bad", f"Syntax error '{ch}'"))
            return tokens
        pos = match.end()
        kind = match.lastgroup or ""
        if kind == "ws":
            continue
        tokens.append(Tok(kind, match.group(), Decimal(match.group()) if kind == "num" else None))
    tokens.append(Tok("end", ""))
    return tokens


# --------------------------------------------------------------------------------------------- AST

Node = Callable[[dict[str, Any]], Any]


@dataclass
class Typed:
    type: str  # String Guid Decimal Int32 Boolean DateTime Null Number
    fn: Node


def _get(record: dict[str, Any], path: list[str]) -> Any:
    value: Any = record
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _as_instant(value: Any) -> Any:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


class _Parser:
    def __init__(self, text: str, fields: FieldTypes, type_name: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.fields = fields
        self.type_name = type_name

    # token helpers
    @property
    def tok(self) -> Tok:
        tok = self.tokens[self.pos]
        if tok.kind == "bad":  # Xero's parser reads lazily: an earlier syntax error is the one reported
            raise query_parse(tok.text)
        return tok

    def take(self) -> Tok:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "ident" and self.tok.text.upper() in words

    def expect(self, text: str, message: str) -> None:
        if self.tok.kind != "op" or self.tok.text != text:
            raise query_parse(message)
        self.take()

    # grammar
    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise query_parse("Expression expected")
        node = self.parse_or()
        if self.tok.kind != "end":
            raise query_parse("Syntax error")
        if node.type != "Boolean":
            raise query_parse("Expression of type 'Boolean' expected")
        return node.fn

    def parse_or(self) -> Typed:
        left = self.parse_and()
        while self.is_word("OR") or (self.tok.kind == "op" and self.tok.text == "||"):
            self.take()
            right = self.parse_and()
            left = self._logical("or", left, right)
        return left

    def parse_and(self) -> Typed:
        left = self.parse_unary()
        while self.is_word("AND") or (self.tok.kind == "op" and self.tok.text == "&&"):
            self.take()
            right = self.parse_unary()
            left = self._logical("and", left, right)
        return left

    def _logical(self, op: str, left: Typed, right: Typed) -> Typed:
        for side in (left, right):
            if side.type != "Boolean":
                raise query_parse(f"Operator '{op}' incompatible with operand types '{left.type}' and '{right.type}'")
        lf, rf = left.fn, right.fn
        if op == "and":
            return Typed("Boolean", lambda r: bool(lf(r)) and bool(rf(r)))
        return Typed("Boolean", lambda r: bool(lf(r)) or bool(rf(r)))

    def parse_unary(self) -> Typed:
        if self.is_word("NOT") or (self.tok.kind == "op" and self.tok.text == "!"):
            self.take()
            inner = self.parse_unary()
            if inner.type != "Boolean":
                raise query_parse(f"Operator '!' incompatible with operand type '{inner.type}'")
            fn = inner.fn
            return Typed("Boolean", lambda r: not fn(r))
        return self.parse_compare()

    def parse_compare(self) -> Typed:
        left = self.parse_primary()
        if self.tok.kind == "op" and self.tok.text in _COMPARE:
            op = self.take().text
            right = self.parse_primary()
            return self._compare(op, left, right)
        return left

    def _compare(self, op: str, left: Typed, right: Typed) -> Typed:
        shown = "==" if op == "=" else ("!=" if op == "<>" else op)
        numeric = {"Decimal", "Int32", "Number"}
        lt, rt = left.type, right.type
        ok = (
            (lt in numeric and rt in numeric)
            or (lt == rt and lt in ("String", "Guid", "Boolean", "DateTime"))
            or ("Null" in (lt, rt) and shown in ("==", "!=") and "Boolean" not in (lt, rt))
        )
        if lt in ("String", "Guid", "Boolean") and rt == lt and shown not in ("==", "!="):
            ok = False
        if not ok:
            raise query_parse(f"Operator '{shown}' incompatible with operand types '{lt}' and '{rt}'")
        lf, rf = left.fn, right.fn

        def compare(record: dict[str, Any]) -> bool:
            a, b = _as_instant(lf(record)), _as_instant(rf(record))
            if shown == "==":
                return bool(a == b)
            if shown == "!=":
                return bool(a != b)
            if a is None or b is None:
                return False
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[shown]

        return Typed("Boolean", compare)

    def parse_primary(self) -> Typed:
        tok = self.tok
        if tok.kind == "str":
            self.take()
            return Typed("String", lambda r, v=tok.value: v)
        if tok.kind == "num":
            self.take()
            return Typed("Number", lambda r, v=tok.value: v)
        if tok.kind == "op" and tok.text == "(":
            self.take()
            inner = self.parse_or()
            self.expect(")", "')' or operator expected")
            return inner
        if tok.kind == "ident":
            return self.parse_identifier()
        raise query_parse("Expression expected")

    def parse_identifier(self) -> Typed:
        word = self.take().text
        upper = word.upper()
        if upper in ("TRUE", "FALSE"):
            return Typed("Boolean", lambda r, v=(upper == "TRUE"): v)
        if upper == "NULL":
            return Typed("Null", lambda r: None)
        if upper == "GUID" and self.tok.kind == "op" and self.tok.text == "(":
            args = self.parse_args()
            if len(args) != 1 or args[0].type != "String":
                raise query_parse("No applicable constructor exists in type 'Guid'")
            text = str(args[0].fn({})).lower()
            if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text):
                raise query_parse("Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).")
            return Typed("Guid", lambda r, v=text: v)
        if upper == "DATETIME":
            return self.parse_datetime()
        return self.parse_member(word)

    def parse_args(self) -> list[Typed]:
        self.expect("(", "'(' expected")
        args: list[Typed] = []
        if self.tok.kind == "op" and self.tok.text == ")":
            self.take()
            return args
        while True:
            args.append(self.parse_or())
            if self.tok.kind == "op" and self.tok.text == ",":
                self.take()
                continue
            self.expect(")", "')' or ',' expected")
            return args

    def parse_datetime(self) -> Typed:
        if self.tok.kind == "op" and self.tok.text == ".":
            self.take()
            if not self.is_word("PARSE"):
                raise query_parse(f"No property or field '{self.tok.text}' exists in type 'DateTime'")
            self.take()
            args = self.parse_args()
            if len(args) != 1 or args[0].type != "String":
                raise query_parse("No applicable method 'Parse' exists in type 'DateTime'")
            try:
                when = _as_instant(datetime.fromisoformat(str(args[0].fn({})).replace("Z", "+00:00")))
            except ValueError as exc:
                raise query_parse("String was not recognized as a valid DateTime.") from exc
            return Typed("DateTime", lambda r, v=when: v)
        args = self.parse_args()
        if not 3 <= len(args) <= 6 or any(a.type != "Number" for a in args):
            raise query_parse("No applicable constructor exists in type 'DateTime'")
        try:
            parts = [int(a.fn({})) for a in args]
            when = datetime(*parts, tzinfo=UTC)  # type: ignore[misc]
        except ValueError as exc:
            raise query_parse("Year, Month, and Day parameters describe an un-representable DateTime.") from exc
        return Typed("DateTime", lambda r, v=when: v)

    def parse_member(self, first: str) -> Typed:
        scope: Any = self.fields
        scope_name = self.type_name
        path: list[str] = []
        name = first
        while True:
            canonical = next((k for k in scope if k.lower() == name.lower()), None) if isinstance(scope, dict) else None
            if canonical is None:
                raise query_parse(f"No property or field '{name}' exists in type '{scope_name}'")
            path.append(canonical)
            scope = scope[canonical]
            scope_name = canonical
            if isinstance(scope, dict) and self.tok.kind == "op" and self.tok.text == ".":
                self.take()
                if self.tok.kind != "ident":
                    raise query_parse("Identifier expected")
                name = self.take().text
                continue
            break
        if isinstance(scope, dict):
            raise query_parse(f"Operator incompatible with operand type '{scope_name}'")
        typed = Typed(scope, lambda r, p=tuple(path): _get(r, list(p)))
        while self.tok.kind == "op" and self.tok.text == ".":
            self.take()
            if self.tok.kind != "ident":
                raise query_parse("Identifier expected")
            typed = self.parse_method(typed, self.take().text)
        return typed

    def parse_method(self, target: Typed, method: str) -> Typed:
        low = method.lower()
        args = self.parse_args() if self.tok.kind == "op" and self.tok.text == "(" else None
        if args is None:
            raise query_parse(f"No property or field '{method}' exists in type '{target.type}'")
        fn = target.fn
        if low == "tostring" and not args:
            return Typed("String", lambda r: None if fn(r) is None else str(fn(r)))
        if target.type != "String":
            raise query_parse(f"No applicable method '{method}' exists in type '{target.type}'")
        if low in _STRING_TO_STRING and not args:
            op = {"tolower": str.lower, "toupper": str.upper, "trim": str.strip, "tostring": str}[low]
            return Typed("String", lambda r: None if fn(r) is None else op(fn(r)))
        if low in _STRING_TO_BOOL and len(args) == 1 and args[0].type == "String":
            arg = args[0].fn
            test = {"contains": str.__contains__, "startswith": str.startswith, "endswith": str.endswith}[low]
            return Typed("Boolean", lambda r: fn(r) is not None and arg(r) is not None and test(fn(r), arg(r)))
        raise query_parse(f"No applicable method '{method}' exists in type 'String'")


def compile_where(text: str, fields: FieldTypes, type_name: str) -> Node:
    """A predicate over a record view, or a QueryParseException."""
    return _Parser(text, fields, type_name).parse()


def _resolve(path: str, fields: FieldTypes, type_name: str) -> list[str]:
    scope: Any = fields
    scope_name = type_name
    resolved: list[str] = []
    for part in path.split("."):
        canonical = next((k for k in scope if k.lower() == part.lower()), None) if isinstance(scope, dict) else None
        if canonical is None:
            raise query_parse(f"No property or field '{part}' exists in type '{scope_name}'")
        resolved.append(canonical)
        scope = scope[canonical]
        scope_name = canonical
    if isinstance(scope, dict):
        raise query_parse(f"Expression of type '{scope_name}' cannot be ordered")
    return resolved


def _sort_value(value: Any) -> Any:
    value = _as_instant(value)
    if isinstance(value, str):
        return (value.casefold(), value)
    return value


def compile_order(text: str, fields: FieldTypes, type_name: str) -> Callable[[list[dict[str, Any]]], list[Any]]:
    """`Name ASC, UpdatedDateUTC DESC` → a function that sorts record views (stable)."""
    keys: list[tuple[list[str], bool]] = []
    for clause in text.split(","):
        words = clause.split()
        if not words or len(words) > 2:
            raise query_parse("Expression expected" if not words else "Syntax error")
        descending = False
        if len(words) == 2:
            direction = words[1].upper()
            if direction not in ("ASC", "ASCENDING", "DESC", "DESCENDING"):
                raise query_parse("Syntax error")
            descending = direction.startswith("DESC")
        keys.append((_resolve(words[0], fields, type_name), descending))

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        for path, descending in keys:
            va, vb = _sort_value(_get(a, path)), _sort_value(_get(b, path))
            if va == vb:
                continue
            if va is None:
                result = -1
            elif vb is None:
                result = 1
            else:
                result = -1 if va < vb else 1
            return -result if descending else result
        return 0

    def sort(views: list[dict[str, Any]]) -> list[Any]:
        return sorted(views, key=cmp_to_key(compare))

    return sort
