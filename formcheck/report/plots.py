"""Small inline-SVG charts made on the server: lines over time and tempo bars. No JavaScript.

Each chart is a self-contained ``<svg>`` with a ``viewBox`` (it scales to the page width), a
``<title>`` for screen readers and a legend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

CHART_WIDTH_PX = 720
CHART_HEIGHT_PX = 280
MARGIN_LEFT_PX = 56
MARGIN_RIGHT_PX = 16
MARGIN_TOP_PX = 34
MARGIN_BOTTOM_PX = 40
TARGET_TICKS = 6
MAX_POINTS_PER_SERIES = 1500  # longer series are thinned (a chart is an overview)
FONT_PX = 12
LEGEND_SWATCH_PX = 14
LEGEND_GAP_PX = 16
CHAR_WIDTH_PX = 6.6  # rough width of one legend character at FONT_PX
BAND_FILL = "#eef3fb"
GRID_STROKE = "#e2e2e2"
AXIS_STROKE = "#888"
TEXT_FILL = "#333"
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
PHASE_COLORS = {"down": "#1f77b4", "pause": "#9aa5b1", "up": "#2ca02c"}
TARGET_STROKE = "#111"
TEMPO_HEADROOM = 1.15  # room above the tallest bar for the legend
MARKER_MERGE_S = 0.3  # markers closer than this share one line and one label


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    t_s: F64
    values: F64
    color: str = PALETTE[0]


@dataclass(frozen=True, slots=True)
class Band:
    """A shaded time span (a rep) with a label at its top."""

    x0: float
    x1: float
    label: str
    highlight: bool = False


@dataclass(frozen=True, slots=True)
class Marker:
    """A vertical line at one time (a finding)."""

    x: float
    label: str
    color: str = "#d62728"


@dataclass(frozen=True, slots=True)
class HLine:
    y: float
    label: str
    color: str = "#555"


def nice_ticks(lo: float, hi: float, target: int = TARGET_TICKS) -> list[float]:
    """Round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0]
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, target)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < hi:
        ticks.append(round(value, 10))
    return ticks


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:g}"


class _Frame:
    """Maps data to SVG coordinates inside the plot area."""

    def __init__(self, x_ticks: Sequence[float], y_ticks: Sequence[float]) -> None:
        self.x0, self.x1 = x_ticks[0], x_ticks[-1]
        self.y0, self.y1 = y_ticks[0], y_ticks[-1]
        self.left = MARGIN_LEFT_PX
        self.right = CHART_WIDTH_PX - MARGIN_RIGHT_PX
        self.top = MARGIN_TOP_PX
        self.bottom = CHART_HEIGHT_PX - MARGIN_BOTTOM_PX

    def x(self, value: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (value - self.x0) / span * (self.right - self.left)

    def y(self, value: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return self.bottom - (value - self.y0) / span * (self.bottom - self.top)


def _open(title: str, description: str) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {CHART_WIDTH_PX} {CHART_HEIGHT_PX}" '
        f'role="img" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" '
        f'font-size="{FONT_PX}">',
        f"<title>{escape(title)}</title><desc>{escape(description)}</desc>",
    ]


def _axes(
    frame: _Frame, x_ticks: Sequence[float], y_ticks: Sequence[float], x_label: str, y_label: str
) -> list[str]:
    out = []
    for t in y_ticks:
        y = frame.y(t)
        out.append(
            f'<line x1="{frame.left}" x2="{frame.right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID_STROKE}"/>'
        )
        out.append(
            f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'fill="{TEXT_FILL}">{_fmt(t)}</text>'
        )
    for t in x_ticks:
        x = frame.x(t)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.bottom}" '
            f'y2="{frame.bottom + 4}" stroke="{AXIS_STROKE}"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{frame.bottom + 17}" text-anchor="middle" '
            f'fill="{TEXT_FILL}">{_fmt(t)}</text>'
        )
    out.append(
        f'<line x1="{frame.left}" x2="{frame.right}" y1="{frame.bottom}" '
        f'y2="{frame.bottom}" stroke="{AXIS_STROKE}"/>'
    )
    out.append(
        f'<text x="{(frame.left + frame.right) / 2:.1f}" y="{CHART_HEIGHT_PX - 6}" '
        f'text-anchor="middle" fill="{TEXT_FILL}">{escape(x_label)}</text>'
    )
    mid_y = (frame.top + frame.bottom) / 2
    out.append(
        f'<text transform="translate(14 {mid_y:.1f}) rotate(-90)" '
        f'text-anchor="middle" fill="{TEXT_FILL}">{escape(y_label)}</text>'
    )
    return out


