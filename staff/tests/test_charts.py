"""The console's SVG charts: well-formed XML, every label escaped, a mark and a tooltip per value,
gaps where a value is missing, an honest "No data yet", and axes that end on round numbers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from staff import charts
from staff.charts import Series

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [f"{n} Mar" for n in range(1, 31)]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    return root


def plot(root: ET.Element) -> ET.Element:
    return root.find(f"{SVG}svg[@class='chart-plot']")


def tooltips(root: ET.Element) -> list[str]:
    return [
        rect.find(f"{SVG}title").text
        for rect in root.iter(f"{SVG}rect")
        if rect.get("class") == "chart-target"
    ]


def texts(root: ET.Element, kind: str) -> list[str]:
    return [text.text for text in root.iter(f"{SVG}text") if text.get("class") == kind]


def test_a_bar_chart_is_an_accessible_svg_with_a_bar_and_a_tooltip_per_day():
    values = [0] * 28 + [3, 12]
    root = parse(charts.bar_chart(title="Sign-ups per day", labels=DAYS, series=[Series("Sign-ups", values)]))
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "Sign-ups per day"
    assert root.get("aria-label") == (
        "Sign-ups per day, 1 Mar to 30 Mar. Sign-ups: highest 12 on 30 Mar, latest 12 (30 Mar)."
    )
    bars = [rect for rect in plot(root).iter(f"{SVG}rect") if "chart-bar" in rect.get("class")]
    assert len(bars) == 2  # a zero draws no bar
    # The axis ends at a round 15 (steps of 5); a bar's height is its share of it.
    assert [float(bar.get("height")) for bar in bars] == [200, 800]
    assert texts(root, "chart-tick") == ["5", "10", "15"]  # the baseline goes without its "0"
    assert tooltips(root)[0] == "1 Mar: Sign-ups 0" and tooltips(root)[-1] == "30 Mar: Sign-ups 12"
    assert len(tooltips(root)) == 30
    assert texts(root, "chart-day") == ["2 Mar", "9 Mar", "16 Mar", "23 Mar", "30 Mar"]


def test_stacked_bars_sit_on_each_other_and_have_a_legend():
    root = parse(
        charts.bar_chart(
            title="Deliveries",
            labels=["1 Mar", "2 Mar"],
            series=[Series("Delivered", [6, 2], "success"), Series("Failed", [2, 0], "danger")],
        )
    )
    bars = [
        (rect.get("class"), float(rect.get("y")), float(rect.get("height")))
        for rect in plot(root).iter(f"{SVG}rect")
        if "chart-bar" in rect.get("class")
    ]
    # Top 8: delivered 6 from the bottom, failed 2 on top of it; the second day delivered 2 only.
    assert bars == [
        ("chart-bar chart-tone-success", 250, 750),
        ("chart-bar chart-tone-danger", 0, 250),
        ("chart-bar chart-tone-success", 750, 250),
    ]
    assert texts(root, "chart-legend") == ["Failed", "Delivered"]
    assert tooltips(root) == ["1 Mar: Delivered 6, Failed 2", "2 Mar: Delivered 2, Failed 0"]


def test_a_line_breaks_where_a_value_is_missing_and_a_lone_value_is_a_dash():
    values = [1, 2, None, 4, None, None, 3, 3]
    labels = DAYS[:8]
    root = parse(charts.line_chart(title="Queue", labels=labels, series=[Series("Waiting", values)]))
    lines = [line.get("points") for line in plot(root).iter(f"{SVG}polyline")]
    assert lines == ["0.5,750 1.5,500", "3.25,0 3.75,0", "6.5,250 7.5,250"]
    assert len(list(plot(root).iter(f"{SVG}polygon"))) == 3  # the area under each run
    assert tooltips(root)[2] == "3 Mar: Waiting no data"


def test_several_lines_have_no_area_and_a_legend():
    root = parse(
        charts.line_chart(
            title="Two", labels=DAYS[:3], series=[Series("A", [1, 2, 3]), Series("B", [3, 2, 1], "danger")]
        )
    )
    assert len(list(root.iter(f"{SVG}polyline"))) == 2 and not list(root.iter(f"{SVG}polygon"))
    assert texts(root, "chart-legend") == ["B", "A"]


def test_every_label_is_escaped():
    evil = "<script>alert(\"x\")</script> & 'quotes'"
    svg = charts.line_chart(
        title=evil, labels=[evil, "2 Mar"], series=[Series(evil, [1, None], tone="accent")]
    )
    assert "<script>" not in svg
    root = parse(svg)  # still well-formed
    assert root.find(f"{SVG}title").text == evil
    assert root.get("aria-label").startswith(evil)
    assert tooltips(root)[0] == f"{evil}: {evil} 1"
    empty = charts.bar_chart(title=evil, labels=[evil], series=[Series(evil, [None])])
    assert "<script>" not in empty and parse(empty).find(f"{SVG}title").text == evil


def test_no_data_says_so_in_the_same_frame():
    for draw in (charts.bar_chart, charts.line_chart):
        root = parse(draw(title="Queue depth", labels=DAYS, series=[Series("Waiting", [None] * 30)]))
        assert texts(root, "chart-empty") == ["No data yet"]
        assert root.get("aria-label") == "Queue depth: no data yet." and root.get("role") == "img"
        assert not list(root.iter(f"{SVG}polyline")) and not tooltips(root)
    no_days = parse(charts.line_chart(title="Nothing", labels=[], series=[Series("X", [])]))
    assert texts(no_days, "chart-empty") == ["No data yet"]


def test_zeros_are_data_drawn_on_an_axis_of_their_own():
    root = parse(charts.line_chart(title="Quiet", labels=DAYS[:3], series=[Series("Messages", [0, 0, 0])]))
    assert texts(root, "chart-tick") == ["1", "2", "3", "4"] and not texts(root, "chart-empty")


def test_rates_and_durations_are_written_as_such():
    rates = parse(
        charts.line_chart(
            title="Failure rate",
            labels=DAYS[:2],
            series=[Series("Failed", [0.125, 0.3])],
            fmt=charts.percent,
            minimum_top=0.04,
            whole=False,
        )
    )
    assert texts(rates, "chart-tick") == ["10%", "20%", "30%"]
    assert tooltips(rates) == ["1 Mar: Failed 12.5%", "2 Mar: Failed 30%"]
    waits = parse(
        charts.line_chart(
            title="Oldest job's wait",
            labels=DAYS[:2],
            series=[Series("Wait", [12, 420])],
            fmt=lambda seconds: f"{seconds / 60:g} min",
            minimum_top=60,
            steps=charts.DURATION_STEPS,
        )
    )
    assert texts(waits, "chart-tick") == ["2 min", "4 min", "6 min", "8 min"]  # steps of 120 s, not 105


@pytest.mark.parametrize(
    ("highest", "minimum", "whole", "expected"),
    [
        (0, 4, True, (4, 1)),
        (12, 4, True, (15, 5)),
        (13, 4, True, (15, 5)),
        (21, 4, True, (30, 10)),
        (97, 4, True, (100, 25)),
        (1234, 4, True, (1500, 500)),
        (0.5, 4, True, (4, 1)),
        (3.7, 1, True, (4, 1)),
        (0.3, 0.04, False, (0.3, 0.1)),
        (0.0, 0.04, False, (0.04, 0.01)),
        (2, 4, True, (4, 1)),
    ],
)
def test_axes_end_on_round_numbers(highest, minimum, whole, expected):
    top, step = charts.nice_top(highest, minimum=minimum, whole=whole)
    assert (top, step) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("highest", "expected"),
    [
        (0, (60, 15)),
        (45, (60, 15)),
        (420, (480, 120)),
        (3000, (3600, 900)),
        (10**6, (10**6 + 36800, 86400 * 3)),
    ],
)
def test_duration_axes_step_by_minutes_and_hours(highest, expected):
    assert charts.nice_top(highest, minimum=60, whole=True, steps=charts.DURATION_STEPS) == expected


def test_values_and_labels_of_different_lengths_are_a_mistake():
    with pytest.raises(ValueError, match="Waiting: 2 values for 3 labels"):
        charts.bar_chart(title="T", labels=DAYS[:3], series=[Series("Waiting", [1, 2])])
