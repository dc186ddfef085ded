"""Sample-rate conversion with soxr."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from soundry.audio.buffer import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, AudioBuffer
from soundry.audio.stream import PcmSource
from soundry.errors import ParameterError

__all__ = ["RESAMPLE_QUALITIES", "resample", "resample_to_file"]

RESAMPLE_QUALITIES = ("QQ", "LQ", "MQ", "HQ", "VHQ")
"""soxr quality presets, from quick (cubic) to very high (about 175 dB stop band)."""


# Frames read from the source per step of a streamed conversion (~1.5 s at 44.1 kHz).
_STREAM_FRAMES = 1 << 16


def resample_to_file(
    source: PcmSource, sample_rate: int, destination: Path, *, quality: str = "HQ"
) -> None:
    """Convert a track read span by span, writing 32-bit float RF64 to ``destination``.

    Memory stays a few blocks whatever the length. The result has the length
    :func:`resample` gives (``round(frames * sample_rate / source.sample_rate)``) and the
    same samples to within soxr's streaming rounding.
    """
    rate = _check_rate(sample_rate)
    _check_quality(quality)
    wanted = round(source.frames * rate / source.sample_rate)
    stream = soxr.ResampleStream(
        source.sample_rate, rate, source.channels, dtype="float32", quality=quality
    )
    written = 0
    with sf.SoundFile(str(destination), "w", rate, source.channels, "FLOAT", format="RF64") as out:
        for first in range(0, source.frames, _STREAM_FRAMES):
            last = min(first + _STREAM_FRAMES, source.frames)
            block = np.ascontiguousarray(source.read(first, last).T)
            converted = stream.resample_chunk(block, last=last == source.frames)
            converted = converted[: max(0, wanted - written)]
            out.write(converted)
            written += converted.shape[0]
        if written < wanted:  # soxr came up a few frames short: pad with silence
            out.write(np.zeros((wanted - written, source.channels), dtype=np.float32))


def _check_rate(sample_rate: int) -> int:
    if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate:
        raise ParameterError(f"sample_rate must be an integer number of Hz; got {sample_rate!r}")
    rate = int(sample_rate)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise ParameterError(
            f"sample_rate must be from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz; got {rate}"
        )
    return rate


def _check_quality(quality: str) -> None:
    if quality not in RESAMPLE_QUALITIES:
        raise ParameterError(
            f"quality must be one of {', '.join(RESAMPLE_QUALITIES)}; got {quality!r}"
        )


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
    rate = _check_rate(sample_rate)
    _check_quality(quality)
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
