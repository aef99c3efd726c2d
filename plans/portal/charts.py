"""Charts drawn on the server as SVG: no script, so they pass the strict CSP.

Pure functions over numbers, no session. Every chart comes with the table it was
drawn from (`Chart.columns`, `Chart.rows`) for the page to show beside it, and
every mark carries its figure in `data-*` attributes so a test can check the
drawing against the data. Styling is by presentation attributes and classes,
never a `style` attribute (the CSP refuses inline style).

The viewBox is 360 units wide with 10-unit text: drawn at a phone's 390 CSS px
the text stays at its designed size; on paper and wide screens it scales up.

XmR charts follow NHS England's "Making Data Count": limits at the mean plus or
minus 2.66 times the mean moving range, and special cause marked where a point
lies outside the limits, a run of SHIFT_RUN points lies on one side of the
mean, a run of TREND_RUN points keeps rising or falling, or two of three points
lie beyond two sigma on the same side (sigma = mean moving range / 1.128).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH = 360
HEIGHT = 232
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 14, 44
PLOT_W = WIDTH - LEFT - RIGHT
PLOT_H = HEIGHT - TOP - BOTTOM

XMR_FACTOR = 2.66
SIGMA_FACTOR = 1.128  # d2 for moving ranges of two
SHIFT_RUN = 7
TREND_RUN = 7

# Colour-blind-safe (Okabe-Ito) fills; each series also differs in the table.
SERIES_FILLS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")


@dataclass
class Chart:
    """An SVG drawing and the table of the numbers it shows."""

    title: str
    svg: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


def month_label(month: dt.date) -> str:
    """Return "Jan 2026"."""
    return month.strftime("%b %Y")


def _short(month: dt.date) -> str:
    return month.strftime("%b %y")


def nice_max(value: float) -> float:
    """Return a round axis maximum at or above `value` (1, 2, 2.5, 5 x 10^n)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _open(title: str, desc: str, kind: str, extra: str = "") -> list[str]:
    slug = escape(title.lower().replace(" ", "-"))[:40]
    return [
        f'<svg class="chart chart-{kind}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="t-{slug} d-{slug}" '
        f'xmlns="http://www.w3.org/2000/svg" data-kind="{kind}"{extra}>',
        f'<title id="t-{slug}">{escape(title)}</title>',
        f'<desc id="d-{slug}">{escape(desc)}</desc>',
    ]


def _axes(
    parts: list[str], months: Sequence[dt.date], y_max: float, y_min: float = 0
) -> None:
    span = y_max - y_min or 1.0
    for i in range(5):
        value = y_min + span * i / 4
        y = TOP + PLOT_H - PLOT_H * i / 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="currentColor" stroke-opacity="0.15"/>'
        )
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 3.5:.1f}" text-anchor="end" '
            f'font-size="10" fill="currentColor">{_fmt(value)}</text>'
        )
    every = max(1, math.ceil(len(months) / 6))
    band = PLOT_W / max(len(months), 1)
    for i, month in enumerate(months):
        if i % every:
            continue
        x = LEFT + band * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 13}" text-anchor="middle" '
            f'font-size="10" fill="currentColor">{_short(month)}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + PLOT_H}" '
        f'y2="{TOP + PLOT_H}" stroke="currentColor"/>'
    )


def _marker(parts: list[str], months: Sequence[dt.date], start: dt.date | None) -> None:
    if start is None or not months:
        return
    first = start.replace(day=1)
    if first < months[0] or first > months[-1]:
        return
    band = PLOT_W / len(months)
    x = LEFT + band * months.index(first)
    parts.append(
        f'<line class="marker" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" '
        f'y2="{TOP + PLOT_H}" stroke="currentColor" stroke-width="1.5" '
        f'stroke-dasharray="4 3" data-month="{first:%Y-%m}"/>'
    )
    anchor = "start" if x < WIDTH / 2 else "end"
    dx = 3 if anchor == "start" else -3
    parts.append(
        f'<text x="{x + dx:.1f}" y="{TOP + 9}" text-anchor="{anchor}" font-size="10" '
        f'fill="currentColor">Mentoring began</text>'
    )


