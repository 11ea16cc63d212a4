"""Small self-contained inline SVG charts for the HTML report: standard library only, no scripts, no external assets.

Every chart carries inline presentation attributes (fill, stroke, font) so it renders the same with or without
CHART_CSS, and the same input always yields a byte-identical string (coordinates are written with one decimal).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from html import escape

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
TEXT_COLOUR = "#3e4c59"
AXIS_COLOUR = "#9aa5b1"
COLOURS = {
    "history": "#9fb3c8",
    "today": "#dd6b20",
    "follows": "#4c78a8",
    "flagged": "#d62728",
    "band": "#38a169",
    "expected": "#276749",
    "threshold": "#b7791f",
    "mean": "#52606d",
}
BAND_OPACITY = "0.18"
DASH = "4 3"

CHART_CSS = f"""\
svg.chart {{ font-family: {FONT}; }}
svg.chart text {{ font-size: 10px; fill: {TEXT_COLOUR}; }}
svg.chart .axis {{ stroke: {AXIS_COLOUR}; stroke-width: 1; }}
svg.chart .history {{ fill: {COLOURS["history"]}; }}
svg.chart .today {{ fill: {COLOURS["today"]}; }}
svg.chart .follows {{ fill: {COLOURS["follows"]}; }}
svg.chart .flagged {{ fill: {COLOURS["flagged"]}; }}
svg.chart .band {{ fill: {COLOURS["band"]}; fill-opacity: {BAND_OPACITY}; }}
svg.chart .expected {{ stroke: {COLOURS["expected"]}; stroke-width: 1.5; }}
svg.chart .threshold {{ stroke: {COLOURS["threshold"]}; stroke-width: 1.5; stroke-dasharray: {DASH}; }}
svg.chart .mean {{ stroke: {COLOURS["mean"]}; stroke-width: 1.5; stroke-dasharray: {DASH}; }}
"""


@dataclass(frozen=True)
class _Frame:
    """The plot area inside a chart and its vertical scale from 0 to ymax."""

    width: int
    height: int
    left: float
    top: float
    ymax: float
    right: float = 6.0
    bottom: float = 16.0

    @property
    def base(self) -> float:
        return self.height - self.bottom

    @property
    def plot_width(self) -> float:
        return max(1.0, self.width - self.left - self.right)

    def y(self, value: float) -> float:
        # Clamped so a stray negative or oversized value cannot draw outside the plot.
        clamped = min(max(float(value), 0.0), self.ymax)
        return self.base - clamped / self.ymax * (self.base - self.top)


def _f(value: float) -> str:
    return f"{value:.1f}"


def _num(value: float) -> str:
    """A value as a label: whole numbers without decimals, others with one."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _frame(width: int, height: int, top: float, ymax: float) -> _Frame:
    # The y-axis label sits left of the plot, so the margin grows with its length (about 6px per character).
    return _Frame(width, height, left=max(22.0, 8.0 + 6.0 * len(_num(ymax))), top=top, ymax=ymax)


def _open(kind: str, title: str, width: int, height: int) -> list[str]:
    label = escape(title)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {kind}" role="img" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" aria-label="{label}">',
        f"<title>{label}</title>",
    ]


def _text(x: float, y: float, markup: str, css_class: str = "label", anchor: str = "start") -> str:
    """A text element; markup must already be escaped."""
    return (
        f'<text class="{css_class}" x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-family="{FONT}"'
        f' font-size="10" fill="{TEXT_COLOUR}">{markup}</text>'
    )


def _no_data(kind: str, title: str, width: int, height: int) -> str:
    parts = _open(kind, title, width, height)
    parts.append(_text(width / 2, height / 2, "no data", "nodata", "middle"))
    return "".join([*parts, "</svg>"])


def _hline(frame: _Frame, value: float, css_class: str, note: str, dashed: bool) -> str:
    y = _f(frame.y(value))
    dash = f' stroke-dasharray="{DASH}"' if dashed else ""
    return (
        f'<line class="{css_class}" x1="{_f(frame.left)}" y1="{y}" x2="{_f(frame.left + frame.plot_width)}"'
        f' y2="{y}" stroke="{COLOURS[css_class]}" stroke-width="1.5"{dash}><title>{escape(note)}</title></line>'
    )


def _bars(frame: _Frame, series: Sequence[tuple[date, int]], css_class: Callable[[date], str]) -> list[str]:
    slot = frame.plot_width / len(series)
    gap = slot * 0.2
    bars = []
    for index, (day, value) in enumerate(series):
        kind = css_class(day)
        top = frame.y(value)
        bars.append(
            f'<rect class="{kind}" x="{_f(frame.left + index * slot + gap / 2)}" y="{_f(top)}"'
            f' width="{_f(slot - gap)}" height="{_f(frame.base - top)}" fill="{COLOURS[kind]}"'
            f' data-day="{day.isoformat()}" data-value="{value}"><title>{day.isoformat()}: {value}</title></rect>'
        )
    return bars


