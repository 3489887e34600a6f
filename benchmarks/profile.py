"""Where a run's time went: trunk (+ gate), detector, reading, merging, as shares of the scene's wall time.

The graph runs trunk, gate and detector in one call, so the bench times every call (TimedDetector). A call
in which the gate passed no patch cost trunk + gate only; the calls that passed the most patches are run
again after the scene (outside its wall time) with the gate closed, which times their trunk + gate alone.
Together they give the trunk's cost per input pixel: the trunk's share is that cost times all pixels sent,
the detector's the rest of the network time (its post-processing included).
"""

from __future__ import annotations

import time

import numpy as np

from engine.contract import GATE_ONLY

SHARES = ("trunk", "detector", "reading", "merging", "other")
RERUN_CALLS = 3  # calls re-run gate-only: enough to time the trunk where every call passed patches (--no-gate)


class TimedDetector:
    """A Detector that records (seconds, input pixels, patches passed) per call; everything else is the inner one's."""

    def __init__(self, inner):
        self._inner = inner
        self.calls: list[tuple[float, int, int]] = []
        self._kept: list[tuple[int, tuple]] = []  # (passed, call arguments) of the calls that passed the most
        self._shapes: set[tuple] = set()  # (input shape, patches passed) seen so far
        self.new_shape_calls: list[float] = []  # seconds of the calls with an unseen (shape, passed) pair

    def __getattr__(self, name: str):
        if name == "run_windows":  # only window-graph detectors have it (RunPlan checks with hasattr)
            run_windows = self._inner.run_windows
            return lambda windows, rows, cols, gate: self._timed(run_windows, (windows, rows, cols), gate)
        return getattr(self._inner, name)

    def __call__(self, images_u8: np.ndarray, gate_threshold: float):
        return self._timed(self._inner, (images_u8,), gate_threshold)

    def _timed(self, call, inputs: tuple, gate_threshold: float):
        started = time.perf_counter()
        result = call(*inputs, gate_threshold)
        seconds = time.perf_counter() - started
        shape = np.shape(inputs[0])
        passed = int(np.sum(result.gate_scores >= gate_threshold))
        self.calls.append((seconds, int(np.prod(shape[:1] + shape[2:])), passed))
        if (shape, passed) not in self._shapes:  # OpenVINO plans its kernels again for each new shape
            self._shapes.add((shape, passed))
            self.new_shape_calls.append(seconds)
        if passed:
            self._kept = sorted([*self._kept, (passed, (call, inputs))], key=lambda k: -k[0])[:RERUN_CALLS]
        return result

    def profile(self) -> dict:
        """Totals, and the trunk + gate cost per megapixel (calls that passed nothing, and the re-run ones)."""
        calls = np.asarray(self.calls, dtype=np.float64).reshape(-1, 3)
        idle = calls[calls[:, 2] == 0]
        trunk_s, trunk_px = float(idle[:, 0].sum()), float(idle[:, 1].sum())
        for _, (call, inputs) in self._kept:
            started = time.perf_counter()
            call(*inputs, GATE_ONLY)
            trunk_s += time.perf_counter() - started
            shape = np.shape(inputs[0])
            trunk_px += float(np.prod(shape[:1] + shape[2:]))
        self._kept = []
        return {
            "calls": len(calls),
            "calls_passing_none": len(idle),
            "calls_new_shape": len(self.new_shape_calls),
            "new_shape_s": round(sum(self.new_shape_calls), 3),
            "network_s": round(float(calls[:, 0].sum()), 3),
            "input_mpx": round(float(calls[:, 1].sum()) / 1e6, 3),
            "trunk_s_per_mpx": round(trunk_s / (trunk_px / 1e6), 5) if trunk_px else None,
        }


def time_shares(stage_seconds: dict[str, float], profile: dict) -> dict | None:
    """Shares of the scene's total: trunk (+ gate), detector, reading (open, stretch, waiting for reads), merging."""
    total = stage_seconds.get("total", 0.0)
    rate = profile.get("trunk_s_per_mpx")
    if not total or rate is None:
        return None
    network = profile["network_s"]
    trunk = min(network, rate * profile["input_mpx"])
    reading = sum(stage_seconds.get(k, 0.0) for k in ("open", "stretch", "read_wait"))
    merging = stage_seconds.get("merge", 0.0)
    parts = {"trunk": trunk, "detector": network - trunk, "reading": reading, "merging": merging}
    parts["other"] = max(0.0, total - sum(parts.values()))  # model load, pre-screen, the loop, georeferencing
    return {name: round(seconds / total, 3) for name, seconds in parts.items()}
