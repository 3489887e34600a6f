"""r2cnn engine: tiny-aircraft detection in very large rasters (R2-CNN with JOL), no QGIS inside."""

__version__ = "0.1.0"
