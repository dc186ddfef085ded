"""Linkwitz-Riley crossovers: band shapes, flat summation, linear-phase reconstruction."""

from __future__ import annotations

import numpy as np
import pytest

from soundry.dsp import crossover as X
from soundry.dsp import filters as F
from soundry.errors import ParameterError

SPLITS = [[1000.0], [150.0, 2500.0], [120.0, 1000.0, 5000.0], [60.0, 250.0, 2000.0, 8000.0]]


def spectrum_db(x: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    mag = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64)))
    return np.fft.rfftfreq(x.shape[-1], 1 / sample_rate), 20 * np.log10(mag)


def tone_gain_db(x: np.ndarray, y: np.ndarray, freq_hz: float, sample_rate: int) -> float:
    """Gain from x to y at one frequency, from the second halves of the two signals."""
    half = x.shape[-1] // 2
    t = np.arange(half, x.shape[-1]) / sample_rate
    basis = np.stack([np.sin(2 * np.pi * freq_hz * t), np.cos(2 * np.pi * freq_hz * t)], axis=1)
    amp = [np.hypot(*np.linalg.lstsq(basis, s[half:], rcond=None)[0]) for s in (x, y)]
    return float(20 * np.log10(amp[1] / amp[0]))


@pytest.mark.parametrize("sample_rate", [44_100, 48_000])
@pytest.mark.parametrize("order", [4, 8])
@pytest.mark.parametrize("crossover_hz", SPLITS)
def test_iir_bands_sum_flat(sample_rate: int, order: int, crossover_hz: list[float]) -> None:
    n = 1 << 17
    impulse = np.zeros(n)
    impulse[0] = 1.0
    bands = X.split_bands(impulse, crossover_hz, sample_rate, order=order)
    assert len(bands) == len(crossover_hz) + 1
    total = np.sum([b.astype(np.float64) for b in bands], axis=0)
    freqs, db = spectrum_db(total, sample_rate)
    audible = (freqs >= 20) & (freqs <= 20_000)
    assert np.max(np.abs(db[audible])) < 0.1


def test_without_allpass_compensation_the_sum_is_not_flat() -> None:
    # The check above is meaningful: summing plain LR4 low/band/high filters (no all-pass
    # in the low band) leaves a dip of several dB around the crossovers.
    rate, n = 48_000, 1 << 16
    impulse = np.zeros(n)
    impulse[0] = 1.0
    lp1, hp1 = (
        F.cascade(s, s)
        for s in (
            F.lowpass(200, rate, slope_db_per_octave=12),
            F.highpass(200, rate, slope_db_per_octave=12),
        )
    )
    lp2, hp2 = (
        F.cascade(s, s)
        for s in (
            F.lowpass(400, rate, slope_db_per_octave=12),
            F.highpass(400, rate, slope_db_per_octave=12),
        )
    )
    naive = sum(
        F.apply_sos(impulse, sos).astype(np.float64)
        for sos in (lp1, F.cascade(hp1, lp2), F.cascade(hp1, hp2))
    )
    freqs, db = spectrum_db(np.asarray(naive), rate)
    assert np.max(np.abs(db[(freqs >= 20) & (freqs <= 20_000)])) > 1.0


def test_iir_sum_is_the_crossover_allpass(rng: np.random.Generator) -> None:
    rate = 44_100
    crossover_hz = [120.0, 1000.0, 5000.0]
    x = rng.standard_normal((2, rate)).astype(np.float32)
    total = np.sum([b.astype(np.float64) for b in X.split_bands(x, crossover_hz, rate)], axis=0)
    allpass = F.cascade(*(X.crossover_allpass(f, rate) for f in crossover_hz))
    np.testing.assert_allclose(total, F.apply_sos(x, allpass), atol=2e-5)


@pytest.mark.parametrize("order", [4, 8])
def test_bands_are_minus_6_db_at_their_crossovers(order: int) -> None:
    rate = 48_000
    crossover_hz = [200.0, 2000.0]
    for freq in crossover_hz:
        t = np.arange(rate) / rate
        tone = np.sin(2 * np.pi * freq * t)
        gains = [
            tone_gain_db(tone, b, freq, rate)
            for b in X.split_bands(tone, crossover_hz, rate, order=order)
        ]
        # The two bands that meet here are each at -6.02 dB (amplitude 1/2).
        meeting = sorted(gains)[-2:]
        assert meeting == pytest.approx([-6.02, -6.02], abs=0.05)


