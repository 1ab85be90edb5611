"""The self-contained HTML report: no scripts, no external files, readable on a phone.

Everything is inline: CSS, SVG charts (formcheck.report.plots) and key frames as JPEG data
URIs. Built from the typed report (report.json), measures.csv's series and the key frames, so the
command line and the server produce the same page.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from formcheck.kinematics import names
from formcheck.kinematics.calibration import ASSUMED_ADULT_HEIGHT_CM
from formcheck.report.diagram import camera_diagram_svg
from formcheck.report.keyframes import KeyFrame
from formcheck.report.model import FindingBlock, RepBlock, Report
from formcheck.report.plots import Band, HLine, Marker, RepTempo, Series, line_chart, tempo_chart
from formcheck.report.series import MeasureSeries
from formcheck.report.verdict import Verdict, build_verdict
from formcheck.report.words import NOT_JUDGED, and_list, fault_name

REPORT_HTML = "report.html"
DEFAULT_DOWNLOADS = {
    "Annotated video (MP4)": "annotated.mp4",
    "Report data (report.json)": "report.json",
    "Measures per frame (measures.csv)": "measures.csv",
}
ANGLE_SERIES = (
    (names.HIP_FLEXION_DEG, "hip flexion", "#1f77b4"),
    (names.KNEE_FLEXION_DEG, "knee flexion", "#2ca02c"),
    (names.TRUNK_INCLINATION_DEG, "trunk from vertical", "#9467bd"),
)
NOISE_FLOOR_SHOWN = (
    names.HIP_FLEXION_DEG,
    names.KNEE_FLEXION_DEG,
    names.TRUNK_INCLINATION_DEG,
    names.BACK_BULGE_MM,
    names.SPINE_CHORD_MM,
    names.HEAD_FORWARD_MM,
)
SPINE_CODE_PREFIXES = ("spine", "back")
MAX_LONG_BAND_LABELS = 10  # with more reps the charts label each band with its number only
UNIT_SUFFIXES = {"_deg": "°", "_mm": "mm", "_ms": "ms", "_s": "s", "_pct": "%", "_px": "px"}
SCALE_SOURCES = {
    "stated_height": "the body height you gave",
    "world_landmarks": "the pose model's 3-D estimate (no height given)",
    "assumed_height": "an average adult's height (the pose model read an implausible height; "
    "give your height for millimetres true to you)",
    "none": "none (millimetres unavailable)",
}
SEVERITY_LABELS = {"safety": "Safety", "warning": "Form", "info": "Note"}
SCORE_NOTE = (
    "Score: 100 points less each fault's points in that rep (a rounded or over-arched back "
    "costs the most), for comparing reps with each other; it is not a grade."
)
# A wide table or chart scrolls sideways on a phone; focusable so a keyboard can scroll it.
SCROLL = '<div class="scroll" tabindex="0">'
AT_START_TOLERANCE_S = 0.1  # a rep this close to the first frame started with the recording

CSS = """
:root{--fg:#1b1b1b;--muted:#5b6470;--line:#dde1e6;--safety:#c62828;--warning:#9a4d00;
--info:#1f5fbf;--ok:#2e7d32;--bg:#fff;--card:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg)}
main{max-width:960px;margin:0 auto;padding:16px}
h1{font-size:1.5rem;margin:.2em 0}h2{font-size:1.2rem;margin:1.6em 0 .5em;
border-bottom:1px solid var(--line);padding-bottom:.2em}
.muted{color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px}
.card{background:var(--card);border-radius:8px;padding:10px 12px}
.card b{display:block;font-size:1.4rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;margin:0}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th:first-child,td:first-child,td.text,th.text{text-align:left}
td.text{white-space:normal}
tr.frayed td{background:#fff4f4}
ul.findings{list-style:none;padding:0;margin:0}
ul.findings li{border-left:5px solid var(--info);background:var(--card);margin:8px 0;
padding:8px 12px;border-radius:4px}
ul.findings li.safety{border-color:var(--safety)}ul.findings li.warning{border-color:var(--warning)}
.badge{display:inline-block;font-size:.75rem;font-weight:600;text-transform:uppercase;
letter-spacing:.04em;margin-right:6px}
.safety .badge{color:var(--safety)}.warning .badge{color:var(--warning)}
.info .badge{color:var(--info)}
.ok{color:var(--ok)}.bad{color:var(--safety)}
svg.chart{width:100%;min-width:540px;height:auto;display:block;margin:8px 0 16px}
.frames{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.frames figure{flex:0 1 auto;max-width:100%}
figure{margin:0}figure img{height:auto;border-radius:6px;display:block}
figcaption{font-size:.9rem;color:var(--muted);margin-top:4px}
ul.downloads{padding-left:1.2em}
.verdict{border-radius:10px;padding:12px 16px;background:var(--card);
border-left:8px solid var(--muted)}
.verdict.good{border-color:var(--ok)}.verdict.faults{border-color:var(--warning)}
.verdict.safety{border-color:var(--safety)}
.verdict h2{border:0;margin:.1em 0 .3em;font-size:1.35rem}
.verdict p{margin:.35em 0}
ul.found{list-style:none;padding:0;margin:.6em 0}
ul.found li{background:#fff;border-radius:6px;margin:8px 0;padding:8px 12px;
border-left:5px solid var(--info)}
ul.found li.safety{border-color:var(--safety)}ul.found li.warning{border-color:var(--warning)}
ul.found .measured{font-size:.9rem;color:var(--muted)}
.filming{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin-top:.6em}
.filming svg{max-width:100%;height:auto;color:var(--fg)}
h2.details{margin-top:2.4em;font-size:1.3rem}
figure img{max-width:100%}
@media (max-width:520px){main{padding:10px}body{font-size:15px}th,td{padding:5px 6px}}
"""


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What the page needs besides report.json."""

    series: MeasureSeries
    keyframes: Sequence[KeyFrame] = ()
    tempo_target_s: tuple[float, float, float] | None = None  # down, pause, up
    video_name: str = ""
    downloads: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_DOWNLOADS))


def _num(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _i(value: int | None) -> str:
    return "?" if value is None else str(value)


def _f(value: float | None, digits: int = 1, unit: str = "") -> str:
    number = _num(value)
    if number is None:
        return "–"
    text = f"{number:.{digits}f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("°", "%") else f"{text} {unit}"


def pretty(name: str) -> str:
    """``hip_hinge`` -> ``Hip hinge``; ``spine_rounded`` -> ``Spine rounded``."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def measure_label(name: str) -> tuple[str, str]:
    """(words, unit) for a measure name with its unit suffix."""
    for suffix, unit in UNIT_SUFFIXES.items():
        if name.endswith(suffix):
            return name[: -len(suffix)].replace("_", " "), unit
    return name.replace("_", " "), ""


def render_report_html(report: Report, context: ReportContext) -> str:
    exercise = report.exercise
    title = f"{pretty(exercise)} report" if exercise else "Movement report"
    verdict = build_verdict(report) if report.summary is not None else None
    sections = [
        _header(report, context, title),
        _verdict(verdict, report) if verdict is not None else "",
        _key_frames(context.keyframes, report),
        _plots(report, context),
        '<h2 class="details" id="details">Details for your physiotherapist</h2>',
        _cards(report),
        _analysed(report, context),
        _findings(report),
        _rep_table(report),
        _downloads(context.downloads),
    ]
    body = "\n".join(s for s in sections if s)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>\n{body}\n</main></body></html>\n"
    )


def write_report_html(path: Path, report: Report, context: ReportContext) -> Path:
    """Write the page atomically (a half-written report is never visible)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_report_html(report, context), encoding="utf-8")
    tmp.replace(path)
    return path


def _frayed_rep(report: Report) -> int | None:
    return report.summary.form_frays_at_rep if report.summary is not None else None


def _header(report: Report, context: ReportContext, title: str) -> str:
    name = context.video_name or Path(report.video.path or "").name
    return (
        f"<header><h1>{escape(title)}</h1>"
        f'<p class="muted">{escape(name)} · {_f(report.video.duration_s, 1, "s")}</p></header>'
    )


def _cards(report: Report) -> str:
    """The set in numbers, for the physiotherapist."""
    summary = report.summary
    cards = []
    if summary is not None:
        target = summary.target_reps
        reps = f"{summary.reps}" + (f" / {target}" if target else "")
        cards.append(("Reps counted", reps))
        cards.append(("Partial attempts", str(summary.attempts)))
    if summary is not None and summary.hold_s is not None:
        cards.append(("Held", _f(summary.hold_s, 1, "s")))
    cards.append(("Findings", str(len(report.findings))))
    frayed = _frayed_rep(report)
    if summary is not None:
        cards.append(("Form frayed", f"from rep {frayed}" if frayed else "no"))
    card_html = "".join(
        f'<div class="card"><span class="muted">{escape(k)}</span><b>{escape(v)}</b></div>'
        for k, v in cards
    )
    return f'<section class="cards" aria-label="the set in numbers">{card_html}</section>'


def _verdict(verdict: Verdict, report: Report) -> str:
    """What was counted, judged and found, in plain words: the first thing on the page."""
    parts = [
        f'<section class="verdict {verdict.tone.value}" id="verdict" aria-labelledby="vh">'
        f'<h2 id="vh">{escape(verdict.headline)}</h2>',
        f"<p><b>{escape(verdict.counted)}</b></p>",
    ]
    if verdict.form:
        parts.append(f"<p>{escape(verdict.form)}</p>")
    if verdict.findings:
        items = []
        for f in verdict.findings:
            label = SEVERITY_LABELS.get(f.severity.value, f.severity.value)
            items.append(
                f'<li class="{escape(f.severity.value)}" data-code="{escape(f.code)}">'
                f'<span class="badge">{escape(label)}</span><b>{escape(f.name)}</b> '
                f"{escape(f.where)}. {escape(f.explanation)}<br>{escape(f.advice)}<br>"
                f'<span class="measured">{escape(f.measured)}.</span></li>'
            )
        parts.append(f'<h3>What was found</h3><ul class="found">{"".join(items)}</ul>')
    # what filming got in the way of comes before the checks it kept from being judged
    if verdict.filming:
        tips = "".join(
            f'<li data-problem="{escape(t.problem.value)}"><b>{escape(t.text)}</b> '
            f"{escape(t.advice)}"
            + (
                f'<br><span class="muted">Not judged because of it: '
                f"{escape(and_list([c.lower() for c in t.checks]))}.</span>"
                if t.checks
                else ""
            )
            + "</li>"
            for t in verdict.filming
        )
        parts.append(
            f'<h3>Filming help</h3><div class="filming"><ul>{tips}</ul>'
            f"{camera_diagram_svg(report.exercise)}</div>"
        )
    if verdict.not_judged:
        items = [
            f"<li><b>{escape(u.name)}</b>{' ' + escape(u.where) if u.where else ''}: not "
            f"judged, because {escape(u.why)}."
            + (f'<br><span class="muted">{escape(u.advice)}</span>' if u.advice else "")
            + "</li>"
            for u in verdict.not_judged
        ]
        parts.append(f'<h3>Not judged</h3><ul class="not-judged">{"".join(items)}</ul>')
    if verdict.judged:
        parts.append(f'<p class="muted">{escape(verdict.judged)}</p>')
    if verdict.not_asked:
        parts.append(f'<p class="muted">{escape(verdict.not_asked)}</p>')
    parts.append(
        '<p class="muted">The evidence (key frames, charts) follows; the measures and every '
        'number are under <a href="#details">Details for your physiotherapist</a>.</p>'
    )
    return "".join(parts) + "</section>"


def _analysed(report: Report, context: ReportContext) -> str:
    video = report.video
    cal = report.calibration
    view = context.series.most_common("view")
    facing = context.series.most_common("facing")
    scale = cal.scale_source.value if cal is not None else "none"
    yaw = cal.baseline.get(names.CAMERA_YAW_FROM_SIDE_DEG) if cal is not None else None
    mm_per_px = cal.mm_per_px if cal is not None else None
    height_cm = (cal.stated_height_cm or cal.estimated_height_cm) if cal is not None else None
    if cal is not None and cal.scale_source.value == "assumed_height":
        height_cm = ASSUMED_ADULT_HEIGHT_CM
    facts = [
        ("Exercise", pretty(report.exercise or "none (measures only)")),
        (
            "Camera view",
            (view or "unknown")
            + (f", {_f(yaw, 0, '°')} off the side" if _num(yaw) is not None else ""),
        ),
        ("Person facing", facing or "unknown"),
        (
            "Scale from",
            SCALE_SOURCES.get(scale, scale)
            + (f" ({_f(mm_per_px, 2)} mm per pixel)" if mm_per_px else ""),
        ),
        ("Body height used", _f(height_cm, 0, "cm")),
        (
            "Video",
            f"{_i(video.width_px)}×{_i(video.height_px)} px, "
            f"{_f(video.fps, 1)} frames/s, {video.frames} frames",
        ),
        ("Person found in", f"{_f(100.0 * video.pose_rate, 1)}% of frames"),
    ]
    if cal is not None:
        start_s, end_s = cal.still_window_s
        facts.append(
            (
                "Standing baseline",
                f"{_f(start_s, 1)}–{_f(end_s, 1)} s"
                + (
                    ""
                    if cal.found_still
                    else " (no still moment found: the least moving second was used; "
                    "see Filming help)"
                ),
            )
        )
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    rows = []
    for key in NOISE_FLOOR_SHOWN:
        noise = report.noise_floor.get(key)
        if noise is not None:
            words, unit = measure_label(key)
            rows.append(f"<tr><td>{escape(words)}</td><td>{_f(noise, 2, unit)}</td></tr>")
    noise_html = ""
    if rows:
        noise_html = (
            '<h3>Noise floor</h3><p class="muted">The jitter of each measure while standing '
            "still; a cue fires only when a change is larger than both its threshold and this "
            f"floor.</p>{SCROLL}<table><tr><th>measure</th><th>noise (SD)</th></tr>"
            + "".join(rows)
            + "</table></div>"
        )
    return f'<section><h2>What was analysed</h2><dl class="facts">{dl}</dl>{noise_html}</section>'


def _fray_judged(report: Report) -> bool:
    """Whether the set was long enough to tell whether form frayed (the reference reps
    and at least two more)."""
    ref = report.reference
    first = len(ref.reps) if ref is not None else 0
    return report.summary is not None and report.summary.reps >= first + 2


def _compared_with(report: Report) -> str:
    ref = report.reference
    if ref is None:
        return ""
    if ref.kind.value == "saved":
        when = ref.recorded_at.strftime("%Y-%m-%d") if ref.recorded_at else "earlier"
        what = f"your reference recorded {when}" + (f" ({ref.path})" if ref.path else "")
    elif ref.reps:
        listed = ", ".join(str(i) for i in ref.reps)
        what = f"your first rep{'s' if len(ref.reps) > 1 else ''} of this set ({listed})"
    else:
        what = "nothing: no rep was counted"
    return f'<p class="muted">Changes are measured against {escape(what)}.</p>'


def _not_judged(report: Report) -> str:
    if not report.not_judged:
        return ""
    items = []
    for item in report.not_judged:
        reps = ", ".join(str(r) for r in item.reps)
        where = f" (rep{'s' if len(item.reps) > 1 else ''} {reps})" if reps else ""
        advice = f'<br><span class="muted">{escape(item.advice)}</span>' if item.advice else ""
        items.append(
            f"<li><b>{escape(fault_name(item.code))}</b>{escape(where)}: not judged, "
            f"because {escape(NOT_JUDGED[item.reason])}.{advice}</li>"
        )
    return f'<h3>Not judged</h3><ul class="not-judged">{"".join(items)}</ul>'


def _findings(report: Report) -> str:
    if report.summary is None:  # no exercise was analysed: nothing was looked for
        return ""
    compared, unjudged = _compared_with(report), _not_judged(report)
    if not report.findings:
        verdict = (
            "No faults were found."
            if not report.not_judged
            else "No faults were found in what could be judged; some checks could not be "
            "judged (below)."
        )
        return (
            f'<section><h3>Findings</h3><p class="ok">{verdict}</p>{compared}{unjudged}</section>'
        )
    items = []
    for f in report.findings:
        severity = f.severity.value
        where = f"rep {f.rep}" if f.rep else "outside a counted rep"
        items.append(
            f'<li class="{escape(severity)}"><span class="badge">'
            f"{escape(SEVERITY_LABELS.get(severity, severity))}</span>"
            f"<b>{escape(fault_name(f.code))}</b>: "
            f'{escape(f.message)}<br><span class="muted">Measured '
            f"{_f(f.value, 1, f.unit)} against a limit of {_f(f.threshold, 1, f.unit)}"
            f" · {where} at {_f(f.t_s, 1, 's')}</span></li>"
        )
    return (
        f'<section><h3>Every finding</h3><ul class="findings">{"".join(items)}</ul>'
        f"{compared}{unjudged}</section>"
    )


def _rep_table(report: Report) -> str:
    reps = report.reps
    if report.summary is None:
        return ""
    if not reps:
        return "<section><h2>Reps</h2><p>No complete rep was counted.</p></section>"
    frayed = _frayed_rep(report)
    header = (
        "<tr><th>rep</th><th>time (s)</th><th>down (s)</th><th>pause (s)</th>"
        '<th>up (s)</th><th>depth</th><th>score (of 100)</th><th class="text">faults</th></tr>'
    )
    rows = []
    started_at_bottom = False
    for r in reps:
        phases = r.phases
        faults = ", ".join(fault_name(c) for c in r.faults) or "none"
        css = ' class="frayed"' if frayed and r.index >= frayed else ""
        down = _f(phases.down_s)
        if _at_bottom(report, r):
            down, started_at_bottom = "–*", True
        rows.append(
            f"<tr{css}><td>{r.index}</td><td>{_f(r.start_s)}–{_f(r.end_s)}</td>"
            f"<td>{down}</td><td>{_f(phases.pause_s)}</td>"
            f"<td>{_f(phases.up_s)}</td><td>{_f(r.metrics.get('depth_deg'), 0, '°')}</td>"
            f'<td>{_f(r.score, 0)}</td><td class="text">{escape(faults)}</td></tr>'
        )
    notes = [SCORE_NOTE]
    if started_at_bottom:
        notes.append(
            "* The recording starts at the bottom of this rep: its way down was not filmed."
        )
    return (
        f"<section><h2>Reps</h2>{SCROLL}<table>"
        + header
        + "".join(rows)
        + "</table></div>"
        + "".join(f'<p class="muted">{escape(n)}</p>' for n in notes)
        + _metrics_details(reps)
        + "</section>"
    )


def _at_bottom(report: Report, rep: RepBlock) -> bool:
    """A rep whose way down was not filmed: it starts at the first frame, with no time
    down (the recording opens at the bottom)."""
    first = report.video.first_frame_t_s
    down = rep.phases.down_s
    return (
        rep.index == 1
        and down is not None
        and down <= 0.0
        and rep.start_s is not None
        and first is not None
        and rep.start_s - first <= AT_START_TOLERANCE_S
    )


def _metrics_details(reps: Sequence[RepBlock]) -> str:
    keys: list[str] = []
    for r in reps:
        keys += [k for k in r.metrics if k not in keys]
    if not keys:
        return ""
    head = "".join(f"<th>{r.index}</th>" for r in reps)
    rows = []
    for key in keys:
        words, unit = measure_label(key)
        cells = "".join(f"<td>{_f(r.metrics.get(key), 1)}</td>" for r in reps)
        rows.append(f"<tr><td>{escape(words)}{f' ({unit})' if unit else ''}</td>{cells}</tr>")
    return (
        f"<details><summary>All measures per rep</summary>{SCROLL}<table>"
        f"<tr><th>measure \\ rep</th>{head}</tr>{''.join(rows)}</table></div></details>"
    )


def _bands(report: Report) -> list[Band]:
    frayed = _frayed_rep(report)
    spans = [
        (r.index, r.start_s, r.end_s)
        for r in report.reps
        if r.start_s is not None and r.end_s is not None
    ]
    short = len(spans) > MAX_LONG_BAND_LABELS  # many reps: just the number above each band
    return [
        Band(
            start_s,
            end_s,
            str(index) if short else f"rep {index}",
            highlight=bool(frayed and index >= frayed),
        )
        for index, start_s, end_s in spans
    ]


def _plots(report: Report, context: ReportContext) -> str:
    series = context.series
    if len(series.t_s) == 0:
        return ""
    bands = _bands(report)
    spine = [f for f in report.findings if f.code.startswith(SPINE_CODE_PREFIXES)]
    other = [f for f in report.findings if f not in spine]

    def markers(items: Sequence[FindingBlock]) -> list[Marker]:
        return [Marker(f.t_s, pretty(f.code)) for f in items if f.t_s is not None]

    charts = [
        "<h3>Joint angles</h3>",
        line_chart(
            [
                Series(label, series.t_s, series.get(key), color)
                for key, label, color in ANGLE_SERIES
            ],
            title="Joint angles over time with rep boundaries",
            y_label="degrees",
            bands=bands,
            markers=markers(other),
        ),
    ]
    bulge = series.get(names.BACK_BULGE_MM)
    if any(math.isfinite(v) for v in bulge):
        cal = report.calibration
        level = cal.baseline.get(names.BACK_BULGE_MM) if cal is not None else None
        hlines = [HLine(level, "standing baseline")] if level is not None else []
        charts += [
            '<h3>Back bulge</h3><p class="muted">How far the back outline bows out from the '
            "line joining shoulder and hip: up is rounder, down is more arched.</p>",
            line_chart(
                [Series("back bulge", series.t_s, bulge, "#d62728")],
                title="Back bulge over time",
                y_label="mm",
                bands=bands,
                markers=markers(spine),
                hlines=hlines,
            ),
        ]
    tempo = _rep_tempos(report)
    if tempo:
        target = None
        if context.tempo_target_s is not None:
            target = RepTempo(0, *context.tempo_target_s)
        charts += ["<h3>Tempo</h3>", tempo_chart(tempo, target)]
    body = "\n".join(c if c.startswith("<h3") else f"{SCROLL}{c}</div>" for c in charts)
    return f"<section><h2>Charts</h2>{body}</section>"


def _rep_tempos(report: Report) -> list[RepTempo]:
    out = []
    for r in report.reps:
        values = (r.phases.down_s, r.phases.pause_s, r.phases.up_s)
        out.append(RepTempo(r.index, *(math.nan if v is None else v for v in values)))
    return out


def keyframe_caption(k: KeyFrame, report: Report | None = None) -> str:
    """``Fewest faults: rep 3 at the bottom (6.2 s). No faults.`` and so on."""
    spec = k.spec
    label = spec.label if spec.label.lower() != f"rep {spec.rep}" else ""
    what = f"{label}: rep {spec.rep}" if label else f"Rep {spec.rep}"
    text = f"{what} at the bottom ({k.frame_t_s:.1f} s)."
    rep = next((r for r in report.reps if r.index == spec.rep), None) if report else None
    if rep is not None:
        faults = [fault_name(c).lower() for c in rep.faults]
        text += f" {and_list(faults).capitalize()}." if faults else " No faults found."
        ref = report.reference if report is not None else None
        if ref is not None and ref.kind.value == "first_reps" and spec.rep in ref.reps:
            text += " The later reps are compared with this one."
    if not k.outline_drawn:
        text += " The back outline could not be measured on this frame."
    return text


def _key_frames(keyframes: Sequence[KeyFrame], report: Report | None = None) -> str:
    if not keyframes:
        return ""
    figures = []
    for k in keyframes:
        data = base64.b64encode(k.jpeg).decode("ascii")
        caption = keyframe_caption(k, report)
        figures.append(
            f'<figure style="width:{k.width_px}px"><img src="data:image/jpeg;base64,{data}" '
            f'width="{k.width_px}" height="{k.height_px}" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>"
        )
    outlined = any(k.outline_drawn for k in keyframes)
    legend = "Skeleton in blue" + (
        ", the back outline in pink where it was measured." if outlined else "."
    )
    return (
        f'<section><h2>Key frames</h2><p class="muted">{legend} Shown at their own size.</p>'
        f'<div class="frames">{"".join(figures)}</div></section>'
    )


def _downloads(downloads: Mapping[str, str]) -> str:
    if not downloads:
        return ""
    items = "".join(
        f'<li><a href="{escape(href)}" download>{escape(label)}</a></li>'
        for label, href in downloads.items()
    )
    return f'<section><h2>Downloads</h2><ul class="downloads">{items}</ul></section>'
