"""One Euro filter over arrays of coordinates, driven by timestamps (not frame counts)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from formcheck.config import OneEuroConfig

Array = npt.NDArray[np.float64]


def _smoothing_factor(dt_s: float, cutoff_hz: Array | float) -> Array:
    tau_s = 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz, dtype=np.float64))
    return np.asarray(1.0 / (1.0 + tau_s / dt_s), dtype=np.float64)


class OneEuroFilter:
    """Filters an array of any fixed shape element-wise.

    ``value_scale`` converts the signal's units into the units in which ``beta`` is given
    (here: torso lengths), so the speed-adaptive cutoff does not depend on image size.
    NaN inputs pass through as NaN and leave that element's state untouched.
    """

    def __init__(self, config: OneEuroConfig) -> None:
        self._config = config
        self._t_ms: float | None = None
        self._x: Array | None = None
        self._dx: Array | None = None

    def reset(self) -> None:
        self._t_ms = None
        self._x = None
        self._dx = None

    def __call__(self, t_ms: float, value: npt.ArrayLike, value_scale: float = 1.0) -> Array:
        x = np.asarray(value, dtype=np.float64)
        if self._x is None or self._t_ms is None or self._dx is None or x.shape != self._x.shape:
            self._t_ms, self._x, self._dx = t_ms, x.copy(), np.zeros_like(x)
            return x.copy()
        dt_s = (t_ms - self._t_ms) / 1000.0
        if dt_s <= 0:  # duplicate or out-of-order timestamp: keep the last estimate
            return self._x.copy()
        cfg = self._config
        prev_x = np.where(np.isnan(self._x), x, self._x)
        dx_raw = (x - prev_x) / dt_s * value_scale
        a_d = _smoothing_factor(dt_s, cfg.derivative_cutoff_hz)
        dx = a_d * dx_raw + (1.0 - a_d) * self._dx
        cutoff_hz = cfg.min_cutoff_hz + cfg.beta * np.abs(dx)
        a = _smoothing_factor(dt_s, cutoff_hz)
        out = a * x + (1.0 - a) * prev_x
        seen = ~np.isnan(x)
        self._x = np.where(seen, out, self._x)
        self._dx = np.where(seen, dx, self._dx)
        self._t_ms = t_ms
        return np.where(seen, out, np.nan)
