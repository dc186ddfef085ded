"""The dynamic tonal stage, measured on pink noise, neutral-shaped noise and real music."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from soundry.audio import decode
from soundry.audio.synth import demo_song
from soundry.dsp.spectrum import band_edges_hz, band_levels_db
from soundry.engine.mastering._spectral import gain_curves_db
from soundry.engine.mastering.profiles import (
    NEUTRAL_CURVE_DB,
    PROFILES,
    TONAL_BAND_CENTRES_HZ,
    TonalProfile,
)
from soundry.engine.mastering.tonal import (
    TonalPlan,
    apply_tonal,
    measure_balance_db,
    plan_tonal,
)
from soundry.errors import ParameterError

RATE = 44_100
MUSIC = "music/librosa-data"
_EDGES = band_edges_hz(16)
CENTRES_16 = np.sqrt(_EDGES[:-1] * _EDGES[1:])
# Groups of the 16 report bands (by centre frequency, Hz).
GROUPS = {
    "sub": (20, 45),
    "low": (50, 100),
    "lowmid": (130, 350),
    "mid": (500, 2000),
    "upper_mid": (1000, 3500),
    "presence": (2500, 5000),
    "high": (6000, 20_000),
}


def group(levels_db: np.ndarray, name: str) -> float:
    lo, hi = GROUPS[name]
    inside = (lo <= CENTRES_16) & (hi >= CENTRES_16)
    return float(np.mean(levels_db[inside]))


def shaped_noise(
    rng: np.random.Generator, curve_db: np.ndarray | None, seconds: float, channels: int = 2
) -> np.ndarray:
    """Pink noise (equal energy per octave), optionally tilted by a tonal-band curve."""
    n = round(seconds * RATE)
    spectrum = np.fft.rfft(rng.standard_normal((channels, n)), axis=-1)
    freqs = np.fft.rfftfreq(n, 1.0 / RATE)
    amp = 1.0 / np.sqrt(np.maximum(freqs, 10.0))
    if curve_db is not None:
        amp *= 10.0 ** (gain_curves_db(TONAL_BAND_CENTRES_HZ, curve_db[None], freqs)[0] / 20)
    y = np.fft.irfft(spectrum * amp, n, axis=-1)
    return (0.1 * y / np.sqrt(np.mean(y**2))).astype(np.float32)


def load_music(shared_data: Path, name: str, start_s: float, seconds: float) -> np.ndarray:
    audio = decode(shared_data / MUSIC / name)
    assert audio.sample_rate == RATE
    start = round(start_s * RATE)
    return np.ascontiguousarray(audio.samples[:, start : start + round(seconds * RATE)])


def render(
    x: np.ndarray, profile: str | TonalProfile | None, intensity: float = 100.0
) -> np.ndarray:
    prof = PROFILES[profile] if isinstance(profile, str) else profile
    return apply_tonal(x, RATE, plan_tonal(x, RATE, profile=prof, intensity=intensity))


def neutral_like(name: str) -> TonalProfile:
    """The balanced profile i with the limits of profile ``name``: the baseline that
    isolates a profile's character from how hard it may correct."""
    prof = PROFILES[name]
    return replace(PROFILES["i"], max_boost_db=prof.max_boost_db, max_cut_db=prof.max_cut_db)


@pytest.fixture(scope="module")
def pink() -> np.ndarray:
    return shaped_noise(np.random.default_rng(7), None, 20.0)


@pytest.fixture(scope="module")
def neutral_noise() -> np.ndarray:
    """Noise with the neutral curve's balance: what a well-balanced master looks like."""
    return shaped_noise(np.random.default_rng(8), NEUTRAL_CURVE_DB, 20.0)


@pytest.fixture(scope="module")
def vibe_ace(shared_data: Path) -> np.ndarray:
    return load_music(shared_data, "Kevin_MacLeod_-_Vibe_Ace.hq.ogg", 20.0, 30.0)


@pytest.fixture(scope="module")
def fishin(shared_data: Path) -> np.ndarray:
    return load_music(shared_data, "Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg", 30.0, 30.0)


