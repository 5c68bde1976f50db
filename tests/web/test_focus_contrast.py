"""The focus indicator of the shared CSS meets WCAG 1.4.11 (3:1) against page and controls."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "ltiservice" / "static" / "css" / "app.css"


def _variables() -> dict[str, str]:
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS.read_text()))


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2.1 contrast ratio of two sRGB colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_dark_line_stands_out_from_the_page_the_ring_and_light_controls() -> None:
    colours = _variables()
    inner, outer, page = colours["focus-inner"], colours["focus-outer"], colours["bg"]
    assert contrast(inner, page) >= 3  # the page, and white inputs, buttons, segments
    assert contrast(inner, outer) >= 3  # the light ring around it
    assert contrast(inner, "#eef4fa") >= 3  # notices and flashes


def test_the_page_gap_keeps_the_line_off_dark_controls() -> None:
    colours = _variables()
    # A primary button is the accent colour: the 2px page-coloured gap sits between it and
    # the dark line, and that gap contrasts with the button.
    assert contrast(colours["bg"], colours["accent"]) >= 3
    assert contrast(colours["focus-outer"], colours["accent"]) >= 3


def test_every_focus_rule_uses_the_two_tone_indicator() -> None:
    css = CSS.read_text()
    rule = re.search(r":focus-visible\s*\{([^}]*)\}", css)
    assert rule is not None
    assert "var(--focus-inner)" in rule.group(1)
    assert "var(--focus-outer)" in rule.group(1)
    assert "--focus:" not in css  # the old single-colour ring (1.6:1 on white) is gone
