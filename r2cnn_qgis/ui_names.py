"""The names users see in menus and docks, in one place: the README quotes them and a test compares."""

MENU = "&R2-CNN aircraft detection"  # under QGIS's Raster menu (metadata.txt: category=Raster)
MENU_NAME = MENU.replace("&", "")
DETECT_ACTION = "Detect aircraft in active layer"
INSTALL_ACTION = "Install dependencies\u2026"
DOCK_TITLE = "Aircraft confidence"
MESSAGE_TITLE = "R2-CNN"


def menu_path(entry: str) -> str:
    """'Raster > R2-CNN aircraft detection > <entry>', as the README writes it."""
    return f"Raster > {MENU_NAME} > {entry}"
