"""CSV cells a spreadsheet shows as text: no exported value can run as a formula where an analyst opens it.

As OWASP's CSV Injection page recommends, a cell that begins with `=`, `+`, `-`, `@`, a tab, a carriage return
or a line feed gets a leading single quote, which spreadsheets read as "this cell is text"; `csv.writer` keeps
the RFC 4180 quoting, so a separator or a quote inside a value cannot start a new cell. Three choices go with it:

- Whitespace does not hide those characters (` =1+1` is quoted too): some importers trim cells before they
  evaluate them.
- A cell that already begins with a quote gets another, so every exported cell that begins with a quote had
  exactly one added: dropping that one character (`original_value`) gives back the value, always.
- A plain decimal number (`-3.5`, `+2`, `-1.5e-3`) is left as it is, in whatever column: a spreadsheet reads it
  as that number, never as a formula. Values that are not strings (a float score, a boolean) are numbers or
  flags, and pass through as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar, cast

FORMULA_STARTS = frozenset("=+-@\t\r\n")
TEXT_MARK = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

Cell = TypeVar("Cell")


def needs_text_mark(value: str) -> bool:
    """Whether a spreadsheet could read `value` as a formula, or it begins with the text mark itself."""
    if value[:1] == TEXT_MARK:
        return True
    if value[:1] not in FORMULA_STARTS and value.lstrip()[:1] not in FORMULA_STARTS:
        return False
    return not _PLAIN_NUMBER.fullmatch(value)


def spreadsheet_safe(value: Cell) -> Cell:
    """`value` for a CSV cell: a string that could start a formula gets one leading `'`; anything else is kept."""
    if isinstance(value, str) and needs_text_mark(value):
        return cast(Cell, TEXT_MARK + value)
    return value


def safe_csv_row(row: Iterable[Cell]) -> list[Cell]:
    """A row's cells through `spreadsheet_safe`."""
    return [spreadsheet_safe(value) for value in row]


def original_value(cell: str) -> str:
    """The value an exported cell was written from: its one leading `'`, if it has one, dropped."""
    return cell[1:] if cell.startswith(TEXT_MARK) else cell
