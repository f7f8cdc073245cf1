"""A handful of line icons drawn for the inbox, rendered as inline SVG.

Icons are decorative (``aria-hidden``): every control that shows one also has
a text label, visible or for screen readers.
"""

from __future__ import annotations

from markupsafe import Markup, escape

# 24x24 stroke paths, drawn with currentColor.
ICON_PATHS: dict[str, str] = {
    "inbox": "M3 13h5l2 3h4l2-3h5M5 5h14l2 8v6H3v-6z",
    "contacts": "M16 19v-1a4 4 0 0 0-8 0v1M12 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6"
    "M19 19v-1a3 3 0 0 0-2-3",
    "settings": "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6M19 12l2-1-1-3-2 .3-1.5-1.5L17 5l-3-1-1 2h-2"
    "L10 4 7 5l.5 2L6 8.3 4 8l-1 3 2 1-2 1 1 3 2-.3L7.5 17 7 19l3 1 1-2h2l1 2 3-1-.5-2 1.5-1.3"
    " 2 .3 1-3z",
    "logout": "M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10",
    "search": "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14M20 20l-4-4",
    "send": "M4 12l16-8-6 16-2-7z",
    "lock": "M6 11h12v9H6zM8 11V8a4 4 0 0 1 8 0v3",
    "clock": "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M12 7v5l3 2",
    "check": "M5 12l4 4 10-10",
    "checks": "M2 12l4 4 10-10M10 16l1 1 10-10",
    "alert": "M12 3l10 18H2zM12 10v4M12 17v.5",
    "back": "M15 5l-7 7 7 7",
    "user": "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8M4 21a8 8 0 0 1 16 0",
    "file": "M6 3h8l4 4v14H6zM14 3v4h4",
    "retry": "M4 4v6h6M20 20v-6h-6M5 14a7 7 0 0 0 13 3M19 10A7 7 0 0 0 6 7",
    "keyboard": "M3 6h18v12H3zM7 10h.01M11 10h.01M15 10h.01M7 14h10",
    "phone": "M8 2h8a1 1 0 0 1 1 1v18a1 1 0 0 1-1 1H8a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1M11 18h2",
    "key": "M8 15a4 4 0 1 1 3-6.7L21 8v3h-2v2h-2v2h-3l-2.3-2.3A4 4 0 0 1 8 15",
    "note": "M5 4h14v11l-5 5H5zM14 20v-5h5",
    "pin": "M12 21s-6-5.5-6-11a6 6 0 0 1 12 0c0 5.5-6 11-6 11M12 12a2 2 0 1 0 0-4 2 2 0 0 0 0 4",
    "x": "M6 6l12 12M18 6L6 18",
    "plus": "M12 5v14M5 12h14",
    "info": "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18M12 11v5M12 8v.5",
}


def render_icon(name: str, label: str | None = None, css_class: str = "icon") -> Markup:
    """An inline SVG; with ``label`` it is announced, without it is hidden."""
    path = ICON_PATHS[name]
    hidden = 'aria-hidden="true" focusable="false"'
    a11y = f'role="img" aria-label="{escape(label)}"' if label else hidden
    return Markup(  # noqa: S704 - fixed markup; the label is escaped
        f'<svg class="{escape(css_class)}" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
        f'stroke-width="2" stroke-linecap="round" stroke-linejoin="round" {a11y}>'
        f'<path d="{path}"/></svg>'
    )
