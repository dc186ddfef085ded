"""``soundry.analyze`` on generated music with known beats: accuracy, shapes, errors.

Nothing here reads ../shared: the signals come from :func:`soundry.audio.synth.demo_song`
(drums, bass, chords, melody) and :func:`signals.soft_chorale` (slow-attack chords, no
percussion, one chord per beat).
"""

from __future__ import annotations

import warnings

import mir_eval
import numpy as np
import pytest

import soundry
from soundry.audio import AudioBuffer
from soundry.audio.synth import demo_song
from soundry.engine.analysis import FEATURE_NAMES, Analysis, analyze, decode_similarity
from soundry.errors import ParameterError

from .signals import offbeat_plucks, soft_chorale


def f_measure(reference: np.ndarray, estimated: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mir_eval warns about beats before 5 s: we keep them
        return float(mir_eval.beat.f_measure(reference, estimated))


@pytest.fixture(scope="module")
def song_analysis() -> Analysis:
    return analyze(demo_song(duration_s=30.0, tempo_bpm=120.0, seed=4), raw_features=True)


@pytest.mark.parametrize(
    ("tempo_bpm", "beats_per_bar"),
    [(120.0, 4), (95.0, 3), (140.0, 4), (80.0, 4), (110.0, 3), (58.0, 4)],
)
def test_beats_tempo_and_meter_of_a_song_with_drums(tempo_bpm: float, beats_per_bar: int) -> None:
    # At 58 bpm the hi-hat eighths draw the tempo estimate to 116; the kick and snare on
    # the beats, far louder than the off-beat hats, bring it back (level.py).
    result = analyze(demo_song(duration_s=30.0, tempo_bpm=tempo_bpm, beats_per_bar=beats_per_bar))
    truth = np.arange(0.0, 30.0, 60.0 / tempo_bpm)
    assert f_measure(truth, result.boundaries_s) >= 0.95
    assert result.tempo_bpm == pytest.approx(tempo_bpm, rel=0.02)
    assert result.beats_per_bar == beats_per_bar
    bars = np.arange(0.0, 30.0, 60.0 / tempo_bpm * beats_per_bar)
    assert f_measure(bars, result.downbeats_s) >= 0.9


@pytest.mark.parametrize("tempo_bpm", [60.0, 72.0, 90.0, 110.0, 130.0])
def test_beats_of_drumless_music_with_soft_attacks(tempo_bpm: float) -> None:
    audio, truth = soft_chorale(tempo_bpm=tempo_bpm)
    result = analyze(audio)
    assert f_measure(truth, result.boundaries_s) >= 0.95
    assert result.tempo_bpm == pytest.approx(tempo_bpm, rel=0.02)


@pytest.mark.parametrize("tempo_bpm", [70.0, 96.0, 128.0])
def test_harmony_places_the_beat_when_the_offbeats_are_louder(tempo_bpm: float) -> None:
    # Loud plucks on every off-beat, chords changing softly on the beats: the onsets point
    # half a beat late, the harmony to the beat.
    audio, truth = offbeat_plucks(tempo_bpm=tempo_bpm)
    result = analyze(audio)
    assert f_measure(truth, result.boundaries_s) >= 0.95
    assert result.tempo_bpm == pytest.approx(tempo_bpm, rel=0.02)


def test_result_shapes_units_and_types(song_analysis: Analysis) -> None:
    r = song_analysis
    n = r.n_beats
    assert r.duration_s == pytest.approx(30.0)
    assert r.boundaries_s.shape == (n,) and r.boundaries_s.dtype == np.float64
    assert np.all(np.diff(r.boundaries_s) > 0)
    assert r.boundaries_s[0] >= 0.0 and r.boundaries_s[-1] < r.duration_s
    assert r.bar_positions.shape == (n,)
    assert set(r.bar_positions.tolist()) == set(range(r.beats_per_bar))
    assert np.array_equal(r.downbeats_s, r.boundaries_s[r.bar_positions == 0])
    # Positions count up through each bar.
    assert np.all((np.diff(r.bar_positions) - 1) % r.beats_per_bar == 0)
    assert r.similarity.shape == (n, n) and r.similarity.dtype == np.float32
    assert np.allclose(r.similarity, r.similarity.T, atol=1e-6)
    assert np.all(np.diag(r.similarity) == 1.0)
    assert r.similarity.min() >= 0.0 and r.similarity.max() <= 1.0
    assert r.features is not None
    assert r.features.shape == (n, len(FEATURE_NAMES)) == (n, 13)
    assert r.features.min() >= 0.0 and r.features.max() <= 1.0
    assert np.allclose(r.features[:, :12].max(axis=1), 1.0)  # strongest pitch class = 1
    assert r.tempo_alternative in ("half", "double")
    expected = r.tempo_bpm / 2 if r.tempo_alternative == "half" else r.tempo_bpm * 2
    assert r.tempo_alternative_bpm == pytest.approx(expected)
    assert 0.0 <= r.tempo_alternative_score <= 1.0
    assert r.loudness.integrated_lufs == pytest.approx(
        soundry.dsp.loudness.integrated_loudness(
            demo_song(duration_s=30.0, tempo_bpm=120.0, seed=4)
        ),
        abs=1e-9,
    )


def test_features_only_when_asked() -> None:
    assert analyze(demo_song(duration_s=8.0)).features is None


def test_a_bar_sounds_like_the_same_bar_in_the_next_cycle(song_analysis: Analysis) -> None:
    # The demo song repeats a four-bar chord cycle (16 beats) and an 8-beat melody: a beat
    # is more like the beat 16 later than like the beats in between.
    s = song_analysis.similarity
    n = song_analysis.n_beats
    same = np.array([s[i, i + 16] for i in range(4, n - 20)])
    other = np.array([s[i, i + 6] for i in range(4, n - 20)])
    assert same.mean() > other.mean() + 0.1


def test_to_dict_has_the_audjust_keys_and_decodes(song_analysis: Analysis) -> None:
    out = song_analysis.to_dict()
    n = song_analysis.n_beats
    assert list(out)[:4] == ["duration", "tempo", "boundaries", "similarity"]
    assert {"downbeats", "beats_per_bar", "tempo_alternative", "loudness", "features"} <= set(out)
    assert out["similarity"]["min"] == 32 and out["similarity"]["max"] == 126
    decoded = decode_similarity(out["similarity"]["data"], len(out["boundaries"]))
    assert np.abs(decoded - song_analysis.similarity).max() <= 0.5 / 94 + 1e-6
    assert len(out["features"]) == n and len(out["features"][0]) == 13
    assert "features" not in song_analysis.to_dict(include_features=False)


def test_public_name_is_the_engine_function() -> None:
    assert soundry.analyze is analyze
    assert soundry.Analysis is Analysis


def _buffer(samples: np.ndarray, rate: int = 22_050) -> AudioBuffer:
    return AudioBuffer(samples.astype(np.float32), rate)


@pytest.mark.parametrize(
    ("audio", "message"),
    [
        (_buffer(np.zeros(22_050)), "too short"),
        (_buffer(np.zeros(10 * 22_050)), "silent"),
        (_buffer(np.full(10 * 22_050, np.nan)), "NaN"),
        (_buffer(np.where(np.arange(10 * 22_050) == 5, np.inf, 0.1)), "infinite"),
    ],
    ids=["too-short", "silence", "nan", "inf"],
)
def test_unusable_audio_is_refused_with_a_reason(audio: AudioBuffer, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        analyze(audio)


def test_a_few_seconds_without_a_pulse_are_refused() -> None:
    # One soft chord, 1.6 s: long enough to try, but there is no second beat to find.
    t = np.arange(round(1.6 * 22_050)) / 22_050
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) * np.minimum(1, t / 0.3)
    with pytest.raises(ParameterError, match="beat"):
        analyze(_buffer(0.1 * chord))


def test_not_an_audio_buffer_is_refused() -> None:
    with pytest.raises(ParameterError, match="AudioBuffer"):
        analyze(np.zeros((2, 44_100), dtype=np.float32))  # type: ignore[arg-type]