SIGNALS = ["pink", "neutral_noise", "vibe_ace", "fishin"]


@pytest.fixture(scope="module")
def profile_changes(
    request: pytest.FixtureRequest,
) -> Callable[[str], dict[str, np.ndarray]]:
    """Per signal: each profile's output spectrum minus that of the neutral target with the
    same limits (16 bands, dB)."""
    cache: dict[str, dict[str, np.ndarray]] = {}

    def get(signal_name: str) -> dict[str, np.ndarray]:
        if signal_name not in cache:
            x = request.getfixturevalue(signal_name)
            bases: dict[tuple[float, float], np.ndarray] = {}
            changes = {}
            for name, prof in PROFILES.items():
                limits = (prof.max_boost_db, prof.max_cut_db)
                if limits not in bases:
                    bases[limits] = band_levels_db(render(x, neutral_like(name)), RATE)
                changes[name] = band_levels_db(render(x, name), RATE) - bases[limits]
            cache[signal_name] = changes
        return cache[signal_name]

    return get


# Documented direction of each profile relative to the balanced profile i:
# (description, measure(changes) -> dB, minimum dB).
DIRECTIONS: dict[str, list[tuple[str, Callable[[np.ndarray], float], float]]] = {
    "a": [("bright top", lambda d: group(d, "high") - group(d, "mid"), 1.0)],
    "b": [
        ("solid low end", lambda d: group(d, "low") - group(d, "lowmid"), 0.5),
        ("mid clarity", lambda d: group(d, "upper_mid") - group(d, "lowmid"), 0.5),
    ],
    "c": [("big bass", lambda d: group(d, "low") - group(d, "mid"), 1.0)],
    "d": [
        ("sub-bass", lambda d: group(d, "sub"), 1.5),
        ("heavy bass", lambda d: group(d, "low") - group(d, "mid"), 1.0),
    ],
    "e": [
        ("sub-bass", lambda d: group(d, "sub"), 1.0),
        ("open highs", lambda d: group(d, "high") - group(d, "lowmid"), 0.5),
    ],
    "f": [("light top", lambda d: group(d, "high") - group(d, "mid"), 1.0)],
    "g": [("dark top", lambda d: group(d, "mid") - group(d, "high"), 1.0)],
    "h": [("open mids/highs", lambda d: group(d, "presence") - group(d, "lowmid"), 0.5)],
    "j": [("light upper lift", lambda d: group(d, "high") - group(d, "mid"), 0.5)],
    "k": [
        (
            "low and low-mid boost",
            lambda d: (
                group(d, "low") + group(d, "lowmid") - group(d, "presence") - group(d, "high")
            ),
            1.0,
        )
    ],
    "l": [
        ("mids over lows", lambda d: group(d, "mid") - group(d, "low"), 1.0),
        ("mids over highs", lambda d: group(d, "mid") - group(d, "high"), 0.5),
    ],
    "m": [("mid clarity", lambda d: group(d, "mid") - group(d, "low"), 0.5)],
    "n": [("warm", lambda d: group(d, "lowmid") - group(d, "high"), 1.0)],
}


@pytest.mark.parametrize("signal_name", SIGNALS)
@pytest.mark.parametrize("profile", sorted(DIRECTIONS))
def test_profile_moves_spectrum_in_documented_direction(
    profile_changes: Callable[[str], dict[str, np.ndarray]], signal_name: str, profile: str
) -> None:
    changes = profile_changes(signal_name)[profile]
    for what, measure, minimum in DIRECTIONS[profile]:
        got = measure(changes)
        assert got >= minimum, f"{profile} ({what}) on {signal_name}: {got:+.2f} dB"


@pytest.mark.parametrize("signal_name", SIGNALS)
def test_light_is_brighter_than_dark_and_heavy_bass_has_more_sub(
    profile_changes: Callable[[str], dict[str, np.ndarray]], signal_name: str
) -> None:
    ch = profile_changes(signal_name)
    assert group(ch["f"], "high") - group(ch["g"], "high") >= 2.5
    assert group(ch["d"], "sub") - group(ch["c"], "sub") >= 0.5