def _axes(frame: _Frame, series: Sequence[tuple[date, int]]) -> list[str]:
    right = frame.left + frame.plot_width
    label_x = frame.left - 4
    below = frame.height - 4
    parts = [
        f'<line class="axis" x1="{_f(frame.left)}" y1="{_f(frame.base)}" x2="{_f(right)}" y2="{_f(frame.base)}"'
        f' stroke="{AXIS_COLOUR}" stroke-width="1"/>',
        _text(label_x, frame.top + 4, _num(frame.ymax), "label ymax", "end"),
        _text(label_x, frame.base, "0", "label", "end"),
    ]
    first, last = series[0][0].isoformat(), series[-1][0].isoformat()
    if len(series) == 1:
        parts.append(_text(frame.left + frame.plot_width / 2, below, first, "label day", "middle"))
    else:
        parts.append(_text(frame.left, below, first, "label day", "start"))
        parts.append(_text(right, below, last, "label day", "end"))
    return parts


def daily_counts_chart(
    series: Sequence[tuple[date, int]], highlight: date, title: str, width: int = 360, height: int = 140
) -> str:
    """Daily counts as bars, the highlight day set apart, with a dashed line at the mean of the other days."""
    if not series:
        return _no_data("daily-counts", title, width, height)
    ordered = sorted(series)
    others = [value for day, value in ordered if day != highlight]
    frame = _frame(width, height, top=10.0, ymax=max(1, *(value for _, value in ordered)))
    parts = _open("daily-counts", title, width, height)
    parts += _bars(frame, ordered, lambda day: "today" if day == highlight else "history")
    if others:
        mean = sum(others) / len(others)
        parts.append(_hline(frame, mean, "mean", f"mean of other days: {mean:.1f}", dashed=True))
    parts += _axes(frame, ordered)
    return "".join([*parts, "</svg>"])


def _legend(x: float, entries: Sequence[tuple[str, str, str]]) -> str:
    """One line of text: a coloured glyph (a character reference) before each escaped label."""
    spans = []
    for index, (glyph, colour, label) in enumerate(entries):
        gap = ' dx="8"' if index else ""
        spans.append(f'<tspan{gap} fill="{colour}">{glyph}</tspan><tspan dx="3">{escape(label)}</tspan>')
    return _text(x, 11, "".join(spans), "legend")


def baseline_chart(
    kind: str,
    series: Sequence[tuple[date, int]],
    flagged: date,
    expected: float,
    band: tuple[float, float],
    threshold: float | None,
    title: str,
    width: int = 420,
    height: int = 160,
) -> str:
    """Daily counts as bars over the expected band, with the expected line, the threshold and the flagged day.

    `kind` names the chart (its CSS class): `follower_chart` draws new follows, `audience_chart` an account's reads,
    likes, shares and comments.
    """
    if not series:
        return _no_data(kind, title, width, height)
    ordered = sorted(series)
    low, high = sorted(band)
    peaks = [float(value) for _, value in ordered] + [high, expected]
    if threshold is not None:
        peaks.append(threshold)
    frame = _frame(width, height, top=20.0, ymax=max(1.0, *peaks))
    parts = _open(kind, title, width, height)
    band_top, band_bottom = frame.y(high), frame.y(low)
    parts.append(
        f'<rect class="band" x="{_f(frame.left)}" y="{_f(band_top)}" width="{_f(frame.plot_width)}"'
        f' height="{_f(band_bottom - band_top)}" fill="{COLOURS["band"]}" fill-opacity="{BAND_OPACITY}">'
        f"<title>{escape(f'expected band: {_num(low)} to {_num(high)}')}</title></rect>"
    )
    parts += _bars(frame, ordered, lambda day: "flagged" if day == flagged else "follows")
    parts.append(_hline(frame, expected, "expected", f"expected: {expected:.1f}", dashed=False))
    legend = [
        ("&#9632;", COLOURS["band"], f"band {_num(low)} to {_num(high)}"),
        ("&#8212;", COLOURS["expected"], f"expected {_num(expected)}"),
    ]
    if threshold is not None:
        parts.append(_hline(frame, threshold, "threshold", f"threshold: {threshold:.1f}", dashed=True))
        legend.append(("- -", COLOURS["threshold"], f"threshold {_num(threshold)}"))
    legend.append(("&#9632;", COLOURS["flagged"], f"flagged {flagged.isoformat()}"))
    parts.append(_legend(frame.left, legend))
    parts += _axes(frame, ordered)
    return "".join([*parts, "</svg>"])


follower_chart = partial(baseline_chart, "followers")
audience_chart = partial(baseline_chart, "audience")