def _legend(items: Sequence[tuple[str, str, bool]]) -> list[str]:
    """Legend along the top: (label, colour, dashed)."""
    out = []
    x = float(MARGIN_LEFT_PX)
    y = MARGIN_TOP_PX - 16
    for label, color, dashed in items:
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        out.append(
            f'<line x1="{x:.1f}" x2="{x + LEGEND_SWATCH_PX:.1f}" y1="{y}" y2="{y}" '
            f'stroke="{color}" stroke-width="3"{dash}/>'
        )
        out.append(
            f'<text x="{x + LEGEND_SWATCH_PX + 4:.1f}" y="{y + 4}" '
            f'fill="{TEXT_FILL}">{escape(label)}</text>'
        )
        x += LEGEND_SWATCH_PX + 4 + CHAR_WIDTH_PX * len(label) + LEGEND_GAP_PX
    return out


def _paths(frame: _Frame, series: Series) -> list[str]:
    """Polylines of a series, broken at NaN gaps."""
    t, v = np.asarray(series.t_s, dtype=float), np.asarray(series.values, dtype=float)
    step = max(1, math.ceil(len(t) / MAX_POINTS_PER_SERIES))
    t, v = t[::step], v[::step]
    out = []
    run: list[str] = []
    for ti, vi in zip(t, v, strict=True):
        if math.isfinite(ti) and math.isfinite(vi):
            run.append(f"{frame.x(ti):.1f},{frame.y(vi):.1f}")
            continue
        if len(run) > 1:
            out.append(run)
        run = []
    if len(run) > 1:
        out.append(run)
    return [
        f'<polyline fill="none" stroke="{series.color}" stroke-width="2" '
        f'stroke-linejoin="round" points="{" ".join(points)}"/>'
        for points in out
    ]


def merge_markers(markers: Sequence[Marker]) -> list[Marker]:
    """Markers closer than MARKER_MERGE_S in time become one, their distinct labels joined."""
    merged: list[Marker] = []
    for m in sorted(markers, key=lambda m: m.x):
        if merged and m.x - merged[-1].x < MARKER_MERGE_S:
            last = merged[-1]
            if m.label not in last.label.split(", "):
                merged[-1] = Marker(last.x, f"{last.label}, {m.label}", last.color)
            continue
        merged.append(m)
    return merged


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    y_label: str,
    x_label: str = "time (s)",
    bands: Sequence[Band] = (),
    markers: Sequence[Marker] = (),
    hlines: Sequence[HLine] = (),
) -> str:
    """Lines over time with shaded bands (reps), vertical markers and horizontal references."""
    xs = [np.asarray(s.t_s, dtype=float) for s in series]
    ys = [np.asarray(s.values, dtype=float) for s in series] + [np.array([h.y for h in hlines])]
    all_x = np.concatenate([*xs, np.array([0.0])])
    all_y = np.concatenate(ys) if ys else np.array([0.0])
    all_x, all_y = all_x[np.isfinite(all_x)], all_y[np.isfinite(all_y)]
    if all_y.size == 0:
        all_y = np.array([0.0, 1.0])
    x_ticks = nice_ticks(float(all_x.min()), float(all_x.max()))
    y_ticks = nice_ticks(float(all_y.min()), float(all_y.max()))
    frame = _Frame(x_ticks, y_ticks)
    out = _open(title, f"{y_label} against {x_label}")
    for band in bands:
        x0, x1 = frame.x(band.x0), frame.x(band.x1)
        fill = "#fde8e8" if band.highlight else BAND_FILL
        out.append(
            f'<rect x="{x0:.1f}" y="{frame.top}" width="{max(0.0, x1 - x0):.1f}" '
            f'height="{frame.bottom - frame.top}" fill="{fill}"/>'
        )
        out.append(
            f'<text x="{(x0 + x1) / 2:.1f}" y="{frame.top + 13}" text-anchor="middle" '
            f'fill="{TEXT_FILL}">{escape(band.label)}</text>'
        )
    out += _axes(frame, x_ticks, y_ticks, x_label, y_label)
    for h in hlines:
        y = frame.y(h.y)
        out.append(
            f'<line x1="{frame.left}" x2="{frame.right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{h.color}" stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
    for s in series:
        out += _paths(frame, s)
    for m in merge_markers(markers):
        x = frame.x(m.x)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top}" y2="{frame.bottom}" '
            f'stroke="{m.color}" stroke-width="1.5" stroke-dasharray="2 3"/>'
        )
        out.append(
            f'<text x="{x + 3:.1f}" y="{frame.bottom - 6}" fill="{m.color}">'
            f"{escape(m.label)}</text>"
        )
    legend = [(s.label, s.color, False) for s in series]
    legend += [(h.label, h.color, True) for h in hlines]
    out += _legend(legend)
    out.append("</svg>")
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class RepTempo:
    rep: int
    down_s: float
    pause_s: float
    up_s: float


