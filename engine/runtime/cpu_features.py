"""Whether this CPU runs the INT8 model as it was measured: on x86 without VNNI the u8 x s8 dot products
(VPMADDUBSW) saturate in int16, and an INT8 model quietly loses most of its tiny aircraft."""

from __future__ import annotations

import platform

X86_MACHINES = ("x86_64", "amd64", "i386", "i686", "x86")


def int8_exact_cpu() -> bool:
    """True off x86 (ARM dot products do not saturate) and on x86 CPUs with AVX-512 VNNI or AVX-VNNI."""
    if platform.machine().lower() not in X86_MACHINES:
        return True
    features = _numpy_cpu_features()
    return bool(features.get("AVX512VNNI") or features.get("AVXVNNI"))


def _numpy_cpu_features() -> dict:
    """numpy's own CPU feature probe (cross-platform: Linux, Windows, macOS); empty when it moved."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:
        try:
            from numpy.core._multiarray_umath import __cpu_features__
        except ImportError:
            return {}
    return dict(__cpu_features__)
