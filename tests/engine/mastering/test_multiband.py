"""Multiband dynamics, measured on generated music, band-limited bursts and real recordings."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from soundry.audio.decode import decode
from soundry.audio.synth import demo_song
from soundry.dsp.crossover import split_bands
from soundry.dsp.spectrum import band_levels_db
from soundry.engine.mastering import multiband as mb
from soundry.errors import ParameterError

RATE = 44_100


def pinkish(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Noise falling 3 dB per octave, unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(frames))
    spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(frames, 1.0 / RATE), 20.0))
    out = np.fft.irfft(spectrum, frames)
    return out / np.sqrt(np.mean(out**2))


def band_energy_db(x: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Energy (dB) of each multiband band of ``x[:, start:stop]``, split by the reference
    crossover of soundry.dsp."""
    bands = split_bands(np.asarray(x, dtype=np.float64), mb.CROSSOVER_HZ, RATE)
    return np.array(
        [10 * np.log10(np.sum(b[:, start:stop].astype(np.float64) ** 2)) for b in bands]
    )


def mean_gr(stats: dict[str, dict[str, float]]) -> float:
    return sum(s["mean_gr_db"] for s in stats.values())


@pytest.fixture(scope="module")
def song() -> np.ndarray:
    return demo_song(duration_s=20.0, sample_rate=RATE, seed=5).samples


def test_gain_reduction_is_modest_and_follows_the_character(song: np.ndarray) -> None:
    results = {}
    for character in ("tight", "balanced", "wide"):
        plan = mb.plan_multiband(song, RATE, character=character)
        out, stats = mb.apply_multiband(song, RATE, plan, return_stats=True)
        assert set(stats) == set(mb.BAND_NAMES)
        assert out.shape == song.shape and out.dtype == np.float32
        for band in stats.values():
            assert 0.0 <= band["mean_gr_db"] <= band["max_gr_db"]
            assert band["mean_gr_db"] < 2.0
        results[character] = mean_gr(stats)
    assert results["tight"] > results["balanced"] > results["wide"] > 0.0
    assert results["wide"] < 0.5


