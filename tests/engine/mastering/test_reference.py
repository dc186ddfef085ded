"""Reference mastering targets: measuring a reference, blending, and matching through the
tonal and stereo-image stages."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from soundry.audio.buffer import AudioBuffer
from soundry.audio.decode import decode
from soundry.audio.resample import resample
from soundry.audio.synth import demo_song
from soundry.dsp.filters import apply_sos, cascade, high_shelf, low_shelf
from soundry.dsp.loudness import integrated_loudness
from soundry.engine.mastering import image as im
from soundry.engine.mastering.profiles import TONAL_BAND_CENTRES_HZ
from soundry.engine.mastering.reference import (
    ReferenceTargets,
    analyse_reference,
    blend_loudness,
    blend_targets,
    blend_width,
)
from soundry.engine.mastering.tonal import apply_tonal, measure_balance_db, plan_tonal
from soundry.errors import ParameterError

RATE = 44_100


def darker(x: np.ndarray, rate: int) -> np.ndarray:
    """A dull, bass-heavy copy: -6 dB above 2.5 kHz, +3 dB under 150 Hz."""
    sos = cascade(high_shelf(2500.0, -6.0, rate), low_shelf(150.0, 3.0, rate))
    return apply_sos(x, sos).astype(np.float32)


def match(track: np.ndarray, rate: int, reference: ReferenceTargets, blend: float) -> np.ndarray:
    """The tonal part of reference mastering, as the chain does it."""
    own = analyse_reference(track, rate)
    curve = blend_targets(own.tonal_curve_db, reference, blend)
    return apply_tonal(track, rate, plan_tonal(track, rate, profile=None, target_curve_db=curve))


def check_tonal_match(track: np.ndarray, rate: int, reference: ReferenceTargets) -> None:
    own = measure_balance_db(track, rate)
    moved = {
        b: measure_balance_db(match(track, rate, reference, b), rate) - own for b in (0, 50, 100)
    }
    distance_before = np.abs(own - reference.tonal_curve_db).mean()
    distance_after = np.abs(own + moved[100] - reference.tonal_curve_db).mean()
    assert distance_after < 0.6 * distance_before
    # Every band that the full match moves by a dB or more moves toward the reference.
    gap = reference.tonal_curve_db - own
    big = np.abs(moved[100]) >= 1.0
    assert big.sum() >= 3
    assert np.all(np.sign(moved[100][big]) == np.sign(gap[big]))
    # Blend 50 goes halfway (within 25 % of the halfway point), blend 0 nowhere.
    ratio = moved[50][big] / moved[100][big]
    assert np.all(np.abs(ratio - 0.5) <= 0.125), ratio
    assert np.abs(moved[0]).max() < 0.3


@pytest.fixture(scope="module")
def song() -> np.ndarray:
    return demo_song(duration_s=20.0, sample_rate=RATE, seed=9).samples


def test_analyse_reference_measures_balance_loudness_and_width(song: np.ndarray) -> None:
    side = np.roll(song[0], 23) - song[0]
    stereo = (song + 0.4 * np.stack([side, -side])).astype(np.float32)
    ref = analyse_reference(stereo, RATE)
    assert ref.tonal_curve_db.shape == TONAL_BAND_CENTRES_HZ.shape
    assert not ref.tonal_curve_db.flags.writeable
    np.testing.assert_allclose(ref.tonal_curve_db, measure_balance_db(stereo, RATE))
    assert ref.integrated_lufs == pytest.approx(integrated_loudness(stereo, RATE))
    assert -30.0 < ref.integrated_lufs < 0.0 and ref.true_peak_dbtp < 3.0
    assert ref.width is not None
    # Summed in another order (chunk by chunk): equal to float64 rounding.
    assert ref.width == pytest.approx(im.measure_width(stereo, RATE), rel=1e-12, abs=1e-12)
    assert (ref.channels, ref.sample_rate) == (2, RATE)
    assert ref.duration_s == pytest.approx(20.0)
    summary = json.loads(json.dumps(ref.to_dict(), allow_nan=False))
    assert len(summary["tonal_curve_db"]) == len(summary["band_centres_hz"]) == 10
    assert set(summary["width"]) == {"low", "mid", "high", "correlation"}


def test_any_rate_and_mono_references(song: np.ndarray) -> None:
    mono = song[0]
    for data in (mono, mono[np.newaxis], np.stack([mono, mono])):
        ref = analyse_reference(data, RATE)
        assert ref.width is None  # nothing to match: the stereo stage keeps its settings
        assert blend_width(im.measure_width(song, RATE), ref, 100) is None
        assert math.isfinite(ref.integrated_lufs)
    # The balance is in Hz, so a reference at another rate reads the same (within 0.5 dB
    # above the sub octave, where the analysis frames resolve the song's kick differently).
    at_48k = resample(AudioBuffer(song, RATE), 48_000).samples
    np.testing.assert_allclose(
        analyse_reference(at_48k, 48_000).tonal_curve_db[1:],
        analyse_reference(song, RATE).tonal_curve_db[1:],
        atol=0.5,
    )
    silent = analyse_reference(np.zeros((2, RATE), np.float32), RATE)
    assert silent.integrated_lufs == -math.inf and silent.width is None
    assert silent.to_dict()["integrated_lufs"] is None
    assert blend_loudness(-14.0, silent, 100) == -14.0


def test_blend_functions_are_linear(song: np.ndarray) -> None:
    ref = analyse_reference(song, RATE)
    own = np.linspace(-6.0, 6.0, 10)
    np.testing.assert_array_equal(blend_targets(own, ref, 0), own)
    np.testing.assert_allclose(blend_targets(own, ref, 100), ref.tonal_curve_db)
    np.testing.assert_allclose(blend_targets(own, ref, 50), (own + ref.tonal_curve_db) / 2)
    hot = ReferenceTargets(ref.tonal_curve_db, -8.0, -0.2, ref.width, RATE, 2, 20.0)
    assert blend_loudness(-14.0, hot, 0) == -14.0
    assert blend_loudness(-14.0, hot, 100) == -8.0
    assert blend_loudness(-14.0, hot, 50) == pytest.approx(-11.0)
    louder = ReferenceTargets(ref.tonal_curve_db, -4.0, 0.0, ref.width, RATE, 2, 20.0)
    assert blend_loudness(-14.0, louder, 100) == -6.0  # clamped to what the level stage takes
    track_width = {"low": 0.02, "mid": 0.1, "high": 0.2, "correlation": 0.8}
    wide = ReferenceTargets(
        ref.tonal_curve_db, -8.0, -0.2, {"low": 0.1, "mid": 0.3, "high": 0.4}, RATE, 2, 20.0
    )
    assert blend_width(track_width, wide, 0) is None  # blend 0: no width target at all
    assert blend_width(track_width, wide, 100) == pytest.approx(
        {"low": 0.1, "mid": 0.3, "high": 0.4}
    )
    assert blend_width(track_width, wide, 50) == pytest.approx(
        {"low": 0.06, "mid": 0.2, "high": 0.3}
    )
    assert blend_width(None, wide, 50) is None


def test_bad_blends_and_curves(song: np.ndarray) -> None:
    ref = analyse_reference(song[:, : 5 * RATE], RATE)
    for bad in (-1, 100.5, float("nan"), "lots"):
        with pytest.raises(ParameterError, match="blend"):
            blend_targets(np.zeros(10), ref, bad)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="10 finite"):
        blend_targets(np.zeros(9), ref, 50)
    with pytest.raises(ParameterError, match="finite"):
        blend_loudness(float("nan"), ref, 50)
    with pytest.raises(ParameterError, match="sample_rate"):
        analyse_reference(song, 44_100.5)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="NaN"):
        analyse_reference(np.full((2, 100), np.inf, np.float32), RATE)


def test_a_dark_generated_track_moves_toward_its_bright_original(song: np.ndarray) -> None:
    reference = analyse_reference(song, RATE)
    check_tonal_match(darker(song, RATE), RATE, reference)


def test_width_is_matched_through_the_image_stage(rng: np.random.Generator) -> None:
    frames = 6 * RATE
    mid = 0.1 * rng.standard_normal(frames)
    narrow_side = 0.1 * 10 ** (-10 / 20) * rng.standard_normal(frames)
    wide_side = 0.1 * 10 ** (-6 / 20) * rng.standard_normal(frames)
    track = np.stack([mid + narrow_side, mid - narrow_side]).astype(np.float32)
    ref_audio = np.stack([mid + wide_side, mid - wide_side]).astype(np.float32)
    reference = analyse_reference(ref_audio, RATE)
    own = im.measure_width(track, RATE)
    assert reference.width is not None
    results = {}
    for blend in (50, 100):
        target = blend_width(own, reference, blend)
        assert target is not None
        plan = im.plan_image(track, RATE, target=target)
        results[blend] = im.measure_width(im.apply_image(track, RATE, plan), RATE)
    for band in ("mid", "high"):
        full = reference.width[band] - own[band]
        assert results[100][band] == pytest.approx(reference.width[band], abs=0.01)
        half = (results[50][band] - own[band]) / full
        assert 0.375 <= half <= 0.625, (band, half)
    # The low band is never widened, whatever the reference.
    assert results[100]["low"] <= own["low"] + 1e-3


@pytest.mark.shared_data
def test_real_track_moves_toward_a_reference(shared_data: Path) -> None:
    path = shared_data / "music" / "librosa-data" / "Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg"
    if not path.exists():
        pytest.skip(f"{path.name} is absent from the shared data")
    audio = decode(path)
    x = audio.samples[:, 20 * RATE : 60 * RATE]
    reference = analyse_reference(x, RATE)
    check_tonal_match(darker(x, RATE), RATE, reference)
