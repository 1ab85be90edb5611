"""A small drawing of where to put the camera for an exercise, for the report's filming help
and the live page (served at ``GET /api/filming-diagram.svg?exercise=...``).

The exercise's spec says where the camera goes (``setup.view_hint``: side-on or facing the
chest; ``setup.camera_level``: level with the hips of a standing person, or low for an
exercise on the floor) and, in its own words, ``camera_placement``; each drawing is one of
three: standing from the side, on the floor from the side, on the floor from the front (seen
from above). Inline SVG with a title and description, no external resources (the page's CSP).
"""

from __future__ import annotations

from enum import StrEnum
from html import escape
from urllib.parse import quote

from formcheck.analyzers import exercise_names, get_spec

DIAGRAM_PATH = "/api/filming-diagram.svg"
DIAGRAM_TITLE = "Where to put the camera"
DIAGRAM_TEXT = (
    "The camera square to your side, level with your hips, about 3 m away, your whole body "
    "from head to feet in the picture."
)


class Placement(StrEnum):
    STANDING_SIDE = "standing_side"  # camera level with the hips, side-on
    FLOOR_SIDE = "floor_side"  # camera low, side-on, the person on the floor
    FLOOR_FRONT = "floor_front"  # camera low, facing the person's chest (side plank)


_STANDING_SIDE = """
<g fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round">
  <line x1="8" y1="150" x2="312" y2="150" stroke-width="1.5" opacity=".6"/>
  <circle cx="62" cy="44" r="9"/>
  <line x1="62" y1="53" x2="62" y2="100"/>
  <line x1="62" y1="100" x2="54" y2="148"/>
  <line x1="62" y1="100" x2="70" y2="148"/>
  <line x1="62" y1="64" x2="74" y2="92"/>
  <rect x="246" y="88" width="26" height="18" rx="3"/>
  <circle cx="252" cy="97" r="5"/>
  <line x1="259" y1="106" x2="248" y2="149"/>
  <line x1="259" y1="106" x2="270" y2="149"/>
  <line x1="259" y1="106" x2="259" y2="149"/>
</g>
<g stroke="currentColor" stroke-width="1.5" fill="none" stroke-dasharray="5 4" opacity=".8">
  <line x1="246" y1="92" x2="84" y2="30"/>
  <line x1="246" y1="102" x2="84" y2="152"/>
</g>
<g font-size="12" fill="currentColor" font-family="system-ui,sans-serif">
  <text x="120" y="170">about 3 m, side-on</text>
  <text x="226" y="80">hip height</text>
  <text x="20" y="22">head to feet in view</text>
</g>
"""

# On hands and knees (bird dog, cat-camel; lying exercises share the drawing): the camera
# low on a short stand, side-on.
_FLOOR_SIDE = """
<g fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round">
  <line x1="8" y1="150" x2="312" y2="150" stroke-width="1.5" opacity=".6"/>
  <circle cx="30" cy="96" r="8"/>
  <line x1="38" y1="102" x2="100" y2="104"/>
  <line x1="44" y1="104" x2="44" y2="148"/>
  <line x1="100" y1="104" x2="100" y2="148"/>
  <line x1="100" y1="148" x2="138" y2="148"/>
  <rect x="246" y="112" width="26" height="18" rx="3"/>
  <circle cx="252" cy="121" r="5"/>
  <line x1="259" y1="130" x2="250" y2="149"/>
  <line x1="259" y1="130" x2="268" y2="149"/>
</g>
<g stroke="currentColor" stroke-width="1.5" fill="none" stroke-dasharray="5 4" opacity=".8">
  <line x1="246" y1="116" x2="14" y2="70"/>
  <line x1="246" y1="126" x2="14" y2="152"/>
</g>
<g font-size="12" fill="currentColor" font-family="system-ui,sans-serif">
  <text x="120" y="170">about 3 m, side-on</text>
  <text x="196" y="100">camera low, 0.5-1 m</text>
  <text x="20" y="40">head to feet in view</text>
</g>
"""

# Seen from above: the person lying on their side along the picture, the chest towards the
# camera in front of them.
_FLOOR_FRONT = """
<g fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round">
  <circle cx="60" cy="40" r="9"/>
  <line x1="69" y1="40" x2="150" y2="40"/>
  <line x1="150" y1="40" x2="262" y2="40"/>
  <line x1="150" y1="40" x2="262" y2="46"/>
  <line x1="160" y1="80" x2="160" y2="104"/>
  <polyline points="154,97 160,104 166,97"/>
  <rect x="147" y="134" width="26" height="18" rx="3"/>
  <circle cx="160" cy="139" r="5"/>
</g>
<g stroke="currentColor" stroke-width="1.5" fill="none" stroke-dasharray="5 4" opacity=".8">
  <line x1="150" y1="134" x2="40" y2="30"/>
  <line x1="170" y1="134" x2="284" y2="30"/>
</g>
<g font-size="12" fill="currentColor" font-family="system-ui,sans-serif">
  <text x="160" y="70" text-anchor="middle">chest faces the camera</text>
  <text x="182" y="146">camera at floor</text>
  <text x="182" y="160">height, about 3 m</text>
  <text x="8" y="174">seen from above; head to feet in view</text>
</g>
"""

_DRAWINGS = {
    Placement.STANDING_SIDE: _STANDING_SIDE,
    Placement.FLOOR_SIDE: _FLOOR_SIDE,
    Placement.FLOOR_FRONT: _FLOOR_FRONT,
}


def known(exercise: str | None) -> str | None:
    """``exercise`` when this version has an analyzer for it, else None (a report written by
    another version may name one it does not: it gets the standing drawing)."""
    return exercise if exercise is not None and exercise in exercise_names() else None


def placement(exercise: str | None) -> Placement:
    """The drawing for ``exercise`` (None or unknown: standing, side-on)."""
    exercise = known(exercise)
    if exercise is None:
        return Placement.STANDING_SIDE
    setup = get_spec(exercise).setup
    if setup.view_hint == "face_camera":
        return Placement.FLOOR_FRONT if setup.camera_level == "floor" else Placement.STANDING_SIDE
    return Placement.FLOOR_SIDE if setup.camera_level == "floor" else Placement.STANDING_SIDE


def diagram_text(exercise: str | None) -> str:
    """The drawing's words: the exercise's own camera placement (none: the standing one)."""
    exercise = known(exercise)
    return get_spec(exercise).camera_placement if exercise is not None else DIAGRAM_TEXT


def diagram_url(exercise: str | None) -> str:
    """Where the page gets the drawing for ``exercise``."""
    exercise = known(exercise)
    return DIAGRAM_PATH if exercise is None else f"{DIAGRAM_PATH}?exercise={quote(exercise)}"


def camera_diagram_svg(exercise: str | None = None, width_px: int = 320) -> str:
    """The drawing as an ``<svg>`` element (text in the current colour)."""
    exercise = known(exercise)
    kind = placement(exercise)
    title = DIAGRAM_TITLE if exercise is None else f"{DIAGRAM_TITLE}: {exercise.replace('_', ' ')}"
    ids = f"fd-{kind.value}"
    return (
        f'<svg class="filming-diagram" viewBox="0 0 320 180" width="{width_px}" '
        f'role="img" aria-labelledby="{ids}-title {ids}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" data-placement="{kind.value}">'
        f'<title id="{ids}-title">{escape(title)}</title>'
        f'<desc id="{ids}-desc">{escape(diagram_text(exercise))}</desc>{_DRAWINGS[kind]}</svg>'
    )
