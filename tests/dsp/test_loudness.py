"""Loudness metering on signals generated here (no ../shared data needed).

Expected values come from the standards' definitions: a sine of peak amplitude A in each of
two channels has mean square A²/2 per channel, so it reads
``-0.691 + 20 log10(A) + 20 log10|K(f)|``, where ``|K(f)|`` is the gain of the published
48 kHz K-weighting filter at frequency f (+0.698 dB at 1 kHz). A -23 dBFS stereo 1 kHz sine
therefore reads -22.993 LUFS, and the same sine in mono reads 3.010 dB lower.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import signal

from soundry.audio.buffer import AudioBuffer
from soundry.dsp import loudness
from soundry.dsp.loudness import (
    LoudnessReport,
    integrated_loudness,
    k_weighting_sos,
    loudness_range,
    measure,
    momentary_loudness,
    sample_peak_dbfs,
    short_term_loudness,
    true_peak_dbtp,
)
from soundry.errors import ParameterError

# ITU-R BS.1770-4, Tables 1 and 2 (48 kHz).
SHELF_B = [1.53512485958697, -2.69169618940638, 1.19839281085285]
SHELF_A = [1.0, -1.69065929318241, 0.73248077421585]
HIGHPASS_B = [1.0, -2.0, 1.0]
HIGHPASS_A = [1.0, -1.99004745483398, 0.99007225036621]
RATES = [8_000, 11_025, 16_000, 22_050, 32_000, 44_100, 48_000, 88_200, 96_000, 176_400, 192_000]


def published_gain_db(freq_hz: float) -> float:
    """Gain of the published 48 kHz K-weighting cascade at ``freq_hz``."""
    _, h1 = signal.freqz(SHELF_B, SHELF_A, worN=[freq_hz], fs=48_000)
    _, h2 = signal.freqz(HIGHPASS_B, HIGHPASS_A, worN=[freq_hz], fs=48_000)
    return float(20 * np.log10(abs(h1[0] * h2[0])))


def sine_reading_lufs(level_dbfs: float, freq_hz: float = 1000.0, channels: int = 2) -> float:
    """What BS.1770 says a sine of peak ``level_dbfs`` in each of ``channels`` reads."""
    return -0.691 + level_dbfs + published_gain_db(freq_hz) + 10 * math.log10(channels / 2)


def tone(
    level_dbfs: float,
    seconds: float,
    sample_rate: int,
    *,
    freq_hz: float = 1000.0,
    channels: int = 2,
    phase_rad: float = 0.0,
) -> np.ndarray:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    x = 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq_hz * t + phase_rad)
    return np.tile(x.astype(np.float32), (channels, 1))


def faded(x: np.ndarray, sample_rate: int, fade_s: float = 0.02) -> np.ndarray:
    """Raised-cosine fade in and out: an abrupt start rings above the tone's own peak."""
    n = round(fade_s * sample_rate)
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))).astype(np.float32)
    out = x.copy()
    out[..., :n] *= ramp
    out[..., -n:] *= ramp[::-1]
    return out


def steps(parts: list[tuple[float, float]], sample_rate: int) -> np.ndarray:
    return np.concatenate([tone(db, s, sample_rate) for db, s in parts], axis=1)


# --- K-weighting ----------------------------------------------------------------------


def test_k_weighting_at_48k_equals_the_published_coefficients() -> None:
    sos = k_weighting_sos(48_000)
    np.testing.assert_allclose(sos[0], [*SHELF_B, *SHELF_A], rtol=0, atol=1e-12)
    np.testing.assert_allclose(sos[1], [*HIGHPASS_B, *HIGHPASS_A], rtol=0, atol=1e-12)


def test_published_gain_at_1khz() -> None:
    # The figure the -0.691 dB constant of BS.1770 compensates (to within 0.007 dB).
    assert published_gain_db(1000.0) == pytest.approx(0.6977, abs=1e-4)


@pytest.mark.parametrize("rate", RATES)
def test_k_weighting_response_is_the_same_in_hertz_at_every_rate(rate: int) -> None:
    freqs = np.geomspace(20.0, min(0.95 * rate / 2, 22_800.0), 200)
    _, ours = signal.sosfreqz(k_weighting_sos(rate), worN=freqs, fs=rate)
    _, h1 = signal.freqz(SHELF_B, SHELF_A, worN=freqs, fs=48_000)
    _, h2 = signal.freqz(HIGHPASS_B, HIGHPASS_A, worN=freqs, fs=48_000)
    error_db = 20 * np.log10(np.abs(ours) / np.abs(h1 * h2))
    assert np.abs(error_db).max() < 0.03
    # Stable at every rate.
    for section in k_weighting_sos(rate):
        assert np.abs(np.roots(section[3:])).max() < 1.0