def tempo_chart(reps: Sequence[RepTempo], target: RepTempo | None = None) -> str:
    """Grouped bars per rep (down, pause, up seconds) with the prescribed tempo as dashes."""
    phases = ("down", "pause", "up")
    values = [v for r in reps for v in (r.down_s, r.pause_s, r.up_s) if math.isfinite(v)]
    if target is not None:
        values += [target.down_s, target.pause_s, target.up_s]
    y_ticks = nice_ticks(0.0, max(values, default=1.0) * TEMPO_HEADROOM)
    x_ticks = [0.0, float(max(1, len(reps)))]
    frame = _Frame(x_ticks, y_ticks)
    title = "Tempo per rep" + (" against the prescription" if target else "")
    out = _open(title, "seconds spent going down, pausing and coming up in each rep")
    out += _axes(frame, [], y_ticks, "rep", "seconds")
    slot = (frame.right - frame.left) / max(1, len(reps))
    bar = slot * 0.8 / len(phases)
    for i, rep in enumerate(reps):
        x_slot = frame.left + i * slot + slot * 0.1
        for k, (name, value) in enumerate(
            zip(phases, (rep.down_s, rep.pause_s, rep.up_s), strict=True)
        ):
            if not math.isfinite(value):
                continue
            x = x_slot + k * bar
            y = frame.y(value)
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.9:.1f}" '
                f'height="{max(0.0, frame.bottom - y):.1f}" fill="{PHASE_COLORS[name]}">'
                f"<title>rep {rep.rep} {name}: {value:.2f} s</title></rect>"
            )
            if target is not None:
                wanted = (target.down_s, target.pause_s, target.up_s)[k]
                ty = frame.y(wanted)
                out.append(
                    f'<line x1="{x - 1:.1f}" x2="{x + bar * 0.9 + 1:.1f}" y1="{ty:.1f}" '
                    f'y2="{ty:.1f}" stroke="{TARGET_STROKE}" stroke-width="2" '
                    f'stroke-dasharray="4 2"/>'
                )
        out.append(
            f'<text x="{x_slot + slot * 0.4:.1f}" y="{frame.bottom + 17}" '
            f'text-anchor="middle" fill="{TEXT_FILL}">{rep.rep}</text>'
        )
    legend = [(f"{name} (s)", PHASE_COLORS[name], False) for name in phases]
    if target is not None:
        legend.append(("prescribed", TARGET_STROKE, True))
    out += _legend(legend)
    out.append("</svg>")
    return "\n".join(out)
