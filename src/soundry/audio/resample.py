"""Sample-rate conversion with soxr."""

from __future__ import annotations

import numpy as np
import soxr

from soundry.audio.buffer import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, AudioBuffer
from soundry.errors import ParameterError

__all__ = ["RESAMPLE_QUALITIES", "resample"]

RESAMPLE_QUALITIES = ("QQ", "LQ", "MQ", "HQ", "VHQ")
"""soxr quality presets, from quick (cubic) to very high (about 175 dB stop band)."""


def resample(buffer: AudioBuffer, sample_rate: int, *, quality: str = "HQ") -> AudioBuffer:
    """Convert ``buffer`` to another sample rate.

    Parameters
    ----------
    buffer : AudioBuffer
        Audio of shape ``(channels, frames)`` at ``buffer.sample_rate`` Hz.
    sample_rate : int
        Target rate in Hz, from 8 000 to 192 000.
    quality : {"QQ", "LQ", "MQ", "HQ", "VHQ"}
        soxr preset. "HQ" (the default) is linear-phase with a pass band flat to about
        0.91 x Nyquist and 20-bit-plus rejection; "VHQ" is 28-bit rejection for 24-bit
        masters; the lower presets trade rejection for speed.

    Returns
    -------
    AudioBuffer
        Float32 samples of shape ``(channels, round(frames * sample_rate / buffer.sample_rate))``
        at ``sample_rate``, with the same ``source``. The same object when the rate already
        matches.

    Raises
    ------
    ParameterError
        The rate is not an integer in range, or the quality is not a soxr preset.
    """
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate:
        raise ParameterError(f"sample_rate must be an integer number of Hz; got {sample_rate!r}")
    rate = int(sample_rate)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise ParameterError(
            f"sample_rate must be from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz; got {rate}"
        )
    if quality not in RESAMPLE_QUALITIES:
        raise ParameterError(
            f"quality must be one of {', '.join(RESAMPLE_QUALITIES)}; got {quality!r}"
        )
    if rate == buffer.sample_rate:
        return buffer
    x = buffer.samples
    if buffer.frames == 0:
        return buffer.with_samples(np.empty((buffer.channels, 0), np.float32), rate)
    # One contiguous row at a time: soxr wants (frames, channels), and transposing there and
    # back costs more than the per-channel calls.
    rows = [soxr.resample(row, buffer.sample_rate, rate, quality=quality) for row in x]
    out = np.empty((buffer.channels, rows[0].shape[0]), dtype=np.float32)
    for i, row in enumerate(rows):
        out[i] = row
    return buffer.with_samples(out, rate)
