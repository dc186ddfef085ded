"""Decoding audio files into :class:`AudioBuffer`, and probing their format.

The container is identified from its first bytes, never from the file name. libsndfile reads
what it understands (WAV and its 64-bit variants, AIFF/AIFC, FLAC, Ogg Vorbis/Opus, MP3);
FFmpeg reads the rest (AAC in MP4/M4A/ADTS, Matroska audio) and anything libsndfile refuses
to open. The choice is made when the file is opened, so no file is decoded twice.

Every failure is a :class:`~soundry.errors.DecodeError` (or its subclass
:class:`~soundry.errors.UnsupportedFormatError`) whose message starts with the file's name.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Protocol

import numpy as np

from soundry.audio._io import (
    SNDFILE_KINDS,
    DecodeLimits,
    Input,
    Source,
    display_name,
    looks_like_text,
    open_input,
    sniff,
)
from soundry.audio._pyav import PyavError, PyavReader, UnknownCodecError
from soundry.audio._sndfile import SndfileError, SndfileReader
from soundry.audio.buffer import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, AudioBuffer, SourceFormat
from soundry.audio.resample import resample
from soundry.errors import DecodeError, ParameterError, SoundryError, UnsupportedFormatError

__all__ = ["MAX_DECODED_BYTES", "MAX_DURATION_S", "Source", "decode", "probe"]

logger = logging.getLogger(__name__)

MAX_DURATION_S = 4 * 3600.0
"""Longest audio :func:`decode` accepts unless told otherwise: 4 hours."""

MAX_DECODED_BYTES = 8 * 1024**3
"""Largest decoded float32 array :func:`decode` will allocate (8 GiB), whatever the duration."""

# 1/sqrt(2): the ITU-R BS.775 weight of the centre and surround channels in a stereo downmix.
_SURROUND_GAIN = np.float32(math.sqrt(0.5))


class _Reader(Protocol):
    @property
    def format(self) -> SourceFormat: ...

    @property
    def declared_frames(self) -> int | None: ...

    def decode(self, limits: DecodeLimits) -> tuple[np.ndarray, list[str], int]: ...

    def close(self) -> None: ...


def _describe_text(head: bytes) -> str:
    first_line = head[:60].decode("utf-8", errors="replace").splitlines()[0:1]
    return repr(first_line[0]) if first_line else "whitespace"


@contextmanager
def _open_reader(inp: Input) -> Iterator[_Reader]:
    """Pick the backend for ``inp`` from its magic bytes and open it."""
    name = inp.name
    if inp.size_bytes == 0 or not inp.head:
        raise DecodeError(f"{name}: the file is empty (0 bytes)")
    kind = sniff(inp.head)
    if kind is None and looks_like_text(inp.head):
        raise DecodeError(
            f"{name}: is a text file, not audio (it starts with {_describe_text(inp.head)})"
        )
    reader: _Reader
    sndfile_cause: str | None = None
    if kind in SNDFILE_KINDS:
        try:
            reader = SndfileReader(inp, kind)
        except SndfileError as exc:
            sndfile_cause = exc.error_string
        else:
            try:
                yield reader
            finally:
                reader.close()
            return
    try:
        reader = PyavReader(inp, kind)
    except PyavError as exc:
        cause = sndfile_cause or (exc.strerror or str(exc))
        if kind is None:
            raise DecodeError(f"{name}: not a recognised audio format ({cause})") from None
        _raise_if_unsupported_wav(inp, cause)
        raise DecodeError(f"{name}: damaged or truncated {kind.upper()} file ({cause})") from None
    except UnknownCodecError as exc:
        if kind == "wav":
            _raise_if_unsupported_wav(inp, sndfile_cause or str(exc))
        raise
    try:
        yield reader
    finally:
        reader.close()


def _raise_if_unsupported_wav(inp: Input, cause: str) -> None:
    """A WAV whose format tag is neither PCM, float nor extensible is a codec we lack."""
    head = inp.head
    if head[:4] != b"RIFF" or head[12:16] != b"fmt " or len(head) < 22:
        return
    tag = int.from_bytes(head[20:22], "little")
    if tag not in (0x0001, 0x0003, 0xFFFE):
        raise UnsupportedFormatError(
            f"{inp.name}: WAV audio encoding 0x{tag:04X} is not supported ({cause})"
        )


@contextmanager
def _reading(source: Source) -> Iterator[tuple[str, _Reader]]:
    """Open ``source`` and its backend; any failure inside becomes a DecodeError naming it."""
    name = display_name(source)
    try:
        with open_input(source) as inp, _open_reader(inp) as reader:
            _check_rate(name, reader.format)
            yield name, reader
    except SoundryError:
        raise
    except MemoryError:
        raise DecodeError(f"{name}: not enough memory to decode it") from None
    except Exception as exc:
        # Backends raise a zoo of types on malformed input; callers get one.
        raise DecodeError(f"{name}: cannot decode it ({type(exc).__name__}: {exc})") from exc


def _check_rate(name: str, fmt: SourceFormat) -> None:
    if not MIN_SAMPLE_RATE <= fmt.sample_rate <= MAX_SAMPLE_RATE:
        raise DecodeError(
            f"{name}: sample rate {fmt.sample_rate} Hz is outside the supported "
            f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
        )


def _check_rate_argument(sample_rate: int | None) -> None:
    if sample_rate is not None and not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise ParameterError(
            f"sample_rate must be from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz; got {sample_rate}"
        )


def _check_max_duration(max_duration_s: float | None) -> None:
    if max_duration_s is not None and not (math.isfinite(max_duration_s) and max_duration_s > 0):
        raise ParameterError(
            f"max_duration_s must be a positive number of seconds; got {max_duration_s}"
        )


def _limits(fmt: SourceFormat, max_duration_s: float | None) -> DecodeLimits:
    if max_duration_s is None:
        max_duration_s = MAX_DURATION_S
    by_duration = math.floor(max_duration_s * fmt.sample_rate)
    by_memory = MAX_DECODED_BYTES // (4 * fmt.channels)
    if by_duration <= by_memory:
        reason = f"the limit of {_hours(max_duration_s)} of audio (max_duration_s)"
        return DecodeLimits(by_duration, reason)
    reason = (
        f"the limit of {MAX_DECODED_BYTES / 1024**3:.0f} GiB of decoded float32 samples "
        f"({_hours(by_memory / fmt.sample_rate)} of {fmt.channels} channels "
        f"at {fmt.sample_rate} Hz)"
    )
    return DecodeLimits(by_memory, reason)


def _hours(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    return f"{seconds:.1f} s"


def probe(source: Source) -> SourceFormat:
    """Read a file's format facts from its header, without decoding the audio.

    Parameters
    ----------
    source : str, os.PathLike, bytes or binary file object
        The audio file. A file object is read from its current position and left open.

    Returns
    -------
    SourceFormat
        Container, codec, sample rate (Hz), channels, duration (s), bit depth and int/float
        for PCM, average bitrate (bit/s) and size (bytes). Lossy durations come from the
        container or the encoder's header and may be estimates for MP3 without a Xing tag.

    Raises
    ------
    DecodeError
        The file is missing, empty, text, damaged, or its sample rate is outside 8-192 kHz.
    UnsupportedFormatError
        The container holds no audio, or an audio codec Soundry does not decode.
    """
    with _reading(source) as (_, reader):
        return reader.format


def decode(
    source: Source,
    *,
    channels: int | None = None,
    sample_rate: int | None = None,
    max_duration_s: float | None = None,
) -> AudioBuffer:
    """Decode an audio file into float32 samples.

    Reads WAV (8/16/24/32-bit integer, 32/64-bit float, WAVE_FORMAT_EXTENSIBLE, RF64, W64),
    AIFF/AIFC, FLAC, MP3, AAC (MP4/M4A/ADTS), Ogg Vorbis and Opus, from 8 to 192 kHz with any
    number of channels. The type is sniffed from the content, not the file name.

    Parameters
    ----------
    source : str, os.PathLike, bytes or binary file object
        The audio file. A file object is read from its current position and left open; a
        non-seekable stream is read into memory first.
    channels : int, optional
        1 or 2 to mix the audio down or up to mono or stereo (see Notes). Default: as stored.
    sample_rate : int, optional
        Resample to this rate in Hz (soxr, HQ). Default: as stored.
    max_duration_s : float, optional
        Refuse files longer than this many seconds; default :data:`MAX_DURATION_S` (4 h).
        Independently, no decode allocates more than :data:`MAX_DECODED_BYTES`.

    Returns
    -------
    AudioBuffer
        ``samples`` of shape ``(channels, frames)``, float32, nominally in [-1, 1], and
        ``source`` describing the file. A file that ends early (truncated) decodes what is
        there and says so in ``source.warnings``.

    Raises
    ------
    DecodeError
        The path does not exist or cannot be read; the file is empty or text; the header is
        damaged; the header declares more audio than the limits allow; the file contains no
        audio; a float file holds NaN or infinite samples; the sample rate is outside
        8-192 kHz.
    UnsupportedFormatError
        No audio stream (e.g. a video-only MP4), or an audio codec Soundry does not decode.
    ParameterError
        ``channels``, ``sample_rate`` or ``max_duration_s`` is out of range.

    Notes
    -----
    Mono is the average of all channels. Stereo from mono duplicates the channel; from
    six channels (5.1 in WAV order L R C LFE Ls Rs) it is the ITU-R BS.775 downmix without
    LFE, scaled by 1/(1 + sqrt 2) so that it cannot clip; from other counts, the average of
    the even-numbered channels goes left and of the odd-numbered ones right.
    """
    _check_rate_argument(sample_rate)
    _check_max_duration(max_duration_s)
    with _reading(source) as (name, reader):
        fmt = reader.format
        if channels is not None and channels not in (1, 2, fmt.channels):
            raise ParameterError(
                f"channels must be 1 or 2 (or the stored {fmt.channels}); got {channels}"
            )
        limits = _limits(fmt, max_duration_s)
        declared = reader.declared_frames
        if declared is not None and declared > limits.max_frames:
            raise DecodeError(
                f"{name}: the header declares {declared} frames "
                f"({_hours(declared / fmt.sample_rate)}), more than {limits.reason}"
            )
        samples, warnings, non_finite = reader.decode(limits)
    if non_finite:
        raise DecodeError(
            f"{name}: contains {non_finite} non-finite samples (NaN or infinity) "
            f"out of {samples.size}"
        )
    if samples.shape[1] == 0:
        raise DecodeError(f"{name}: contains no audio (0 samples)")
    all_warnings = (*fmt.warnings, *warnings)
    for warning in warnings:
        logger.info("%s: %s", name, warning)
    fmt = replace(fmt, duration_s=samples.shape[1] / fmt.sample_rate, warnings=all_warnings)
    buffer = AudioBuffer(samples, fmt.sample_rate, fmt)
    if channels is not None and channels < buffer.channels:
        buffer = _mix(buffer, channels)
    if sample_rate is not None:
        buffer = resample(buffer, sample_rate)
    if channels is not None and channels > buffer.channels:
        buffer = _mix(buffer, channels)
    return buffer


def _mix(buffer: AudioBuffer, channels: int) -> AudioBuffer:
    x = buffer.samples
    have = buffer.channels
    if channels == 1:
        return buffer.with_samples(x.mean(axis=0, dtype=np.float32, keepdims=True))
    if have == 1:
        return buffer.with_samples(np.concatenate([x, x]))
    if have == 6:
        g = _SURROUND_GAIN
        centre = g * x[2]
        left = x[0] + centre + g * x[4]
        right = x[1] + centre + g * x[5]
        return buffer.with_samples(np.stack([left, right]) * np.float32(1 / (1 + 2 * g)))
    return buffer.with_samples(np.stack([x[0::2].mean(axis=0), x[1::2].mean(axis=0)]))