def test_profiles_against_the_input_on_a_neutral_balance(neutral_noise: np.ndarray) -> None:
    before = band_levels_db(neutral_noise, RATE)
    change = {k: band_levels_db(render(neutral_noise, k), RATE) - before for k in "aidgln"}
    # The balanced profile leaves a neutral balance nearly alone.
    assert np.max(np.abs(change["i"])) < 1.0
    assert group(change["a"], "high") - group(change["a"], "mid") >= 1.0
    assert group(change["d"], "sub") >= 1.5
    assert group(change["g"], "high") - group(change["g"], "mid") <= -1.0
    assert group(change["l"], "mid") - group(change["l"], "low") >= 1.0
    # n: warm (low mids up against highs) and the highs are not boosted.
    assert group(change["n"], "lowmid") - group(change["n"], "high") >= 1.0
    assert group(change["n"], "high") <= 0.1


def test_light_touch_corrects_less(vibe_ace: np.ndarray) -> None:
    light = plan_tonal(vibe_ace, RATE, profile=PROFILES["m"]).gains_db
    full = plan_tonal(vibe_ace, RATE, profile=PROFILES["i"]).gains_db
    assert np.abs(light).mean() < np.abs(full).mean()


def test_balanced_profile_pulls_a_dark_mix_toward_neutral(vibe_ace: np.ndarray) -> None:
    before = measure_balance_db(vibe_ace, RATE) - NEUTRAL_CURVE_DB
    after = measure_balance_db(render(vibe_ace, "i"), RATE) - NEUTRAL_CURVE_DB
    assert np.sum(after**2) < 0.5 * np.sum(before**2)


def test_intensity_zero_is_bit_identical_on_real_music(fishin: np.ndarray) -> None:
    plan = plan_tonal(fishin, RATE, profile=PROFILES["a"], intensity=0)
    assert plan.is_identity and plan.preroll_frames == 0
    out = apply_tonal(fishin, RATE, plan)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, fishin)
    assert np.array_equal(band_levels_db(out, RATE), band_levels_db(fishin, RATE))


def test_no_profile_and_no_target_is_identity(vibe_ace: np.ndarray) -> None:
    plan = plan_tonal(vibe_ace, RATE, profile=None)
    assert plan.is_identity
    np.testing.assert_array_equal(apply_tonal(vibe_ace, RATE, plan), vibe_ace)


@pytest.mark.parametrize("profile", ["a", "d", "l"])
def test_intensity_50_gives_about_half_the_change(fishin: np.ndarray, profile: str) -> None:
    before = band_levels_db(fishin, RATE)
    full = band_levels_db(render(fishin, profile, 100), RATE) - before
    half = band_levels_db(render(fishin, profile, 50), RATE) - before
    big = np.abs(full) >= 1.0
    assert big.sum() >= 3
    ratio = half[big] / full[big]
    assert np.all((ratio > 0.375) & (ratio < 0.625)), np.round(ratio, 2)
    plan_full = plan_tonal(fishin, RATE, profile=PROFILES[profile], intensity=100)
    plan_half = plan_tonal(fishin, RATE, profile=PROFILES[profile], intensity=50)
    np.testing.assert_allclose(plan_half.gains_db, 0.5 * plan_full.gains_db, atol=1e-12)


def _dark_then_bright(rng: np.random.Generator) -> np.ndarray:
    dark_curve = NEUTRAL_CURVE_DB + np.linspace(6, -6, NEUTRAL_CURVE_DB.size)
    bright_curve = NEUTRAL_CURVE_DB + np.linspace(-6, 6, NEUTRAL_CURVE_DB.size)
    return np.concatenate(
        [shaped_noise(rng, dark_curve, 15.0), shaped_noise(rng, bright_curve, 15.0)], axis=1
    )


