"""Beat phase from harmony: beats start where the harmony changes, not in its middle.

Onsets alone cannot always tell the beat from the off-beat. In syncopated music (a rag's
right hand, an Alberti bass, a polonaise rhythm) the off-beats can carry as many or
stronger onsets than the beats. What they do not carry is the change of harmony: chords
and bass notes change on beats, so a beat-long span that starts on a beat holds one
harmony, and a span that starts half a beat off straddles two.

So of two candidate beat sequences, the better one is the one whose beat spans are more
*homogeneous*: the frames inside each span differ least from the span's mean, measured on
the unit-normalised chroma, bass-register chroma and semitone spectrum (the three costs
multiplied, so that each counts by its ratio and none by its scale).
"""

from __future__ import annotations

import numpy as np

from soundry.engine.analysis.spectrogram import FRAME_RATE, Spectrogram

__all__ = ["MIN_BEATS", "choose_phase", "span_spread"]

MIN_BEATS = 8
"""Fewest beats (two bars of 4) over which the harmony may overrule the onsets."""


def _unit_rows(values: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(values, axis=1, keepdims=True)
    return np.divide(values, norms, out=np.zeros(values.shape), where=norms > 0)


def span_spread(values: np.ndarray, edges: np.ndarray) -> float:
    """Mean squared distance of frames from the mean of their span.

    Parameters
    ----------
    values : np.ndarray [shape=(frames, k)]
        Frame features.
    edges : np.ndarray [shape=(spans + 1,), dtype=int64]
        Frame indices where spans start, increasing; the last is one past the last span.

    Returns
    -------
    float
        Within-span sum of squares over the frames covered (0 when no span has two frames).
    """
    cumulative = np.concatenate([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    squares = np.concatenate([[0.0], np.cumsum(np.einsum("ij,ij->i", values, values))])
    starts, ends = edges[:-1], edges[1:]
    lengths = ends - starts
    keep = lengths >= 2
    if not keep.any():
        return 0.0
    starts, ends, lengths = starts[keep], ends[keep], lengths[keep]
    sums = cumulative[ends] - cumulative[starts]
    within = squares[ends] - squares[starts] - np.einsum("ij,ij->i", sums, sums) / lengths
    return float(within.sum() / lengths.sum())


def _edges(beats_s: np.ndarray, first_s: float, last_s: float) -> np.ndarray:
    inside = beats_s[(beats_s >= first_s) & (beats_s <= last_s)]
    return np.round(inside * FRAME_RATE).astype(np.int64)


def choose_phase(spec: Spectrogram, beats_s: np.ndarray, offbeats_s: np.ndarray) -> np.ndarray:
    """The one of two beat sequences whose beat spans hold the harmony steadier.

    Parameters
    ----------
    spec : Spectrogram
        The analysed audio.
    beats_s, offbeats_s : np.ndarray [shape=(beats,)]
        Candidate beat times in seconds (from :func:`~.beats.track_beats`).

    Returns
    -------
    np.ndarray
        ``beats_s`` or ``offbeats_s``; ``beats_s`` when the stretch both cover holds fewer
        than :data:`MIN_BEATS` beats of either (too little harmony to judge by).
    """
    # Compare over the stretch both cover, so that neither gains from covering less.
    first = max(float(beats_s[0]), float(offbeats_s[0]))
    last = min(float(beats_s[-1]), float(offbeats_s[-1]))
    edges_a, edges_b = _edges(beats_s, first, last), _edges(offbeats_s, first, last)
    if min(edges_a.size, edges_b.size) < MIN_BEATS:
        return beats_s
    log_ratio = 0.0
    for view in (spec.chroma, spec.bass_chroma, spec.log_bands):
        unit = _unit_rows(view.astype(np.float64))
        a, b = span_spread(unit, edges_a), span_spread(unit, edges_b)
        if a > 0 and b > 0:
            log_ratio += float(np.log(b / a))
    return offbeats_s if log_ratio < 0 else beats_s