# --- levels of sines ------------------------------------------------------------------


@pytest.mark.parametrize("rate", RATES)
def test_1khz_sine_at_minus_23_dbfs_reads_as_the_standard_says(rate: int) -> None:
    x = tone(-23.0, 5.0, rate)
    report = measure(x, rate)
    expected = sine_reading_lufs(-23.0)  # -22.993
    assert report.integrated_lufs == pytest.approx(expected, abs=0.02)
    assert report.integrated_lufs == pytest.approx(-23.0, abs=0.1)
    # A steady tone: every window, and so the maxima, read the same.
    assert report.momentary_max_lufs == pytest.approx(expected, abs=0.03)
    assert report.short_term_max_lufs == pytest.approx(expected, abs=0.03)
    assert report.lra_lu == pytest.approx(0.0, abs=0.05)
    assert report.sample_peak_dbfs == pytest.approx(-23.0, abs=0.01)
    assert report.true_peak_dbtp == pytest.approx(-23.0, abs=0.01)


@pytest.mark.parametrize("level_dbfs", [0.0, -10.0, -40.0, -60.0])
@pytest.mark.parametrize("rate", [44_100, 48_000])
def test_sine_levels(level_dbfs: float, rate: int) -> None:
    got = integrated_loudness(tone(level_dbfs, 4.0, rate), rate)
    assert got == pytest.approx(sine_reading_lufs(level_dbfs), abs=0.02)


@pytest.mark.parametrize("freq_hz", [100.0, 3000.0, 10_000.0])
def test_sines_at_other_frequencies_follow_the_k_curve(freq_hz: float) -> None:
    got = integrated_loudness(tone(-20.0, 4.0, 48_000, freq_hz=freq_hz), 48_000)
    assert got == pytest.approx(sine_reading_lufs(-20.0, freq_hz), abs=0.02)


def test_mono_is_one_channel_without_a_dual_mono_bonus() -> None:
    mono = tone(-23.0, 4.0, 48_000, channels=1)[0]
    assert mono.ndim == 1
    got = integrated_loudness(mono, 48_000)
    assert got == pytest.approx(sine_reading_lufs(-23.0, channels=1), abs=0.02)  # -26.00
    assert got == pytest.approx(integrated_loudness(mono[np.newaxis, :], 48_000), abs=1e-12)
    report = measure(mono, 48_000)
    assert report.channels == 1


def test_float64_input_reads_like_float32() -> None:
    x = tone(-18.0, 3.0, 48_000)
    assert integrated_loudness(x.astype(np.float64), 48_000) == pytest.approx(
        integrated_loudness(x, 48_000), abs=1e-6
    )


def test_audio_buffer_input() -> None:
    x = tone(-23.0, 3.0, 44_100)
    buffer = AudioBuffer(x, 44_100)
    assert measure(buffer) == measure(x, 44_100)
    assert integrated_loudness(buffer) == pytest.approx(integrated_loudness(x, 44_100))
    with pytest.raises(ParameterError, match="48000"):
        measure(buffer, 48_000)


# --- gating ---------------------------------------------------------------------------


def test_quiet_section_below_the_relative_gate_does_not_change_integrated() -> None:
    rate = 48_000
    loud = tone(-20.0, 10.0, rate)
    quiet = tone(-40.0, 10.0, rate)  # 20 LU down: under the -10 LU relative gate
    with_quiet = integrated_loudness(np.concatenate([loud, quiet], axis=1), rate)
    # Only the three blocks straddling the step (3/4, 1/2, 1/4 loud) pass the gate and
    # lower I, by about 0.06 LU.
    assert with_quiet == pytest.approx(integrated_loudness(loud, rate), abs=0.1)
    # Ungated, the quiet half would pull the power mean down by about 2.6 LU.
    assert with_quiet > sine_reading_lufs(-20.0) - 0.1


def test_section_above_the_relative_gate_counts() -> None:
    rate = 48_000
    x = steps([(-20.0, 10.0), (-26.0, 10.0)], rate)  # 6 LU down: above the gate
    power_mean = 10 * math.log10((10 ** (-20 / 10) + 10 ** (-26 / 10)) / 2)
    assert integrated_loudness(x, rate) == pytest.approx(sine_reading_lufs(power_mean), abs=0.05)