def test_correction_follows_the_music_over_time(rng: np.random.Generator) -> None:
    x = _dark_then_bright(rng)
    plan = plan_tonal(x, RATE, profile=PROFILES["i"])
    first = plan.gains_db[(plan.times_s >= 2) & (plan.times_s <= 12)].mean(axis=0)
    second = plan.gains_db[(plan.times_s >= 18) & (plan.times_s <= 28)].mean(axis=0)
    # Dark half: highs lifted, lows cut; bright half: the reverse.
    assert first[-2:].mean() - second[-2:].mean() >= 4.0
    assert second[1:3].mean() - first[1:3].mean() >= 4.0
    # Smooth over time: no jumps between neighbouring analysis instants.
    assert np.max(np.abs(np.diff(plan.gains_db, axis=0))) <= 2.0

    y = apply_tonal(x, RATE, plan)
    half = x.shape[1] // 2
    margin = 3 * RATE  # away from the transition, where the correction glides
    d1 = band_levels_db(y[:, : half - margin], RATE) - band_levels_db(x[:, : half - margin], RATE)
    d2 = band_levels_db(y[:, half + margin :], RATE) - band_levels_db(x[:, half + margin :], RATE)
    assert group(d1, "high") - group(d1, "low") >= 3.0  # dark half made brighter
    assert group(d2, "high") - group(d2, "low") <= -3.0  # bright half made darker


def test_quiet_stretches_hold_the_correction(rng: np.random.Generator) -> None:
    loud = _dark_then_bright(rng)[:, : 12 * RATE]
    x = np.concatenate([loud, np.zeros((2, 12 * RATE), dtype=np.float32)], axis=1)
    plan = plan_tonal(x, RATE, profile=PROFILES["i"])
    # Past the reach of the time smoothing (4 sigma = 8 s after the music stops).
    held = plan.gains_db[plan.times_s >= 21]
    np.testing.assert_allclose(held, held[0][np.newaxis].repeat(held.shape[0], 0), atol=1e-6)
    assert np.max(np.abs(held)) > 1.0  # the dark music's correction, not zero


@pytest.mark.parametrize(("start_s", "end_s"), [(0.0, 3.3), (0.05, 2.0), (7.123, 13.77)])
def test_excerpt_with_preroll_equals_full_render(
    vibe_ace: np.ndarray, start_s: float, end_s: float
) -> None:
    x = vibe_ace[:, : 20 * RATE]
    plan = plan_tonal(x, RATE, profile=PROFILES["e"])
    assert plan.preroll_frames > 0 and not plan.is_identity
    full = apply_tonal(x, RATE, plan)
    s, e = round(start_s * RATE), round(end_s * RATE)
    lead = min(plan.preroll_frames, s)
    excerpt = apply_tonal(x[:, s - lead : e], RATE, plan, start_frame=s - lead)[:, lead:]
    assert excerpt.shape == (2, e - s)
    np.testing.assert_allclose(excerpt, full[:, s:e], rtol=0, atol=1e-5)


def test_streamed_chunks_equal_full_render(fishin: np.ndarray) -> None:
    plan = plan_tonal(fishin, RATE, profile=PROFILES["b"])
    full = apply_tonal(fishin, RATE, plan)
    p, chunk = plan.preroll_frames, 77_777
    parts = []
    for s in range(0, fishin.shape[1], chunk):
        lead = min(p, s)
        e = min(s + chunk, fishin.shape[1])
        parts.append(
            apply_tonal(fishin[:, s - lead : e], RATE, plan, start_frame=s - lead)[:, lead:]
        )
    np.testing.assert_allclose(np.concatenate(parts, axis=1), full, rtol=0, atol=1e-5)


def test_output_is_time_aligned_no_latency() -> None:
    # A click through a plan of constant gains: the response starts at the click (causal,
    # minimum-phase), with nothing before it.
    plan = TonalPlan(
        band_centres_hz=TONAL_BAND_CENTRES_HZ,
        times_s=np.array([0.0]),
        gains_db=np.array([[3.0, 2, 1, 0, -1, -2, -1, 0, 1, 2]]),
        profile=None,
        intensity=100.0,
        preroll_frames=4096,
    )
    x = np.zeros((1, RATE), dtype=np.float32)
    x[0, 30_000] = 1.0
    y = apply_tonal(x, RATE, plan)
    assert np.max(np.abs(y[0, :30_000])) < 1e-6  # FFT rounding only
    assert np.argmax(np.abs(y[0])) - 30_000 < 8


