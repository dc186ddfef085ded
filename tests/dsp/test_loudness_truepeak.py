"""The oversampler behind true peak: exactness of the block-skipping search, the filter."""

from __future__ import annotations

import numpy as np
import pytest

from soundry.dsp.oversample import (
    block_peaks,
    interpolator_phases,
    max_phase_gain,
    max_true_peak,
    true_peak_envelope,
    upsampled_peak,
)
from soundry.errors import ParameterError


@pytest.mark.parametrize("factor", [2, 4])
def test_branch_zero_passes_the_input_through(factor: int) -> None:
    phases = interpolator_phases(factor, 16)
    expected = np.zeros(16)
    expected[8] = 1.0
    np.testing.assert_array_equal(phases[0], expected)
    np.testing.assert_allclose(phases.sum(axis=1), 1.0, atol=1e-12)
    assert 1.0 < max_phase_gain(phases) < 2.5


def test_interpolator_rejects_odd_branch_lengths() -> None:
    with pytest.raises(ParameterError, match="taps_per_phase=15"):
        interpolator_phases(4, 15)


def test_interpolator_is_flat_over_most_of_the_band() -> None:
    # Branch p delays by p/4 of a sample; on a sine of frequency f each branch should
    # reproduce the sine's value at that instant.
    phases = interpolator_phases(4, 16)
    n = np.arange(4000)
    for freq in (0.05, 0.25, 0.375):  # cycles per input sample (Nyquist = 0.5)
        x = np.cos(2 * np.pi * freq * n)
        for p in range(1, 4):
            y = np.convolve(x, phases[p])[100:3900]
            # Output index m holds time m - 8 + p/4.
            t = np.arange(100, 3900) - 8 + p / 4
            np.testing.assert_allclose(y, np.cos(2 * np.pi * freq * t), atol=0.012)


@pytest.mark.parametrize("block_frames", [16, 64, 256, 1000])
def test_skipping_search_equals_full_oversampling(
    rng: np.random.Generator, block_frames: int
) -> None:
    for _ in range(8):
        frames = int(rng.integers(1, 20_000))
        x = rng.standard_normal((2, frames)) * rng.uniform(0.0, 1.0, (2, frames)) ** 4
        x[:, rng.integers(0, frames, 3)] *= 6.0  # a few isolated spikes
        x = x.astype(np.float32)
        full = max(float(upsampled_peak(x).max()), float(np.abs(x).max()))
        got = max_true_peak(x, block_frames=block_frames)
        assert got == pytest.approx(full, rel=1e-6)


def test_skipping_search_finds_an_inter_sample_peak_in_a_quiet_region() -> None:
    # Alternating +-a at fs/2 around a single sign flip peaks well between samples.
    x = np.zeros((1, 10_000), np.float32)
    x[0, 5000:5008] = [0.5, -0.5, 0.5, 0.5, -0.5, 0.5, -0.5, 0.5]
    x[0, 100] = 0.6  # a larger sample elsewhere
    full = max(float(upsampled_peak(x).max()), 0.6)
    assert max_true_peak(x) == pytest.approx(full, rel=1e-6)
    assert full > 0.6


def test_precomputed_block_peaks_are_used(rng: np.random.Generator) -> None:
    x = rng.standard_normal((3, 5000)).astype(np.float32)
    peaks = block_peaks(x, 128)
    assert peaks.shape == (3, 40)
    np.testing.assert_allclose(peaks[:, 0], np.abs(x[:, :128]).max(axis=1))
    assert max_true_peak(x, peaks=peaks, block_frames=128) == pytest.approx(
        max_true_peak(x), rel=1e-7
    )


def test_silence_and_empty() -> None:
    assert max_true_peak(np.zeros((2, 1000), np.float32)) == 0.0
    assert max_true_peak(np.zeros((2, 0), np.float32)) == 0.0


def test_envelope_contains_every_sample(rng: np.random.Generator) -> None:
    x = rng.standard_normal((2, 3000)).astype(np.float32)
    env = true_peak_envelope(x)
    assert env.shape == x.shape
    assert np.all(env >= np.abs(x) * (1 - 1e-6))
