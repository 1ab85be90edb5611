"""A small drawing of where to put the camera: side-on, at hip height, about 3 m away, the
whole body in the picture. Inline SVG, for the report's filming help and the live page
(served at ``GET /api/filming-diagram.svg``)."""

from __future__ import annotations

from html import escape

DIAGRAM_TITLE = "Where to put the camera"
DIAGRAM_TEXT = (
    "The camera square to your side, level with your hips, about 3 m away, your whole body "
    "from head to feet in the picture."
)

_BODY = """
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


def camera_diagram_svg(width_px: int = 320) -> str:
    """The diagram as an ``<svg>`` element (text in the current colour)."""
    return (
        f'<svg class="filming-diagram" viewBox="0 0 320 180" width="{width_px}" '
        f'role="img" aria-labelledby="fd-title fd-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="fd-title">{escape(DIAGRAM_TITLE)}</title>'
        f'<desc id="fd-desc">{escape(DIAGRAM_TEXT)}</desc>{_BODY}</svg>'
    )
