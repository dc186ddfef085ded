"""Stereo image enhancement, measured on generated stereo noise mixes and real music."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from soundry.audio.decode import decode
from soundry.audio.synth import demo_song
from soundry.dsp.spectrum import band_levels_db
from soundry.dsp.stereo import correlation, stereo_width_per_band
from soundry.engine.mastering import image as im
from soundry.errors import ParameterError

RATE = 44_100


def pinkish(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Noise falling 3 dB per octave (music-like), unit RMS, float64."""
    spectrum = np.fft.rfft(rng.standard_normal(frames))
    freqs = np.fft.rfftfreq(frames, 1.0 / RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    out = np.fft.irfft(spectrum, frames)
    return out / np.sqrt(np.mean(out**2))


def mix(rng: np.random.Generator, side_db: float, seconds: float = 6.0) -> np.ndarray:
    """Stereo of a pink-ish mid and an independent side ``side_db`` under it: (2, frames)."""
    frames = round(seconds * RATE)
    mid = 0.1 * pinkish(rng, frames)
    side = 0.1 * 10.0 ** (side_db / 20.0) * pinkish(rng, frames)
    return np.stack([mid + side, mid - side]).astype(np.float32)


def mid_levels_db(x: np.ndarray) -> np.ndarray:
    return band_levels_db((x[0].astype(np.float64) + x[1]) / 2, RATE, n_bands=16)


def real_track(
    shared_data: Path, name: str = "Kevin_MacLeod_-_Vibe_Ace", seconds: float = 30.0
) -> tuple[np.ndarray, int]:
    path = shared_data / "music" / "librosa-data" / f"{name}.hq.ogg"
    if not path.exists():
        pytest.skip(f"{path.name} is absent from the shared data")
    audio = decode(path)
    return audio.samples[:, : round(seconds * audio.sample_rate)], audio.sample_rate


# ---------------------------------------------------------------------------------------------
# Measuring


def test_measure_width_agrees_with_the_time_domain_measure(rng: np.random.Generator) -> None:
    x = mix(rng, -8.0, seconds=4.0)
    x[:, :] += np.stack([0.05 * pinkish(rng, x.shape[1])] * 2).astype(np.float32)
    got = im.measure_width(x, RATE)
    want = stereo_width_per_band(x, im.BAND_EDGES_HZ, RATE)
    for name, value in zip(im.BAND_NAMES, want, strict=True):
        assert got[name] == pytest.approx(value, abs=0.01)
    assert got["correlation"] == pytest.approx(correlation(x), abs=1e-9)
    assert set(got) == {"low", "mid", "high", "correlation"}


def test_measure_width_of_mono_and_silence(rng: np.random.Generator) -> None:
    mono = (0.1 * rng.standard_normal(RATE)).astype(np.float32)
    expected = {"low": 0.0, "mid": 0.0, "high": 0.0, "correlation": 1.0}
    assert im.measure_width(mono, RATE) == expected
    assert im.measure_width(mono[np.newaxis], RATE) == expected
    dual = im.measure_width(np.stack([mono, mono]), RATE)
    assert [dual[k] for k in im.BAND_NAMES] == [0.0, 0.0, 0.0]
    assert im.measure_width(np.zeros((2, RATE), np.float32), RATE) == expected
    # Anti-phase reads 1 in every band.
    anti = im.measure_width(np.stack([mono, -mono]), RATE)
    assert [anti[k] for k in im.BAND_NAMES] == pytest.approx([1.0, 1.0, 1.0])


# ---------------------------------------------------------------------------------------------
# Planning and applying


def test_a_narrow_mix_gets_wider_in_mids_and_highs(rng: np.random.Generator) -> None:
    x = mix(rng, -20.0)
    plan = im.plan_image(x, RATE)
    assert plan.side_gain[0] <= 1.0
    assert plan.side_gain[1] > 1.2 and plan.side_gain[2] > 1.2
    before = im.measure_width(x, RATE)
    after = im.measure_width(im.apply_image(x, RATE, plan), RATE)
    for band in ("mid", "high"):
        assert after[band] > 1.5 * before[band], band
    assert after["low"] <= before["low"] + 1e-3
    assert after["correlation"] < before["correlation"]


def test_a_too_wide_mix_gets_tighter(rng: np.random.Generator) -> None:
    x = mix(rng, -20.0)
    frames = x.shape[1]
    anti = (0.12 * pinkish(rng, frames)).astype(np.float32)
    x = x + np.stack([anti, -anti])  # anti-correlated noise: a phasey, over-wide mix
    before = im.measure_width(x, RATE)
    assert min(before[b] for b in im.BAND_NAMES) > 0.5
    plan = im.plan_image(x, RATE)
    assert all(g < 1.0 for g in plan.side_gain)
    after = im.measure_width(im.apply_image(x, RATE, plan), RATE)
    for band in im.BAND_NAMES:
        assert after[band] < before[band] - 0.1, band
    assert after["correlation"] > before["correlation"]


def test_widths_reach_the_target_when_within_range(rng: np.random.Generator) -> None:
    x = mix(rng, -9.0)  # w ≈ 0.11 everywhere
    target = {"low": 0.05, "mid": 0.2, "high": 0.22}
    plan = im.plan_image(x, RATE, target=target)
    after = im.measure_width(im.apply_image(x, RATE, plan), RATE)
    for band, value in target.items():
        assert after[band] == pytest.approx(value, abs=0.01), band
    assert plan.target_width == (0.05, 0.2, 0.22)


def test_the_low_band_is_never_widened(rng: np.random.Generator) -> None:
    x = mix(rng, -25.0)
    plan = im.plan_image(x, RATE, target={"low": 0.6, "mid": 0.6, "high": 0.6})
    assert plan.side_gain[0] <= 1.0
    assert plan.side_gain[1] == plan.side_gain[2] == im.SIDE_GAIN_RANGE[1]
    before = im.measure_width(x, RATE)
    after = im.measure_width(im.apply_image(x, RATE, plan), RATE)
    assert after["low"] <= before["low"] * 1.05
    # Below 120 Hz the side is not raised at all (only skirts of the mid band reach there).
    low_side = band_levels_db((x[0] - x[1]) / 2, RATE, n_bands=10, low_hz=20, high_hz=120)
    y = im.apply_image(x, RATE, plan)
    new_side = band_levels_db((y[0] - y[1]) / 2, RATE, n_bands=10, low_hz=20, high_hz=120)
    assert np.all(new_side <= low_side + 0.3)


def test_widening_is_mono_compatible(rng: np.random.Generator) -> None:
    x = mix(rng, -12.0)
    plan = im.plan_image(x, RATE, target={"mid": 0.4, "high": 0.45})
    assert max(plan.side_gain) > 1.3
    y = im.apply_image(x, RATE, plan)
    # Widening scales only the side: the mono fold-down keeps its level in every band.
    np.testing.assert_allclose(mid_levels_db(y), mid_levels_db(x), atol=0.05)
    assert correlation(y) >= 0.0


def test_mono_and_dual_mono_pass_unchanged(rng: np.random.Generator) -> None:
    mono = (0.2 * pinkish(rng, RATE)).astype(np.float32)
    dual = np.stack([mono, mono])
    plan = im.plan_image(dual, RATE)
    assert plan.enabled and plan.is_identity
    np.testing.assert_array_equal(im.apply_image(dual, RATE, plan), dual)
    np.testing.assert_array_equal(im.apply_image(mono, RATE, im.plan_image(mono, RATE)), mono)
    one_row = mono[np.newaxis]
    out = im.apply_image(one_row, RATE, im.plan_image(one_row, RATE))
    assert out.shape == one_row.shape
    np.testing.assert_array_equal(out, one_row)
    # A stereo plan applied to mono audio leaves it alone too.
    wide_plan = im.plan_image(mix(rng, -20.0, seconds=2.0), RATE)
    assert not wide_plan.is_identity
    np.testing.assert_array_equal(im.apply_image(mono, RATE, wide_plan), mono)


def test_disabled_is_bit_identical(rng: np.random.Generator) -> None:
    x = mix(rng, -20.0, seconds=2.0)
    plan = im.plan_image(x, RATE, enabled=False)
    assert not plan.enabled and plan.is_identity and plan.side_gain == (1.0, 1.0, 1.0)
    out = im.apply_image(x, RATE, plan)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, x)
    assert plan.to_dict()["measured_width"] is None


