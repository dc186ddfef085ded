"""TPDF dither, measured: its distribution, the error it leaves, and its determinism."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from soundry.audio import AudioBuffer, encode
from tests.audio.helpers import tones

RATE = 48_000
LSB16 = 2.0**-15


def _triangular_cdf(t: np.ndarray) -> np.ndarray:
    """CDF of the sum of two independent uniforms on [-1/2, 1/2] (LSB units)."""
    t = np.clip(t, -1.0, 1.0)
    return np.where(t < 0, (1 + t) ** 2 / 2, 1 - (1 - t) ** 2 / 2)


def _encode_codes(tmp_path: Path, x: np.ndarray, *, dither: bool = True) -> np.ndarray:
    path = encode(AudioBuffer(x, RATE), tmp_path / "d.wav", bit_depth=16, dither=dither)
    codes, _ = sf.read(path, dtype="int16", always_2d=True)
    return codes.T.astype(np.int64)


def test_dither_distribution_is_triangular(tmp_path: Path) -> None:
    """A constant input k + f (LSB) becomes k + 1 exactly when f + d >= 1/2 and k - 1 when
    f + d < -1/2, so each constant samples the dither's CDF at two points: together the
    fractions below trace the whole CDF, which must be the triangular one."""
    fractions = np.arange(0.0, 0.5, 0.05)
    n = 40_000
    k = 1000
    x = np.concatenate([np.full(n, (k + f) * LSB16) for f in fractions])[np.newaxis, :]
    codes = _encode_codes(tmp_path, x.astype(np.float32))[0].reshape(len(fractions), n) - k

    for f, row in zip(fractions, codes, strict=True):
        assert set(np.unique(row)) <= {-1, 0, 1}
        up, down = np.mean(row == 1), np.mean(row == -1)
        # P(d >= 1/2 - f) and P(d < -1/2 - f) for triangular d on (-1, 1).
        expected_up = 1 - _triangular_cdf(np.array(0.5 - f))
        expected_down = _triangular_cdf(np.array(-0.5 - f))
        assert up == pytest.approx(expected_up, abs=0.01), f
        assert down == pytest.approx(expected_down, abs=0.01), f
        # Rectangular dither (±1/2) would never reach k - 1 or k + 1 at f = 0.
        if f == 0.0:
            assert up == pytest.approx(0.125, abs=0.01)


def test_error_mean_and_variance_do_not_depend_on_the_signal(tmp_path: Path) -> None:
    """The point of TPDF: total error has mean 0 and variance LSB²/4 (LSB²/6 dither plus
    LSB²/12 rounding) whatever the input, so the noise floor does not modulate."""
    fractions = np.arange(0.0, 1.0, 0.1)
    n = 40_000
    x = np.concatenate([np.full(n, (-300 + f) * LSB16) for f in fractions])[np.newaxis, :]
    x32 = x.astype(np.float32)
    codes = _encode_codes(tmp_path, x32)[0]
    error = (codes - x32[0].astype(np.float64) / LSB16).reshape(len(fractions), n)
    for row in error:
        assert np.mean(row) == pytest.approx(0.0, abs=0.01)
        assert np.var(row) == pytest.approx(0.25, rel=0.04)


def test_error_on_music_like_signal(tmp_path: Path) -> None:
    x = tones(RATE, 2, 2.0, amplitude=0.1, noise=0.2)
    codes = _encode_codes(tmp_path, x)
    error = codes - x.astype(np.float64) / LSB16
    assert np.max(np.abs(error)) <= 1.5
    assert np.var(error) == pytest.approx(0.25, rel=0.03)
    # Error uncorrelated with the signal, and independent between channels.
    assert abs(np.corrcoef(error[0], x[0])[0, 1]) < 0.01
    assert abs(np.corrcoef(error[0], error[1])[0, 1]) < 0.01
    hist, _ = np.histogram(error, bins=6, range=(-1.5, 1.5))
    # The triangle convolved with rounding: a bell, symmetric about zero.
    assert hist[2] > hist[1] > hist[0]
    assert hist[3] > hist[4] > hist[5]
    assert hist[0] == pytest.approx(hist[5], rel=0.1)


def test_without_dither_the_error_is_plain_rounding(tmp_path: Path) -> None:
    x = tones(RATE, 1, 1.0, amplitude=0.1, noise=0.2)
    codes = _encode_codes(tmp_path, x, dither=False)
    error = codes - x.astype(np.float64) / LSB16
    assert np.max(np.abs(error)) <= 0.5
    assert np.var(error) == pytest.approx(1 / 12, rel=0.05)


@pytest.mark.parametrize(
    ("format", "bit_depth"), [("wav", 16), ("wav", 24), ("flac", 16), ("flac", 24)]
)
def test_dithered_encodes_are_byte_identical(format: str, bit_depth: int) -> None:
    buffer = AudioBuffer(tones(RATE, 2, 3.0, noise=0.1), RATE)
    first = encode(buffer, None, format=format, bit_depth=bit_depth)
    second = encode(buffer, None, format=format, bit_depth=bit_depth)
    assert first == second
    undithered = encode(buffer, None, format=format, bit_depth=bit_depth, dither=False)
    assert undithered != first  # the dither is really there