def stacked_bars(
    title: str,
    months: Sequence[dt.date],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    marker: dt.date | None = None,
) -> Chart:
    """Draw monthly bars stacked by series (s.58), with the mentoring start marked."""
    totals = [sum(values[i] for _n, values in series) for i in range(len(months))]
    y_max = nice_max(max(totals, default=0))
    scale = PLOT_H / y_max
    parts = _open(
        title,
        f"Stacked monthly bars of {', '.join(n for n, _v in series)}; "
        "the table beside the chart gives every figure.",
        "bars",
        f' data-y-max="{_fmt(y_max)}" data-plot-height="{PLOT_H}"',
    )
    _axes(parts, months, y_max)
    band = PLOT_W / max(len(months), 1)
    width = band * 0.7
    for i, month in enumerate(months):
        x = LEFT + band * i + (band - width) / 2
        base: float = TOP + PLOT_H
        for s, (name, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            height = value * scale
            base -= height
            parts.append(
                f'<rect class="bar" x="{x:.2f}" y="{base:.2f}" width="{width:.2f}" '
                f'height="{height:.2f}" fill="{SERIES_FILLS[s % len(SERIES_FILLS)]}" '
                f'data-month="{month:%Y-%m}" data-series="{escape(name)}" '
                f'data-value="{value}"><title>{escape(name)}, '
                f"{month_label(month)}: {value}</title></rect>"
            )
    _marker(parts, months, marker)
    # the legend: two columns of two rows under the month labels
    for s, (name, _values) in enumerate(series):
        x = LEFT + (s % 2) * PLOT_W / 2
        y = HEIGHT - 16 + 11 * (s // 2)
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 8:.1f}" width="8" height="8" '
            f'fill="{SERIES_FILLS[s % len(SERIES_FILLS)]}"/>'
            f'<text x="{x + 11:.1f}" y="{y:.1f}" font-size="10" '
            f'fill="currentColor">{escape(name)}</text>'
        )
    parts.append("</svg>")
    columns = ["Month", *(name for name, _v in series), "Total"]
    rows = [
        [month_label(month), *(str(values[i]) for _n, values in series), str(totals[i])]
        for i, month in enumerate(months)
    ]
    return Chart(title, "".join(parts), columns, rows)


def line(
    title: str,
    months: Sequence[dt.date],
    values: Sequence[float],
    *,
    unit: str = "£",
    marker: dt.date | None = None,
) -> Chart:
    """Draw one monthly line (the cost line)."""
    y_max = nice_max(max(values, default=0))
    parts = _open(
        title,
        "A monthly line; the table beside the chart gives every figure.",
        "line",
        f' data-y-max="{_fmt(y_max)}" data-plot-height="{PLOT_H}"',
    )
    _axes(parts, months, y_max)
    band = PLOT_W / max(len(months), 1)
    points = []
    for i, (month, value) in enumerate(zip(months, values, strict=True)):
        x = LEFT + band * (i + 0.5)
        y = TOP + PLOT_H - float(value) / y_max * PLOT_H
        points.append((x, y, month, value))
    if points:
        path = " ".join(f"{x:.2f},{y:.2f}" for x, y, _m, _v in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{SERIES_FILLS[0]}" '
            f'stroke-width="2"/>'
        )
    for x, y, month, value in points:
        parts.append(
            f'<circle class="point" cx="{x:.2f}" cy="{y:.2f}" r="2.5" '
            f'fill="{SERIES_FILLS[0]}" data-month="{month:%Y-%m}" '
            f'data-value="{_fmt(float(value))}"><title>{month_label(month)}: '
            f"{unit}{float(value):,.0f}</title></circle>"
        )
    _marker(parts, months, marker)
    parts.append("</svg>")
    rows = [
        [month_label(m), f"{unit}{float(v):,.0f}"]
        for m, v in zip(months, values, strict=True)
    ]
    return Chart(title, "".join(parts), ["Month", "Cost"], rows)


