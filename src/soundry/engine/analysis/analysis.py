"""``analyze``: beats, tempo, bars, beat features, self-similarity and loudness of a piece.

The pipeline, each step in its own module:

1. :mod:`.spectrogram`: mono at 22 050 Hz, semitone-band spectrogram, chroma, timbre.
2. :mod:`.novelty`: onset novelty (spectral flux plus harmonic change).
3. :mod:`.tempo`: tempo from the novelty's periodicity and a moderate-tempo preference.
4. :mod:`.beats`: beats by dynamic programming, and the best sequence at the other phase;
   :mod:`.phase` keeps the one whose beats hold the harmony steadier; :mod:`.level` drops
   every other beat if they were the off-beats of a slower pulse.
5. :mod:`.meter`: beats per bar and downbeats.
6. :mod:`.similarity`: beat-synchronous features and the beat self-similarity matrix.
7. :func:`soundry.dsp.loudness.measure` on the original audio.

The result, :class:`Analysis`, is what resize and export work from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from soundry.audio.buffer import AudioBuffer
from soundry.dsp.loudness import LoudnessReport, measure
from soundry.engine.analysis import beats as _beats
from soundry.engine.analysis import meter as _meter
from soundry.engine.analysis import novelty as _novelty
from soundry.engine.analysis import tempo as _tempo
from soundry.engine.analysis.level import drop_offbeats
from soundry.engine.analysis.phase import choose_phase
from soundry.engine.analysis.similarity import (
    DEFAULT_MAX_CODE,
    DEFAULT_MIN_CODE,
    beat_features,
    beat_means,
    encode_similarity,
    self_similarity,
)
from soundry.engine.analysis.spectrogram import compute_spectrogram, to_analysis_rate
from soundry.errors import ParameterError

__all__ = [
    "MAX_BEATS",
    "MAX_DURATION_S",
    "MIN_BEATS",
    "MIN_DURATION_S",
    "Analysis",
    "analyze",
]

MIN_DURATION_S = 1.5
"""Shortest audio analysed, seconds: a beat needs a few neighbours to be told apart."""
MAX_DURATION_S = 3600.0
"""Longest audio analysed, seconds."""
MIN_BEATS = 3
"""Fewest beats an analysis may find; fewer means no pulse could be followed."""
MAX_BEATS = 8192
"""Most beats an analysis may find: the similarity matrix grows with the square (256 MB)."""

_SILENCE_PEAK = 10.0 ** (-80.0 / 20.0)  # below -80 dBFS nothing can be heard, let alone beats
# A beat "on an onset" has beat novelty above this (in standard deviations of each cue).
_ONSET_NOVELTY = 0.5


@dataclass(frozen=True, eq=False)
class Analysis:
    """What :func:`analyze` finds in a piece of music.

    Beat ``i`` spans ``[boundaries_s[i], boundaries_s[i + 1])``; the last beat runs to the
    end of the audio. ``N`` is the number of beats.

    Attributes
    ----------
    duration_s : float
        Length of the audio, seconds.
    tempo_bpm : float
        Tempo of the beats in ``boundaries_s`` (60 over their median interval), beats per
        minute.
    tempo_alternative : str
        ``"half"`` or ``"double"``: the other metrical level a listener could take as the
        beat (half or double ``tempo_bpm``), whichever the music supports more.
    tempo_alternative_bpm : float
        That tempo, beats per minute.
    tempo_alternative_score : float
        How well the music supports it, relative to ``tempo_bpm``: 0 = not at all, 1 = as
        well. Above about 0.7 the choice between the two was close.
    boundaries_s : np.ndarray [shape=(N,), dtype=float64]
        Beat times, seconds, increasing.
    beats_per_bar : int
        The meter: 2, 3 or 4 beats per bar.
    bar_positions : np.ndarray [shape=(N,), dtype=int64]
        Position of every beat in its bar: 0 on a downbeat, up to ``beats_per_bar - 1``.
    downbeats_s : np.ndarray [shape=(bars,), dtype=float64]
        Times of the beats that start a bar, seconds (``boundaries_s[bar_positions == 0]``).
    similarity : np.ndarray [shape=(N, N), dtype=float32]
        Beat self-similarity: symmetric, values in [0, 1], 1 = identical (the diagonal).
    loudness : LoudnessReport
        Integrated loudness, loudness range, true peak and the rest, from
        :func:`soundry.dsp.loudness.measure` on the audio as given.
    features : np.ndarray [shape=(N, 13), dtype=float32] or None
        Per-beat embedding when asked for (``raw_features=True``): 12 chroma values
        (C..B, each beat's strongest pitch class = 1) and the beat's loudness (RMS level
        relative to the loudest beat, -60..0 dB mapped onto 0..1). None otherwise.
    """

    duration_s: float
    tempo_bpm: float
    tempo_alternative: str
    tempo_alternative_bpm: float
    tempo_alternative_score: float
    boundaries_s: np.ndarray = field(repr=False)
    beats_per_bar: int
    bar_positions: np.ndarray = field(repr=False)
    downbeats_s: np.ndarray = field(repr=False)
    similarity: np.ndarray = field(repr=False)
    loudness: LoudnessReport = field(repr=False)
    features: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_beats(self) -> int:
        """Number of beats ``N``."""
        return int(self.boundaries_s.size)

    def similarity_encoded(
        self, min_code: int = DEFAULT_MIN_CODE, max_code: int = DEFAULT_MAX_CODE
    ) -> dict[str, Any]:
        """The similarity matrix in Audjust's compact form.

        Returns
        -------
        dict
            ``{"data": str, "min": min_code, "max": max_code}``; see
            :func:`~soundry.engine.analysis.similarity.encode_similarity`.
        """
        data = encode_similarity(self.similarity, min_code, max_code)
        return {"data": data, "min": int(min_code), "max": int(max_code)}

    def to_dict(self, *, include_features: bool | None = None) -> dict[str, Any]:
        """The analysis as a JSON-ready dict with Audjust's result keys, and ours.

        Parameters
        ----------
        include_features : bool, optional
            Add ``"features"`` (N lists of 13 floats). Default: when they were computed.

        Returns
        -------
        dict
            ``duration`` (s), ``tempo`` (bpm), ``boundaries`` (s), ``similarity``
            (``{data, min, max}``) as Audjust sends them; then ``downbeats`` (s),
            ``beats_per_bar``, ``bar_positions``, ``tempo_alternative`` (``{relation, bpm,
            score}``) and ``loudness`` (the meter's scalar figures); ``features`` last.
        """
        out: dict[str, Any] = {
            "duration": round(self.duration_s, 3),
            "tempo": round(self.tempo_bpm, 2),
            "boundaries": [round(t, 3) for t in self.boundaries_s.tolist()],
            "similarity": self.similarity_encoded(),
            "downbeats": [round(t, 3) for t in self.downbeats_s.tolist()],
            "beats_per_bar": self.beats_per_bar,
            "bar_positions": self.bar_positions.tolist(),
            "tempo_alternative": {
                "relation": self.tempo_alternative,
                "bpm": round(self.tempo_alternative_bpm, 2),
                "score": round(self.tempo_alternative_score, 3),
            },
            "loudness": self.loudness.to_dict(),
        }
        want = self.features is not None if include_features is None else include_features
        if want:
            if self.features is None:
                raise ParameterError("features were not computed: analyze with raw_features=True")
            out["features"] = [[round(v, 4) for v in row] for row in self.features.tolist()]
        return out


def _check_input(audio: AudioBuffer) -> None:
    if not isinstance(audio, AudioBuffer):
        raise ParameterError(f"audio must be an AudioBuffer; got {type(audio).__name__}")
    if not np.all(np.isfinite(audio.samples)):
        bad = int(np.count_nonzero(~np.isfinite(audio.samples)))
        raise ParameterError(f"audio contains {bad} NaN or infinite samples")
    if audio.duration_s < MIN_DURATION_S:
        raise ParameterError(
            f"audio is too short to analyse: {audio.duration_s:.2f} s; beats need at least "
            f"{MIN_DURATION_S:g} s"
        )
    if audio.duration_s > MAX_DURATION_S:
        raise ParameterError(
            f"audio is too long to analyse: {audio.duration_s:.0f} s; at most "
            f"{MAX_DURATION_S:.0f} s"
        )
    if float(np.max(np.abs(audio.samples))) < _SILENCE_PEAK:
        raise ParameterError("audio is silent (peak below -80 dBFS): there are no beats to find")


def _tempo_of(boundaries_s: np.ndarray) -> float:
    """60 over the mean beat interval, leaving out intervals 25 % off the median.

    The mean averages away the frame grid (11.6 ms) each beat time sits on; the median
    alone would report the tempo in steps of about 1 % at 100 bpm.
    """
    gaps = np.diff(boundaries_s)
    median = float(np.median(gaps))
    typical = gaps[np.abs(gaps - median) <= 0.25 * median]
    return 60.0 / float(typical.mean())


def analyze(audio: AudioBuffer, *, raw_features: bool = False) -> Analysis:
    """Find the beats, tempo, meter, beat features and self-similarity of a piece.

    Parameters
    ----------
    audio : AudioBuffer
        The music: float32 samples of shape ``(channels, frames)`` at any supported rate,
        from 1.5 s to an hour long. Channels are mixed to mono for the musical analysis;
        the loudness is measured on the audio as given.
    raw_features : bool
        Also return the per-beat embedding (``Analysis.features``, ``(N, 13)``).

    Returns
    -------
    Analysis
        Beats, tempo (with the half- or double-time alternative), meter and downbeats,
        the ``(N, N)`` similarity matrix, the loudness report, and the features if asked.

    Raises
    ------
    ParameterError
        ``audio`` is not an AudioBuffer, holds NaN or infinite samples, is shorter than
        :data:`MIN_DURATION_S` or longer than :data:`MAX_DURATION_S`, is silent, has fewer
        than :data:`MIN_BEATS` beats (no pulse to follow) or more than :data:`MAX_BEATS`.
    """
    _check_input(audio)
    spec = compute_spectrogram(to_analysis_rate(audio.samples, audio.sample_rate))
    estimate = _tempo.estimate_tempo(_novelty.onset_novelty(spec))
    novelty = _novelty.beat_novelty(spec, estimate.period_frames)
    beats, offbeats = _beats.track_beats(novelty, spec.energy, estimate.period_frames)
    boundaries = choose_phase(spec, beats, offbeats)
    boundaries, _ = drop_offbeats(boundaries, novelty, spec)
    # The tracker carries beats through held notes; a pulse needs onsets on a few of them.
    on_onsets = int(np.count_nonzero(_beats.onset_strength(boundaries, novelty) > _ONSET_NOVELTY))
    if on_onsets < MIN_BEATS:
        raise ParameterError(
            f"found {on_onsets} beat(s) in {audio.duration_s:.2f} s of audio; need at least "
            f"{MIN_BEATS}: too short, or no pulse to follow"
        )
    if boundaries.size > MAX_BEATS:
        raise ParameterError(
            f"found {boundaries.size} beats; at most {MAX_BEATS} fit a similarity matrix"
        )
    tempo_bpm = _tempo_of(boundaries)
    half = estimate.relative_score(tempo_bpm / 2, tempo_bpm)
    double = estimate.relative_score(tempo_bpm * 2, tempo_bpm)
    relation = "half" if half >= double else "double"

    features = beat_features(spec, boundaries)
    bars = _meter.estimate_meter(
        boundaries,
        features.chroma,
        beat_means(spec.bass_chroma, boundaries),
        novelty,
        _novelty.bass_flux(spec.log_bands),
    )
    return Analysis(
        duration_s=audio.duration_s,
        tempo_bpm=tempo_bpm,
        tempo_alternative=relation,
        tempo_alternative_bpm=tempo_bpm / 2 if relation == "half" else tempo_bpm * 2,
        tempo_alternative_score=half if relation == "half" else double,
        boundaries_s=boundaries,
        beats_per_bar=bars.beats_per_bar,
        bar_positions=bars.positions,
        downbeats_s=boundaries[bars.positions == 0],
        similarity=self_similarity(features),
        loudness=measure(audio.samples, audio.sample_rate),
        features=features.embedding if raw_features else None,
    )
