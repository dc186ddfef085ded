"""The FDN reverb, measured on its impulse responses: decay time, pre-delay, damping, image."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from soundry.dsp.reverb import reverb
from soundry.errors import ParameterError


def impulse_response(sample_rate: int, rt60_s: float, **kwargs: float) -> np.ndarray:
    """Stereo response to a unit impulse, long enough for the decay to pass -60 dB."""
    return reverb(np.array([1.0]), sample_rate, rt60_s=rt60_s, tail_s=1.6 * rt60_s, **kwargs)


def decay_time_s(
    ir: np.ndarray, sample_rate: int, top_db: float = -5, bottom_db: float = -35
) -> float:
    """RT60 from the Schroeder energy decay curve (backward-integrated energy of both
    channels), by a least-squares line between top_db and bottom_db, extrapolated to 60 dB
    (T30 with the default limits, T20 with -5..-25)."""
    energy = np.sum(np.asarray(ir, dtype=np.float64) ** 2, axis=0)
    edc = np.cumsum(energy[::-1])[::-1]
    edc_db = 10 * np.log10(edc / edc[0])
    start = int(np.argmax(edc_db <= top_db))
    stop = int(np.argmax(edc_db <= bottom_db))
    assert stop > start + sample_rate // 100, "decay range too short to fit"
    t = np.arange(start, stop) / sample_rate
    slope_db_per_s = np.polyfit(t, edc_db[start:stop], 1)[0]
    return float(-60.0 / slope_db_per_s)


def octave_band(ir: np.ndarray, sample_rate: int, centre_hz: float) -> np.ndarray:
    sos = signal.butter(
        4,
        [centre_hz / np.sqrt(2), centre_hz * np.sqrt(2)],
        "bandpass",
        fs=sample_rate,
        output="sos",
    )
    return np.asarray(signal.sosfilt(sos, ir, axis=-1))


@pytest.mark.parametrize("sample_rate", [44_100, 48_000])
@pytest.mark.parametrize("rt60_s", [0.5, 1.5, 3.0])
def test_decay_time_matches_rt60(sample_rate: int, rt60_s: float) -> None:
    ir = impulse_response(sample_rate, rt60_s, damping=0.0)
    assert decay_time_s(ir, sample_rate) == pytest.approx(rt60_s, rel=0.15)  # T30
    assert decay_time_s(ir, sample_rate, -5, -25) == pytest.approx(rt60_s, rel=0.15)  # T20


@pytest.mark.parametrize("sample_rate", [44_100, 48_000])
@pytest.mark.parametrize("rt60_s", [0.5, 1.5, 3.0])
def test_damped_reverb_keeps_rt60_at_low_frequencies(sample_rate: int, rt60_s: float) -> None:
    ir = impulse_response(sample_rate, rt60_s, damping=0.5)
    low = decay_time_s(octave_band(ir, sample_rate, 500), sample_rate)
    assert low == pytest.approx(rt60_s, rel=0.15)


@pytest.mark.parametrize("sample_rate", [44_100, 48_000])
def test_damping_shortens_the_high_frequency_decay(sample_rate: int) -> None:
    undamped = impulse_response(sample_rate, 2.0, damping=0.0)
    damped = impulse_response(sample_rate, 2.0, damping=0.7)
    decay = {
        (name, centre): decay_time_s(octave_band(ir, sample_rate, centre), sample_rate)
        for name, ir in (("flat", undamped), ("damped", damped))
        for centre in (500, 8000)
    }
    # Without damping every band decays alike; with it the highs die much sooner.
    assert decay["flat", 8000] == pytest.approx(decay["flat", 500], rel=0.1)
    assert decay["damped", 8000] < 0.6 * decay["damped", 500]
    assert decay["damped", 500] == pytest.approx(2.0, rel=0.15)


@pytest.mark.parametrize("sample_rate", [44_100, 48_000])
@pytest.mark.parametrize("predelay_ms", [0.0, 10.0, 35.0, 120.0])
def test_first_arrival_is_the_predelay(sample_rate: int, predelay_ms: float) -> None:
    ir = impulse_response(sample_rate, 1.0, predelay_ms=predelay_ms)
    envelope = np.max(np.abs(ir), axis=0)
    first = int(np.argmax(envelope > 1e-2 * envelope.max()))  # -40 dB re the peak
    assert first / sample_rate * 1000 == pytest.approx(predelay_ms, abs=1.0)
    assert not np.any(envelope[: max(round(predelay_ms * sample_rate / 1000) - 1, 0)])


def test_output_is_stereo_decorrelated_finite_and_deterministic() -> None:
    rate = 48_000
    ir = impulse_response(rate, 1.5)
    assert ir.shape == (2, 1 + round(2.4 * rate)) and ir.dtype == np.float32
    assert np.all(np.isfinite(ir))
    left, right = ir.astype(np.float64)
    rho = np.dot(left, right) / np.sqrt(np.dot(left, left) * np.dot(right, right))
    assert abs(rho) < 0.5
    assert np.array_equal(ir, impulse_response(rate, 1.5))


def test_noise_comes_back_at_about_its_level(rng: np.random.Generator) -> None:
    rate = 44_100
    noise = 0.1 * rng.standard_normal((2, 3 * rate))
    for rt60_s in (0.5, 3.0):
        for damping, lowest_db in ((0.0, -1.0), (0.5, -4.0), (1.0, -7.0)):
            wet = reverb(noise, rate, rt60_s=rt60_s, damping=damping).astype(np.float64)
            steady = wet[:, rate:]  # after the build-up
            level_db = 20 * np.log10(np.std(steady) / np.std(noise))
            assert lowest_db < level_db < 1.0
            assert np.all(np.isfinite(wet))
    # A mono input at the same level returns the same level as the stereo one.
    wet_mono = reverb(noise[0], rate, rt60_s=1.0, damping=0.0).astype(np.float64)
    level_mono = 20 * np.log10(np.std(wet_mono[:, rate:]) / np.std(noise[0]))
    assert abs(level_mono) < 1.0


def test_wet_dry_mix_and_shapes(rng: np.random.Generator) -> None:
    rate = 44_100
    mono = rng.standard_normal(rate // 4)
    dry_only = reverb(mono, rate, wet=0.0, dry=1.0)
    assert dry_only.shape == (2, mono.size)
    np.testing.assert_allclose(dry_only, np.stack([mono, mono]), atol=1e-6)
    stereo = rng.standard_normal((2, rate // 4))
    np.testing.assert_allclose(reverb(stereo, rate, wet=0.0, dry=1.0), stereo, atol=1e-6)
    wet = reverb(stereo, rate).astype(np.float64)
    mixed = reverb(stereo, rate, wet=0.5, dry=0.5).astype(np.float64)
    np.testing.assert_allclose(mixed, 0.5 * wet + 0.5 * stereo, atol=1e-5)
    assert reverb(stereo, rate, tail_s=0.5).shape == (2, stereo.shape[1] + rate // 2)
    # The input's stereo image reaches the output: a left-only source is louder on the left
    # in the early reflections.
    left_only = np.zeros((2, rate))
    left_only[0, 0] = 1.0
    early = reverb(left_only, rate, predelay_ms=0.0)[:, : rate // 50].astype(np.float64)
    assert np.sum(early[0] ** 2) > 2 * np.sum(early[1] ** 2)


def test_size_and_diffusion_change_the_sound_not_the_decay() -> None:
    rate = 48_000
    base = impulse_response(rate, 1.2)
    for kwargs in ({"size": 0.5}, {"size": 2.0}, {"diffusion": 0.0}):
        other = impulse_response(rate, 1.2, **kwargs)
        assert not np.array_equal(other, base)
        assert decay_time_s(octave_band(other, rate, 500), rate) == pytest.approx(1.2, rel=0.15)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"rt60_s": 0.0}, "rt60_s"),
        ({"rt60_s": float("inf")}, "inf"),
        ({"predelay_ms": -1.0}, "-1"),
        ({"damping": 1.5}, "1.5"),
        ({"size": 5.0}, "size"),
        ({"wet": -0.1}, "wet"),
        ({"tail_s": float("nan")}, "nan"),
    ],
)
def test_bad_parameters_raise(kwargs: dict[str, float], needle: str) -> None:
    with pytest.raises(ParameterError) as info:
        reverb(np.zeros(10), 48_000, **kwargs)
    assert needle in str(info.value)
