"""Bar and line charts drawn on the server as SVG, for the console's pages: no script to load, nothing
for the Content-Security-Policy to allow, colours from the stylesheet's custom properties (every
mark has a class, no inline style).

The chart is as wide as its box and a fixed height. Its plot is an inner <svg> whose coordinates are
(day, value) stretched to fit (preserveAspectRatio="none"; lines keep their width with
vector-effect: non-scaling-stroke, in the CSS), while every text sits in the outer <svg>'s unscaled
pixels: labels stay legible from a phone to a wide screen. Each day has a column-high target whose
<title> is its tooltip; the chart's role="img" and aria-label say what it shows in one sentence.
Every label is escaped (format_html). The inner <svg>s are aria-hidden: the chart is one image to
assistive technology, named by its summary.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

HEIGHT = 200  # px, the whole chart
TOP = 26  # px above the plot: the legend, and the highest tick's label
BOTTOM = 24  # px below it: the days
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
SCALE = 1000  # the plot's height in its own units (the width is one unit a point)
TICK_INTERVALS = 4  # about this many steps between 0 and the top


def count(value: float) -> str:
    """1234 -> "1,234"."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def percent(value: float) -> str:
    """0.125 -> "12.5%" (the values are shares, 0 to 1)."""
    return f"{value * 100:.1f}%".replace(".0%", "%")


@dataclass(frozen=True)
class Series:
    """One named row of values, one per label; None where there is no value (drawn as a gap)."""

    name: str
    values: Sequence[float | None]
    tone: str = "accent"  # the marks' class: chart-tone-<tone> (accent, danger, success, warning, muted)


# Steps for an axis of seconds that read as people say them: 30 s, 2 min, 15 min, 1 h, 6 h...
DURATION_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def nice_top(
    highest: float, *, minimum: float, whole: bool, steps: Sequence[float] | None = None
) -> tuple[float, float]:
    """The axis's top and its step: the smallest "round" step (1, 2, 2.5 or 5 times a power of ten;
    a whole number when the values are counts; or the first of `steps` that does) of which
    TICK_INTERVALS reach `highest`, and at least `minimum` (a chart of zeros still has an axis)."""
    reach = max(highest, minimum)
    raw = reach / TICK_INTERVALS
    if steps:
        step = next((s for s in steps if s >= raw), steps[-1] * math.ceil(raw / steps[-1]))
    else:
        magnitude = 10 ** math.floor(math.log10(raw))
        step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
        if whole:
            step = max(1.0, math.ceil(step))
    return step * math.ceil(reach / step - 1e-9), step