def test_absolute_gate() -> None:
    rate = 48_000
    x = steps([(-75.0, 10.0)], rate)  # about -75 LUFS: every block under -70
    assert integrated_loudness(x, rate) == -math.inf
    y = steps([(-65.0, 5.0), (-90.0, 5.0)], rate)
    # The -90 dBFS half is dropped; blocks straddling the step still count (-0.06 LU).
    assert integrated_loudness(y, rate) == pytest.approx(sine_reading_lufs(-65.0), abs=0.1)


# --- loudness range -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "expected_lu"),
    [
        ([(-20.0, 20.0), (-30.0, 20.0)], 10.0),
        ([(-20.0, 20.0), (-15.0, 20.0)], 5.0),
        ([(-40.0, 20.0), (-20.0, 20.0)], 20.0),
        ([(-50.0, 20.0), (-35.0, 20.0), (-20.0, 20.0), (-35.0, 20.0), (-50.0, 20.0)], 15.0),
    ],
)
@pytest.mark.parametrize("rate", [44_100, 48_000])
def test_stepped_tones_give_their_loudness_range(
    parts: list[tuple[float, float]], expected_lu: float, rate: int
) -> None:
    # The Tech 3342 test signals 1 to 4, built from their definitions.
    assert loudness_range(steps(parts, rate), rate) == pytest.approx(expected_lu, abs=1.0)
    assert loudness_range(steps(parts, rate), rate) == pytest.approx(expected_lu, abs=0.1)


def test_loudness_range_ignores_what_is_under_its_relative_gate() -> None:
    rate = 48_000
    x = steps([(-20.0, 20.0), (-30.0, 20.0), (-60.0, 20.0)], rate)  # -60: 40 LU down
    assert loudness_range(x, rate) == pytest.approx(10.0, abs=0.2)


# --- true peak ------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [44_100, 48_000])
def test_true_peak_of_a_quarter_rate_sine_at_45_degrees(rate: int) -> None:
    x = faded(tone(0.0, 1.0, rate, freq_hz=rate / 4, phase_rad=np.pi / 4), rate)
    assert sample_peak_dbfs(x) == pytest.approx(-3.01, abs=0.01)
    assert true_peak_dbtp(x, rate) == pytest.approx(0.0, abs=0.05)
    report = measure(x, rate)
    assert report.true_peak_dbtp == pytest.approx(true_peak_dbtp(x, rate), abs=1e-9)
    assert report.sample_peak_dbfs == pytest.approx(-3.01, abs=0.01)


@pytest.mark.parametrize("rate", [96_000, 192_000])
def test_true_peak_at_high_rates(rate: int) -> None:
    # 2x at 192 kHz: an 18 kHz tone is still found within a few hundredths of a dB.
    x = faded(tone(-1.0, 0.5, rate, freq_hz=18_000.0, phase_rad=0.3), rate)
    assert true_peak_dbtp(x, rate) == pytest.approx(-1.0, abs=0.05)
    assert loudness.true_peak_factor(rate) == (4 if rate < 176_400 else 2)


def test_true_peak_is_the_largest_channel_and_never_below_sample_peak(
    rng: np.random.Generator,
) -> None:
    x = (rng.standard_normal((3, 30_000)) * 0.1).astype(np.float32)
    x[2, 12_345] = 0.9
    tp = true_peak_dbtp(x, 48_000)
    assert tp >= sample_peak_dbfs(x)
    assert sample_peak_dbfs(x) == pytest.approx(20 * math.log10(0.9), abs=1e-6)


# --- silence, short signals, edge cases -----------------------------------------------


def test_silence_is_minus_infinity_everywhere_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = measure(np.zeros((2, 48_000 * 5), dtype=np.float32), 48_000)
        for value in (
            report.integrated_lufs,
            report.true_peak_dbtp,
            report.sample_peak_dbfs,
            report.momentary_max_lufs,
            report.short_term_max_lufs,
        ):
            assert value == -math.inf
        assert report.lra_lu == 0.0
        assert np.all(report.momentary_lufs == -np.inf)
        assert np.all(report.short_term_lufs == -np.inf)
        assert not np.isnan(report.momentary_lufs).any()
        as_dict = report.to_dict(include_series=True)
        assert as_dict["integrated_lufs"] is None
        assert as_dict["true_peak_dbtp"] is None
        assert as_dict["lra_lu"] == 0.0
        json.dumps(as_dict, allow_nan=False)


