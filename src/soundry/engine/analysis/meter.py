"""Meter and downbeats: which beats start bars, and how many beats a bar holds.

Bars show in three cues measured at every beat:

* **harmonic change**: chords tend to change on the downbeat (the cosine distance between a
  beat's chroma and the previous beat's), most of all in the bass register, which carries
  the chord roots and not the melody;
* **bass onsets**: the bass tends to move on strong beats (bass-band flux at the beat);
* **accent**: onsets are stronger on strong beats (the beat novelty at the beat).

Each cue is standardised over the piece. For bars of 2, 3 and 4 beats and every phase,
the *contrast* is the mean of the combined cue on the beats that would be downbeats minus
its mean on the others. Triple meter is reported when its contrast beats both duple ones.
Otherwise the meter is duple, and duple meters are reported as 4 beats per bar: the cues
cannot tell 2/4 from 4/4 (in 4/4 the third beat is half-strong, and two bars of a 2/4 rag
pattern as one bar of 4), and a bar of 4 is what most popular music has. The phase of a
bar of 4 is the least certain part: the first and third beats often differ only by the
phrase they sit in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soundry.engine.analysis.beats import onset_strength
from soundry.engine.analysis.level import chroma_change

__all__ = ["METERS", "Meter", "estimate_meter"]

METERS = (3, 4)
"""Beats per bar reported (duple meters as 4)."""

_CUE_WEIGHTS = (0.5, 1.0, 1.0, 1.0)  # harmonic change (all, bass register), bass, accent


@dataclass(frozen=True)
class Meter:
    """Bar structure of a beat sequence.

    Attributes
    ----------
    beats_per_bar : int
        3 or 4.
    first_downbeat : int
        Index of the first beat that starts a bar (0 <= first_downbeat < beats_per_bar).
    positions : np.ndarray [shape=(beats,), dtype=int64]
        Position of every beat in its bar, 0 for a downbeat up to ``beats_per_bar - 1``.
    contrast : float
        How much more the downbeats carry the cues than other beats, in standard
        deviations (0 when there is nothing to tell them apart).
    """

    beats_per_bar: int
    first_downbeat: int
    positions: np.ndarray
    contrast: float


def _standardise(x: np.ndarray) -> np.ndarray:
    std = float(x.std())
    return (x - x.mean()) / std if std > 0 else np.zeros_like(x)


def _change(chroma: np.ndarray) -> np.ndarray:
    """Cosine distance of every beat's chroma from the previous beat's (0 for the first)."""
    change = np.zeros(chroma.shape[0])
    change[1:] = chroma_change(chroma)
    return change


def _cues(
    boundaries_s: np.ndarray,
    chroma: np.ndarray,
    bass_chroma: np.ndarray,
    accent: np.ndarray,
    bass: np.ndarray,
) -> np.ndarray:
    cues = [
        _change(chroma),
        _change(bass_chroma),
        onset_strength(boundaries_s, bass),
        onset_strength(boundaries_s, accent),
    ]
    combined = np.zeros(chroma.shape[0])
    for weight, cue in zip(_CUE_WEIGHTS, cues, strict=True):
        combined += weight * _standardise(cue)
    return combined / sum(_CUE_WEIGHTS)


def _contrast(cue: np.ndarray, beats_per_bar: int, phase: int) -> float:
    on = np.zeros(cue.size, dtype=bool)
    on[phase::beats_per_bar] = True
    if not on.any() or on.all():
        return 0.0
    return float(cue[on].mean() - cue[~on].mean())


def estimate_meter(
    boundaries_s: np.ndarray,
    chroma: np.ndarray,
    bass_chroma: np.ndarray,
    accent: np.ndarray,
    bass: np.ndarray,
) -> Meter:
    """Find the meter and the downbeats of a beat sequence.

    Parameters
    ----------
    boundaries_s : np.ndarray [shape=(beats,)]
        Beat times in seconds.
    chroma : np.ndarray [shape=(beats, 12)]
        Beat-synchronous chroma.
    bass_chroma : np.ndarray [shape=(beats, 12)]
        Beat-synchronous chroma of the bass register.
    accent : np.ndarray [shape=(frames,)]
        Beat novelty at :data:`FRAME_RATE`.
    bass : np.ndarray [shape=(frames,)]
        Bass-band flux at :data:`FRAME_RATE`.

    Returns
    -------
    Meter
        With 4 beats per bar and the first beat as a downbeat when the sequence is too
        short (under two bars of 4) to tell.
    """
    n = boundaries_s.size
    if n < 8:
        return Meter(4, 0, np.arange(n, dtype=np.int64) % 4, 0.0)
    cue = _cues(boundaries_s, chroma, bass_chroma, accent, bass)
    best: dict[int, tuple[float, int]] = {}
    for beats_per_bar in (2, 3, 4):
        scores = [_contrast(cue, beats_per_bar, phase) for phase in range(beats_per_bar)]
        phase = int(np.argmax(scores))
        best[beats_per_bar] = (scores[phase], phase)
    chosen = 3 if best[3][0] > max(best[2][0], best[4][0]) else 4
    contrast, phase = best[chosen]
    positions = (np.arange(n, dtype=np.int64) - phase) % chosen
    return Meter(chosen, phase, positions, max(contrast, 0.0))