def _number(value: float) -> str:
    """A coordinate, short: 12.5, 3, 0.33."""
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def _join(parts: Iterable[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


def _summary(title: str, labels: Sequence[str], series: Sequence[Series], fmt: Callable[[float], str]) -> str:
    """The aria-label: what the chart shows and its figures that matter (each series' peak and latest)."""
    parts = []
    for one in series:
        known = [(value, label) for value, label in zip(one.values, labels, strict=True) if value is not None]
        if not known:
            parts.append(f"{one.name}: no data")
            continue
        peak, peak_label = max(known, key=lambda pair: pair[0])
        parts.append(
            f"{one.name}: highest {fmt(peak)} on {peak_label}, latest {fmt(known[-1][0])} ({known[-1][1]})"
        )
    return f"{title}, {labels[0]} to {labels[-1]}. " + "; ".join(parts) + "."


def _day_labels(labels: Sequence[str], every: int) -> SafeString:
    """Every `every`th day's label under the plot, counted back from the last; the ones near an edge
    anchored to it, so they are not cut off."""
    n = len(labels)
    parts = []
    for i in range(n - 1, -1, -every):
        centre = (i + 0.5) / n
        if centre > 0.9:
            x, anchor = 100.0, "end"
        elif centre < 0.1:
            x, anchor = i / n * 100, "start"
        else:
            x, anchor = centre * 100, "middle"
        parts.append(
            format_html(
                '<text class="chart-day" x="{}%" y="{}" text-anchor="{}">{}</text>',
                _number(x),
                HEIGHT - 6,
                anchor,
                labels[i],
            )
        )
    return _join(reversed(parts))


def _legend(series: Sequence[Series]) -> SafeString:
    """The series' names at the top right, a swatch before each (the rightmost drawn first)."""
    if len(series) < 2:
        return SafeString("")
    parts, right = [], 0
    for one in reversed(series):
        width = 7 * len(one.name) + 22  # about 7 px a character at the legend's 12 px
        parts.append(
            format_html(
                '<svg aria-hidden="true" x="100%" y="0" overflow="visible"><g transform="translate({} 0)">'
                '<rect class="chart-swatch chart-tone-{}" x="0" y="6" width="10" height="10" rx="2"/>'
                '<text class="chart-legend" x="14" y="15">{}</text></g></svg>',
                -(right + width),
                one.tone,
                one.name,
            )
        )
        right += width + 8
    return _join(parts)


def _frame(
    *,
    title: str,
    summary: str,
    labels: Sequence[str],
    plot: SafeString,
    texts: SafeString,
    legend: SafeString,
) -> SafeString:
    """The chart around a plot: its name, its summary, the legend, the texts drawn in pixels over the
    plot (the ticks' values), and the days."""
    return format_html(
        '<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" width="100%" height="{}" role="img" '
        'aria-label="{}"><title>{}</title>{}<svg class="chart-plot" aria-hidden="true" x="0" y="{}" '
        'width="100%" height="{}" viewBox="0 0 {} {}" preserveAspectRatio="none" overflow="visible">{}</svg>'
        "{}{}</svg>",
        HEIGHT,
        summary,
        title,
        legend,
        TOP,
        PLOT_HEIGHT,
        len(labels),
        SCALE,
        plot,
        texts,
        _day_labels(labels, every=7 if len(labels) > 10 else 1),
    )


def _empty(*, title: str, labels: Sequence[str]) -> SafeString:
    """A chart with nothing to draw says so, in the same frame (the page keeps its rhythm)."""
    plot = format_html(
        '<line class="chart-axis" x1="0" y1="{0}" x2="{1}" y2="{0}"/>', SCALE, max(len(labels), 1)
    )
    message = format_html(
        '<text class="chart-empty" x="50%" y="{}" text-anchor="middle">No data yet</text>',
        TOP + PLOT_HEIGHT / 2,
    )
    summary = f"{title}: no data yet."
    if not labels:
        return format_html(
            '<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" width="100%" height="{}" role="img" '
            'aria-label="{}"><title>{}</title>{}</svg>',
            HEIGHT,
            summary,
            title,
            message,
        )
    return _frame(
        title=title, summary=summary, labels=labels, plot=plot, texts=message, legend=SafeString("")
    )


def _grid(top: float, step: float, fmt: Callable[[float], str], points: int) -> tuple[SafeString, SafeString]:
    """The horizontal lines (in the plot) and their values (above each line, at the left edge, drawn
    over the marks with a halo of the card's colour)."""
    lines, labels = [], []
    for k in range(round(top / step) + 1):
        tick = k * step
        y = SCALE - tick / top * SCALE
        lines.append(
            format_html(
                '<line class="{}" x1="0" y1="{}" x2="{}" y2="{}"/>',
                "chart-axis" if tick == 0 else "chart-grid",
                _number(y),
                points,
                _number(y),
            )
        )
        if tick:  # the baseline needs no "0"; it would sit on the first day's mark
            labels.append(
                format_html(
                    '<text class="chart-tick" x="0" y="{}">{}</text>',
                    _number(TOP + (1 - tick / top) * PLOT_HEIGHT - 4),
                    fmt(tick),
                )
            )
    return _join(lines), _join(labels)


def _targets(labels: Sequence[str], series: Sequence[Series], fmt: Callable[[float], str]) -> SafeString:
    """A transparent column per day, the height of the plot, whose <title> is the day's tooltip."""
    parts = []
    for i, label in enumerate(labels):
        values = ", ".join(
            f"{one.name} {fmt(one.values[i]) if one.values[i] is not None else 'no data'}" for one in series
        )
        parts.append(
            format_html(
                '<rect class="chart-target" x="{}" y="0" width="1" height="{}"><title>{}: {}</title></rect>',
                i,
                SCALE,
                label,
                values,
            )
        )
    return _join(parts)


def _prepare(series: Sequence[Series], labels: Sequence[str]) -> None:
    for one in series:
        if len(one.values) != len(labels):
            raise ValueError(f"{one.name}: {len(one.values)} values for {len(labels)} labels")


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = count,
    minimum_top: float = 4,
    whole: bool = True,
    steps: Sequence[float] | None = None,
) -> SafeString:
    """Bars, one a label; several series are stacked, the first at the bottom."""
    _prepare(series, labels)
    if not labels or all(value is None for one in series for value in one.values):
        return _empty(title=title, labels=labels)
    totals = [sum(one.values[i] or 0 for one in series) for i in range(len(labels))]
    top, step = nice_top(max(totals), minimum=minimum_top, whole=whole, steps=steps)
    grid, ticks = _grid(top, step, fmt, len(labels))
    bars = []
    for i in range(len(labels)):
        base = 0.0
        for one in series:
            value = one.values[i]
            if not value:
                continue
            height = value / top * SCALE
            bars.append(
                format_html(
                    '<rect class="chart-bar chart-tone-{}" x="{}" y="{}" width="0.7" height="{}"/>',
                    one.tone,
                    _number(i + 0.15),
                    _number(SCALE - base - height),
                    _number(height),
                )
            )
            base += height
    plot = _join([grid, _join(bars), _targets(labels, series, fmt)])
    return _frame(
        title=title,
        summary=_summary(title, labels, series, fmt),
        labels=labels,
        plot=plot,
        texts=ticks,
        legend=_legend(series),
    )


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = count,
    minimum_top: float = 4,
    whole: bool = True,
    steps: Sequence[float] | None = None,
) -> SafeString:
    """Lines through each label's value, broken where a value is None; a single series gets a soft area
    under its line. A value alone between gaps is a short dash."""
    _prepare(series, labels)
    known = [value for one in series for value in one.values if value is not None]
    if not labels or not known:
        return _empty(title=title, labels=labels)
    top, step = nice_top(max(known), minimum=minimum_top, whole=whole, steps=steps)
    grid, ticks = _grid(top, step, fmt, len(labels))
    marks = []
    for one in series:
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(one.values):
            if value is None:
                runs.append([])
            else:
                runs[-1].append((i + 0.5, SCALE - value / top * SCALE))
        for run in filter(None, runs):
            if len(run) == 1:
                (x, y) = run[0]
                run = [(x - 0.25, y), (x + 0.25, y)]
            points = " ".join(f"{_number(x)},{_number(y)}" for x, y in run)
            if len(series) == 1:
                area = f"{_number(run[0][0])},{SCALE} {points} {_number(run[-1][0])},{SCALE}"
                marks.append(
                    format_html('<polygon class="chart-area chart-tone-{}" points="{}"/>', one.tone, area)
                )
            marks.append(
                format_html('<polyline class="chart-line chart-tone-{}" points="{}"/>', one.tone, points)
            )
    plot = _join([grid, _join(marks), _targets(labels, series, fmt)])
    return _frame(
        title=title,
        summary=_summary(title, labels, series, fmt),
        labels=labels,
        plot=plot,
        texts=ticks,
        legend=_legend(series),
    )
