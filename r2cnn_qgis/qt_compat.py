"""The two places where QGIS 3.22 (Qt5) and QGIS 4 (Qt6) need different code; everything else is spelled
the same for both (qgis.PyQt imports, fully scoped enums: tests/plugin/test_qt6_ready.py checks)."""
from __future__ import annotations

from qgis.core import Qgis
from qgis.PyQt.QtCore import QMetaType

try:  # Qt6 moved QAction to QtGui
    from qgis.PyQt.QtGui import QAction
except ImportError:  # Qt5
    from qgis.PyQt.QtWidgets import QAction

QMETATYPE_FIELDS_VERSION = 33800  # QgsField takes a QMetaType.Type from QGIS 3.38 (the only form in QGIS 4)

__all__ = ["QAction", "field_type"]


def field_type(name: str):
    """The QgsField type called `name` (Double, LongLong, QString) in the form this QGIS accepts."""
    meta = getattr(QMetaType.Type, name)
    if Qgis.QGIS_VERSION_INT >= QMETATYPE_FIELDS_VERSION:
        return meta
    from qgis.PyQt.QtCore import QVariant  # Qt5 only: QVariant.Type has the same values as QMetaType.Type

    return QVariant.Type(int(meta))
