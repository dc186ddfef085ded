"""Beat tracking: the most novel sequence of onsets that keeps a steady period.

A dynamic programme scores every frame as a beat: its own novelty plus the best score of
a previous beat between half and twice a period earlier, minus a penalty on the squared
log-ratio of that gap to the expected period. Backtracking from the best final beat gives
the beat sequence that best trades onset strength against steadiness. The recursion is a
loop over frames with a short inner search, so it runs in numba.

It runs three times. The first pass, loosely tied to the global period, follows the music's
own tempo wherever it goes; the median of its beat intervals around each moment becomes
the local period. The second pass holds tightly to that local period. Tightness is what
keeps the phase: syncopated music (ragtime, a polonaise) puts as many onsets between the
beats as on them, and a loose tracker drifts onto the off-beats for a few bars. Tied to
the local rather than the global period, it still follows a performance that speeds up
or slows down. The third pass finds the best sequence half a beat away from the second,
for the harmony to decide between them (:mod:`~soundry.engine.analysis.phase`).

The sequence is then fitted to where music sounds: beats in leading or trailing silence
are dropped, and where the piece holds a long final chord (no onsets, so the programme
stops early) beats continue at the local period as long as the sound lasts.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from soundry.engine.analysis.spectrogram import FRAME_RATE

__all__ = ["onset_strength", "track_beats"]

_LOOSE = 200.0  # first pass: weight of the squared log period ratio, in novelty units
_TIGHT = 1500.0  # second pass, around the local period
_LOCAL_BEATS = 9  # beats in the median that gives the local period
_PEAK_RADIUS = 2  # frames either side of a beat searched for its onset
_ACTIVE_DB = -30.0  # sound below this level (re the piece's loud frames) counts as silence


@numba.njit(cache=True, nogil=True)
def _dynamic_programme(
    novelty: np.ndarray, period: np.ndarray, tightness: float
) -> tuple[np.ndarray, np.ndarray]:
    """Best chain score ending on each frame, and the previous beat of that chain.

    ``period[t]`` is the expected gap (frames) before a beat at ``t``. A chain may start on
    any frame (a previous beat only counts if it adds to the score).
    """
    n = novelty.size
    score = np.empty(n)
    back = np.full(n, -1, dtype=np.int64)
    for t in range(n):
        expected = period[t]
        low = max(1, math.floor(expected / 2))
        high = min(math.ceil(expected * 2), t)
        best = 0.0
        arg = -1
        for gap in range(low, high + 1):
            ratio = math.log(gap / expected)
            candidate = score[t - gap] - tightness * ratio * ratio
            if candidate > best:
                best = candidate
                arg = t - gap
        score[t] = novelty[t] + best
        back[t] = arg
    return score, back


def _backtrack(score: np.ndarray, back: np.ndarray, period: np.ndarray) -> np.ndarray:
    n = score.size
    tail = max(1, round(period[-1]))
    # The last beat is the best-scoring frame within a period of the end: scores grow along
    # a chain, so this is the chain's own last beat, not a stray onset after it.
    last = n - tail + int(np.argmax(score[n - tail :]))
    beats = [last]
    while back[beats[-1]] >= 0:
        beats.append(int(back[beats[-1]]))
    return np.array(beats[::-1], dtype=np.int64)


def _active(energy: np.ndarray) -> np.ndarray:
    """Frames where something sounds, relative to the piece's loud level."""
    loud = float(np.percentile(energy, 90))
    if loud <= 0:
        return np.zeros(energy.size, dtype=bool)
    return energy > loud * 10.0 ** (_ACTIVE_DB / 20.0)


def _sounding(active: np.ndarray, frame: int, span: int) -> bool:
    """Whether most of the ``span`` frames from ``frame`` on are active."""
    window = active[frame : frame + span]
    return window.size > 0 and float(window.mean()) >= 0.5


def _sounding_through(active: np.ndarray, frame: int, span: int) -> bool:
    """:func:`_sounding`, and the audio goes on for the whole span (no beat at the very end)."""
    return frame + span <= active.size and _sounding(active, frame, span)


