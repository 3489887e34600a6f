"""r2cnn engine: tiny-aircraft detection in very large rasters (R2-CNN with JOL), no QGIS inside."""

__version__ = "0.1.0"

__all__ = ["detect_raster"]


def __getattr__(name: str):
    """`engine.detect_raster` without importing rasterio/onnxruntime on a bare `import engine`."""
    if name == "detect_raster":
        from engine.pipeline.detect import detect_raster

        return detect_raster
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
