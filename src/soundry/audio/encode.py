"""Encoding an :class:`AudioBuffer` to WAV, FLAC, AIFF, MP3, AAC (M4A) or Ogg Vorbis.

Every write is atomic: the file is written beside its destination under a temporary name,
flushed to disk and renamed over the destination, so a reader sees either the old file or
the complete new one, and a failure leaves no partial file behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import soundfile as sf

from soundry.audio._atomic import atomic_path, scratch_path
from soundry.audio._lossy import (
    AAC_LAYOUTS,
    AAC_SAMPLE_RATES,
    MP3_SAMPLE_RATES,
    write_aac,
    write_mp3,
)
from soundry.audio._quantize import Quantizer, on_grid
from soundry.audio.buffer import AudioBuffer
from soundry.audio.resample import resample
from soundry.audio.stream import PcmSource
from soundry.errors import ParameterError

__all__ = [
    "AAC_BITRATE_RANGE_KBPS",
    "AAC_SAMPLE_RATES",
    "DEFAULT_BITRATE_KBPS",
    "DEFAULT_BIT_DEPTH",
    "ENCODE_FORMATS",
    "FORMAT_BY_EXTENSION",
    "MP3_BITRATES_KBPS",
    "MP3_SAMPLE_RATES",
    "PcmStreamWriter",
    "encode",
    "encode_source",
]

ENCODE_FORMATS = ("wav", "flac", "aiff", "mp3", "aac", "m4a", "ogg")
"""Formats :func:`encode` writes. ``aac`` and ``m4a`` both mean AAC-LC in an M4A file."""

DEFAULT_BIT_DEPTH = 24
DEFAULT_BITRATE_KBPS = {"mp3": 320, "aac": 256, "m4a": 256, "ogg": 192}
MP3_BITRATES_KBPS = (128, 160, 192, 224, 256, 320)
AAC_BITRATE_RANGE_KBPS = (128, 320)
_MP3_LOW_RATE_MAX_KBPS = 160  # MPEG-2 and 2.5 (below 32 kHz) top out at 160 kbit/s
_VORBIS_BITRATE_RANGE_KBPS = (64, 500)
# libvorbis quality steps 0..10 and their nominal stereo 44.1 kHz bitrates.
_VORBIS_NOMINAL_KBPS = (64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 500)

FORMAT_BY_EXTENSION: dict[str, str] = {
    ".wav": "wav",
    ".wave": "wav",
    ".flac": "flac",
    ".aif": "aiff",
    ".aiff": "aiff",
    ".aifc": "aiff",
    ".mp3": "mp3",
    ".m4a": "m4a",
    ".mp4": "m4a",
    ".aac": "aac",
    ".ogg": "ogg",
    ".oga": "ogg",
}
_SNDFILE_MAJOR = {"wav": "WAV", "flac": "FLAC", "aiff": "AIFF", "ogg": "OGG"}
_SUFFIX = {"wav": ".wav", "flac": ".flac", "aiff": ".aiff", "ogg": ".ogg", "mp3": ".mp3"}
_BLOCK_FRAMES = 1 << 16
_WAV_MAX_DATA_BYTES = 0xFFFF_FFFF - 1024  # beyond this a RIFF size field overflows: RF64

Destination = str | os.PathLike[str] | BinaryIO | None


class _Audio(Protocol):
    """What the writers read: an AudioBuffer, or a track on disk seen through
    :class:`_SourceAudio`."""

    @property
    def samples(self) -> Any: ...

    @property
    def sample_rate(self) -> int: ...

    @property
    def channels(self) -> int: ...

    @property
    def frames(self) -> int: ...


class _SourceSamples:
    """A :class:`~soundry.audio.stream.PcmSource` sliced like a ``(channels, frames)``
    array: ``view[:, a:b]`` reads frames ``a:b``."""

    def __init__(self, source: PcmSource) -> None:
        self._source = source
        self.shape = (source.channels, source.frames)

    def __getitem__(self, key: tuple[Any, slice]) -> np.ndarray:
        first, last, _ = key[1].indices(self._source.frames)
        return self._source.read(first, max(first, last))


class _SourceAudio:
    """A PcmSource with the attributes of an AudioBuffer that the writers use."""

    def __init__(self, source: PcmSource) -> None:
        self.samples = _SourceSamples(source)
        self.sample_rate, self.channels = source.sample_rate, source.channels
        self.frames = source.frames


@dataclass(frozen=True, slots=True)
class _Plan:
    format: str
    bit_depth: int | None = None
    sample_format: str | None = None
    bitrate_kbps: int | None = None


def _resolve_format(destination: Destination, format: str | None) -> str:
    by_extension: str | None = None
    if isinstance(destination, (str, os.PathLike)):
        suffix = Path(destination).suffix.lower()
        by_extension = FORMAT_BY_EXTENSION.get(suffix)
    if format is not None:
        fmt = format.lower().lstrip(".")
        if fmt not in ENCODE_FORMATS:
            raise ParameterError(
                f"unknown format {format!r}; choose one of {', '.join(ENCODE_FORMATS)}"
            )
        same = {fmt, by_extension} <= {"aac", "m4a"} or by_extension in (None, fmt)
        if not same:
            raise ParameterError(
                f"format {fmt!r} contradicts the destination's extension "
                f"({Path(destination).suffix!r}, which means {by_extension!r})"  # type: ignore[arg-type]
            )
        return fmt
    if by_extension is None:
        if destination is None or hasattr(destination, "write"):
            where = "there is no file name to take it from"
        else:
            where = "the destination has no known extension"
        raise ParameterError(
            f"cannot tell the output format: pass format= ({', '.join(ENCODE_FORMATS)}); {where}"
        )
    return by_extension


def _plan_pcm(
    fmt: str, bit_depth: int | None, sample_format: str | None, bitrate_kbps: int | None
) -> _Plan:
    if bitrate_kbps is not None:
        raise ParameterError(f"{fmt} is lossless: bitrate_kbps does not apply (got {bitrate_kbps})")
    if sample_format not in (None, "int", "float"):
        raise ParameterError(f"sample_format must be 'int' or 'float'; got {sample_format!r}")
    if fmt == "flac":
        if sample_format == "float":
            raise ParameterError("FLAC stores integer samples only: use 16 or 24 bit int")
        depth = DEFAULT_BIT_DEPTH if bit_depth is None else bit_depth
        if depth not in (16, 24):
            raise ParameterError(f"FLAC bit_depth must be 16 or 24; got {bit_depth}")
        return _Plan(fmt, depth, "int")
    if bit_depth is None:
        depth = 32 if sample_format == "float" else DEFAULT_BIT_DEPTH
    else:
        depth = bit_depth
    kind = sample_format or ("float" if depth in (32, 64) else "int")
    allowed = {"int": (16, 24, 32), "float": (32, 64)}[kind]
    if depth not in allowed:
        raise ParameterError(
            f"{fmt.upper()} {kind} bit_depth must be one of {allowed}; got {bit_depth}"
        )
    return _Plan(fmt, depth, kind)


def _plan_lossy(
    fmt: str,
    buffer: _Audio,
    bit_depth: int | None,
    sample_format: str | None,
    bitrate_kbps: int | None,
) -> _Plan:
    if bit_depth is not None or sample_format is not None:
        raise ParameterError(
            f"{fmt} is a lossy codec: bit_depth and sample_format do not apply; "
            "choose bitrate_kbps instead"
        )
    kbps = DEFAULT_BITRATE_KBPS[fmt] if bitrate_kbps is None else bitrate_kbps
    if isinstance(kbps, bool) or int(kbps) != kbps:
        raise ParameterError(f"bitrate_kbps must be an integer; got {bitrate_kbps!r}")
    kbps = int(kbps)
    rate, channels = buffer.sample_rate, buffer.channels
    if fmt == "mp3":
        if kbps not in MP3_BITRATES_KBPS:
            raise ParameterError(
                f"MP3 bitrate_kbps must be one of {', '.join(map(str, MP3_BITRATES_KBPS))}; "
                f"got {kbps}"
            )
        if rate not in MP3_SAMPLE_RATES:
            raise ParameterError(
                f"MP3 cannot store {rate} Hz; allowed rates: "
                f"{', '.join(map(str, MP3_SAMPLE_RATES))} Hz (pass sample_rate= to resample)"
            )
        if rate < 32_000 and kbps > _MP3_LOW_RATE_MAX_KBPS:
            allowed = [b for b in MP3_BITRATES_KBPS if b <= _MP3_LOW_RATE_MAX_KBPS]
            raise ParameterError(
                f"MP3 at {rate} Hz allows at most {_MP3_LOW_RATE_MAX_KBPS} kbit/s "
                f"({', '.join(map(str, allowed))}); got {kbps}"
            )
        if channels > 2:
            raise ParameterError(
                f"MP3 holds 1 or 2 channels; the audio has {channels} (mix it to stereo first)"
            )
    elif fmt in ("aac", "m4a"):
        low, high = AAC_BITRATE_RANGE_KBPS
        if not low <= kbps <= high:
            raise ParameterError(f"AAC bitrate_kbps must be from {low} to {high}; got {kbps}")
        if rate not in AAC_SAMPLE_RATES:
            raise ParameterError(
                f"AAC cannot store {rate} Hz; allowed rates: "
                f"{', '.join(map(str, AAC_SAMPLE_RATES))} Hz (pass sample_rate= to resample)"
            )
        if channels not in AAC_LAYOUTS:
            raise ParameterError(f"AAC holds 1 to 8 channels; the audio has {channels}")
        # AAC caps each channel at 6144 bits per 1024-sample frame.
        ceiling_kbps = channels * 6144 * rate // 1024 // 1000
        if kbps > ceiling_kbps:
            raise ParameterError(
                f"AAC allows at most {ceiling_kbps} kbit/s for {channels} channel(s) at "
                f"{rate} Hz; got {kbps}"
            )
    else:
        low, high = _VORBIS_BITRATE_RANGE_KBPS
        if not low <= kbps <= high:
            raise ParameterError(
                f"Ogg Vorbis bitrate_kbps must be from {low} to {high}; got {kbps}"
            )
    return _Plan(fmt, bitrate_kbps=kbps)


def _write_pcm(plan: _Plan, buffer: AudioBuffer, path: Path, dither: bool) -> None:
    x = buffer.samples
    channels, frames = x.shape
    depth = plan.bit_depth
    assert depth is not None
    major = _SNDFILE_MAJOR[plan.format]
    if plan.format == "wav":
        if frames * channels * depth // 8 > _WAV_MAX_DATA_BYTES:
            major = "RF64"
        elif channels > 2:
            major = "WAVEX"  # WAVE_FORMAT_EXTENSIBLE carries the channel mask
    quantize: Callable[[np.ndarray], np.ndarray] | None = None
    if plan.sample_format == "float":
        subtype = "FLOAT" if depth == 32 else "DOUBLE"
    else:
        subtype = f"PCM_{depth}"
        # float32 holds 24 bits, so a 32-bit target never needs dither, only exact rounding.
        needs_dither = depth < 32 and dither and not on_grid(x, depth, _BLOCK_FRAMES)
        quantize = Quantizer(depth, dither=needs_dither)
    with sf.SoundFile(str(path), "w", buffer.sample_rate, channels, subtype, format=major) as out:
        for start in range(0, frames, _BLOCK_FRAMES):
            block = x[:, start : start + _BLOCK_FRAMES].T
            if quantize is not None:
                out.write(quantize(block))
            else:
                out.write(np.ascontiguousarray(block))


def _write_vorbis(plan: _Plan, buffer: _Audio, path: Path) -> None:
    kbps = plan.bitrate_kbps
    assert kbps is not None
    quality = float(np.interp(kbps, _VORBIS_NOMINAL_KBPS, np.arange(11))) / 10
    x = buffer.samples
    with sf.SoundFile(
        str(path),
        "w",
        buffer.sample_rate,
        buffer.channels,
        "VORBIS",
        format="OGG",
        compression_level=1.0 - quality,
    ) as out:
        for start in range(0, buffer.frames, _BLOCK_FRAMES):
            out.write(np.ascontiguousarray(x[:, start : start + _BLOCK_FRAMES].T))


def _write(plan: _Plan, buffer: _Audio, path: Path, dither: bool) -> None:
    if plan.format in ("wav", "flac", "aiff"):
        assert isinstance(buffer, AudioBuffer)  # a streamed PCM file uses PcmStreamWriter
        _write_pcm(plan, buffer, path, dither)
    elif plan.format == "mp3":
        assert plan.bitrate_kbps is not None
        write_mp3(path, buffer.samples, buffer.sample_rate, plan.bitrate_kbps)
    elif plan.format in ("aac", "m4a"):
        assert plan.bitrate_kbps is not None
        write_aac(path, buffer.samples, buffer.sample_rate, plan.bitrate_kbps)
    else:
        _write_vorbis(plan, buffer, path)


class PcmStreamWriter:
    """Write WAV, FLAC or AIFF a block at a time (a master streamed to disk).

    Each block is dithered (TPDF, fixed seed) and quantised as :func:`encode` would; a
    stream can be restarted from its first frame with :meth:`start`. The caller owns the
    path (write to a temporary one and rename it into place, as :func:`encode` does).

    Parameters
    ----------
    path : pathlib.Path
    format : {"wav", "flac", "aiff"}
    sample_rate, channels : int
    bit_depth, sample_format : as for :func:`encode`
    frames_hint : int
        Expected length, to pick RF64 for WAV data over 4 GiB.
    """

    def __init__(
        self,
        path: Path,
        *,
        format: str,
        sample_rate: int,
        channels: int,
        bit_depth: int | None = None,
        sample_format: str | None = None,
        frames_hint: int = 0,
    ) -> None:
        if format not in _SNDFILE_MAJOR or format == "ogg":
            raise ParameterError(f"streamed writing takes wav, flac or aiff; got {format!r}")
        self._plan = _plan_pcm(format, bit_depth, sample_format, None)
        self._path, self._rate, self._channels = path, sample_rate, channels
        self._major = _SNDFILE_MAJOR[format]
        depth = self._plan.bit_depth
        assert depth is not None
        if format == "wav" and frames_hint * channels * depth // 8 > _WAV_MAX_DATA_BYTES:
            self._major = "RF64"
        self._file: sf.SoundFile | None = None
        self._quantize: Quantizer | None = None

    def start(self) -> None:
        """(Re)open the file empty."""
        self.close()
        depth = self._plan.bit_depth
        assert depth is not None
        if self._plan.sample_format == "float":
            subtype = "FLOAT" if depth == 32 else "DOUBLE"
            self._quantize = None
        else:
            subtype = f"PCM_{depth}"
            self._quantize = Quantizer(depth, dither=depth < 32)
        self._file = sf.SoundFile(
            str(self._path), "w", self._rate, self._channels, subtype, format=self._major
        )

    def write(self, block: np.ndarray) -> None:
        """Append ``(channels, frames)`` float32 samples."""
        if self._file is None:
            self.start()
        assert self._file is not None
        for first in range(0, block.shape[1], _BLOCK_FRAMES):
            part = block[:, first : first + _BLOCK_FRAMES].T
            if self._quantize is not None:
                self._file.write(self._quantize(part))
            else:
                self._file.write(np.ascontiguousarray(part))

    def close(self) -> None:
        """Finish the file (its header then holds the length)."""
        if self._file is not None:
            self._file.close()
            self._file = None


def encode(
    buffer: AudioBuffer,
    destination: Destination = None,
    *,
    format: str | None = None,
    bit_depth: int | None = None,
    sample_format: str | None = None,
    bitrate_kbps: int | None = None,
    dither: bool = True,
    sample_rate: int | None = None,
) -> Path | bytes:
    """Encode audio to a file or to bytes.

    Parameters
    ----------
    buffer : AudioBuffer
        Samples of shape ``(channels, frames)``, float32, nominally in [-1, 1], all finite.
    destination : str, os.PathLike, binary file object or None
        A path: written atomically (temp file in the same directory, fsync, rename), so that
        on failure no partial file remains and an existing file is left untouched. None:
        the encoded bytes are returned. A binary file object (e.g. ``io.BytesIO``): the bytes
        are written to it, after the encode has succeeded, and returned.
    format : {"wav", "flac", "aiff", "mp3", "aac", "m4a", "ogg"}, optional
        Default: from the destination's extension (``.wav``, ``.flac``, ``.aif(f)``,
        ``.mp3``, ``.m4a``/``.mp4``/``.aac``, ``.ogg``). ``aac`` and ``m4a`` both write
        AAC-LC in an MP4 (M4A) container, with the index at the front for streaming.
    bit_depth : int, optional
        WAV/AIFF: 16 or 24 (int), 32 (float, or int with ``sample_format="int"``) or 64
        (float). FLAC: 16 or 24. Default 24. Not for lossy formats.
    sample_format : {"int", "float"}, optional
        PCM sample type; default int, or float for 32/64 bit. FLAC is int only.
    bitrate_kbps : int, optional
        MP3: CBR 128, 160, 192, 224, 256 or 320 (default 320; at most 160 below 32 kHz).
        AAC: 128-320 (default 256). Ogg Vorbis: 64-500, a VBR target (default 192).
    dither : bool
        Add TPDF dither (±1 LSB triangular, fixed seed: identical input gives identical
        bytes) when reducing to 16 or 24 bit. Skipped when every sample is already exactly
        representable at the target depth, so decoded 16-bit audio re-encodes losslessly.
    sample_rate : int, optional
        Resample (soxr HQ) to this rate before encoding. Without it, a rate the codec cannot
        store raises ParameterError; nothing is resampled unless asked.

    Returns
    -------
    pathlib.Path or bytes
        The destination path, or the encoded bytes when ``destination`` is None or a file
        object.

    Raises
    ------
    ParameterError
        Non-finite samples, empty audio, an unknown or contradicting format, or an
        option the codec cannot do (e.g. FLAC float, MP3 at 100 kbit/s or 96 kHz, AAC at
        44 kbit/s); the message names the allowed values.
    EncodeError
        The file cannot be written (missing or read-only directory, disk full, encoder
        failure).

    Notes
    -----
    Integer formats clip samples outside [-1, 1]: +1.0 becomes the largest positive code.
    Float formats store values as they are. Lossy encoders are given values as they are;
    peaks near 0 dBFS can exceed full scale after decoding, so leave headroom (a true-peak
    ceiling) before MP3/AAC export.
    """
    if not isinstance(buffer, AudioBuffer):
        raise ParameterError(f"encode needs an AudioBuffer; got {type(buffer).__name__}")
    fmt = _resolve_format(destination, format)
    if buffer.frames == 0:
        raise ParameterError("the audio is empty (0 frames): nothing to encode")
    finite = np.isfinite(buffer.samples)
    if not finite.all():
        bad = int(finite.size - np.count_nonzero(finite))
        raise ParameterError(f"the audio contains {bad} non-finite samples (NaN or infinity)")
    del finite
    if sample_rate is not None:
        buffer = resample(buffer, sample_rate)
    if fmt in ("wav", "flac", "aiff"):
        plan = _plan_pcm(fmt, bit_depth, sample_format, bitrate_kbps)
    else:
        plan = _plan_lossy(fmt, buffer, bit_depth, sample_format, bitrate_kbps)

    if destination is None or hasattr(destination, "write"):
        with scratch_path(_SUFFIX.get(fmt, ".m4a")) as path:
            _write(plan, buffer, path, dither)
            data = path.read_bytes()
        if destination is not None:
            destination.write(data)
        return data
    target = Path(destination)
    with atomic_path(target) as path:
        _write(plan, buffer, path, dither)
    return target


def encode_source(
    source: PcmSource, path: Path, *, format: str, bitrate_kbps: int | None = None
) -> None:
    """Encode a track read span by span (a master spooled to disk) to MP3, AAC or Ogg.

    The caller owns ``path`` (write to a temporary one and rename it into place). PCM
    formats stream through :class:`PcmStreamWriter` instead.

    Raises
    ------
    ParameterError
        A PCM format, or an option the codec cannot do (as :func:`encode`).
    EncodeError
        The encoder failed.
    """
    fmt = _resolve_format(None, format)
    if fmt in ("wav", "flac", "aiff"):
        raise ParameterError(f"encode_source writes lossy formats; use PcmStreamWriter for {fmt}")
    audio = _SourceAudio(source)
    _write(_plan_lossy(fmt, audio, None, None, bitrate_kbps), audio, path, dither=False)
