"""Mid/side, width, per-band width, panning and correlation on generated stereo signals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from soundry.dsp import stereo as S
from soundry.errors import ParameterError

RATE = 48_000


def uncorrelated_noise(rng: np.random.Generator, seconds: float = 1.0) -> np.ndarray:
    return (0.25 * rng.standard_normal((2, round(seconds * RATE)))).astype(np.float32)


def band_energy(x: np.ndarray, lo_hz: float, hi_hz: float) -> float:
    freqs, psd = signal.welch(np.asarray(x, dtype=np.float64), fs=RATE, nperseg=8192)
    keep = (freqs >= lo_hz) & (freqs < hi_hz)
    return float(psd[..., keep].sum())


def test_mid_side_round_trip(rng: np.random.Generator) -> None:
    x = uncorrelated_noise(rng)
    mid, side = S.to_mid_side(x)
    assert mid.shape == side.shape == (x.shape[1],) and mid.dtype == np.float32
    np.testing.assert_allclose(mid, (x[0] + x[1]) / 2, atol=1e-7)
    np.testing.assert_allclose(side, (x[0] - x[1]) / 2, atol=1e-7)
    back = S.from_mid_side(mid, side)
    assert back.shape == x.shape and back.dtype == np.float32
    np.testing.assert_allclose(back, x, atol=1e-6)
    # And the other way round.
    again = S.to_mid_side(S.from_mid_side(mid, side))
    np.testing.assert_allclose(again[0], mid, atol=1e-6)
    np.testing.assert_allclose(again[1], side, atol=1e-6)


def test_mono_has_no_side(rng: np.random.Generator) -> None:
    mono = rng.standard_normal(1000).astype(np.float32)
    mid, side = S.to_mid_side(np.stack([mono, mono]))
    np.testing.assert_array_equal(mid, mono)
    assert not np.any(side)


def test_width_scales_the_side(rng: np.random.Generator) -> None:
    x = uncorrelated_noise(rng)
    _, side = S.to_mid_side(x)
    folded = S.width(x, 0.0)
    np.testing.assert_array_equal(folded[0], folded[1])
    np.testing.assert_allclose(S.width(x, 1.0), x, atol=1e-6)
    wide_side = S.to_mid_side(S.width(x, 2.0))[1]
    assert np.sum(wide_side.astype(np.float64) ** 2) / np.sum(side.astype(np.float64) ** 2) == (
        pytest.approx(4.0, rel=1e-5)
    )
    mono = rng.standard_normal(100)
    np.testing.assert_array_equal(S.width(mono, 0.5), mono.astype(np.float32))
    with pytest.raises(ParameterError, match="-1"):
        S.width(x, -1.0)


def test_band_width_makes_the_bass_mono(rng: np.random.Generator) -> None:
    x = uncorrelated_noise(rng, 2.0)
    out = S.band_width(x, [150.0], [0.0, 1.0], RATE)
    assert out.shape == x.shape and out.dtype == np.float32
    mid, side = S.to_mid_side(out)
    # Below 80 Hz the side is more than 30 dB under the mid; above 1 kHz it is untouched.
    assert 10 * np.log10(band_energy(side, 20, 80) / band_energy(mid, 20, 80)) < -30
    in_mid, in_side = S.to_mid_side(x)
    for sig_in, sig_out in ((in_side, side), (in_mid, mid)):
        ratio = band_energy(sig_out, 1000, 20_000) / band_energy(sig_in, 1000, 20_000)
        assert 10 * np.log10(ratio) == pytest.approx(0.0, abs=0.1)
    # Measured with band edges an octave clear of the 150 Hz split on either side.
    widths = S.stereo_width_per_band(out, [75.0, 300.0], RATE)
    assert widths[0] < 0.005 and widths[2] == pytest.approx(0.5, abs=0.05)


def test_band_width_with_unit_factors_changes_nothing_audible(rng: np.random.Generator) -> None:
    x = uncorrelated_noise(rng)
    # Linear phase: the input itself.
    exact = S.band_width(x, [200.0, 3000.0], [1.0, 1.0, 1.0], RATE, linear_phase=True)
    np.testing.assert_allclose(exact, x, atol=1e-5)
    # IIR: a common all-pass on both channels, so the magnitude and the image are unchanged.
    iir = S.band_width(x, [200.0, 3000.0], [1.0, 1.0, 1.0], RATE)
    for lo, hi in ((20, 200), (200, 3000), (3000, 20_000)):
        for c in range(2):
            ratio = band_energy(iir[c], lo, hi) / band_energy(x[c], lo, hi)
            assert 10 * np.log10(ratio) == pytest.approx(0.0, abs=0.1)
    assert S.correlation(iir) == pytest.approx(S.correlation(x), abs=0.01)


def test_band_width_checks_factor_count(rng: np.random.Generator) -> None:
    with pytest.raises(ParameterError, match="one factor per band"):
        S.band_width(uncorrelated_noise(rng, 0.1), [150.0], [0.0], RATE)


def test_stereo_width_measure(rng: np.random.Generator) -> None:
    noise = uncorrelated_noise(rng)
    mono = np.stack([noise[0], noise[0]])
    np.testing.assert_allclose(S.stereo_width_per_band(mono, [500.0], RATE), [0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(S.stereo_width_per_band(noise, [500.0], RATE), [0.5, 0.5], atol=0.05)
    inverted = np.stack([noise[0], -noise[0]])
    np.testing.assert_allclose(S.stereo_width_per_band(inverted, [], RATE), [1.0], atol=1e-9)
    left_only = np.stack([noise[0], np.zeros_like(noise[0])])
    np.testing.assert_allclose(S.stereo_width_per_band(left_only, [], RATE), [0.5], atol=1e-6)
    silence = np.zeros((2, 1000))
    np.testing.assert_array_equal(S.stereo_width_per_band(silence, [500.0], RATE), [0.0, 0.0])
    # Mono below 300 Hz, uncorrelated above 3 kHz: the measure sees the difference.
    lows = S.to_mid_side(noise)[0]
    sos_low = signal.butter(8, 300, fs=RATE, output="sos")
    sos_high = signal.butter(8, 3000, "highpass", fs=RATE, output="sos")
    bass = signal.sosfilt(sos_low, lows)
    mix = np.stack([bass, bass]) + signal.sosfilt(sos_high, noise, axis=-1)
    widths = S.stereo_width_per_band(mix, [1000.0], RATE)
    assert widths[0] < 0.01 and widths[1] == pytest.approx(0.5, abs=0.05)


def test_constant_power_pan(rng: np.random.Generator) -> None:
    source = rng.standard_normal(RATE).astype(np.float32)
    energy_in = float(np.sum(source.astype(np.float64) ** 2))
    for position in np.linspace(-1, 1, 21):
        out = S.pan(source, float(position)).astype(np.float64)
        assert out.shape == (2, RATE)
        total = float(np.sum(out**2)) / energy_in
        assert total == pytest.approx(1.0, rel=1e-5)  # L² + R² is constant
    centre = S.pan(source, 0.0).astype(np.float64)
    for ch in centre:
        assert 10 * np.log10(np.sum(ch**2) / energy_in) == pytest.approx(-3.01, abs=0.01)
    hard_left = S.pan(source, -1.0)
    assert not np.any(hard_left[1]) and np.array_equal(hard_left[0], source)
    hard_right = S.pan(source[np.newaxis, :], 1.0)
    assert not np.any(hard_right[0])


@pytest.mark.parametrize(("law", "centre_db"), [("linear", -6.02), ("compromise", -4.52)])
def test_other_pan_laws(rng: np.random.Generator, law: str, centre_db: float) -> None:
    source = rng.standard_normal(1000)
    out = S.pan(source, 0.0, law=law).astype(np.float64)
    gain = 10 * np.log10(np.sum(out[0] ** 2) / np.sum(source**2))
    assert gain == pytest.approx(centre_db, abs=0.02)
    left = S.pan(source, -1.0, law=law)
    assert not np.any(left[1])


def test_stereo_pan_is_a_balance_control(rng: np.random.Generator) -> None:
    x = uncorrelated_noise(rng, 0.1)
    np.testing.assert_allclose(S.pan(x, 0.0), x, atol=1e-7)
    right = S.pan(x, 1.0)
    assert not np.any(right[0])
    np.testing.assert_allclose(right[1], x[1], atol=1e-7)
    half_left = S.pan(x, -0.5).astype(np.float64)
    np.testing.assert_allclose(half_left[0], x[0], atol=1e-7)
    assert 0 < np.std(half_left[1]) < np.std(x[1])


def test_pan_rejects_bad_arguments() -> None:
    with pytest.raises(ParameterError, match=r"1\.5"):
        S.pan(np.zeros(10), 1.5)
    with pytest.raises(ParameterError, match="sideways"):
        S.pan(np.zeros(10), 0.0, law="sideways")


def test_correlation(rng: np.random.Generator) -> None:
    noise = uncorrelated_noise(rng, 2.0)
    assert S.correlation(np.stack([noise[0], noise[0]])) == pytest.approx(1.0, abs=1e-9)
    assert S.correlation(np.stack([noise[0], -noise[0]])) == pytest.approx(-1.0, abs=1e-9)
    assert abs(S.correlation(noise)) < 0.02
    t = np.arange(RATE) / RATE
    quadrature = np.stack([np.sin(2 * np.pi * 100 * t), np.cos(2 * np.pi * 100 * t)])
    assert abs(S.correlation(quadrature)) < 1e-3
    half = np.stack([noise[0], 0.5 * noise[0] + np.sqrt(0.75) * noise[1]])
    assert S.correlation(half) == pytest.approx(0.5, abs=0.02)
    assert S.correlation(np.zeros((2, 100))) == 1.0
    assert S.correlation(np.stack([noise[0], np.zeros_like(noise[0])])) == 0.0
    assert S.correlation(noise[0]) == 1.0
    with pytest.raises(ParameterError):
        S.correlation(np.zeros((3, 100)))


def test_correlation_series_follows_the_signal(rng: np.random.Generator) -> None:
    noise = uncorrelated_noise(rng, 4.0)[0]
    flip = np.where(np.arange(noise.size) < noise.size // 2, 1.0, -1.0)
    x = np.stack([noise, noise * flip])
    series = S.correlation_series(x, RATE, window_ms=400, hop_ms=100)
    # 4 s, 400 ms windows every 100 ms: 37 whole windows.
    assert series.shape == (37,)
    np.testing.assert_allclose(series[:16], 1.0, atol=1e-9)
    np.testing.assert_allclose(series[-16:], -1.0, atol=1e-9)
    assert np.all(np.abs(series) <= 1.0)
    short = S.correlation_series(x[:, :100], RATE)
    assert short.shape == (1,) and short[0] == pytest.approx(1.0)
