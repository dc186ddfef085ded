"""Float to integer PCM with optional TPDF dither."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["DITHER_SEED", "Quantizer", "on_grid"]

DITHER_SEED = 0x5D17_E2
"""Seed of the dither generator: the same audio always encodes to the same bytes."""


def on_grid(samples: np.ndarray, bit_depth: int, block_frames: int) -> bool:
    """True when every sample is already an exact ``bit_depth``-bit value (nothing to dither).

    Checked in blocks so that a float master is rejected after its first block.
    """
    scale = np.float64(2.0 ** (bit_depth - 1))
    for start in range(0, samples.shape[-1], block_frames):
        block = samples[..., start : start + block_frames].astype(np.float64) * scale
        if not np.array_equal(np.rint(block), block):
            return False
    return True


# splitmix64 constants (Steele, Lea and Flood): a counter hashed to 64 well-mixed bits.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0**-32


@numba.njit(cache=True, nogil=True)
def _quantize_kernel(
    block: np.ndarray,
    scale: float,
    first: int,
    seed: int,
    dither: bool,
    shift: int,
    out: np.ndarray,
) -> None:
    """``out[i, c]`` = the code of ``block[i, c]`` (frames, channels): scaled, plus TPDF
    noise (the difference of the two 32-bit halves of splitmix64 of the sample's index from
    ``first``, as uniforms on [0, 1)), rounded half to even, clipped, shifted up ``shift``."""
    frames, channels = block.shape
    top = scale - 1.0
    for i in range(frames):
        for c in range(channels):
            value = np.float64(block[i, c]) * scale
            if dither:
                z = np.uint64(seed) + np.uint64((first + i) * channels + c) * _GOLDEN
                z = (z ^ (z >> np.uint64(30))) * _MIX_1
                z = (z ^ (z >> np.uint64(27))) * _MIX_2
                z = z ^ (z >> np.uint64(31))
                high = np.float64(z >> np.uint64(32)) * _TO_UNIT
                low = np.float64(z & np.uint64(0xFFFFFFFF)) * _TO_UNIT
                value += high - low
            value = min(max(np.rint(value), -scale), top)
            out[i, c] = np.int64(value) << shift


class Quantizer:
    """Turns float blocks in [-1, 1] into 16, 24 or 32-bit integers, block after block.

    With ``dither``, each sample gets independent triangular (TPDF) noise of ±1 LSB peak, the
    difference of two uniform variables on [0, 1) LSB, before rounding: the error is then
    signal-independent in mean and variance (LSB²/4 in total: LSB²/6 of dither plus LSB²/12
    of rounding) instead of distortion that follows the signal. The noise of each sample is a
    hash of :data:`DITHER_SEED` and the sample's position in the stream, so the output is
    deterministic, and one compiled pass does the whole block.

    Values are clipped to the integer range: +1.0 becomes the largest code, 2**(bits-1) - 1.
    """

    def __init__(self, bit_depth: int, *, dither: bool) -> None:
        self.bit_depth = bit_depth
        self._scale = float(2 ** (bit_depth - 1))
        self._dither = dither
        self._position = 0  # frames quantised so far

    def __call__(self, block: np.ndarray) -> np.ndarray:
        """Quantise a ``(frames, channels)`` float block to int16 (16-bit) or int32 codes
        (24 and 32-bit).

        24-bit codes are returned left-aligned in int32 (shifted up 8 bits), which is how
        libsndfile expects 24-bit data from an int32 buffer.
        """
        data = np.asarray(block, dtype=np.float32)
        codes = np.empty(data.shape, dtype=np.int16 if self.bit_depth == 16 else np.int32)
        shift = 8 if self.bit_depth == 24 else 0
        _quantize_kernel(data, self._scale, self._position, DITHER_SEED, self._dither, shift, codes)
        self._position += data.shape[0]
        return codes
