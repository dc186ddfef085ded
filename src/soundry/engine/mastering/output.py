"""Which file a master is written as: by default the source's format, rate and bit depth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from soundry.audio.buffer import SourceFormat
from soundry.audio.encode import FORMAT_BY_EXTENSION, MP3_SAMPLE_RATES
from soundry.errors import ParameterError

__all__ = ["OUTPUT_FORMATS", "OutputFormat", "choose_output_format"]

OUTPUT_FORMATS = ("wav", "flac", "aiff", "mp3", "aac", "ogg")

_BY_CODEC = {"flac": "flac", "mp3": "mp3", "aac": "aac", "vorbis": "ogg", "opus": "ogg"}
_BY_CONTAINER = {"wav": "wav", "aiff": "aiff", "flac": "flac", "mp3": "mp3", "ogg": "ogg"}
_LOSSY_KBPS = {"mp3": 320, "aac": 256, "ogg": 256}


@dataclass(frozen=True)
class OutputFormat:
    """Arguments for :func:`soundry.audio.encode`, plus the rate to master at."""

    format: str
    sample_rate: int | None
    bit_depth: int | None = None
    sample_format: str | None = None
    bitrate_kbps: int | None = None

    def encode_options(self) -> dict[str, object]:
        """Keyword arguments for ``encode`` (the rate is applied before mastering)."""
        return {
            "format": "m4a" if self.format == "aac" else self.format,
            "bit_depth": self.bit_depth,
            "sample_format": self.sample_format,
            "bitrate_kbps": self.bitrate_kbps,
        }


def _source_format(source: SourceFormat | None) -> str:
    if source is None:
        return "wav"
    return _BY_CODEC.get(source.codec) or _BY_CONTAINER.get(source.container, "wav")


def choose_output_format(
    source: SourceFormat | None,
    destination: Path | None,
    *,
    format: str | None = None,
    sample_rate: int | None = None,
    bit_depth: int | None = None,
) -> OutputFormat:
    """Resolve the output format: the arguments first, then the file name, then the source.

    Parameters
    ----------
    source : SourceFormat or None
        Facts of the decoded input.
    destination : Path or None
        The output file; its extension picks the format when ``format`` is None.
    format : str or None
        wav, flac, aiff, mp3, aac or ogg.
    sample_rate : int or None
        Output rate in Hz; default the source's (for MP3, the nearest rate MP3 can hold).
    bit_depth : int or None
        16 or 24 for integer PCM (32 for float WAV); default the source's where it has one.
    """
    suffix = "" if destination is None else destination.suffix.lower()
    from_name = FORMAT_BY_EXTENSION.get(suffix)
    if from_name == "m4a":
        from_name = "aac"
    if format is not None:
        fmt = format.lower()
        if fmt == "m4a":
            fmt = "aac"
        if fmt not in OUTPUT_FORMATS:
            raise ParameterError(
                f"output format must be one of {', '.join(OUTPUT_FORMATS)}; got {format!r}"
            )
        if from_name is not None and from_name != fmt:
            raise ParameterError(
                f"--format {fmt} does not match the output file name {destination}"
            )
    else:
        fmt = from_name or _source_format(source)
    rate = sample_rate if sample_rate is not None else (source.sample_rate if source else None)
    if fmt == "mp3" and rate is not None and rate not in MP3_SAMPLE_RATES:
        if sample_rate is not None:
            raise ParameterError(
                f"MP3 cannot store {sample_rate} Hz; use one of {MP3_SAMPLE_RATES}"
            )
        rate = 48_000 if rate > 48_000 else 44_100
    if fmt in _LOSSY_KBPS:
        if bit_depth is not None:
            raise ParameterError(f"{fmt} is lossy: --bit-depth does not apply")
        return OutputFormat(fmt, rate, bitrate_kbps=_LOSSY_KBPS[fmt])
    depth, kind = bit_depth, None
    if depth is None and source is not None and source.bit_depth is not None:
        if source.sample_format == "float" and fmt == "wav":
            depth, kind = 32, "float"
        else:
            depth = 16 if source.bit_depth <= 16 else 24
    if depth is None:
        depth = 24
    if kind is None and depth not in (16, 24):
        raise ParameterError(f"bit depth must be 16 or 24; got {depth}")
    return OutputFormat(fmt, rate, bit_depth=depth, sample_format=kind or "int")