def test_silence_after_a_loud_passage_reads_exactly_minus_infinity() -> None:
    # The filter tail decays away (flushed before it turns subnormal) and the window sums
    # are not differences of a running total, so there is no rounding residue.
    rate = 44_100
    x = np.concatenate([tone(0.0, 2.0, rate), np.zeros((2, rate * 20), np.float32)], axis=1)
    momentary = momentary_loudness(x, rate)
    assert momentary[-50:].max() == -math.inf
    assert short_term_loudness(x, rate)[-50:].max() == -math.inf


@pytest.mark.parametrize("seconds", [0.0, 0.05, 0.399])
def test_signal_shorter_than_one_gating_block(seconds: float) -> None:
    x = tone(-10.0, seconds, 48_000)
    report = measure(x, 48_000)
    assert report.integrated_lufs == -math.inf
    assert report.momentary_max_lufs == -math.inf
    assert report.short_term_max_lufs == -math.inf
    assert report.lra_lu == 0.0
    assert report.momentary_lufs.shape == (0,)
    assert report.duration_s == pytest.approx(seconds, abs=1e-4)
    if seconds > 0.01:
        assert report.sample_peak_dbfs == pytest.approx(-10.0, abs=0.1)


def test_one_second_signal_has_momentary_but_no_short_term() -> None:
    report = measure(tone(-23.0, 1.0, 48_000), 48_000)
    assert report.momentary_lufs.shape == (7,)
    assert report.short_term_lufs.shape == (0,)
    assert report.integrated_lufs == pytest.approx(sine_reading_lufs(-23.0), abs=0.03)
    assert report.short_term_max_lufs == -math.inf


# --- series and odd rates -------------------------------------------------------------


@pytest.mark.parametrize("rate", [11_025, 22_050, 44_100, 48_000])
def test_series_are_10_hz_with_one_value_per_complete_window(rate: int) -> None:
    seconds = 7.35
    report = measure(tone(-20.0, seconds, rate), rate)
    n_sub = int(seconds * 10)
    assert report.momentary_lufs.shape == (n_sub - 3,)
    assert report.short_term_lufs.shape == (n_sub - 29,)
    expected = sine_reading_lufs(-20.0)
    # 100 ms is 1102.5 frames at 11 025 Hz: windows still hold a whole 400 ms / 3 s.
    np.testing.assert_allclose(report.momentary_lufs[1:], expected, atol=0.03)
    np.testing.assert_allclose(report.short_term_lufs, expected, atol=0.03)


