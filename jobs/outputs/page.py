"""Plain, self-contained HTML pages for the evidence summary and the daily report: no scripts, nothing fetched."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", sans-serif; margin: 24px; color: #1d232a; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccd; }
h3 { font-size: 14px; margin: 16px 0 4px; }
p.meta { color: #566; margin-top: 0; font-size: 13px; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 12px; }
th, td { border: 1px solid #d5d9de; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eef1f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.high { color: #a40e0e; font-weight: 600; } .medium { color: #a35a00; } .low { color: #3b5b7a; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; } figcaption { font-size: 12px; color: #334; } .note { color: #566; font-size: 12px; }
code { font-size: 12px; }
"""


def cell(value: object) -> str:
    """A value as escaped table-cell text: empty for None, lists joined with commas."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return escape(", ".join(str(item) for item in value))
    return escape(str(value))


def table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], numeric: Sequence[str] = (), css_class: str = "data"
) -> str:
    """An HTML table with a header row; `numeric` columns are right-aligned."""
    head = "".join(f"<th>{escape(column)}</th>" for column in columns)
    body = []
    for row in rows:
        cells = []
        for column, value in zip(columns, row, strict=True):
            attribute = ' class="num"' if column in numeric else ""
            if isinstance(value, RawHtml):
                cells.append(f"<td{attribute}>{value.markup}</td>")
            else:
                cells.append(f"<td{attribute}>{cell(value)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f'<table class="{escape(css_class)}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


class RawHtml:
    """Markup already escaped by its maker, placed into a table cell as is."""

    def __init__(self, markup: str) -> None:
        self.markup = markup


def page(title: str, body: str, extra_css: str = "") -> str:
    """A complete HTML document with its styles inline."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{PAGE_CSS}{extra_css}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )
