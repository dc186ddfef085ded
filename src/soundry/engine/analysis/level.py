"""Metrical level: keep every other beat when the tracker followed the eighths, not the beat.

The tempo preference (see :mod:`~soundry.engine.analysis.tempo`) picks double time in slow
music that moves in steady eighths, such as a chorale at 60 bpm. Then the tracked "beats"
alternate between the real beats and the off-beats between them, and the alternation
shows in two ways, either of which is enough:

* **onsets**: the off-beats carry far less onset novelty than the beats (on average under
  a third of it), as when drums mark the beat;
* **harmony**: the harmony changes on the beats and holds across the off-beats, so the
  chroma of consecutive beat spans changes far more (on average 2.4 times more) across
  every other boundary than across the ones between. Music with drums and without shows
  this alike, because it comes from the notes, not from how hard they are struck.

At the true beat both ratios stay well below these: a bar's strong and weak beats differ
in accent, but not threefold, and chords change on weak beats too. The result is never
slower than 40 bpm.
"""

from __future__ import annotations

import numpy as np

from soundry.engine.analysis.beats import onset_strength
from soundry.engine.analysis.similarity import beat_means
from soundry.engine.analysis.spectrogram import Spectrogram

__all__ = ["MIN_BPM", "drop_offbeats"]

MIN_BPM = 40.0
"""Slowest tempo that halving may leave, beats per minute."""

_ONSET_PARITY = 3.0
_HARMONY_PARITY = 2.4
_MIN_BEATS = 8


def _parity(values: np.ndarray) -> tuple[float, int]:
    """Ratio of the larger to the smaller mean of the even- and odd-indexed values, and
    the index (0 or 1) of the larger."""
    even, odd = float(values[0::2].mean()), float(values[1::2].mean())
    stronger = 0 if even >= odd else 1
    weaker = min(even, odd)
    return (max(even, odd) / weaker if weaker > 0 else np.inf), stronger


def _chroma_change(chroma: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(chroma, axis=1)
    dot = np.einsum("ij,ij->i", chroma[1:], chroma[:-1])
    return 1.0 - dot / np.maximum(norms[1:] * norms[:-1], 1e-12)


def drop_offbeats(
    boundaries_s: np.ndarray, novelty: np.ndarray, spec: Spectrogram
) -> tuple[np.ndarray, bool]:
    """Halve the beat rate if every other beat is an off-beat.

    Parameters
    ----------
    boundaries_s : np.ndarray [shape=(beats,)]
        Beat times in seconds.
    novelty : np.ndarray [shape=(frames,)]
        The beat novelty the beats were tracked on.
    spec : Spectrogram
        The analysed audio (for the chroma of each beat span).

    Returns
    -------
    beats : np.ndarray [shape=(kept,), dtype=float64]
        The beat times kept: all of them, or every other one.
    halved : bool
        Whether every other beat was dropped.
    """
    if boundaries_s.size < _MIN_BEATS:
        return boundaries_s, False
    median_gap = float(np.median(np.diff(boundaries_s)))
    if 60.0 / (2.0 * median_gap) < MIN_BPM:
        return boundaries_s, False
    onsets, strong = _parity(onset_strength(boundaries_s, novelty))
    if onsets <= _ONSET_PARITY:
        # change[i] is the change into beat i + 1: its parity is the opposite of the beat's.
        change = _chroma_change(beat_means(spec.chroma, boundaries_s))
        harmony, into = _parity(change)
        if harmony <= _HARMONY_PARITY:
            return boundaries_s, False
        strong = 1 - into
    return boundaries_s[strong::2], True
