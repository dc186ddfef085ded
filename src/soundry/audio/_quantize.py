"""Float to integer PCM with optional TPDF dither."""

from __future__ import annotations

from typing import Any

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


class Quantizer:
    """Turns float blocks in [-1, 1] into 16, 24 or 32-bit integers, block after block.

    With ``dither``, each sample gets independent triangular (TPDF) noise of ±1 LSB peak, the
    difference of two uniform variables on [0, 1) LSB, before rounding: the error is then
    signal-independent in mean and variance (LSB²/4 in total: LSB²/6 of dither plus LSB²/12
    of rounding) instead of distortion that follows the signal. The generator is seeded with
    :data:`DITHER_SEED` and blocks are consumed in order, so the output is deterministic.

    Values are clipped to the integer range: +1.0 becomes the largest code, 2**(bits-1) - 1.
    """

    def __init__(self, bit_depth: int, *, dither: bool) -> None:
        self.bit_depth = bit_depth
        # float32 resolves a 16-bit LSB to 2**-8 even at full scale, plenty for the dither;
        # 24-bit magnitudes leave float32 no fraction at all, so they need float64.
        self._dtype: Any = np.float32 if bit_depth == 16 else np.float64
        self._scale = self._dtype(2 ** (bit_depth - 1))
        self._rng = np.random.default_rng(DITHER_SEED) if dither else None
        self._work = np.empty(0, self._dtype)
        self._noise = np.empty(0, self._dtype)

    def __call__(self, block: np.ndarray) -> np.ndarray:
        """Quantise a ``(frames, channels)`` float block to int16 (16-bit) or int32 codes
        (24 and 32-bit).

        24-bit codes are returned left-aligned in int32 (shifted up 8 bits), which is how
        libsndfile expects 24-bit data from an int32 buffer.
        """
        if self._work.size < block.size:
            self._work = np.empty(block.size, self._dtype)
            self._noise = np.empty(block.size, self._dtype)
        y: np.ndarray = self._work[: block.size].reshape(block.shape)
        np.multiply(block, self._scale, out=y)
        if self._rng is not None:
            noise: np.ndarray = self._noise[: block.size].reshape(block.shape)
            self._rng.random(out=noise, dtype=self._dtype)
            y += noise
            self._rng.random(out=noise, dtype=self._dtype)
            y -= noise
        np.rint(y, out=y)
        np.clip(y, -self._scale, self._scale - 1, out=y)
        if self.bit_depth == 16:
            return y.astype(np.int16)
        codes = y.astype(np.int32)
        if self.bit_depth == 24:
            codes <<= 8
        return codes
