"""Where the plugin's resources live: inside the plugin folder when packaged, next to it in the repository."""
from __future__ import annotations

from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent
MODEL_FILE_NAME = "r2cnn_aircraft.onnx"


def resources_dir() -> Path:
    """The zip ships r2cnn_qgis/resources; a repository checkout keeps resources/ beside r2cnn_qgis/."""
    packaged = PLUGIN_DIR / "resources"
    if packaged.is_dir():
        return packaged
    return PLUGIN_DIR.parent / "resources"


def default_model_path() -> Path:
    """The bundled model used when the MODEL parameter is left empty."""
    return resources_dir() / "models" / MODEL_FILE_NAME


def style_path() -> Path:
    """The .qml that styles every detection layer the plugin adds."""
    return resources_dir() / "styles" / "aircraft.qml"


def icon_path() -> Path:
    """One icon for the provider, the algorithm, the toolbar button and the dock."""
    return resources_dir() / "icon.svg"