def test_constant_plan_realises_its_band_gains() -> None:
    gains = np.array([4.0, 3.0, 1.0, -1.0, -3.0, 0.0, 2.0, 4.0, -2.0, 1.0])
    plan = TonalPlan(
        band_centres_hz=TONAL_BAND_CENTRES_HZ,
        times_s=np.array([0.0, 5.0]),
        gains_db=np.vstack([gains, gains]),
        profile=None,
        intensity=100.0,
        preroll_frames=4096,
    )
    t = np.arange(4 * RATE) / RATE
    for centre, want in zip(TONAL_BAND_CENTRES_HZ, gains, strict=True):
        x = np.sin(2 * np.pi * centre * t).astype(np.float32)
        y = apply_tonal(x, RATE, plan)
        steady = slice(RATE, 3 * RATE)
        got = 20 * np.log10(np.std(y[steady]) / np.std(x[steady]))
        assert abs(got - want) < 0.3, (centre, got, want)


def test_silence_in_silence_out() -> None:
    x = np.zeros((2, 5 * RATE), dtype=np.float32)
    plan = plan_tonal(x, RATE, profile=PROFILES["d"])
    assert plan.is_identity
    y = apply_tonal(x, RATE, plan)
    assert np.all(y == 0)


def test_mono_in_mono_out_and_dual_mono_stays_identical() -> None:
    song = demo_song(duration_s=12.0, seed=3).samples
    mono = np.ascontiguousarray(song.mean(axis=0))
    plan = plan_tonal(mono, RATE, profile=PROFILES["c"])
    out = apply_tonal(mono, RATE, plan)
    assert out.shape == mono.shape and out.dtype == np.float32
    assert np.isfinite(out).all()
    dual = np.stack([mono, mono])
    dual_plan = plan_tonal(dual, RATE, profile=PROFILES["c"])
    np.testing.assert_array_equal(dual_plan.gains_db, plan.gains_db)
    dual_out = apply_tonal(dual, RATE, dual_plan)
    np.testing.assert_array_equal(dual_out[0], dual_out[1])
    np.testing.assert_allclose(dual_out[0], out, rtol=0, atol=1e-6)


def test_deterministic(vibe_ace: np.ndarray) -> None:
    a = apply_tonal(vibe_ace, RATE, plan_tonal(vibe_ace, RATE, profile=PROFILES["h"]))
    b = apply_tonal(vibe_ace, RATE, plan_tonal(vibe_ace, RATE, profile=PROFILES["h"]))
    assert np.array_equal(a, b)
    assert np.isfinite(a).all()


