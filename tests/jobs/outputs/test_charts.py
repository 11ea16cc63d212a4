"""The inline SVG charts of the report, parsed back with ElementTree (no Spark)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from accountwatch.jobs.outputs.charts import (
    CHART_CSS,
    article_chart,
    audience_chart,
    daily_counts_chart,
    follower_chart,
    operators_chart,
)

SVG = "{http://www.w3.org/2000/svg}"
START = date(2026, 3, 1)


def days(*values: int) -> list[tuple[date, int]]:
    return [(START + timedelta(days=offset), value) for offset, value in enumerate(values)]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def bars(root: ET.Element) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if "data-day" in rect.attrib]


def line(root: ET.Element, css_class: str) -> ET.Element | None:
    return next((item for item in root.iter(f"{SVG}line") if item.get("class") == css_class), None)


def line_y(root: ET.Element, css_class: str) -> float:
    found = line(root, css_class)
    assert found is not None, f"no {css_class} line"
    assert found.get("y1") == found.get("y2")
    return float(found.get("y1", "nan"))


def height(rect: ET.Element) -> float:
    return float(rect.get("height", "nan"))


def bottom(rect: ET.Element) -> float:
    return float(rect.get("y", "nan")) + height(rect)


def texts(root: ET.Element) -> list[str]:
    return ["".join(item.itertext()) for item in root.iter(f"{SVG}text")]


def follower(series=None, flagged=START + timedelta(days=6), expected=4.0, band=(2.0, 7.0), threshold=12.0, title="f"):
    return follower_chart(
        days(3, 5, 0, 4, 2, 6, 20) if series is None else series, flagged, expected, band, threshold, title
    )


def test_charts_open_with_the_svg_element_and_its_title_first():
    charts = [(daily_counts_chart(days(1, 2), START, "Quota"), "daily-counts"), (follower(title="Quota"), "followers")]
    for svg, kind in charts:
        root = parse(svg)
        assert root.get("class") == f"chart {kind}"
        assert root.get("role") == "img"
        assert root.get("aria-label") == "Quota"
        assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
        assert root[0].tag == f"{SVG}title" and root[0].text == "Quota"


def test_daily_counts_chart_draws_one_bar_per_day_oldest_left():
    series = days(3, 5, 0, 4)
    root = parse(daily_counts_chart(list(reversed(series)), START, "t"))
    drawn = bars(root)
    assert [(rect.get("data-day"), rect.get("data-value")) for rect in drawn] == [
        (day.isoformat(), str(value)) for day, value in series
    ]
    assert [rect.findtext(f"{SVG}title") for rect in drawn] == [f"{day.isoformat()}: {value}" for day, value in series]
    xs = [float(rect.get("x", "nan")) for rect in drawn]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)


def test_daily_counts_chart_does_not_invent_missing_days():
    root = parse(daily_counts_chart([(START, 2), (START + timedelta(days=5), 4)], START, "t"))
    assert [rect.get("data-day") for rect in bars(root)] == ["2026-03-01", "2026-03-06"]


def test_daily_counts_chart_highlights_the_report_day():
    report_day = START + timedelta(days=2)
    root = parse(daily_counts_chart(days(3, 5, 9, 4), report_day, "t"))
    classes = {rect.get("data-day"): rect.get("class") for rect in bars(root)}
    assert classes == {"2026-03-01": "history", "2026-03-02": "history", "2026-03-03": "today", "2026-03-04": "history"}
    fills = {rect.get("class"): rect.get("fill") for rect in bars(root)}
    assert fills["today"] != fills["history"]


def test_daily_counts_chart_highlights_nothing_when_the_report_day_is_not_in_the_series():
    root = parse(daily_counts_chart(days(3, 5), START + timedelta(days=30), "t"))
    assert {rect.get("class") for rect in bars(root)} == {"history"}


def test_daily_counts_chart_bar_heights_are_proportional_to_the_counts():
    drawn = bars(parse(daily_counts_chart(days(2, 8, 4, 0), START, "t")))
    heights = [height(rect) for rect in drawn]
    assert heights[1] > heights[2] > heights[0] > heights[3] == 0
    assert heights[1] == pytest.approx(4 * heights[0], abs=0.2)
    assert len({bottom(rect) for rect in drawn}) == 1


def test_daily_counts_chart_smaller_count_never_gets_the_taller_bar():
    first, second = bars(parse(daily_counts_chart(days(9, 3), START, "t")))
    assert not height(second) >= height(first)


def test_daily_counts_chart_mean_line_sits_at_the_mean_of_the_other_days():
    # Other days 2, 4, 6 average 4; the report day's 8 is left out, so the line is at half the tallest bar.
    root = parse(daily_counts_chart(days(2, 4, 6, 8), START + timedelta(days=3), "t"))
    drawn = bars(root)
    base, tallest = bottom(drawn[0]), height(drawn[3])
    assert line_y(root, "mean") == pytest.approx(base - tallest / 2, abs=0.2)
    four = next(rect for rect in drawn if rect.get("data-value") == "4")
    assert line_y(root, "mean") == pytest.approx(float(four.get("y", "nan")), abs=0.2)
    assert line(root, "mean").get("stroke-dasharray")


def test_daily_counts_chart_mean_line_is_not_drawn_when_only_the_report_day_is_present():
    root = parse(daily_counts_chart(days(5), START, "t"))
    assert line(root, "mean") is None
    assert [rect.get("class") for rect in bars(root)] == ["today"]


def test_daily_counts_chart_labels_the_y_max_and_the_first_and_last_day():
    labels = texts(parse(daily_counts_chart(days(3, 17, 5), START, "t")))
    assert "17" in labels
    assert "2026-03-01" in labels and "2026-03-03" in labels
    assert "2026-03-02" not in labels


def test_daily_counts_chart_single_point_renders_one_bar_and_one_date():
    root = parse(daily_counts_chart(days(4), START + timedelta(days=1), "t"))
    assert [rect.get("data-value") for rect in bars(root)] == ["4"]
    assert texts(root).count("2026-03-01") == 1
    assert height(bars(root)[0]) > 0


def test_daily_counts_chart_all_zero_series_renders_flat_bars_and_a_y_max_of_one():
    root = parse(daily_counts_chart(days(0, 0, 0), START + timedelta(days=2), "t"))
    assert [height(rect) for rect in bars(root)] == [0.0, 0.0, 0.0]
    assert "1" in texts(root)
    assert line(root, "mean") is not None


@pytest.mark.parametrize(
    "chart",
    [
        lambda: daily_counts_chart([], START, "empty"),
        lambda: follower([], title="empty"),
    ],
)
def test_empty_series_render_a_no_data_svg(chart):
    root = parse(chart())
    assert root[0].text == "empty"
    assert "no data" in texts(root)
    assert bars(root) == []


def test_non_empty_series_do_not_say_no_data():
    assert "no data" not in texts(parse(daily_counts_chart(days(1), START, "t")))
    assert "no data" not in texts(parse(follower()))


def test_follower_chart_marks_the_flagged_day():
    flagged = START + timedelta(days=6)
    drawn = bars(parse(follower(flagged=flagged)))
    assert len(drawn) == 7
    assert [rect.get("data-day") for rect in drawn if rect.get("class") == "flagged"] == [flagged.isoformat()]
    assert {rect.get("class") for rect in drawn if rect.get("data-day") != flagged.isoformat()} == {"follows"}
    fills = {rect.get("class"): rect.get("fill") for rect in drawn}
    assert fills["flagged"] != fills["follows"]


def test_follower_chart_marks_nothing_when_the_flagged_day_is_outside_the_series():
    drawn = bars(parse(follower(flagged=START - timedelta(days=1))))
    assert {rect.get("class") for rect in drawn} == {"follows"}


def test_follower_chart_bars_carry_day_value_and_tooltip():
    drawn = bars(parse(follower(series=days(3, 40))))
    assert [(rect.get("data-value"), rect.findtext(f"{SVG}title")) for rect in drawn] == [
        ("3", "2026-03-01: 3"),
        ("40", "2026-03-02: 40"),
    ]
    assert height(drawn[1]) > height(drawn[0])


def test_follower_chart_draws_the_band_under_the_bars_between_its_bounds():
    root = parse(follower(series=days(2, 7, 10), band=(2.0, 7.0), threshold=None))
    rects = list(root.iter(f"{SVG}rect"))
    band = next(rect for rect in rects if rect.get("class") == "band")
    assert rects.index(band) < min(rects.index(rect) for rect in bars(root))
    assert float(band.get("fill-opacity", "1")) < 1
    two, seven, _ = bars(root)
    assert float(band.get("y", "nan")) == pytest.approx(float(seven.get("y", "nan")), abs=0.2)
    assert bottom(band) == pytest.approx(float(two.get("y", "nan")), abs=0.2)


def test_follower_chart_expected_line_sits_inside_the_band_and_is_solid():
    root = parse(follower(expected=4.0, band=(2.0, 7.0)))
    band = next(rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "band")
    assert float(band.get("y", "nan")) < line_y(root, "expected") < bottom(band)
    assert line(root, "expected").get("stroke-dasharray") is None


def test_follower_chart_threshold_above_the_band_is_drawn_above_its_top():
    root = parse(follower(band=(2.0, 7.0), threshold=12.0))
    band = next(rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "band")
    assert line_y(root, "threshold") < float(band.get("y", "nan"))
    assert line(root, "threshold").get("stroke-dasharray")


def test_follower_chart_threshold_inside_the_band_is_not_drawn_above_its_top():
    root = parse(follower(band=(2.0, 7.0), threshold=5.0))
    band = next(rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "band")
    assert float(band.get("y", "nan")) < line_y(root, "threshold") < bottom(band)


def test_follower_chart_without_threshold_draws_no_threshold_line_or_legend_entry():
    root = parse(follower(threshold=None))
    assert line(root, "threshold") is None
    assert not any("threshold" in text for text in texts(root))


def test_follower_chart_scale_includes_threshold_and_band_above_the_series():
    root = parse(follower(series=days(1, 2, 3), band=(2.0, 30.0), threshold=50.0))
    assert "50" in texts(root)
    top = line_y(root, "threshold")
    assert all(float(rect.get("y", "nan")) > top for rect in root.iter(f"{SVG}rect"))


def test_follower_chart_legend_names_band_expected_threshold_and_flagged_day():
    root = parse(follower(flagged=START + timedelta(days=6), expected=4.0, band=(2.0, 7.5), threshold=12.0))
    legend = next(text for text in texts(root) if "expected" in text)
    for part in ("band 2 to 7.5", "expected 4", "threshold 12", "flagged 2026-03-07"):
        assert part in legend


def test_follower_chart_all_zero_series_renders_with_a_positive_scale():
    root = parse(follower(series=days(0, 0), expected=0.0, band=(0.0, 0.0), threshold=None))
    assert [height(rect) for rect in bars(root)] == [0.0, 0.0]
    assert "1" in texts(root)


def test_follower_chart_single_point_renders_one_bar():
    root = parse(follower(series=days(9), flagged=START))
    assert [(rect.get("class"), rect.get("data-value")) for rect in bars(root)] == [("flagged", "9")]


@pytest.mark.parametrize("title", ["a <b> & c", "\"quoted\" 'single'", "</svg><script>x</script>"])
def test_titles_are_escaped_so_the_svg_still_parses(title):
    charts = [daily_counts_chart(days(1, 2), START, title), follower(title=title), daily_counts_chart([], START, title)]
    for svg in charts:
        root = parse(svg)
        assert root.get("aria-label") == title
        assert root[0].text == title
        assert root.find(f".//{SVG}script") is None


def test_charts_are_deterministic_and_depend_on_their_input():
    series = days(3, 5, 0, 4, 2, 6, 20)
    assert daily_counts_chart(series, START, "t") == daily_counts_chart(list(series), START, "t")
    assert follower(series=series) == follower(series=list(series))
    assert daily_counts_chart(series, START, "t") != daily_counts_chart(days(3, 5, 0, 4, 2, 6, 21), START, "t")


def test_charts_are_self_contained():
    for svg in (daily_counts_chart(days(1, 2), START, "t"), follower()):
        assert "<script" not in svg and "href" not in svg and "url(" not in svg and "@import" not in svg
    for css_class in ("today", "history", "flagged", "follows", "band", "expected", "threshold", "mean"):
        assert f".{css_class} " in CHART_CSS
    assert "font-size: 10px" in CHART_CSS and "sans-serif" in CHART_CSS and "url(" not in CHART_CSS


def test_audience_chart_draws_like_the_follower_chart_under_its_own_kind():
    series, flagged = days(30, 28, 35, 31, 400), START + timedelta(days=4)
    audience = parse(audience_chart(series, flagged, 30.0, (25.0, 35.0), 60.0, "pa_1: reads"))
    assert audience.get("class") == "chart audience"
    assert [(bar.get("data-day"), bar.get("class")) for bar in bars(audience)][-1] == (flagged.isoformat(), "flagged")
    assert line_y(audience, "expected") > line_y(audience, "threshold")
    follows = parse(follower_chart(series, flagged, 30.0, (25.0, 35.0), 60.0, "pa_1: reads"))
    assert [bar.attrib for bar in bars(audience)] == [bar.attrib for bar in bars(follows)]


def test_article_chart_draws_the_articles_days_as_bars_and_its_baseline_by_age_as_a_line():
    series, flagged = days(100, 30, 10, 155), START + timedelta(days=3)
    root = parse(article_chart(series, [100.0, 30.0, 10.0, 5.0], flagged, "pa_1: article a1"))
    assert root.get("class") == "chart article"
    drawn = [(bar.get("data-day"), bar.get("data-value"), bar.get("class")) for bar in bars(root)]
    assert drawn[0] == (START.isoformat(), "100", "follows") and drawn[-1] == (flagged.isoformat(), "155", "flagged")
    points = [circle for circle in root.iter(f"{SVG}circle") if circle.get("class") == "expected"]
    assert [(point.get("data-day"), point.get("data-value")) for point in points] == [
        (day.isoformat(), value) for (day, _), value in zip(series, ("100", "30", "10", "5"), strict=True)
    ]
    # The baseline's point of the flagged day sits far below its bar's top: higher values are drawn higher.
    flagged_bar = bars(root)[-1]
    assert float(points[-1].get("cy")) > float(flagged_bar.get("y"))
    [polyline] = root.iter(f"{SVG}polyline")
    assert "expected by day of life: 100, 30, 10, 5" in polyline.findtext(f"{SVG}title")
    assert "no data" in article_chart([], [], flagged, "empty")


def test_operators_chart_draws_one_lane_per_operator_and_the_new_ones_apart():
    window = [START + timedelta(days=offset) for offset in range(10)]
    flagged = window[7]
    activity = {
        "op_old": {window[0], window[2], window[4], window[6]},
        "op_new": {window[7], window[8]},
        "op_gone": {START - timedelta(days=30)},  # seen before the window only: a lane, no mark
    }
    root = parse(operators_chart(activity, window, flagged, {"op_new"}, "pa_1: operators"))
    marks = [rect for rect in root.iter(f"{SVG}rect") if "data-operator" in rect.attrib]
    drawn = {(rect.get("data-operator"), rect.get("data-day"), rect.get("class")) for rect in marks}
    assert drawn == {("op_old", day.isoformat(), "follows") for day in activity["op_old"]} | {
        ("op_new", day.isoformat(), "flagged") for day in activity["op_new"]
    }
    lanes = {rect.get("data-operator"): float(rect.get("y", "nan")) for rect in marks}
    assert lanes["op_old"] < lanes["op_new"]  # ordered by first day seen
    assert {"op_gone", "op_old", "op_new"} <= set(texts(root))
    flagged_line = line(root, "threshold")
    assert flagged_line is not None and flagged_line.get("x1") == flagged_line.get("x2")
    old_x = [float(rect.get("x", "nan")) for rect in marks if rect.get("data-operator") == "op_old"]
    assert max(old_x) < float(flagged_line.get("x1", "nan"))


def test_operators_chart_without_operators_says_so():
    root = parse(operators_chart({}, [START], START, set(), "pa_1: operators"))
    assert "no data" in texts(root)
