"""Where to put the camera, drawn per exercise from its spec: small, titled, self-contained."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from formcheck.analyzers import exercise_names, get_spec
from formcheck.report.diagram import (
    DIAGRAM_TEXT,
    Placement,
    camera_diagram_svg,
    diagram_text,
    diagram_url,
    placement,
)

SVG_NS = "{http://www.w3.org/2000/svg}"
MAX_SVG_BYTES = 4096  # inline in every report and fetched by the page: keep it small


@pytest.mark.parametrize(
    ("exercise", "expected"),
    [
        ("squat", Placement.STANDING_SIDE),
        ("hip_hinge", Placement.STANDING_SIDE),
        ("sit_to_stand", Placement.STANDING_SIDE),
        ("bird_dog", Placement.FLOOR_SIDE),
        ("dead_bug", Placement.FLOOR_SIDE),
        ("glute_bridge", Placement.FLOOR_SIDE),
        ("plank", Placement.FLOOR_SIDE),
        ("cat_camel", Placement.FLOOR_SIDE),
        ("side_plank", Placement.FLOOR_FRONT),
        (None, Placement.STANDING_SIDE),
        ("an_exercise_of_another_version", Placement.STANDING_SIDE),
    ],
)
def test_each_exercise_gets_the_drawing_its_spec_asks_for(
    exercise: str | None, expected: Placement
) -> None:
    assert placement(exercise) is expected


@pytest.mark.parametrize("exercise", [None, *exercise_names()])
def test_every_drawing_is_small_titled_and_self_contained(exercise: str | None) -> None:
    svg = camera_diagram_svg(exercise)
    assert len(svg.encode()) <= MAX_SVG_BYTES
    root = ET.fromstring(svg)  # well-formed XML
    title, desc = root.find(f"{SVG_NS}title"), root.find(f"{SVG_NS}desc")
    assert title is not None and desc is not None and root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert desc.text == (get_spec(exercise).camera_placement if exercise else DIAGRAM_TEXT)
    assert diagram_text(exercise) == desc.text
    # no external resource: nothing fetched (the page's CSP), no script, no style element
    assert not re.search(r"href|<image|<script|<style|url\(", svg)
    assert re.findall(r"https?://[^\"]+", svg) == ["http://www.w3.org/2000/svg"]


def test_the_page_s_address_for_a_drawing() -> None:
    assert diagram_url(None) == "/api/filming-diagram.svg"
    assert diagram_url("side_plank") == "/api/filming-diagram.svg?exercise=side_plank"
    assert diagram_url("no_such_exercise") == "/api/filming-diagram.svg"
