"""Metrical level: keep every other beat when the tracker followed the eighths, not the beat.

The tempo preference (see :mod:`~soundry.engine.analysis.tempo`) can pick double time in
slow music that moves in steady eighths, such as a chorale at 60 bpm. Then the tracked
"beats" alternate between the real beats and the off-beats between them. Two cues show it:

* **onsets**: the off-beats carry far less onset novelty than the beats (on average under
  a third of it), as when drums mark the beat. At the true beat the ratio stays well
  below that: a bar's strong and weak beats differ in accent, but not threefold.
* **harmony**, for a fast pulse only: the chords change on the beats and hold across the
  off-beats, so the chroma of consecutive beat spans changes far more (on average 2.4
  times more) across every other boundary than across the ones between. At a moderate
  tempo that pattern is ordinary at the true level too (a chord every half note at
  84 bpm), so harmony decides only when the tracked pulse is faster than the tempo
  preference's centre (105 bpm): above it, a pulse whose every other beat brings no new
  harmony is a subdivision of a slow beat.

The result is never slower than 40 bpm. Slow music whose off-beats are struck as hard as
the beats and also bring new harmony stays in double time, reported as such
(``Analysis.tempo_alternative`` is ``"half"``).
"""

from __future__ import annotations

import numpy as np

from soundry.engine.analysis.beats import onset_strength
from soundry.engine.analysis.similarity import beat_means
from soundry.engine.analysis.spectrogram import Spectrogram
from soundry.engine.analysis.tempo import PREFERRED_BPM

__all__ = ["MIN_BPM", "chroma_change", "drop_offbeats"]

MIN_BPM = 40.0
"""Slowest tempo that halving may leave, beats per minute."""

_ONSET_PARITY = 3.0
_HARMONY_PARITY = 2.4
_MIN_BEATS = 8


def _parity(values: np.ndarray) -> tuple[float, int]:
    """How many times larger the larger of the even- and odd-indexed means is than the
    smaller, and which (0 = even, 1 = odd) is larger."""
    even, odd = float(values[0::2].mean()), float(values[1::2].mean())
    weaker = min(even, odd)
    return (max(even, odd) / weaker if weaker > 0 else np.inf), (0 if even >= odd else 1)


def chroma_change(chroma: np.ndarray) -> np.ndarray:
    """Cosine distance between consecutive rows: element ``i`` is the change into row
    ``i + 1``."""
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
    tempo_bpm = 60.0 / float(np.median(np.diff(boundaries_s)))
    if tempo_bpm / 2.0 < MIN_BPM:
        return boundaries_s, False
    onsets, strong = _parity(onset_strength(boundaries_s, novelty))
    if onsets > _ONSET_PARITY:
        return boundaries_s[strong::2], True
    if tempo_bpm <= PREFERRED_BPM:
        return boundaries_s, False
    harmony, into = _parity(chroma_change(beat_means(spec.chroma, boundaries_s)))
    if harmony <= _HARMONY_PARITY:
        return boundaries_s, False
    # The changes at odd indices lead into the even beats, and the other way round.
    return boundaries_s[1 - into :: 2], True
