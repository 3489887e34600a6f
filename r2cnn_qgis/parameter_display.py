"""How both algorithms' parameters read in the Processing dialog: short labels, details as tooltips."""
from __future__ import annotations

from qgis.core import QgsProcessingParameterDefinition, QgsProcessingParameterNumber


def two_decimals(parameter: QgsProcessingParameterNumber) -> QgsProcessingParameterNumber:
    """Scores and fractions read 0.30 in the dialog, not 0.300000."""
    parameter.setMetadata({"widget_wrapper": {"decimals": 2}})
    return parameter


def with_help(parameter: QgsProcessingParameterDefinition, text: str) -> QgsProcessingParameterDefinition:
    """The label stays short enough for the dialog's width; the rest is the parameter's tooltip."""
    parameter.setHelp(text)
    return parameter