@pytest.mark.parametrize(("order", "slope"), [(4, 24), (8, 48)])
def test_linkwitz_riley_slopes(order: int, slope: int) -> None:
    rate = 48_000
    low, high = X.crossover_sos([1000.0], rate, order=order)
    freqs = np.array([250.0, 500.0, 2000.0, 4000.0])
    low_db = F.frequency_response(low, freqs, rate)
    high_db = F.frequency_response(high, freqs, rate)
    assert high_db[1] - high_db[0] == pytest.approx(slope, abs=1.5)
    # Measured on a tone as well as predicted.
    t = np.arange(rate) / rate
    for freq, predicted in ((2000.0, low_db[2]), (4000.0, low_db[3])):
        tone = np.sin(2 * np.pi * freq * t)
        measured = tone_gain_db(
            tone, X.split_bands(tone, [1000.0], rate, order=order)[0], freq, rate
        )
        assert measured == pytest.approx(predicted, abs=0.1)
    assert low_db[2] - low_db[3] == pytest.approx(slope, abs=2.0)


@pytest.mark.parametrize("order", [4, 8])
@pytest.mark.parametrize("crossover_hz", SPLITS)
def test_linear_phase_bands_reconstruct_the_input(
    rng: np.random.Generator, order: int, crossover_hz: list[float]
) -> None:
    rate = 48_000
    x = rng.standard_normal((2, rate // 2))
    bands = X.split_bands(x, crossover_hz, rate, order=order, linear_phase=True)
    total = np.sum([b.astype(np.float64) for b in bands], axis=0)
    error_db = 10 * np.log10(np.mean((total - x) ** 2) / np.mean(x**2))
    assert error_db < -60


def test_linear_phase_bands_have_linkwitz_riley_magnitudes() -> None:
    rate = 48_000
    crossover_hz = [150.0, 2500.0]
    n = 1 << 17
    impulse = np.zeros(n)
    impulse[n // 2] = 1.0
    bands = X.split_bands(impulse, crossover_hz, rate, linear_phase=True)
    for band, sos in zip(bands, X.crossover_sos(crossover_hz, rate), strict=True):
        freqs, db = spectrum_db(band, rate)
        target = F.frequency_response(sos, freqs, rate)
        passband = (target > -20) & (freqs >= 20) & (freqs <= 20_000)
        assert np.max(np.abs(db[passband] - target[passband])) < 0.2
        # Symmetric about the impulse: linear phase, no delay.
        offsets = np.arange(1, 2000)
        np.testing.assert_allclose(
            band[n // 2 + offsets], band[n // 2 - offsets], rtol=1e-4, atol=1e-8
        )


def test_crossover_firs_sum_to_a_centred_impulse() -> None:
    firs = X.crossover_firs([100.0, 1000.0], 44_100, taps=2049)
    total = np.sum(firs, axis=0)
    expected = np.zeros(2049)
    expected[1024] = 1.0
    np.testing.assert_allclose(total, expected, atol=1e-12)


def test_shapes_dtypes_and_edge_cases(rng: np.random.Generator) -> None:
    mono = rng.standard_normal(4096)
    bands = X.split_bands(mono, [500.0], 44_100)
    assert [b.shape for b in bands] == [(4096,), (4096,)]
    assert all(b.dtype == np.float32 for b in bands)
    only = X.split_bands(mono, [], 44_100)
    assert len(only) == 1 and np.array_equal(only[0], mono.astype(np.float32))
    first = X.split_bands(mono, [500.0, 4000.0], 44_100, linear_phase=True)
    second = X.split_bands(mono, [500.0, 4000.0], 44_100, linear_phase=True)
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"crossover_hz": [1000.0, 500.0]}, "increase"),
        ({"crossover_hz": [1000.0, 1000.0]}, "increase"),
        ({"crossover_hz": [30_000.0]}, "30000"),
        ({"crossover_hz": [0.0]}, "0"),
        ({"crossover_hz": [100.0], "order": 6}, "6"),
        ({"crossover_hz": [100.0], "order": 2}, "2"),
    ],
)
def test_bad_crossovers_raise(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(ParameterError) as info:
        X.split_bands(np.zeros(100), sample_rate=48_000, **kwargs)
    assert needle in str(info.value)
