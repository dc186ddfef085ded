"""Biquads, Butterworth cascades and linear-phase FIRs, measured on generated signals."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from soundry.dsp import filters as F
from soundry.dsp import fir
from soundry.errors import ParameterError

RATES = [44_100, 48_000]


def sine(freq_hz: float, sample_rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    return np.sin(2 * np.pi * freq_hz * t)


def tone_gain_db(sos: np.ndarray, freq_hz: float, sample_rate: int) -> float:
    """Steady-state gain of a filter at one frequency, measured by filtering a sine and
    least-squares fitting a sine/cosine pair to the second half of the output."""
    x = sine(freq_hz, sample_rate)
    y = F.apply_sos(x, sos).astype(np.float64)
    half = x.size // 2
    t = np.arange(half, x.size) / sample_rate
    basis = np.stack([np.sin(2 * np.pi * freq_hz * t), np.cos(2 * np.pi * freq_hz * t)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, y[half:], rcond=None)
    return float(20 * np.log10(np.hypot(*coef)))


def impulse_response_db(out: np.ndarray, sample_rate: int, freqs_hz: np.ndarray) -> np.ndarray:
    spectrum = np.abs(np.fft.rfft(np.asarray(out, dtype=np.float64)))
    bins = np.fft.rfftfreq(out.shape[-1], 1 / sample_rate)
    return np.asarray(20 * np.log10(np.interp(freqs_hz, bins, spectrum)))


# --------------------------------------------------------------------------- designs


@pytest.mark.parametrize("sample_rate", RATES)
def test_peaking_reaches_its_gain_at_the_centre_and_nothing_far_away(sample_rate: int) -> None:
    boost = F.peaking(1000, 6.0, 1.0, sample_rate)
    assert tone_gain_db(boost, 1000, sample_rate) == pytest.approx(6.0, abs=0.02)
    # Two octaves away a Q 1 bell has all but died out.
    assert abs(tone_gain_db(boost, 250, sample_rate)) < 0.5
    assert abs(tone_gain_db(boost, 4000, sample_rate)) < 0.5
    assert abs(tone_gain_db(boost, 15_000, sample_rate)) < 0.05
    cut = F.peaking(1000, -6.0, 1.0, sample_rate)
    assert tone_gain_db(cut, 1000, sample_rate) == pytest.approx(-6.0, abs=0.02)


@pytest.mark.parametrize("sample_rate", RATES)
def test_narrow_peaking_is_narrower(sample_rate: int) -> None:
    wide = tone_gain_db(F.peaking(2000, 9.0, 0.7, sample_rate), 2800, sample_rate)
    narrow = tone_gain_db(F.peaking(2000, 9.0, 4.0, sample_rate), 2800, sample_rate)
    assert narrow < wide - 3.0


@pytest.mark.parametrize("sample_rate", RATES)
def test_shelves_reach_their_gain(sample_rate: int) -> None:
    low = F.low_shelf(200, 6.0, sample_rate)
    assert tone_gain_db(low, 20, sample_rate) == pytest.approx(6.0, abs=0.1)
    assert tone_gain_db(low, 200, sample_rate) == pytest.approx(3.0, abs=0.02)  # midpoint
    assert abs(tone_gain_db(low, 5000, sample_rate)) < 0.05
    high = F.high_shelf(4000, -6.0, sample_rate)
    assert tone_gain_db(high, 18_000, sample_rate) == pytest.approx(-6.0, abs=0.1)
    assert tone_gain_db(high, 4000, sample_rate) == pytest.approx(-3.0, abs=0.02)
    assert abs(tone_gain_db(high, 100, sample_rate)) < 0.05


def test_shelf_slope_parameter_steepens_the_transition() -> None:
    gentle = F.low_shelf(300, 12.0, 48_000, slope=0.5)
    steep = F.low_shelf(300, 12.0, 48_000, slope=1.0)
    # Both reach the full gain at DC and half of it at the midpoint...
    for sos in (gentle, steep):
        assert tone_gain_db(sos, 10, 48_000) == pytest.approx(12.0, abs=0.1)
        assert tone_gain_db(sos, 300, 48_000) == pytest.approx(6.0, abs=0.02)
    # ...but the steeper one is closer to full gain an octave below.
    assert tone_gain_db(steep, 150, 48_000) > tone_gain_db(gentle, 150, 48_000) + 1.0


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize("slope", [12, 24, 48])
def test_butterworth_highpass_slope_and_corner(sample_rate: int, slope: int) -> None:
    fc = 1000.0
    sos = F.highpass(fc, sample_rate, slope_db_per_octave=slope)
    assert sos.shape == (slope // 12, 6)
    assert tone_gain_db(sos, fc, sample_rate) == pytest.approx(-3.01, abs=0.02)
    measured = tone_gain_db(sos, fc / 2, sample_rate) - tone_gain_db(sos, fc / 4, sample_rate)
    assert measured == pytest.approx(slope, abs=1.5)
    assert abs(tone_gain_db(sos, 8 * fc, sample_rate)) < 0.05


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize("slope", [12, 24, 48])
def test_butterworth_lowpass_slope_and_corner(sample_rate: int, slope: int) -> None:
    fc = 500.0
    sos = F.lowpass(fc, sample_rate, slope_db_per_octave=slope)
    assert tone_gain_db(sos, fc, sample_rate) == pytest.approx(-3.01, abs=0.02)
    measured = tone_gain_db(sos, 2 * fc, sample_rate) - tone_gain_db(sos, 4 * fc, sample_rate)
    assert measured == pytest.approx(slope, abs=1.5)
    assert abs(tone_gain_db(sos, fc / 8, sample_rate)) < 0.05


def test_butterworth_section_qs() -> None:
    assert F.butterworth_q(2) == pytest.approx([0.70711], abs=1e-5)
    assert F.butterworth_q(4) == pytest.approx([0.54120, 1.30656], abs=1e-5)
    assert F.butterworth_q(8) == pytest.approx([0.50980, 0.60134, 0.89998, 2.56292], abs=1e-5)
    assert F.butterworth_q(3) == pytest.approx([1.0], abs=1e-9)


def test_odd_order_butterworth_adds_a_first_order_section() -> None:
    sos = F.highpass(200, 48_000, slope_db_per_octave=18)
    assert sos.shape == (2, 6)
    assert tone_gain_db(sos, 200, 48_000) == pytest.approx(-3.01, abs=0.02)
    assert tone_gain_db(sos, 50, 48_000) - tone_gain_db(sos, 25, 48_000) == pytest.approx(
        18, abs=1.0
    )


def test_notch_bandpass_and_allpass() -> None:
    rate = 48_000
    assert tone_gain_db(F.notch(1000, 2.0, rate), 1000, rate) < -60
    assert abs(tone_gain_db(F.notch(1000, 2.0, rate), 4000, rate)) < 0.5
    assert tone_gain_db(F.bandpass(1000, 2.0, rate), 1000, rate) == pytest.approx(0.0, abs=0.02)
    assert tone_gain_db(F.bandpass(1000, 2.0, rate), 100, rate) < -20
    for freq in (50, 1000, 15_000):
        assert tone_gain_db(F.allpass(1000, rate), freq, rate) == pytest.approx(0.0, abs=0.01)


def test_frequency_response_matches_measured_tones() -> None:
    rate = 48_000
    chain = F.cascade(
        F.highpass(40, rate, slope_db_per_octave=24),
        F.peaking(300, -4.0, 1.4, rate),
        F.high_shelf(6000, 2.5, rate),
    )
    freqs = np.array([30.0, 80.0, 300.0, 1000.0, 9000.0])
    predicted = F.frequency_response(chain, freqs, rate)
    measured = [tone_gain_db(chain, f, rate) for f in freqs]
    np.testing.assert_allclose(measured, predicted, atol=0.02)
    assert np.all(np.isfinite(F.frequency_response(F.notch(1000, 1, rate), [1000.0], rate)))


# --------------------------------------------------------------------------- applying


def test_cascade_is_one_pass_of_all_sections(rng: np.random.Generator) -> None:
    rate = 44_100
    a = F.peaking(250, 3.0, 0.8, rate)
    b = F.highpass(30, rate, slope_db_per_octave=24)
    x = rng.standard_normal((2, rate)).astype(np.float32)
    together = F.apply_sos(x, F.cascade(a, b))
    one_by_one = F.apply_sos(F.apply_sos(x, a), b)
    assert F.cascade(a, b).shape == (3, 6)
    np.testing.assert_allclose(together, one_by_one, atol=2e-6)


def test_apply_sos_keeps_shape_dtype_and_is_deterministic(rng: np.random.Generator) -> None:
    sos = F.peaking(1000, 4.0, 2.0, 48_000)
    mono = rng.standard_normal(10_000)
    out = F.apply_sos(mono, sos)
    assert out.shape == mono.shape and out.dtype == np.float32
    stereo = rng.standard_normal((2, 10_000)).astype(np.float32)
    first, second = F.apply_sos(stereo, sos), F.apply_sos(stereo, sos)
    assert first.shape == (2, 10_000) and first.dtype == np.float32
    assert np.array_equal(first, second)
    # An empty chain passes audio through unchanged.
    assert np.array_equal(F.apply_sos(stereo, F.cascade()), stereo)


def test_zero_phase_has_no_delay_and_squares_the_magnitude() -> None:
    rate = 48_000
    sos = F.lowpass(1000, rate, slope_db_per_octave=12)
    x = sine(1000, rate)
    y = F.apply_sos(x, sos, zero_phase=True).astype(np.float64)
    mid = slice(rate // 4, 3 * rate // 4)
    # Same phase as the input, at twice the dB attenuation (-6.02 dB at the corner).
    assert np.corrcoef(x[mid], y[mid])[0, 1] > 0.9999
    gain = 20 * np.log10(np.std(y[mid]) / np.std(x[mid]))
    assert gain == pytest.approx(-6.02, abs=0.05)
    short = F.apply_sos(np.ones(10), F.highpass(100, rate, slope_db_per_octave=48), zero_phase=True)
    assert short.shape == (10,) and np.all(np.isfinite(short))


def test_extreme_but_valid_filters_stay_finite(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 192_000)).astype(np.float32)
    chain = F.cascade(
        F.highpass(5, 192_000, slope_db_per_octave=48),
        F.peaking(20, 24.0, 10.0, 192_000),
        F.lowpass(90_000, 192_000, slope_db_per_octave=48),
    )
    assert np.all(np.isfinite(F.apply_sos(x, chain)))


def test_filter_chain_builds_immutably() -> None:
    rate = 48_000
    base = F.FilterChain(rate)
    eq = base.highpass(30, slope_db_per_octave=24).peaking(250, -2.5, 1.2).high_shelf(8000, 1.5)
    assert len(base) == 0 and len(eq) == 4
    expected = F.cascade(
        F.highpass(30, rate, slope_db_per_octave=24),
        F.peaking(250, -2.5, 1.2, rate),
        F.high_shelf(8000, 1.5, rate),
    )
    np.testing.assert_array_equal(eq.sos, expected)
    assert tone_gain_db(eq.sos, 250, rate) == pytest.approx(
        float(eq.response_db(np.array([250.0]))[0]), abs=0.02
    )
    x = sine(440, rate, 0.1)
    np.testing.assert_array_equal(eq.apply(x), F.apply_sos(x, expected))
    with pytest.raises(ValueError):
        eq.sos[0, 0] = 2.0  # read-only


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: F.peaking(0, 3, 1, 48_000), "0"),
        (lambda: F.peaking(24_000, 3, 1, 48_000), "24000"),
        (lambda: F.peaking(-5, 3, 1, 48_000), "-5"),
        (lambda: F.peaking(1000, 3, 0, 48_000), "q"),
        (lambda: F.peaking(1000, float("nan"), 1, 48_000), "gain_db"),
        (lambda: F.low_shelf(100, 3, 48_000, q=0.7, slope=1.0), "not both"),
        (lambda: F.high_shelf(100, 3, -1), "-1"),
        (lambda: F.highpass(100, 48_000, slope_db_per_octave=10), "10"),
        (lambda: F.lowpass(100, 48_000, slope_db_per_octave=0), "0"),
        (lambda: F.apply_sos(np.zeros(10), np.zeros((2, 5))), "(2, 5)"),
        (lambda: F.apply_sos(np.zeros((1, 2, 3)), F.peaking(1000, 1, 1, 48_000)), "shape"),
    ],
)
def test_bad_arguments_raise_parameter_error(call: Callable[[], object], needle: str) -> None:
    with pytest.raises(ParameterError) as info:
        call()
    assert needle in str(info.value)


# --------------------------------------------------------------------------- linear phase


def mastering_chain(rate: int) -> np.ndarray:
    return F.cascade(
        F.highpass(25, rate, slope_db_per_octave=12),
        F.low_shelf(100, 3.0, rate),
        F.peaking(60, 2.0, 1.0, rate),
        F.peaking(1000, -4.0, 1.5, rate),
        F.high_shelf(8000, 2.0, rate),
    )


@pytest.mark.parametrize("sample_rate", RATES)
@pytest.mark.parametrize("taps", [4097, 8193])
def test_linear_phase_fir_matches_the_iir_magnitude(sample_rate: int, taps: int) -> None:
    sos = mastering_chain(sample_rate)
    h = fir.linear_phase_fir(sos, sample_rate, taps=taps)
    n = 1 << 17
    impulse = np.zeros(n)
    impulse[n // 2] = 1.0  # in the middle, so the delay-compensated response fits
    freqs = np.geomspace(50, 20_000, 400)
    fir_db = impulse_response_db(fir.apply_fir(impulse, h), sample_rate, freqs)
    impulse_at_0 = np.zeros(n)
    impulse_at_0[0] = 1.0
    iir_db = impulse_response_db(F.apply_sos(impulse_at_0, sos), sample_rate, freqs)
    assert np.max(np.abs(fir_db - iir_db)) < 0.2


def test_linear_phase_fir_is_symmetric_and_time_aligned() -> None:
    rate = 48_000
    h = fir.linear_phase_fir(mastering_chain(rate), rate)
    assert h.size == 4097 and np.array_equal(h, h[::-1])
    n = 20_001
    impulse = np.zeros(n)
    impulse[n // 2] = 1.0
    response = fir.apply_fir(impulse, h).astype(np.float64)
    assert response.shape == (n,)
    offsets = np.arange(1, 2048)
    np.testing.assert_allclose(
        response[n // 2 + offsets], response[n // 2 - offsets], rtol=1e-5, atol=1e-9
    )
    # A tone where the EQ is flat comes out in phase with the input, not delayed.
    x = sine(3000, rate, 0.5)
    y = fir.apply_fir(x, h).astype(np.float64)
    mid = slice(5000, 19_000)
    assert (
        np.max(
            np.abs(
                y[mid]
                - x[mid]
                * 10
                ** (F.frequency_response(mastering_chain(rate), np.array([3000.0]), rate)[0] / 20)
            )
        )
        < 2e-3
    )


def test_fir_from_magnitude_follows_a_curve() -> None:
    rate = 48_000
    freqs = [100.0, 1000.0, 10_000.0]
    gains = [-3.0, 0.0, 6.0]
    h = fir.fir_from_magnitude(freqs, gains, rate, taps=8193)
    n = 1 << 16
    impulse = np.zeros(n)
    impulse[n // 2] = 1.0
    probe = np.array([60.0, 100.0, 316.2278, 1000.0, 3162.278, 10_000.0, 16_000.0])
    measured = impulse_response_db(fir.apply_fir(impulse, h), rate, probe)
    # Linear in dB over log-frequency between the points, flat beyond them.
    np.testing.assert_allclose(measured, [-3.0, -3.0, -1.5, 0.0, 3.0, 6.0, 6.0], atol=0.1)


def test_fir_arguments_are_checked() -> None:
    with pytest.raises(ParameterError, match="4096"):
        fir.linear_phase_fir(F.peaking(1000, 1, 1, 48_000), 48_000, taps=4096)
    with pytest.raises(ParameterError):
        fir.fir_from_magnitude([1000.0, 500.0], [0.0, 1.0], 48_000)
    with pytest.raises(ParameterError):
        fir.apply_fir(np.zeros(10), np.zeros((2, 2)))
    assert fir.default_fir_taps(48_000) == 4097
    assert fir.default_fir_taps(96_000) == 8193
    assert fir.default_fir_taps(44_100) == 4097
