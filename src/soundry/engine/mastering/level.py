"""The last stage of every master: gain, then the look-ahead true-peak limiter.

The gain itself is decided beforehand from a model of this limiter
(:func:`~soundry.engine.mastering.prediction.decide_gain`); :func:`apply_level` renders it.
"""

from __future__ import annotations

import numpy as np

from soundry.dsp.limiter import LimiterReport, limit

__all__ = [
    "LIMITED_FLOOR_DB",
    "LIMITER_LOOKAHEAD_MS",
    "LIMITER_RELEASE_MS",
    "apply_level",
]

LIMITER_LOOKAHEAD_MS = 5.0
LIMITER_RELEASE_MS = 100.0
LIMITED_FLOOR_DB = 0.01
"""Gain reduction (dB) above which a frame counts as limited in the statistics."""


def apply_level(
    samples: np.ndarray,
    *,
    sample_rate: int,
    gain_db: float,
    ceiling_dbtp: float,
    release_ms: float = LIMITER_RELEASE_MS,
) -> tuple[np.ndarray, LimiterReport]:
    """Gain then true-peak limit: the last stage of every master.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames)]
        Audio before the gain.
    sample_rate : int
        Sample rate in Hz.
    gain_db : float
        Gain before the limiter, dB.
    ceiling_dbtp : float
        Limiter ceiling, dBTP.
    release_ms : float
        Limiter release, ms.

    Returns
    -------
    out : np.ndarray [shape=(channels, frames), dtype=float32]
    report : LimiterReport
    """
    return limit(
        np.asarray(samples, dtype=np.float32),
        sample_rate=sample_rate,
        ceiling_dbtp=ceiling_dbtp,
        lookahead_ms=LIMITER_LOOKAHEAD_MS,
        release_ms=release_ms,
        gain_db=gain_db,
        return_gain=True,
    )