@dataclass(frozen=True)
class XmR:
    """The centre line, limits and special-cause signals of an XmR chart."""

    mean: float
    mean_moving_range: float
    upper: float
    lower: float
    # index of each point -> the rules it breaks
    signals: dict[int, tuple[str, ...]]


RULE_LABELS = {
    "outside": "outside the limits",
    "shift": f"run of {SHIFT_RUN} on one side of the mean",
    "trend": f"{TREND_RUN} rising or falling in a row",
    "two_of_three": "two of three beyond two sigma",
}


def xmr(values: Sequence[float]) -> XmR:
    """Compute an XmR chart's limits and mark its special-cause points."""
    n = len(values)
    mean = sum(values) / n if n else 0.0
    ranges = [abs(values[i] - values[i - 1]) for i in range(1, n)]
    mr = sum(ranges) / len(ranges) if ranges else 0.0
    upper = mean + XMR_FACTOR * mr
    lower = mean - XMR_FACTOR * mr
    sigma = mr / SIGMA_FACTOR
    marks: dict[int, set[str]] = {}

    def mark(i: int, rule: str) -> None:
        marks.setdefault(i, set()).add(rule)

    if mr > 0:
        for i, value in enumerate(values):
            if value > upper or value < lower:
                mark(i, "outside")
    # shift: SHIFT_RUN or more on one side (points on the mean break a run)
    run_side, run_start = 0, 0
    for i, value in enumerate([*values, mean]):
        side = (value > mean) - (value < mean)
        if side != run_side or i == n:
            if run_side and i - run_start >= SHIFT_RUN:
                for j in range(run_start, i):
                    mark(j, "shift")
            run_side, run_start = side, i
    # trend: TREND_RUN or more points each higher (or lower) than the one before
    direction, start = 0, 0
    for i in range(1, n + 1):
        step = (
            0 if i == n else (values[i] > values[i - 1]) - (values[i] < values[i - 1])
        )
        if step != direction or step == 0:
            if direction and i - start >= TREND_RUN:
                for j in range(start, i):
                    mark(j, "trend")
            direction, start = step, i - 1
    # two of three beyond two sigma, on the same side
    if sigma > 0:
        for i in range(2, n):
            window = range(i - 2, i + 1)
            for sign in (1, -1):
                beyond = [j for j in window if sign * (values[j] - mean) > 2 * sigma]
                if len(beyond) >= 2:
                    for j in beyond:
                        mark(j, "two_of_three")
    signals = {i: tuple(sorted(rules)) for i, rules in sorted(marks.items())}
    return XmR(mean, mr, upper, lower, signals)


