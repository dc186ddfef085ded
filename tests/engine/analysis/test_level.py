"""The metrical-level rule: every other beat dropped when they are the off-beats."""

from __future__ import annotations

import numpy as np

from soundry.engine.analysis.level import drop_offbeats
from soundry.engine.analysis.spectrogram import FRAME_RATE, Spectrogram

BEAT_S = 0.5  # 120 bpm as tracked (faster than the preferred 105); half is 60 bpm
N_BEATS = 32


def _beats() -> np.ndarray:
    return np.arange(N_BEATS) * BEAT_S + 0.25


def _spectrogram(chord_every: int, beat_s: float = BEAT_S) -> Spectrogram:
    """Frames whose pitch class changes every ``chord_every`` tracked beats."""
    n_frames = round((N_BEATS + 1) * beat_s * FRAME_RATE)
    beat_of_frame = np.floor((np.arange(n_frames) / FRAME_RATE - 0.25) / beat_s).astype(int)
    chord = np.maximum(beat_of_frame, 0) // chord_every
    chroma = np.full((n_frames, 12), 0.1, dtype=np.float32)
    chroma[np.arange(n_frames), (chord * 5) % 12] = 1.0  # around the circle of fourths
    bands = np.ones((n_frames, 101), dtype=np.float32)
    return Spectrogram(
        bands=bands,
        log_bands=bands,
        chroma=chroma,
        bass_chroma=chroma,
        energy=np.ones(n_frames, dtype=np.float32),
        duration_s=n_frames / FRAME_RATE,
    )


def _novelty(strong: float, weak: float, first_strong: int) -> np.ndarray:
    novelty = np.zeros(round((N_BEATS + 1) * BEAT_S * FRAME_RATE))
    for index, time in enumerate(_beats()):
        novelty[round(time * FRAME_RATE)] = strong if index % 2 == first_strong else weak
    return novelty


def test_a_fast_pulse_whose_harmony_holds_across_every_other_beat_is_halved() -> None:
    beats = _beats()
    kept, halved = drop_offbeats(beats, _novelty(1.0, 1.0, 0), _spectrogram(2))
    assert halved
    # The chords change into beats 0, 2, 4, ...: those are kept.
    assert np.array_equal(kept, beats[0::2])


def test_a_moderate_pulse_with_a_chord_every_other_beat_is_kept() -> None:
    # 84 bpm with a chord every half note is an ordinary chorale, not double time.
    beat_s = 60.0 / 84.0
    beats = np.arange(N_BEATS) * beat_s + 0.25
    novelty = np.zeros(round((N_BEATS + 1) * beat_s * FRAME_RATE))
    novelty[np.round(beats * FRAME_RATE).astype(int)] = 1.0
    kept, halved = drop_offbeats(beats, novelty, _spectrogram(2, beat_s))
    assert not halved
    assert np.array_equal(kept, beats)


def test_much_weaker_onsets_on_every_other_beat_are_halved() -> None:
    beats = _beats()
    kept, halved = drop_offbeats(beats, _novelty(1.0, 0.2, 1), _spectrogram(1))
    assert halved
    assert np.array_equal(kept, beats[1::2])


def test_a_bar_of_strong_and_weak_beats_is_kept() -> None:
    beats = _beats()
    kept, halved = drop_offbeats(beats, _novelty(1.0, 0.6, 0), _spectrogram(1))
    assert not halved
    assert np.array_equal(kept, beats)


def test_never_halved_below_40_bpm() -> None:
    slow = _beats() * 2.0  # 60 bpm tracked: half would be 30 bpm
    kept, halved = drop_offbeats(slow, _novelty(1.0, 0.1, 0), _spectrogram(2))
    assert not halved
    assert np.array_equal(kept, slow)