def test_silence_stays_silent_and_output_is_float32() -> None:
    silence = np.zeros((2, RATE), dtype=np.float64)
    plan = im.plan_image(silence, RATE)
    out = im.apply_image(silence, RATE, plan)
    assert out.dtype == np.float32 and out.shape == silence.shape and not out.any()
    assert im.apply_image(np.zeros((2, 0), np.float32), RATE, plan).shape == (2, 0)


def test_deterministic_and_json_plan(rng: np.random.Generator) -> None:
    x = mix(rng, -20.0, seconds=2.0)
    a, b = im.plan_image(x, RATE), im.plan_image(x.copy(), RATE)
    assert a == b
    np.testing.assert_array_equal(im.apply_image(x, RATE, a), im.apply_image(x, RATE, b))
    summary = json.loads(json.dumps(a.to_dict()))
    assert set(summary["side_gain"]) == set(im.BAND_NAMES)
    assert summary["preroll_frames"] == a.preroll_frames > 0


def test_excerpt_equals_full_render_on_generated_song() -> None:
    song = demo_song(duration_s=12.0, sample_rate=RATE, seed=3).samples
    # Give the generated song some width so that there is something to process.
    side = np.roll(song[0], 37) - song[0]
    x = (song + 0.3 * np.stack([side, -side])).astype(np.float32)
    plan = im.plan_image(x, RATE, target={"mid": 0.3, "high": 0.35})
    assert not plan.is_identity
    full = im.apply_image(x, RATE, plan)
    pre = plan.preroll_frames
    for start, stop in ((pre, pre + RATE), (5 * RATE + 123, 9 * RATE), (10 * RATE, x.shape[1])):
        part = im.apply_image(x[:, start - pre : stop], RATE, plan, start_frame=start - pre)
        np.testing.assert_allclose(part[:, pre:], full[:, start:stop], atol=1e-5, rtol=0)