def test_momentary_window_timing() -> None:
    rate = 48_000
    x = np.zeros((2, rate * 4), np.float32)
    x[:, rate * 2 : rate * 2 + rate // 10] = tone(-10.0, 0.1, rate)  # 2.0 s to 2.1 s
    momentary = momentary_loudness(x, rate)
    # Window j covers [0.1 j, 0.1 j + 0.4) s: windows 17 to 20 hold the burst.
    # (The K-weighting's own decay after the burst stays under -50 LUFS.)
    audible = np.flatnonzero(momentary > -30.0)
    assert audible.tolist() == [17, 18, 19, 20]


def test_single_figure_functions_agree_with_measure(rng: np.random.Generator) -> None:
    rate = 44_100
    x = (rng.standard_normal((2, rate * 8)) * np.linspace(0.01, 0.3, rate * 8)).astype(np.float32)
    report = measure(x, rate)
    assert integrated_loudness(x, rate) == report.integrated_lufs
    assert loudness_range(x, rate) == report.lra_lu
    assert true_peak_dbtp(x, rate) == report.true_peak_dbtp
    assert sample_peak_dbfs(x) == report.sample_peak_dbfs
    np.testing.assert_array_equal(momentary_loudness(x, rate), report.momentary_lufs)
    np.testing.assert_array_equal(short_term_loudness(x, rate), report.short_term_lufs)


# --- channel weights ------------------------------------------------------------------


def surround(active: int, level_dbfs: float = -20.0, channels: int = 6) -> np.ndarray:
    x = np.zeros((channels, 48_000 * 4), np.float32)
    x[active] = tone(level_dbfs, 4.0, 48_000, channels=1)[0]
    return x


def test_51_weights_front_surround_and_lfe() -> None:
    one_channel = sine_reading_lufs(-20.0, channels=1)
    for front in (0, 1, 2):  # L R C
        got = integrated_loudness(surround(front), 48_000)
        assert got == pytest.approx(one_channel, abs=0.02)
    for side in (4, 5):  # Ls Rs: +1.5 dB
        got = integrated_loudness(surround(side), 48_000)
        assert got == pytest.approx(one_channel + 10 * math.log10(1.41), abs=0.02)
    lfe = measure(surround(3), 48_000)  # excluded from loudness, not from peaks
    assert lfe.integrated_lufs == -math.inf
    assert lfe.true_peak_dbtp == pytest.approx(-20.0, abs=0.01)


def test_channel_weights_override() -> None:
    x = surround(3)
    got = integrated_loudness(x, 48_000, channel_weights=[1, 1, 1, 1, 1.41, 1.41])
    assert got == pytest.approx(sine_reading_lufs(-20.0, channels=1), abs=0.02)
    stereo = tone(-20.0, 4.0, 48_000)
    assert integrated_loudness(stereo, 48_000, channel_weights=[1.0, 0.0]) == pytest.approx(
        sine_reading_lufs(-20.0, channels=1), abs=0.02
    )


def test_default_weights_for_known_layouts() -> None:
    np.testing.assert_array_equal(loudness.default_channel_weights(2), [1, 1])
    np.testing.assert_array_equal(loudness.default_channel_weights(5), [1, 1, 1, 1.41, 1.41])
    np.testing.assert_array_equal(
        loudness.default_channel_weights(8), [1, 1, 1, 0, 1, 1, 1.41, 1.41]
    )
    with pytest.raises(ParameterError, match="4 channels"):
        measure(np.zeros((4, 48_000), np.float32), 48_000)
    assert measure(np.zeros((4, 48_000), np.float32), 48_000, channel_weights=[1] * 4)


# --- the report -----------------------------------------------------------------------


def test_report_to_dict_keys_and_json() -> None:
    report = measure(tone(-23.0, 4.0, 48_000), 48_000)
    assert isinstance(report, LoudnessReport)
    scalar_keys = [
        "integrated_lufs",
        "lra_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "momentary_max_lufs",
        "short_term_max_lufs",
        "duration_s",
        "sample_rate",
        "channels",
    ]
    as_dict = report.to_dict()
    assert list(as_dict) == scalar_keys
    assert as_dict["sample_rate"] == 48_000 and as_dict["channels"] == 2
    with_series = report.to_dict(include_series=True)
    assert list(with_series) == [*scalar_keys, "momentary_lufs", "short_term_lufs"]
    assert len(with_series["momentary_lufs"]) == report.momentary_lufs.size  # type: ignore[arg-type]
    json.dumps(with_series, allow_nan=False)
    with pytest.raises(AttributeError):
        report.integrated_lufs = 0.0  # type: ignore[misc]


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [7_999, 192_001, 44_100.5, 0, -48_000, True, math.nan, "48000"])
def test_rejects_sample_rates_out_of_range(rate: float) -> None:
    with pytest.raises(ParameterError, match="sample rate"):
        measure(np.zeros((2, 1000), np.float32), rate)  # type: ignore[arg-type]


def test_rejects_bad_shapes_and_dtypes() -> None:
    with pytest.raises(ParameterError, match=r"\(2, 3, 4\)"):
        measure(np.zeros((2, 3, 4), np.float32), 48_000)
    with pytest.raises(ParameterError, match="shape"):
        measure(np.zeros((0, 10), np.float32), 48_000)
    with pytest.raises(ParameterError, match="int16"):
        measure(np.zeros((2, 10), np.int16), 48_000)
    with pytest.raises(ParameterError, match="sample_rate is required"):
        measure(np.zeros((2, 10), np.float32))
    with pytest.raises(ParameterError, match="channel_weights"):
        measure(np.zeros((2, 10), np.float32), 48_000, channel_weights=[1.0])
    with pytest.raises(ParameterError, match="channel_weights"):
        measure(np.zeros((2, 10), np.float32), 48_000, channel_weights=[1.0, -1.0])
    with pytest.raises(ParameterError, match="channel_weights"):
        measure(np.zeros((2, 10), np.float32), 48_000, channel_weights=["a", "b"])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 30_000, 47_999])
def test_rejects_non_finite_samples(bad: float, where: int) -> None:
    x = tone(-20.0, 1.0, 48_000)
    x[1, where] = bad
    with pytest.raises(ParameterError, match=f"channel 1, frame {where}"):
        measure(x, 48_000)
    with pytest.raises(ParameterError, match="finite"):
        true_peak_dbtp(x, 48_000)
    with pytest.raises(ParameterError, match="finite"):
        sample_peak_dbfs(x)
