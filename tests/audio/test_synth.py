"""The generated demo song: deterministic, the requested shape, beats where promised."""

from __future__ import annotations

import numpy as np
import pytest

from soundry.audio.synth import demo_song
from soundry.errors import ParameterError


def test_shape_rate_and_peak() -> None:
    song = demo_song(duration_s=3.0, sample_rate=48_000)
    assert song.samples.shape == (2, 144_000)
    assert song.sample_rate == 48_000
    assert np.abs(song.samples).max() == pytest.approx(0.5, abs=1e-6)


def test_same_arguments_same_samples() -> None:
    a = demo_song(duration_s=2.0, seed=3)
    b = demo_song(duration_s=2.0, seed=3)
    c = demo_song(duration_s=2.0, seed=4)
    assert np.array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)


def test_energy_peaks_on_the_beat_grid() -> None:
    rate, tempo = 22_050, 120.0
    song = demo_song(duration_s=8.0, sample_rate=rate, tempo_bpm=tempo)
    mono = song.samples.mean(axis=0)
    hop = rate // 50  # 20 ms frames: longer than a bass period, so steady tones read flat
    energy = np.add.reduceat(mono**2, np.arange(0, mono.size, hop))
    onset = np.maximum(np.diff(energy), 0)
    beat_frames = np.arange(1, 15) * 25  # a beat every 0.5 s
    on_beat = sum(onset[f - 1 : f + 1].sum() for f in beat_frames)
    # 140-200 ms after each beat lies between the beat and the next eighth-note hi-hat.
    off_beat = sum(onset[f + 7 : f + 9].sum() for f in beat_frames[:-1])
    assert on_beat > 5 * off_beat, (on_beat, off_beat)


@pytest.mark.parametrize("kwargs", [{"duration_s": 0.1}, {"tempo_bpm": 5.0}])
def test_rejects_out_of_range(kwargs: dict[str, float]) -> None:
    with pytest.raises(ParameterError):
        demo_song(**kwargs)