@pytest.mark.shared_data
def test_real_music_is_balanced_and_excerpts_match(shared_data: Path) -> None:
    x, rate = real_track(shared_data)
    before = im.measure_width(x, rate)
    plan = im.plan_image(x, rate)
    y = im.apply_image(x, rate, plan)
    after = im.measure_width(y, rate)
    # Every band moves toward its target (or stays where it is).
    for k, band in enumerate(im.BAND_NAMES):
        target = im.DEFAULT_TARGET_WIDTH[band]
        assert abs(after[band] - target) <= abs(before[band] - target) + 1e-3, band
        if plan.side_gain[k] != 1.0:
            assert abs(after[band] - target) < abs(before[band] - target), band
    assert after["correlation"] >= 0.0
    np.testing.assert_allclose(mid_levels_db(y)[:14], mid_levels_db(x)[:14], atol=0.05)
    pre = plan.preroll_frames
    start, stop = 12 * rate + 777, 20 * rate
    part = im.apply_image(x[:, start - pre : stop], rate, plan, start_frame=start - pre)
    np.testing.assert_allclose(part[:, pre:], y[:, start:stop], atol=1e-5, rtol=0)


def test_bad_arguments_are_rejected(rng: np.random.Generator) -> None:
    x = mix(rng, -20.0, seconds=1.0)
    with pytest.raises(ParameterError, match="target keys"):
        im.plan_image(x, RATE, target={"sub": 0.1})
    with pytest.raises(ParameterError, match="target width"):
        im.plan_image(x, RATE, target={"mid": 1.0})
    with pytest.raises(ParameterError, match="channels"):
        im.plan_image(np.zeros((3, 100), np.float32), RATE)
    with pytest.raises(ParameterError, match="NaN"):
        im.measure_width(np.full((2, 10), np.nan, np.float32), RATE)
    with pytest.raises(ParameterError, match="sample_rate"):
        im.measure_width(x, 1000)
    plan = im.plan_image(x, RATE)
    with pytest.raises(ParameterError, match="48000"):
        im.apply_image(x, 48_000, plan)
    with pytest.raises(ParameterError, match="start_frame"):
        im.apply_image(x, RATE, plan, start_frame=-1)
    # A measure_width() dict is a valid target: its correlation key is ignored.
    assert im.plan_image(x, RATE, target=im.measure_width(x, RATE)).is_identity


def test_low_sample_rate_drops_the_top_crossover(rng: np.random.Generator) -> None:
    x = (0.1 * rng.standard_normal((2, 8_000))).astype(np.float32)
    plan = im.plan_image(x, 8_000)
    assert plan.band_edges_hz == (250.0,)
    assert plan.side_gain[2] == 1.0
    assert im.measure_width(x, 8_000)["high"] == 0.0
    assert im.apply_image(x, 8_000, plan).shape == x.shape
