"""Where exactly a beat's attack starts, near a cut point, to the sample.

Beat times from analysis sit on a ~10 ms grid and mark the beat, not the first sample of
its attack. A seam that should end just before the attack needs the attack itself: the
sample where the high-frequency energy jumps. :func:`find_onset` looks in a short window
around the nominal time for the largest rise of the energy just ahead over the energy just
behind (the first difference of the mono signal, which stresses the transient's highs).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_RISE_DB", "find_onset"]

MIN_RISE_DB = 6.0
"""A rise smaller than this (dB, ahead over behind) is no clear attack: the nominal time stays."""
_AHEAD_S = 0.002  # energy of the attack: the 2 ms that follow a candidate sample
_BEHIND_S = 0.010  # energy before it: the 10 ms that precede it


def find_onset(mono: np.ndarray, center: int, *, window: int, sample_rate: int) -> int | None:
    """The attack's first sample within ``window`` frames of ``center``, if there is one.

    Parameters
    ----------
    mono : np.ndarray [shape=(frames,), dtype=float32]
        The source, mixed to mono.
    center : int
        Nominal cut point (frame), e.g. a beat boundary.
    window : int
        Search half-width, frames.
    sample_rate : int
        Hz.

    Returns
    -------
    int or None
        The frame where the energy of the next 2 ms rises most above that of the 10 ms
        before, when the rise reaches :data:`MIN_RISE_DB`; None when nothing in the window
        is an attack (sustained or silent material), or the window leaves the audio.
    """
    ahead = max(round(_AHEAD_S * sample_rate), 1)
    behind = max(round(_BEHIND_S * sample_rate), 1)
    lo = center - window - behind - 1
    hi = center + window + ahead + 1
    if lo < 0 or hi > mono.size:
        return None
    region = mono[lo:hi].astype(np.float64)
    hp = np.diff(region)  # hp[i] spans region[i] -> region[i + 1]
    csum = np.concatenate(([0.0], np.cumsum(hp * hp)))
    # Candidate n (region index, n >= behind + 1): behind = hp[n - behind : n],
    # ahead = hp[n : n + ahead]; n runs over the centre +- window.
    n = np.arange(behind + 1, behind + 1 + 2 * window + 1)
    e_ahead = (csum[n + ahead] - csum[n]) / ahead
    e_behind = (csum[n] - csum[n - behind]) / behind
    floor = max(float(csum[-1]) / hp.size * 1e-3, 1e-14)
    rise_db = 10.0 * np.log10((e_ahead + floor) / (e_behind + floor))
    best = int(np.argmax(rise_db))
    if rise_db[best] < MIN_RISE_DB:
        return None
    return lo + int(n[best])
