"""Make a temporary detection layer permanent: write a GeoPackage and point the same layer at it.

The layer keeps its id, style, labels and the slider's filter, so the dock and the project carry on;
every detection is written, not only those the slider shows, and the style is stored in the file as its
default, so opening the GeoPackage later (another project, another machine) shows the same.
"""
from __future__ import annotations

from pathlib import Path

from qgis.core import (
    QgsCoordinateTransformContext,
    QgsDataProvider,
    QgsMapLayerStyle,
    QgsVectorFileWriter,
    QgsVectorLayer,
)

from .detection_features import DETECTION_LAYER
from .styling import store_default_style


def is_temporary(layer) -> bool:
    """A memory layer: lost when QGIS quits unless saved."""
    return isinstance(layer, QgsVectorLayer) and layer.providerType() == "memory"


def default_gpkg_path(folder: str | Path, raster_name: str) -> Path:
    """aircraft_<raster name>.gpkg beside the raster, with a name any file system accepts."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in raster_name).strip("._") or "raster"
    return Path(folder) / f"aircraft_{safe}.gpkg"


def save_as_geopackage(layer: QgsVectorLayer, path: str | Path, transform_context=None) -> str:
    """Write every feature to path and switch the layer to it; returns its new source. ValueError on failure."""
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        path = path.with_suffix(".gpkg")
    subset = layer.subsetString()
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = DETECTION_LAYER  # the layer name r2cnn detect writes
    options.fileEncoding = "UTF-8"
    layer.setSubsetString("")  # the slider's filter must not decide what is saved
    try:
        error, message, written_path, written_layer = QgsVectorFileWriter.writeAsVectorFormatV3(
            layer, str(path), transform_context or QgsCoordinateTransformContext(), options
        )
    finally:
        layer.setSubsetString(subset)
    if error != QgsVectorFileWriter.WriterError.NoError:
        raise ValueError(f"could not write {path}: {message}")
    source = f"{written_path or path}|layername={written_layer or options.layerName}"
    problem = _store_style_of(layer, source)  # reopened later, the file shows the same classes and labels
    if problem:
        raise ValueError(f"{path} was written without its style: {problem}")
    layer.setDataSource(source, layer.name(), "ogr", QgsDataProvider.ProviderOptions())
    if not layer.isValid():
        raise ValueError(f"{path} was written but cannot be read back")
    layer.setSubsetString(subset)
    return source


def _store_style_of(layer: QgsVectorLayer, source: str) -> str | None:
    """layer's style as the default of the file at source, written through a layer of its own, unfiltered."""
    written = QgsVectorLayer(source, layer.name(), "ogr")
    if not written.isValid():
        return "the file cannot be read back"
    style = QgsMapLayerStyle()
    style.readFromLayer(layer)
    style.writeToLayer(written)
    return store_default_style(written)