def _local_period(beats: np.ndarray, n_frames: int, period: float) -> np.ndarray:
    """The expected beat gap at every frame: a running median of the first pass's gaps.

    Held within 20 % of the global period, so that a stretch where the first pass doubled
    or halved (or slipped half a beat) cannot move the metrical level.
    """
    if beats.size < 3:
        return np.full(n_frames, period)
    gaps = np.diff(beats).astype(np.float64)
    half = _LOCAL_BEATS // 2
    padded = np.pad(gaps, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, _LOCAL_BEATS)
    local = np.clip(np.median(windows, axis=1), period / 1.2, period * 1.2)
    # The gap (beats[i], beats[i + 1]) is known at its midpoint; hold the ends.
    centres = (beats[:-1] + beats[1:]) / 2.0
    return np.interp(np.arange(n_frames), centres, local)


def _fit_to_sound(beats: np.ndarray, energy: np.ndarray, period: float) -> np.ndarray:
    active = _active(energy)
    span = max(1, round(period / 2))
    keep = np.array([_sounding_through(active, int(b), span) for b in beats], dtype=bool)
    if not keep.any():
        return beats[:0]
    first, last = int(np.argmax(keep)), int(keep.size - 1 - np.argmax(keep[::-1]))
    beats = beats[first : last + 1]
    # A held final chord: continue at the last beats' period while the sound lasts.
    recent = np.diff(beats[-5:])
    step = float(np.median(recent)) if recent.size else period
    extra = []
    position = float(beats[-1]) + step
    while _sounding_through(active, round(position), span):
        extra.append(round(position))
        position += step
    return np.concatenate([beats, np.array(extra, dtype=np.int64)])


def track_beats(
    novelty: np.ndarray, energy: np.ndarray, period_frames: float
) -> tuple[np.ndarray, np.ndarray]:
    """Beat times of a piece, and the best sequence at the other phase.

    Parameters
    ----------
    novelty : np.ndarray [shape=(frames,)]
        Onset novelty at :data:`FRAME_RATE` (non-negative).
    energy : np.ndarray [shape=(frames,)]
        Frame RMS, to tell music from silence.
    period_frames : float
        Expected beat period in frames (from the tempo estimate).

    Returns
    -------
    beats : np.ndarray [shape=(beats,), dtype=float64]
        Beat times in seconds, increasing; empty when nothing sounds.
    offbeats : np.ndarray [shape=(offbeats,), dtype=float64]
        The best sequence that keeps clear of ``beats`` (no beat within a quarter period
        of one of them): the same pulse half a beat away. Which of the two is the beat
        is for the harmony to say (:mod:`~soundry.engine.analysis.phase`); onsets alone
        can favour the off-beats of syncopated music.
    """
    novelty = np.ascontiguousarray(novelty, dtype=np.float64)
    n = novelty.size
    period = np.full(n, float(period_frames))
    score, back = _dynamic_programme(novelty, period, _LOOSE)
    first = _backtrack(score, back, period)
    period = _local_period(first, n, float(period_frames))
    score, back = _dynamic_programme(novelty, period, _TIGHT)
    frames = _backtrack(score, back, period)
    # The other phase: the same programme with the novelty near these beats removed.
    away = novelty.copy()
    reach = max(1, round(period_frames / 4))
    for frame in frames:
        away[max(0, frame - reach) : frame + reach + 1] = 0.0
    score, back = _dynamic_programme(away, period, _TIGHT)
    other = _backtrack(score, back, period)
    return (
        _fit_to_sound(frames, energy, period_frames) / FRAME_RATE,
        _fit_to_sound(other, energy, period_frames) / FRAME_RATE,
    )


def onset_strength(boundaries_s: np.ndarray, novelty: np.ndarray) -> np.ndarray:
    """The largest novelty within two frames (23 ms) of every beat.

    Parameters
    ----------
    boundaries_s : np.ndarray [shape=(beats,)]
        Beat times in seconds.
    novelty : np.ndarray [shape=(frames,)]
        Novelty at :data:`FRAME_RATE`.

    Returns
    -------
    np.ndarray [shape=(beats,), dtype=float64]
        Novelty at each beat's onset, in the novelty's units (0 for a beat on no onset).
    """
    frames = np.clip(np.round(boundaries_s * FRAME_RATE).astype(np.int64), 0, novelty.size - 1)
    padded = np.pad(novelty.astype(np.float64), _PEAK_RADIUS, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * _PEAK_RADIUS + 1)
    return windows[frames].max(axis=1)
