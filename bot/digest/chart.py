"""The digest chart: horizontal bars of progress per team (and per objective while the chart
stays readable), as PNG bytes. Pure: numbers in, bytes out; no file and no global figure state
(a `Figure` with the Agg canvas, never pyplot). matplotlib is imported on first use, so that
importing the digest content costs nothing when no chart is drawn.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

MAX_TEAM_BARS = 40  # more teams than this: the top levels only (root teams and departments)
MAX_OBJECTIVE_BARS = 30  # more objectives than this: no objective panel
LABEL_CHARS = 38
BAR_HEIGHT_IN = 0.28  # inches per bar
WIDTH_IN = 9.0
DPI = 100
LEFT_IN, TOP_IN, BOTTOM_IN, GAP_IN = 2.6, 0.4, 0.5, 0.6  # margins around the panels
COLOURS = {"ahead": "#2e7d32", "behind": "#f9a825", "far": "#c62828", "line": "#455a64"}


@dataclass(frozen=True)
class ChartBar:
    label: str  # a team's name, or an objective's key and title
    percent: int  # whole percent, 0..100
    change: int | None = None  # points since last week
    level: int = 0  # teams: depth under the root team(s)
    team: str = ""  # objectives: the team's name


@dataclass(frozen=True)
class ChartData:
    title: str
    axis: str  # the x axis' label
    teams: tuple[ChartBar, ...]
    objectives: tuple[ChartBar, ...]
    pace: int | None = None  # the expected percent now, drawn as a dashed line
    pace_label: str = ""
    objectives_title: str = ""


def shown_teams(chart: ChartData) -> tuple[ChartBar, ...]:
    """The team bars drawn: all of them, or the two top levels when there are too many."""
    if len(chart.teams) <= MAX_TEAM_BARS:
        return chart.teams
    top = tuple(bar for bar in chart.teams if bar.level <= 1)
    return top[:MAX_TEAM_BARS]


def shown_objectives(chart: ChartData) -> tuple[ChartBar, ...]:
    return chart.objectives if len(chart.objectives) <= MAX_OBJECTIVE_BARS else ()


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def _colour(percent: int, pace: int | None) -> str:
    if pace is None or percent >= pace:
        return COLOURS["ahead"]
    return COLOURS["far"] if percent < pace - 25 else COLOURS["behind"]


def _panel(ax, bars: tuple[ChartBar, ...], chart: ChartData, title: str, indent: bool) -> None:
    labels = [("  " * bar.level if indent else "") + _label(bar.label) for bar in bars]
    positions = list(range(len(bars)))
    values = [max(0, min(100, bar.percent)) for bar in bars]
    ax.barh(positions, values, color=[_colour(v, chart.pace) for v in values], height=0.7)
    for y, bar, value in zip(positions, bars, values, strict=True):
        note = f"{bar.percent}%"
        if bar.change:
            note += f" ({bar.change:+d})"
        ax.text(min(value, 100) + 1, y, note, va="center", fontsize=8)
    ax.set_yticks(positions, labels, fontsize=8)
    ax.invert_yaxis()  # file order from the top
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.tick_params(axis="x", labelsize=8)
    if chart.pace is not None:
        ax.axvline(chart.pace, color=COLOURS["line"], linestyle="--", linewidth=1)
        title = f"{title}   (- - {chart.pace_label})" if chart.pace_label else title
    ax.set_title(title, fontsize=10, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def chart_png(chart: ChartData) -> bytes:
    """The chart as PNG bytes: progress per team, then per objective when they fit."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    teams, objectives = shown_teams(chart), shown_objectives(chart)
    panels = [(teams, chart.title, True)]
    if objectives:
        panels.append((objectives, chart.objectives_title, False))
    heights = [max(len(bars), 1) + 1 for bars, _, _ in panels]
    height = BAR_HEIGHT_IN * sum(heights) + GAP_IN * (len(panels) - 1) + TOP_IN + BOTTOM_IN
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    canvas = FigureCanvasAgg(fig)
    # fixed margins (in inches) instead of a layout pass: drawing text twice is the slow part
    grid = fig.add_gridspec(
        len(panels),
        1,
        height_ratios=heights,
        left=LEFT_IN / WIDTH_IN,
        right=1 - 0.2 / WIDTH_IN,
        top=1 - TOP_IN / height,
        bottom=BOTTOM_IN / height,
        hspace=GAP_IN / (BAR_HEIGHT_IN * sum(heights) / len(panels)),
    )
    for n, (bars, title, indent) in enumerate(panels):
        ax = fig.add_subplot(grid[n])
        _panel(ax, bars, chart, title, indent)
        if n == len(panels) - 1:
            ax.set_xlabel(chart.axis, fontsize=8)
    out = io.BytesIO()
    canvas.print_png(out)
    return out.getvalue()
