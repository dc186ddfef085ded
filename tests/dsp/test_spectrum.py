"""Log-spaced band levels, checked with sines, white and pink noise."""

from __future__ import annotations

import numpy as np
import pytest

from soundry.dsp.spectrum import SILENT_BAND_DB, band_edges_hz, band_levels_db
from soundry.errors import ParameterError


def pink_noise(rng: np.random.Generator, frames: int) -> np.ndarray:
    """Noise with a 1/f power spectrum (equal power per octave), shaped in the FFT domain."""
    spectrum = np.fft.rfft(rng.standard_normal(frames))
    freqs = np.fft.rfftfreq(frames)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0.0
    x = np.fft.irfft(spectrum, frames)
    return 0.1 * x / np.std(x)


def test_band_edges() -> None:
    edges = band_edges_hz()
    assert edges.shape == (17,)
    assert edges[0] == pytest.approx(20.0) and edges[-1] == pytest.approx(20_000.0)
    np.testing.assert_allclose(edges[1:] / edges[:-1], 1000 ** (1 / 16))
    with pytest.raises(ParameterError, match="low_hz"):
        band_edges_hz(16, 100.0, 50.0)
    with pytest.raises(ParameterError, match="n_bands"):
        band_edges_hz(0)


@pytest.mark.parametrize("sample_rate", [44_100, 48_000])
@pytest.mark.parametrize("band", [0, 5, 10, 15])
def test_a_sine_lands_in_its_band_at_its_level(sample_rate: int, band: int) -> None:
    edges = band_edges_hz()
    centre = float(np.sqrt(edges[band] * edges[band + 1]))
    t = np.arange(5 * sample_rate) / sample_rate
    amplitude_db = -12.0
    x = 10 ** (amplitude_db / 20) * np.sin(2 * np.pi * centre * t)
    levels = band_levels_db(np.stack([x, x]), sample_rate)
    # A sine of peak amplitude A reads 20·log10(A) dB (a full-scale sine reads 0 dB).
    assert levels[band] == pytest.approx(amplitude_db, abs=0.05)
    others = np.delete(levels, band)
    assert np.all(others < amplitude_db - 40)


def test_white_noise_rises_by_the_band_ratio(rng: np.random.Generator) -> None:
    rate = 48_000
    levels = band_levels_db(0.1 * rng.standard_normal((2, 20 * rate)), rate)
    # Equal power per Hz: each band is 1000**(1/16) times wider than the one below.
    step_db = 10 * np.log10(1000 ** (1 / 16))
    steps = np.diff(levels)
    assert np.mean(steps) == pytest.approx(step_db, abs=0.05)
    assert np.all(np.abs(steps[4:] - step_db) < 0.5)  # the narrow low bands vary more
    # Total: white noise of RMS 0.1 has 0.01 of power, spread evenly up to Nyquist.
    power_in_range = 0.01 * (20_000 - 20) / (rate / 2)
    total_db = 10 * np.log10(np.sum(10 ** (levels / 10)))
    assert total_db == pytest.approx(10 * np.log10(2 * power_in_range), abs=0.1)


def test_pink_noise_reads_about_the_same_in_every_band(rng: np.random.Generator) -> None:
    rate = 44_100
    levels = band_levels_db(pink_noise(rng, 30 * rate), rate)
    assert np.max(np.abs(levels - np.mean(levels))) < 1.0


def test_silence_short_signals_and_bands_above_nyquist(rng: np.random.Generator) -> None:
    np.testing.assert_array_equal(band_levels_db(np.zeros((2, 48_000)), 48_000), SILENT_BAND_DB)
    np.testing.assert_array_equal(band_levels_db(np.zeros(1), 48_000), SILENT_BAND_DB)
    short = band_levels_db(rng.standard_normal(2000), 48_000)
    assert short.shape == (16,) and np.all(np.isfinite(short))
    # At 16 kHz nothing exists above 8 kHz: those bands read silent, the rest do not.
    edges = band_edges_hz()
    levels = band_levels_db(0.1 * rng.standard_normal(16_000 * 5), 16_000)
    above = edges[:-1] >= 8000
    assert np.all(levels[above] == SILENT_BAND_DB)
    assert np.all(levels[~above] > -60)


def test_custom_bands_and_determinism(rng: np.random.Generator) -> None:
    x = 0.1 * rng.standard_normal((2, 48_000))
    levels = band_levels_db(x, 48_000, n_bands=31, low_hz=25, high_hz=16_000)
    assert levels.shape == (31,)
    assert np.array_equal(levels, band_levels_db(x, 48_000, n_bands=31, low_hz=25, high_hz=16_000))
