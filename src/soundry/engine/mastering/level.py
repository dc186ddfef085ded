"""The last stage of every master: gain, then the look-ahead true-peak limiter.

The gain itself is decided beforehand from a model of this limiter
(:func:`~soundry.engine.mastering.prediction.decide_gain`); :func:`apply_level` renders it.
"""

from __future__ import annotations

import numpy as np

from soundry.dsp.limiter import DetectorEnvelope, LimiterReport, limit
from soundry.dsp.oversample import INTERPOLATOR_REACH_FRAMES

__all__ = [
    "INTERPOLATOR_CONTEXT",
    "LIMITED_FLOOR_DB",
    "LIMITER_LOOKAHEAD_MS",
    "LIMITER_RELEASE_MS",
    "LIMITER_SETTLE_S",
    "apply_level",
    "limiter_context_after",
]

LIMITER_LOOKAHEAD_MS = 5.0
LIMITER_RELEASE_MS = 100.0
LIMITER_SETTLE_S = 2.0
"""Context before a span limited on its own: the release decays by e^-20 within it."""
INTERPOLATOR_CONTEXT = 4 * INTERPOLATOR_REACH_FRAMES
"""Frames of context around a span for anything read through the true-peak interpolator
(the limiter's detector, its verification): its reach, with margin."""
# Look-ahead spans the context after a span covers: the gain at a frame answers peaks one
# look-ahead later, and each verification pass may move a correction by one more.
_LOOKAHEADS_AFTER = 4


def limiter_context_after(sample_rate: int) -> int:
    """Frames of context after a span limited on its own for it to match the whole track."""
    lookahead = round(LIMITER_LOOKAHEAD_MS * sample_rate / 1000.0)
    return _LOOKAHEADS_AFTER * (lookahead + INTERPOLATOR_CONTEXT)


LIMITED_FLOOR_DB = 0.01
"""Gain reduction (dB) above which a frame counts as limited in the statistics."""


def apply_level(
    samples: np.ndarray,
    *,
    sample_rate: int,
    gain_db: float,
    ceiling_dbtp: float,
    release_ms: float = LIMITER_RELEASE_MS,
    envelope: DetectorEnvelope | None = None,
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
    envelope : DetectorEnvelope or None
        The limiter's detector envelope of ``samples``, if already known.

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
        envelope=envelope,
        return_gain=True,
    )
