"""Text colours of the stylesheet keep a contrast of at least 4.5:1, light and dark."""

from __future__ import annotations

import re

import pytest

from inbox.web.templating import STATIC_DIR

MIN_CONTRAST = 4.5
# (text token, background token) pairs the stylesheet actually puts together.
PAIRS = [
    ("text", "surface"), ("text", "bg"), ("text", "inbound"), ("text", "outbound"),
    ("text", "note"), ("text", "danger-soft"), ("muted", "surface"), ("muted", "surface-2"),
    ("muted", "bg"), ("muted", "inbound"), ("muted", "outbound"), ("muted", "accent-soft"),
    ("accent", "surface"), ("accent", "accent-soft"), ("accent", "outbound"),
    ("accent-text", "accent"), ("danger", "surface"), ("danger", "danger-soft"),
    ("surface", "danger"), ("surface", "text"), ("wa", "wa-bg"), ("tg", "tg-bg"),
    ("fb", "fb-bg"),
]


def tokens(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([a-z0-9-]+):\s*(#[0-9a-fA-F]{6})", block))


def colour_sets() -> dict[str, dict[str, str]]:
    css = (STATIC_DIR / "inbox.css").read_text()
    light = tokens(css.split("@media (prefers-color-scheme: dark)")[0])
    dark_block = css.split("@media (prefers-color-scheme: dark)")[1].split("\n}\n")[0]
    return {"light": light, "dark": light | tokens(dark_block)}


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_is_at_least_4_5(scheme: str) -> None:
    colours = colour_sets()[scheme]
    low = {
        (fg, bg): round(contrast(colours[fg], colours[bg]), 2)
        for fg, bg in PAIRS
        if contrast(colours[fg], colours[bg]) < MIN_CONTRAST
    }
    assert low == {}


def test_dark_mode_changes_the_palette() -> None:
    sets = colour_sets()
    assert sets["dark"]["surface"] != sets["light"]["surface"]
    assert contrast("#ffffff", "#ffffff") == 1.0
