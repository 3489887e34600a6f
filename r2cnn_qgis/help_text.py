"""Each algorithm's help: one HTML page shipped in the plugin (help/), so Help works offline.

The page's part before PANEL_END is the Processing dialog's help panel (shortHelpString); the whole page
is what the Help button opens (helpUrl, a file:// URL). Processing turns every newline of
shortHelpString() into a line break, so the panel's wrapped lines are joined into one line each.
"""
from __future__ import annotations

import re
from pathlib import Path

from .paths import PLUGIN_DIR

HELP_DIR = PLUGIN_DIR / "help"
PANEL_END = "<!-- the Processing dialog's help panel ends here"


def help_page(algorithm_name: str) -> Path:
    """help/<name>.html, e.g. help/detect_aircraft.html."""
    return HELP_DIR / f"{algorithm_name}.html"


def panel_html(algorithm_name: str) -> str:
    """The page's body up to PANEL_END, without its title, as one line."""
    text = help_page(algorithm_name).read_text(encoding="utf-8")
    body = text.split("<body>", 1)[1].split(PANEL_END, 1)[0]
    body = re.sub(r"<h1>.*?</h1>", "", body, count=1, flags=re.DOTALL)
    return " ".join(body.split())


def help_url(algorithm_name: str) -> str:
    """The page as a file:// URL, for the dialog's Help button (works without a network)."""
    return help_page(algorithm_name).as_uri()
