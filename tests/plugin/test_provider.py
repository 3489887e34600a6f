"""The provider registers under `r2cnn` and lists 'Detect aircraft' with the parameters of issue #5."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make plugin_helpers importable
from plugin_helpers import ensure_provider  # noqa: E402

EXPECTED_PARAMETERS = [
    "INPUT", "BANDS", "MODEL", "SCORE_THRESHOLD", "USE_GATE", "USE_CASCADE", "GATE_THRESHOLD", "DEVICE", "PRECISION",
    "RUNTIME", "TILE_SIZE",
    "OVERLAP", "EXTENT", "OUTPUT",
]


def test_provider_registers_and_lists_the_algorithm(qgis_app):
    from qgis.core import QgsApplication

    provider = ensure_provider()
    registry = QgsApplication.processingRegistry()
    assert registry.providerById("r2cnn") is provider
    assert provider.name() == "R2-CNN aircraft detection"
    assert not provider.icon().isNull()
    from engine import __version__

    assert provider.versionInfo() == __version__  # qgis_process showed "None"
    assert sorted(alg.id() for alg in provider.algorithms()) == [
        "r2cnn:aircraftactivity", "r2cnn:detectaircraft", "r2cnn:evaluatedetections"]

    algorithm = registry.algorithmById("r2cnn:detectaircraft")
    assert algorithm.displayName() == "Detect aircraft"
    assert "gate" in algorithm.shortHelpString() and "score" in algorithm.shortHelpString()
    assert not algorithm.icon().isNull()


def test_parameters_outputs_and_defaults(qgis_app):
    from qgis.core import QgsApplication, QgsProcessingAlgorithm, QgsProcessingParameterDefinition

    ensure_provider()
    algorithm = QgsApplication.processingRegistry().algorithmById("r2cnn:detectaircraft")
    assert [p.name() for p in algorithm.parameterDefinitions()] == EXPECTED_PARAMETERS
    assert sorted(o.name() for o in algorithm.outputDefinitions()) == [
        "DETECTIONS", "OUTPUT", "RECOMMENDED_SCORE", "SCORE_THRESHOLD"]
    definition = algorithm.parameterDefinition
    assert definition("SCORE_THRESHOLD").defaultValue() is None  # the model's, as r2cnn detect
    assert definition("USE_GATE").defaultValue() is True
    assert definition("USE_CASCADE").defaultValue() is False  # off until the cascade file is fitted
    assert definition("DEVICE").options() == ["auto", "cpu", "cuda"]
    assert len(definition("PRECISION").options()) == 3 and definition("PRECISION").defaultValue() == 0
    optional = {
        p.name() for p in algorithm.parameterDefinitions()
        if p.flags() & QgsProcessingParameterDefinition.FlagOptional
    }
    assert optional == {
        "BANDS", "MODEL", "SCORE_THRESHOLD", "USE_CASCADE", "GATE_THRESHOLD", "PRECISION", "RUNTIME", "TILE_SIZE",
        "OVERLAP", "EXTENT"}
    # Batch mode and the modeler need these; GUI-free algorithms run in a background thread.
    assert algorithm.flags() & QgsProcessingAlgorithm.FlagSupportsBatch
    assert algorithm.flags() & QgsProcessingAlgorithm.FlagCanCancel
    assert not algorithm.flags() & QgsProcessingAlgorithm.FlagNoThreading
