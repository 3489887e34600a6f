"""Where the plugin's resources live: inside the plugin folder when packaged, next to it in the repository."""
from __future__ import annotations

from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent


def resources_dir() -> Path:
    """The zip ships r2cnn_qgis/resources; a repository checkout keeps resources/ beside r2cnn_qgis/."""
    packaged = PLUGIN_DIR / "resources"
    if packaged.is_dir():
        return packaged
    return PLUGIN_DIR.parent / "resources"


def style_path() -> Path:
    """The .qml that styles every detection layer the plugin adds."""
    return resources_dir() / "styles" / "aircraft.qml"


def icon_path() -> Path:
    """One icon for the provider, the algorithm, the toolbar button and the dock."""
    return resources_dir() / "icon.svg"


def plugin_version() -> str:
    """metadata.txt's version (the engine's: packaging checks they agree), for the provider's version info."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(metadata_path(), encoding="utf-8")
    return parser.get("general", "version", fallback="")


def metadata_path() -> Path:
    """metadata.txt: inside the plugin folder in the zip, at the repository root in a checkout."""
    packaged = PLUGIN_DIR / "metadata.txt"
    return packaged if packaged.is_file() else PLUGIN_DIR.parent / "metadata.txt"
