"""The algorithm's help panel (what it does, which rasters suit it, what each parameter means) and Help link.

Processing turns every newline of shortHelpString() into a line break, so the source's wrapped lines are
joined into one line each; paragraphs come from the <p> and <li> tags only.
"""
from __future__ import annotations

import configparser

from .paths import metadata_path

README_PLUGIN_ANCHOR = "install-the-plugin-in-qgis"  # GitHub's id for the README heading of that name

_HELP_SOURCE = """
<p>Finds aircraft (about 12 to 120 m long) in satellite or aerial imagery with an R2-CNN detector:
the raster is cut into overlapping patches, a cheap classifier (the <i>gate</i>) skips patches
without aircraft, and a detector boxes the aircraft in the rest. Each aircraft becomes one polygon
(its box, in the raster's CRS) with its <b>score</b>.</p>
<p><b>Suitable input</b>: an optical raster (RGB or panchromatic, 8 to 16 bit) at roughly 0.5 to 4 m
per pixel; the engine resamples to the model's ground resolution (2 m for the bundled model) and
stretches the radiometry to 8 bits block by block (so clouds or bright roofs far away do not darken an
airport). Very large rasters are fine: they are read patch by patch.</p>
<h3>Parameters</h3>
<ul>
<li><b>Input raster</b>: a file-based raster layer (GeoTIFF, JPEG2000, VRT, ...).</li>
<li><b>Bands</b>: the red, green and blue bands in that order, or one grey band; empty picks them
automatically.</li>
<li><b>Model</b>: an r2cnn .onnx file; empty uses the model shipped with the plugin.</li>
<li><b>Minimum score kept</b>: detections below it are dropped; empty uses the model's recommended
value, as the command line does. Set it lower and use the slider of the <i>Aircraft confidence</i> dock
to raise it interactively without re-running; the layer's colour classes start at this value.</li>
<li><b>Skip patches the gate rejects</b>: much faster on large scenes; switch off to send every
patch through the detector. <b>Gate threshold</b>: empty uses the model's recommended value.</li>
<li><b>Device</b>: auto uses CUDA when onnxruntime-gpu provides it, else the CPU.</li>
<li><b>Precision of the bundled model</b>: INT8 (the default on a CPU) runs the shipped INT8 model
once per window of patches, faster than fp32 on a CPU (the model card has the measured speed and
accuracy); fp32 is the reference model (the default on a GPU). Ignored with a model file.</li>
<li><b>Tile size</b> and <b>Tile overlap</b>: patch size in model pixels and overlap fraction;
empty uses the model's (640 px, 20 %). The overlap should exceed the largest aircraft.</li>
<li><b>Processing extent</b>: only this part of the raster is searched (any CRS; reprojected).</li>
</ul>
<h3>Outputs</h3>
<p><b>Aircraft</b>: polygons with fields <i>score</i> (detector confidence), <i>patch_score</i>
(shown as "Gate score": the gate's confidence for the patch), <i>label</i> and <i>source</i> (raster
file), coloured by score, with the score as a label once zoomed in and in the map tips.
<b>Number of aircraft detected</b>: the count.</p>
"""
HELP_HTML = " ".join(_HELP_SOURCE.split())


def help_url() -> str:
    """The README's plugin section at the project's homepage (metadata.txt), for the dialog's Help button."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(metadata_path(), encoding="utf-8")
    homepage = parser.get("general", "homepage", fallback="").strip().rstrip("/")
    return f"{homepage}#{README_PLUGIN_ANCHOR}" if homepage else ""