def xmr_chart(title: str, months: Sequence[dt.date], values: Sequence[float]) -> Chart:
    """Draw an XmR chart: points, mean, limits, special-cause points marked."""
    limits = xmr(values)
    lower_drawn = max(0.0, limits.lower)  # counts cannot fall below zero
    y_max = nice_max(max([*values, limits.upper, 0]))
    parts = _open(
        title,
        f"XmR chart: mean {_fmt(limits.mean)}, upper limit {_fmt(limits.upper)}, "
        f"lower limit {_fmt(lower_drawn)}; special-cause points are drawn as "
        "squares and listed in the table.",
        "xmr",
        f' data-y-max="{_fmt(y_max)}" data-plot-height="{PLOT_H}" '
        f'data-mean="{_fmt(limits.mean)}" data-upper="{_fmt(limits.upper)}" '
        f'data-lower="{_fmt(lower_drawn)}"',
    )
    _axes(parts, months, y_max)

    def y_of(value: float) -> float:
        return TOP + PLOT_H - value / y_max * PLOT_H

    for name, value, dash in (
        ("mean", limits.mean, ""),
        ("upper", limits.upper, ' stroke-dasharray="5 3"'),
        ("lower", lower_drawn, ' stroke-dasharray="5 3"'),
    ):
        y = y_of(value)
        parts.append(
            f'<line class="limit limit-{name}" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{y:.2f}" y2="{y:.2f}" stroke="currentColor" '
            f'stroke-opacity="0.7"{dash} data-value="{_fmt(value)}"/>'
        )
    band = PLOT_W / max(len(months), 1)
    coords = [(LEFT + band * (i + 0.5), y_of(float(v))) for i, v in enumerate(values)]
    if coords:
        parts.append(
            '<polyline points="'
            + " ".join(f"{x:.2f},{y:.2f}" for x, y in coords)
            + f'" fill="none" stroke="{SERIES_FILLS[4]}" stroke-width="1.5"/>'
        )
    for i, (month, value) in enumerate(zip(months, values, strict=True)):
        x, y = coords[i]
        rules = limits.signals.get(i, ())
        data = (
            f'data-month="{month:%Y-%m}" data-value="{_fmt(float(value))}" '
            f'data-rules="{" ".join(rules)}"'
        )
        tip = (
            f"<title>{month_label(month)}: {_fmt(float(value))}"
            + (
                f" (special cause: {', '.join(RULE_LABELS[r] for r in rules)})"
                if rules
                else ""
            )
            + "</title>"
        )
        if rules:
            parts.append(
                f'<rect class="point special" x="{x - 3.5:.2f}" y="{y - 3.5:.2f}" '
                f'width="7" height="7" fill="{SERIES_FILLS[5]}" {data}>{tip}</rect>'
            )
        else:
            parts.append(
                f'<circle class="point" cx="{x:.2f}" cy="{y:.2f}" r="2.5" '
                f'fill="{SERIES_FILLS[4]}" {data}>{tip}</circle>'
            )
    parts.append("</svg>")
    rows = [
        [
            month_label(month),
            _fmt(float(value)),
            ", ".join(RULE_LABELS[r] for r in limits.signals.get(i, ())) or "-",
        ]
        for i, (month, value) in enumerate(zip(months, values, strict=True))
    ]
    notes = [
        f"Mean {_fmt(limits.mean)}; "
        f"mean moving range {_fmt(limits.mean_moving_range)}; "
        f"limits {_fmt(lower_drawn)} to {_fmt(limits.upper)} "
        f"(mean ± {XMR_FACTOR} × mean moving range)."
    ]
    return Chart(
        title, "".join(parts), ["Month", "Value", "Special cause"], rows, notes
    )


def score_bars(
    title: str, labels: Sequence[str], scores: Sequence[int], top: int
) -> Chart:
    """Draw horizontal bars of scores (a self-assessment), 0 to `top`."""
    parts = _open(
        title,
        "Bars of each measure's score; the table gives each.",
        "scores",
        f' data-y-max="{top}"',
    )
    row_h = PLOT_H / max(len(labels), 1)
    left = 150
    width = WIDTH - left - RIGHT
    for i, (label, score) in enumerate(zip(labels, scores, strict=True)):
        y = TOP + row_h * i
        parts.append(
            f'<text x="{left - 4}" y="{y + row_h * 0.7:.1f}" text-anchor="end" '
            f'font-size="9" fill="currentColor">{escape(label[:30])}</text>'
            f'<rect class="bar" x="{left}" y="{y + 1:.1f}" '
            f'width="{width * score / top:.2f}" height="{row_h - 2:.1f}" '
            f'fill="{SERIES_FILLS[0]}" data-series="{escape(label)}" '
            f'data-value="{score}"/>'
        )
    parts.append("</svg>")
    rows = [
        [label, f"{score} of {top}"]
        for label, score in zip(labels, scores, strict=True)
    ]
    return Chart(title, "".join(parts), ["Measure", "Score"], rows)