def test_a_loud_burst_is_reduced_in_its_band_only(rng: np.random.Generator) -> None:
    frames = 10 * RATE
    bed = 0.05 * pinkish(rng, frames)
    burst = np.zeros(frames)
    where = slice(5 * RATE, 5 * RATE + RATE // 3)
    # 0.33 s of 600-1500 Hz noise, 14 dB over the bed's own level in that band.
    noise = signal.sosfilt(
        signal.butter(4, [600, 1500], "bandpass", fs=RATE, output="sos"),
        rng.standard_normal(frames),
    )
    burst[where] = noise[where]
    before_bed = band_energy_db(np.stack([bed, bed]), where.start, where.stop)
    burst *= 10 ** ((before_bed[1] + 14.0 - 10 * np.log10(np.sum(burst[where] ** 2) * 2)) / 20)
    x = np.stack([bed + burst, bed + 0.5 * burst]).astype(np.float32)
    plan = mb.plan_multiband(x, RATE, character="tight")
    y, stats = mb.apply_multiband(x, RATE, plan, return_stats=True)
    change = band_energy_db(y, where.start, where.stop) - band_energy_db(x, where.start, where.stop)
    steady = band_energy_db(y, RATE, 4 * RATE) - band_energy_db(x, RATE, 4 * RATE)
    # The burst's band is held down (by at most the range, 3 dB for "tight")...
    assert change[1] - steady[1] < -1.0
    assert stats["mid"]["max_gr_db"] == pytest.approx(plan.bands[1].range_db, abs=0.1)
    # ...while the others carry on as before.
    assert abs(change[0] - steady[0]) < 0.3
    assert abs(change[2] - steady[2]) < 0.3


def test_ratio_one_is_an_identity_and_an_idle_compressor_keeps_the_magnitude(
    song: np.ndarray,
) -> None:
    plan = mb.plan_multiband(song, RATE)
    flat = dataclasses.replace(
        plan, bands=tuple(dataclasses.replace(b, ratio=1.0, makeup_db=0.0) for b in plan.bands)
    )
    assert flat.is_identity
    np.testing.assert_array_equal(mb.apply_multiband(song, RATE, flat), song)
    # Thresholds out of reach: the bands are split and summed, gains all 1. The crossover's
    # all-pass shifts the phase but keeps the magnitude.
    idle = dataclasses.replace(
        plan,
        bands=tuple(dataclasses.replace(b, threshold_db=0.0, makeup_db=0.0) for b in plan.bands),
    )
    quiet = 0.1 * song
    out, stats = mb.apply_multiband(quiet, RATE, idle, return_stats=True)
    assert mean_gr(stats) == 0.0
    assert not np.array_equal(out, quiet)
    np.testing.assert_allclose(
        band_levels_db(out, RATE)[1:15], band_levels_db(quiet, RATE)[1:15], atol=0.1
    )


def test_disabled_is_bit_identical(song: np.ndarray) -> None:
    plan = mb.plan_multiband(song, RATE, enabled=False)
    assert plan.is_identity and plan.preroll_frames == 0
    out, stats = mb.apply_multiband(song, RATE, plan, return_stats=True)
    np.testing.assert_array_equal(out, song)
    assert mean_gr(stats) == 0.0


def test_excerpt_equals_full_render(song: np.ndarray) -> None:
    plan = mb.plan_multiband(song, RATE, character="tight")
    full = mb.apply_multiband(song, RATE, plan)
    pre = plan.preroll_frames
    assert pre > RATE  # 12 release time constants of the slowest band
    for start, stop in ((pre, pre + RATE), (8 * RATE + 17, 13 * RATE + 5), (17 * RATE, None)):
        end = song.shape[1] if stop is None else stop
        part = mb.apply_multiband(song[:, start - pre : end], RATE, plan, start_frame=start - pre)
        np.testing.assert_allclose(part[:, pre:], full[:, start:end], atol=1e-5, rtol=0)


def test_deterministic_and_json(song: np.ndarray) -> None:
    a = mb.plan_multiband(song, RATE)
    b = mb.plan_multiband(song.copy(), RATE)
    assert a == b
    out_a, stats_a = mb.apply_multiband(song, RATE, a, return_stats=True)
    out_b, stats_b = mb.apply_multiband(song, RATE, b, return_stats=True)
    np.testing.assert_array_equal(out_a, out_b)
    assert stats_a == stats_b
    summary = json.loads(json.dumps(a.to_dict(), allow_nan=False))
    assert summary["crossover_hz"] == list(mb.CROSSOVER_HZ)
    assert [band["name"] for band in summary["bands"]] == list(mb.BAND_NAMES)
    assert {"threshold_db", "ratio", "attack_ms", "release_ms", "knee_db"} <= set(
        summary["bands"][0]
    )
    json.dumps(stats_a, allow_nan=False)


def test_silence_mono_and_dual_mono(song: np.ndarray) -> None:
    silence = np.zeros((2, RATE), np.float32)
    plan = mb.plan_multiband(silence, RATE)
    assert plan.is_identity  # nothing to measure: every ratio is 1
    assert not mb.apply_multiband(silence, RATE, mb.plan_multiband(song, RATE)).any()
    mono = song[0]
    mono_plan = mb.plan_multiband(mono, RATE)
    out = mb.apply_multiband(mono, RATE, mono_plan)
    assert out.shape == mono.shape and out.dtype == np.float32
    dual = np.stack([mono, mono])
    out = mb.apply_multiband(dual, RATE, mb.plan_multiband(dual, RATE))
    np.testing.assert_array_equal(out[0], out[1])
    assert np.isfinite(out).all()
    assert mb.apply_multiband(np.zeros((2, 0), np.float32), RATE, mono_plan).shape == (2, 0)


def test_bad_arguments(song: np.ndarray) -> None:
    with pytest.raises(ParameterError, match="character"):
        mb.plan_multiband(song, RATE, character="loose")  # type: ignore[arg-type]
    plan = mb.plan_multiband(song[:, :RATE], RATE)
    with pytest.raises(ParameterError, match="48000"):
        mb.apply_multiband(song, 48_000, plan)
    with pytest.raises(ParameterError, match="start_frame"):
        mb.apply_multiband(song, RATE, plan, start_frame=-5)
    with pytest.raises(ParameterError, match="NaN"):
        mb.apply_multiband(np.full((2, 10), np.nan, np.float32), RATE, plan)


@pytest.mark.shared_data
def test_real_music_is_held_gently_and_excerpts_match(shared_data: Path) -> None:
    path = shared_data / "music" / "librosa-data" / "Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg"
    if not path.exists():
        pytest.skip(f"{path.name} is absent from the shared data")
    audio = decode(path)
    x = audio.samples[:, 30 * RATE : 75 * RATE]
    totals = {}
    for character in ("tight", "balanced", "wide"):
        plan = mb.plan_multiband(x, RATE, character=character)
        y, stats = mb.apply_multiband(x, RATE, plan, return_stats=True)
        assert all(s["mean_gr_db"] < 2.0 for s in stats.values()), stats
        totals[character] = mean_gr(stats)
        if character == "balanced":
            # Make-up gain keeps the long-term balance within about half a dB everywhere.
            change = band_levels_db(y, RATE)[1:15] - band_levels_db(x, RATE)[1:15]
            assert np.all(np.abs(change) < 0.6), change
            pre = plan.preroll_frames
            start, stop = 20 * RATE + 321, 30 * RATE
            part = mb.apply_multiband(x[:, start - pre : stop], RATE, plan, start_frame=start - pre)
            np.testing.assert_allclose(part[:, pre:], y[:, start:stop], atol=1e-5, rtol=0)
    assert totals["tight"] > totals["balanced"] > totals["wide"]
