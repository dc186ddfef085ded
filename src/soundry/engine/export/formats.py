"""Export formats (Audjust's names) and how a stitched group is encoded in each.

``mp3_320``, ``mp3_256`` and ``mp3_128`` are CBR MP3 at that many kbit/s; ``aac`` is
AAC-LC at 256 kbit/s in an M4A file; ``wav`` and ``flac`` are lossless at the source's bit
depth when it was 16 or 24-bit integer PCM (WAV from a float source stays 32-bit float),
else 24-bit.

Lossless outputs keep every verbatim sample exactly: only the mixed ranges (fades, seams)
are rounded to the output's grid, with TPDF dither, so a 16-bit source exported as 16-bit
WAV or FLAC holds the source's own codes everywhere else. A lossy output keeps the source's
rate when the codec can store it, else 48 kHz (44.1 kHz for rates of that family).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from soundry.audio.buffer import AudioBuffer
from soundry.audio.encode import AAC_SAMPLE_RATES, MP3_SAMPLE_RATES, encode
from soundry.errors import ParameterError

__all__ = [
    "DEFAULT_FORMAT",
    "EXPORT_FORMATS",
    "FORMAT_BY_SUFFIX",
    "ExportFormat",
    "encode_export",
    "format_for_path",
    "resolve_format",
]

DEFAULT_FORMAT = "mp3_320"


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """One export format: the codec and its setting, and the file suffix."""

    name: str
    codec: str  # soundry.audio.encode format
    bitrate_kbps: int | None
    suffix: str

    @property
    def lossless(self) -> bool:
        """True for WAV and FLAC."""
        return self.bitrate_kbps is None


EXPORT_FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("mp3_320", "mp3", 320, ".mp3"),
        ExportFormat("mp3_256", "mp3", 256, ".mp3"),
        ExportFormat("mp3_128", "mp3", 128, ".mp3"),
        ExportFormat("wav", "wav", None, ".wav"),
        ExportFormat("flac", "flac", None, ".flac"),
        ExportFormat("aac", "aac", 256, ".m4a"),
    )
}
"""Formats :func:`~soundry.engine.export.export` writes, by name."""

FORMAT_BY_SUFFIX = {
    ".mp3": "mp3_320",
    ".wav": "wav",
    ".wave": "wav",
    ".flac": "flac",
    ".m4a": "aac",
    ".mp4": "aac",
    ".aac": "aac",
}
"""The format a file name implies when none is given."""

_MP3_LOW_RATE_MAX_KBPS = 160


def resolve_format(name: object) -> ExportFormat:
    """The :class:`ExportFormat` called ``name``; ParameterError naming the choices if none."""
    if isinstance(name, ExportFormat):
        return name
    key = name.lower().strip() if isinstance(name, str) else None
    if key not in EXPORT_FORMATS:
        raise ParameterError(
            f"unknown export format {name!r}; choose one of {', '.join(EXPORT_FORMATS)}"
        )
    return EXPORT_FORMATS[key]


def format_for_path(path: str | os.PathLike[str], format: object = None) -> ExportFormat:
    """The format for a destination: ``format`` if given (it must fit the suffix), else the
    suffix's (``.mp3`` means ``mp3_320``)."""
    suffix = Path(path).suffix.lower()
    implied = FORMAT_BY_SUFFIX.get(suffix)
    if format is None:
        if implied is None:
            raise ParameterError(
                f"{path}: cannot tell the export format from the suffix {suffix or '(none)'!r};"
                f" give a format ({', '.join(EXPORT_FORMATS)}) or a .mp3, .wav, .flac or "
                ".m4a name"
            )
        return EXPORT_FORMATS[implied]
    chosen = resolve_format(format)
    if implied is not None and EXPORT_FORMATS[implied].codec != chosen.codec:
        raise ParameterError(
            f"{path}: format {chosen.name!r} contradicts the suffix {suffix!r} "
            f"(use a {chosen.suffix} name)"
        )
    return chosen


def check_encodable(fmt: ExportFormat, channels: int) -> None:
    """Refuse, before any work, what the codec cannot hold."""
    if fmt.codec == "mp3" and channels > 2:
        raise ParameterError(
            f"{fmt.name}: MP3 holds 1 or 2 channels; the audio has {channels} "
            "(export wav, flac or aac)"
        )
    if fmt.codec == "aac" and channels > 8:
        raise ParameterError(f"{fmt.name}: AAC holds 1 to 8 channels; the audio has {channels}")


def _lossy_rate(fmt: ExportFormat, rate: int) -> int | None:
    allowed = MP3_SAMPLE_RATES if fmt.codec == "mp3" else AAC_SAMPLE_RATES
    too_fast = (
        fmt.codec == "mp3" and rate < 32_000 and (fmt.bitrate_kbps or 0) > _MP3_LOW_RATE_MAX_KBPS
    )
    if rate in allowed and not too_fast:
        return None
    return 44_100 if rate % 11_025 == 0 else 48_000


def _pcm_depth(fmt: ExportFormat, audio: AudioBuffer) -> tuple[int, str]:
    source = audio.source
    if source is not None and source.sample_format == "int" and source.bit_depth in (16, 24):
        return int(source.bit_depth), "int"
    if fmt.codec == "wav" and source is not None and source.sample_format == "float":
        return 32, "float"
    return 24, "int"


def _requantize(samples: np.ndarray, ranges: tuple[tuple[int, int], ...], depth: int) -> None:
    """Round the mixed ranges to the ``depth``-bit grid (TPDF dither), in place."""
    rng = np.random.default_rng(0x5EA3)
    scale = 2.0 ** (depth - 1)
    for start, end in ranges:
        block = samples[:, start:end].astype(np.float64) * scale
        noise = rng.random(block.shape) - rng.random(block.shape)
        block = np.clip(np.rint(block + noise), -scale, scale - 1)
        samples[:, start:end] = (block / scale).astype(np.float32)


def encode_export(
    audio: AudioBuffer,
    fmt: ExportFormat,
    *,
    mixed: tuple[tuple[int, int], ...] = (),
    destination: str | os.PathLike[str] | None = None,
) -> bytes | Path:
    """Encode stitched audio in an export format.

    Parameters
    ----------
    audio : AudioBuffer
        The stitched samples; ``audio.source`` (the source file's facts) decides the bit
        depth of lossless outputs.
    fmt : ExportFormat
    mixed : tuple of (int, int)
        Output frame ranges that are not verbatim source samples (from
        :class:`~soundry.engine.export.stitch.Stitched`); in lossless outputs only these
        are rounded with dither, the rest keeps the source's codes.
    destination : path, optional
        Write there atomically and return the path; default: return the bytes.

    Returns
    -------
    bytes or pathlib.Path
    """
    check_encodable(fmt, audio.channels)
    if fmt.lossless:
        depth, kind = _pcm_depth(fmt, audio)
        if kind == "int" and mixed:
            samples = audio.samples.copy()
            _requantize(samples, mixed, depth)
            audio = audio.with_samples(samples)
        return encode(audio, destination, format=fmt.codec, bit_depth=depth, sample_format=kind)
    return encode(
        audio,
        destination,
        format=fmt.codec,
        bitrate_kbps=fmt.bitrate_kbps,
        sample_rate=_lossy_rate(fmt, audio.sample_rate),
    )
