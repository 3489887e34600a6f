"""QGIS plugin "R2-CNN aircraft detection": QGIS calls classFactory(iface) to create it.

The engine travels inside the plugin folder (r2cnn_qgis/engine/) in the zip; in a repository checkout
it is the sibling engine/ package. dependencies.ensure_engine_importable() puts whichever folder holds
it on sys.path, so the engine's absolute imports (`from engine.config import ...`) work unchanged.
"""


def classFactory(iface):  # the name QGIS looks for
    """Create the plugin for the QGIS interface."""
    from .plugin import R2cnnPlugin

    return R2cnnPlugin(iface)