@pytest.mark.parametrize("frames", [0, 1, 100, 5000, RATE // 2])
def test_short_inputs(frames: int, rng: np.random.Generator) -> None:
    x = (0.1 * rng.standard_normal((2, frames))).astype(np.float32)
    plan = plan_tonal(x, RATE, profile=PROFILES["a"])
    y = apply_tonal(x, RATE, plan)
    assert y.shape == x.shape and np.isfinite(y).all()


@pytest.mark.parametrize("rate", [8_000, 22_050, 32_000, 48_000, 96_000])
def test_other_sample_rates(rate: int, rng: np.random.Generator) -> None:
    x = (0.1 * rng.standard_normal((2, 6 * rate))).astype(np.float32)
    plan = plan_tonal(x, rate, profile=PROFILES["f"])
    y = apply_tonal(x, rate, plan)
    assert y.shape == x.shape and np.isfinite(y).all()
    assert np.isfinite(plan.gains_db).all()
    assert np.max(np.abs(plan.gains_db)) <= 12.0


def test_reference_curve_pulls_balance_toward_reference(
    vibe_ace: np.ndarray, fishin: np.ndarray
) -> None:
    target = measure_balance_db(fishin, RATE)
    before = measure_balance_db(vibe_ace, RATE) - target
    plan = plan_tonal(vibe_ace, RATE, profile=None, target_curve_db=target)
    after = measure_balance_db(apply_tonal(vibe_ace, RATE, plan), RATE) - target
    assert np.sum(after**2) < 0.5 * np.sum(before**2)
    half = plan_tonal(vibe_ace, RATE, profile=None, target_curve_db=target, strength=0.5)
    np.testing.assert_allclose(half.gains_db, 0.5 * plan.gains_db, atol=1e-12)
    assert plan_tonal(vibe_ace, RATE, profile=None, target_curve_db=target, strength=0).is_identity


def test_plan_summary_is_json_able(fishin: np.ndarray) -> None:
    import json

    plan = plan_tonal(fishin, RATE, profile=PROFILES["k"], intensity=80)
    summary = plan.to_dict()
    json.dumps(summary)
    assert summary["profile"] == "k" and summary["intensity"] == 80.0
    assert len(summary["mean_gain_db"]) == TONAL_BAND_CENTRES_HZ.size
    assert summary["max_abs_gain_db"] == pytest.approx(np.abs(plan.gains_db).max(), abs=1e-3)
    assert plan.gains_db.shape == (plan.times_s.size, TONAL_BAND_CENTRES_HZ.size)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"intensity": 101}, "intensity"),
        ({"intensity": -1}, "intensity"),
        ({"intensity": float("nan")}, "intensity"),
        ({"strength": 1.5}, "strength"),
        ({"target_curve_db": np.zeros(5)}, "target_curve_db"),
        ({"target_curve_db": np.full(10, np.nan)}, "target_curve_db"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    x = np.zeros((2, RATE), dtype=np.float32)
    with pytest.raises(ParameterError, match=match):
        plan_tonal(x, RATE, profile=PROFILES["a"], **kwargs)  # type: ignore[arg-type]


def test_bad_audio_and_mismatched_rate(rng: np.random.Generator) -> None:
    x = (0.1 * rng.standard_normal((2, 3 * RATE))).astype(np.float32)
    bad = x.copy()
    bad[0, 5] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        plan_tonal(bad, RATE, profile=PROFILES["a"])
    with pytest.raises(ParameterError, match="shape"):
        plan_tonal(x[np.newaxis], RATE, profile=PROFILES["a"])
    plan = plan_tonal(x, RATE, profile=PROFILES["a"])
    with pytest.raises(ParameterError, match="48000"):
        apply_tonal(x, 48_000, plan)
    with pytest.raises(ParameterError, match="start_frame"):
        apply_tonal(x, RATE, plan, start_frame=-1)


def test_gain_changes_glide_without_steps() -> None:
    # A flat gain rising 2 dB per second: every block gets a slightly different filter.
    # The blocks' inputs cross-fade, so a steady tone's level glides with no step at the
    # block boundaries, and follows the planned ramp.
    from scipy.signal import hilbert

    times = np.arange(5.0)
    plan = TonalPlan(
        band_centres_hz=TONAL_BAND_CENTRES_HZ,
        times_s=times,
        gains_db=np.repeat(2.0 * times[:, None], TONAL_BAND_CENTRES_HZ.size, axis=1),
        profile=None,
        intensity=100.0,
        preroll_frames=4096,
    )
    t = np.arange(5 * RATE) / RATE
    x = (0.25 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)
    y = apply_tonal(x, RATE, plan)
    inner = slice(RATE // 2, 9 * RATE // 2)
    level_db = 20 * np.log10(np.abs(hilbert(y.astype(np.float64)))[inner] / 0.25)
    planned_db = 2.0 * np.minimum(t[inner], times[-1])  # held after the last instant
    assert np.max(np.abs(level_db - planned_db)) < 0.35
    assert np.max(np.abs(np.diff(level_db))) < 0.002  # < 0.002 dB per sample: no steps