def article_chart(
    series: Sequence[tuple[date, int]],
    expected: Sequence[float],
    flagged: date,
    title: str,
    width: int = 420,
    height: int = 160,
) -> str:
    """An article's audience on each day of its life as bars, against its baseline as a line with a point a day.

    `expected[k]` is the baseline of the article's k-th day (the account's earlier articles on their k-th day); the
    series starts on the article's first day, and the flagged day is set apart.
    """
    if not series:
        return _no_data("article", title, width, height)
    ordered = sorted(series)
    line = [float(value) for value in expected[: len(ordered)]]
    frame = _frame(width, height, top=20.0, ymax=max(1.0, *(float(value) for _, value in ordered), *line))
    parts = _open("article", title, width, height)
    parts += _bars(frame, ordered, lambda day: "flagged" if day == flagged else "follows")
    slot = frame.plot_width / len(ordered)
    points = [(frame.left + (index + 0.5) * slot, frame.y(value)) for index, value in enumerate(line)]
    parts.append(
        f'<polyline class="expected" points="{" ".join(f"{_f(x)},{_f(y)}" for x, y in points)}" fill="none"'
        f' stroke="{COLOURS["expected"]}" stroke-width="1.5"><title>{escape(_baseline_note(line))}</title></polyline>'
    )
    parts += [
        f'<circle class="expected" cx="{_f(x)}" cy="{_f(y)}" r="2" fill="{COLOURS["expected"]}"'
        f' data-day="{day.isoformat()}" data-value="{_num(value)}"/>'
        for (x, y), (day, _), value in zip(points, ordered, line, strict=False)
    ]
    legend = [
        ("&#8212;", COLOURS["expected"], "earlier articles at the same age (median)"),
        ("&#9632;", COLOURS["flagged"], f"flagged {flagged.isoformat()}"),
    ]
    parts.append(_legend(frame.left, legend))
    parts += _axes(frame, ordered)
    return "".join([*parts, "</svg>"])


def _baseline_note(line: Sequence[float]) -> str:
    return "expected by day of life: " + ", ".join(_num(value) for value in line)


OPERATOR_LANES = 10


def operators_chart(
    activity: Mapping[str, set[date]],
    days: Sequence[date],
    flagged: date,
    new: set[str],
    title: str,
    width: int = 420,
) -> str:
    """One lane per operator of an account (up to OPERATOR_LANES): a mark on each day they logged in or published.

    Operators in `new` (who took the account over) are drawn in the flagged colour, the others as established
    operators; a dashed line marks the flagged day. Lanes are ordered by first day seen, then id.
    """
    ordered_days = sorted(days)
    lanes = sorted(activity, key=lambda operator: (min(activity[operator], default=flagged), operator))
    lanes = lanes[:OPERATOR_LANES]
    lane_height, top = 14.0, 20.0
    # At least three lanes high, so a chart of one operator still reads as a chart.
    height = int(top + lane_height * max(3, len(lanes)) + 16.0)
    if not ordered_days or not lanes:
        return _no_data("operators", title, width, height)
    longest = max(len(operator) for operator in lanes)
    frame = _Frame(width, height, left=min(160.0, 8.0 + 6.0 * longest), top=top, ymax=1.0)
    slot = frame.plot_width / len(ordered_days)
    index = {day: position for position, day in enumerate(ordered_days)}
    parts = _open("operators", title, width, height)
    for lane, operator in enumerate(lanes):
        y = top + lane * lane_height
        kind = "flagged" if operator in new else "follows"
        parts.append(_text(frame.left - 4, y + lane_height - 4, escape(operator), "label operator", "end"))
        for day in sorted(activity[operator]):
            if day not in index:
                continue
            parts.append(
                f'<rect class="{kind}" x="{_f(frame.left + index[day] * slot)}" y="{_f(y + 2)}"'
                f' width="{_f(max(1.0, slot * 0.8))}" height="{_f(lane_height - 4)}" fill="{COLOURS[kind]}"'
                f' data-operator="{escape(operator)}" data-day="{day.isoformat()}">'
                f"<title>{escape(operator)} on {day.isoformat()}</title></rect>"
            )
    if flagged in index:
        x = _f(frame.left + (index[flagged] + 0.5) * slot)
        parts.append(
            f'<line class="threshold" x1="{x}" y1="{_f(top)}" x2="{x}" y2="{_f(frame.base)}"'
            f' stroke="{COLOURS["threshold"]}" stroke-width="1.5" stroke-dasharray="{DASH}">'
            f"<title>flagged {flagged.isoformat()}</title></line>"
        )
    parts.append(
        _legend(
            frame.left,
            [
                ("&#9632;", COLOURS["follows"], "established operators"),
                ("&#9632;", COLOURS["flagged"], "new operators"),
                ("- -", COLOURS["threshold"], f"flagged {flagged.isoformat()}"),
            ],
        )
    )
    below = frame.height - 4
    parts.append(_text(frame.left, below, ordered_days[0].isoformat(), "label day", "start"))
    parts.append(_text(frame.left + frame.plot_width, below, ordered_days[-1].isoformat(), "label day", "end"))
    return "".join([*parts, "</svg>"])
