"""The FFmpeg backend (via PyAV): AAC in MP4/M4A/ADTS, and whatever libsndfile refuses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av
import numpy as np

from soundry.audio._io import DecodeLimits, FrameSink, Input
from soundry.audio.buffer import SourceFormat
from soundry.errors import DecodeError, UnsupportedFormatError

__all__ = ["DECODABLE_CODECS", "PyavError", "PyavReader", "UnknownCodecError"]

PyavError = av.FFmpegError


class UnknownCodecError(UnsupportedFormatError):
    """FFmpeg found an audio stream but does not know its codec at all."""


# Audio codecs Soundry decodes through FFmpeg. Others (speech and broadcast codecs such as
# AMR, AC-3, DTS, G.72x) are refused rather than half-supported.
DECODABLE_CODECS = frozenset(
    {"aac", "mp1", "mp2", "mp3", "flac", "alac", "vorbis", "opus", "pcm_mulaw", "pcm_alaw"}
)

_PCM_NAME = re.compile(r"^pcm_([suf])(\d+)(le|be)?(planar)?$")

_CONTAINERS = {"mp4": "mp4", "adts": "adts", "matroska": "matroska", "mp3": "mp3"}

_LOSSY = frozenset({"aac", "mp1", "mp2", "mp3", "vorbis", "opus"})

# Integer sample formats and the factor that maps them onto [-1, 1).
_INT_SCALE = {"s16": 2.0**-15, "s32": 2.0**-31, "s64": 2.0**-63}


def _codec_name(stream: Any) -> str:
    """FFmpeg's codec id name (``mp3``), not the decoder's (``mp3float``)."""
    codec = stream.codec_context.codec
    return str(getattr(codec, "canonical_name", None) or codec.name)


def _as_planar_float(frame: Any, channels: int, name: str) -> np.ndarray:
    """A decoded frame as float32 ``(channels, samples)``."""
    arr = frame.to_ndarray()
    fmt = frame.format
    if not fmt.is_planar:
        arr = arr.reshape(-1, channels).T
    name = fmt.name.rstrip("p")
    if name == "flt":
        return arr
    if name == "dbl":
        return arr.astype(np.float32)
    if name == "u8":
        return (arr.astype(np.float32) - 128.0) * np.float32(1 / 128)
    scale = _INT_SCALE.get(name)
    if scale is None:
        raise UnsupportedFormatError(
            f"{name}: the decoder produced an unknown sample format {fmt.name!r}"
        )
    return arr.astype(np.float32) * np.float32(scale)


class PyavReader:
    """An open FFmpeg demuxer on the first audio stream, with the format facts."""

    def __init__(self, inp: Input, kind: str | None) -> None:
        self._inp = inp
        self._kind = kind
        inp.rewind()
        self._container: Any = av.open(inp.handle, mode="r")
        try:
            self._open_stream()
        except BaseException:
            self._container.close()
            raise

    def close(self) -> None:
        self._container.close()

    def _open_stream(self) -> None:
        c = self._container
        name = self._inp.name
        fmt_name = str(c.format.name).split(",")[0]
        if not c.streams.audio:
            what = "video only" if c.streams.video else "no streams we can read"
            raise UnsupportedFormatError(f"{name}: has no audio stream ({fmt_name}, {what})")
        stream = c.streams.audio[0]
        ctx = stream.codec_context
        if ctx is None or ctx.codec is None:
            raise UnknownCodecError(
                f"{name}: the audio codec of this {fmt_name} file is unknown to the decoder"
            )
        codec = _codec_name(stream)
        pcm = _PCM_NAME.match(codec)
        if codec not in DECODABLE_CODECS and pcm is None:
            raise UnsupportedFormatError(
                f"{name}: audio codec {codec!r} is not supported"
                f" (supported: PCM, {', '.join(sorted(DECODABLE_CODECS))})"
            )
        rate = int(ctx.sample_rate or 0)
        channels = int(ctx.channels or 0)
        if channels < 1:
            raise DecodeError(f"{name}: the {codec} stream declares no channels")
        self._stream = stream
        self._channels = channels
        self.declared_frames = self._declared_frames(stream, rate)
        # MP4 sample tables and edit lists give the exact length; other containers estimate.
        self.exact_length = self._kind == "mp4"
        duration_s = self.declared_frames / rate if self.declared_frames and rate else 0.0
        bit_depth: int | None = None
        sample_format: str | None = None
        bitrate = stream.bit_rate or ctx.bit_rate or None
        if pcm is not None:
            bit_depth = int(pcm.group(2))
            sample_format = "float" if pcm.group(1) == "f" else "int"
            bitrate = rate * channels * bit_depth
        elif codec in ("flac", "alac"):
            # FFmpeg hands out 24-bit audio in 32-bit words, so only 16 bits is certain here.
            if ctx.format is not None and ctx.format.name.startswith("s16"):
                bit_depth = 16
            sample_format = "int"
        size = self._inp.size_bytes
        if not bitrate and size and duration_s > 0 and codec in _LOSSY:
            bitrate = round(size * 8 / duration_s)
        self.format = SourceFormat(
            container=_CONTAINERS.get(self._kind or "", fmt_name),
            codec=codec,
            sample_rate=rate,
            channels=channels,
            duration_s=duration_s,
            bit_depth=bit_depth,
            sample_format=sample_format,
            bitrate_bps=int(bitrate) if bitrate else None,
            size_bytes=size,
        )

    def _declared_frames(self, stream: Any, rate: int) -> int | None:
        if rate <= 0:
            return None
        if stream.duration and stream.time_base:
            return round(Fraction(stream.duration) * stream.time_base * rate)
        duration_us = self._container.duration
        if duration_us and duration_us > 0:
            return round(Fraction(duration_us, av.time_base) * rate)
        return None

    def _packets(self, errors: list[str]) -> Iterator[Any]:
        demux = self._container.demux(self._stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                return
            except PyavError as exc:
                # A demuxer error ends the stream: the file stops mid-packet or mid-box.
                errors.append(f"reading stopped early ({exc.strerror or exc})")
                return
            yield packet

    def decode(self, limits: DecodeLimits) -> tuple[np.ndarray, list[str], int]:
        """Decode every packet: ``(samples (channels, frames), warnings, non-finite count)``."""
        name = self._inp.name
        rate = self.format.sample_rate
        channels = self._channels
        codec = self.format.codec
        sink = FrameSink(
            self._inp,
            channels,
            self.declared_frames,  # a size hint: the sink grows or trims if it is wrong
            limits,
            check_finite=self.format.sample_format == "float",
        )
        errors: list[str] = []
        bad_packets = 0
        for packet in self._packets(errors):
            try:
                frames = packet.decode()
            except PyavError:
                # One damaged packet costs its own few milliseconds, not the whole file.
                bad_packets += 1
                continue
            for frame in frames:
                if frame.sample_rate != rate or frame.layout.nb_channels != channels:
                    raise DecodeError(
                        f"{name}: the {codec} stream changes format midway "
                        f"({rate} Hz x {channels} to {frame.sample_rate} Hz x "
                        f"{frame.layout.nb_channels}); not supported"
                    )
                sink.add_planar(_as_planar_float(frame, channels, name))
        if sink.frames == 0 and (bad_packets or errors):
            cause = errors[0] if errors else f"all {bad_packets} packets failed to decode"
            raise DecodeError(f"{name}: cannot decode the {codec} audio ({cause})")
        warnings = list(errors)
        if bad_packets:
            warnings.append(f"{bad_packets} damaged packet(s) skipped")
        declared = self.declared_frames
        if self.exact_length and declared is not None:
            if declared - sink.frames > 2048:
                warnings.append(
                    f"truncated: the header declares {declared} frames but the file holds "
                    f"{sink.frames}; decoded what is there"
                )
            # The AAC decoder emits whole 1024-sample frames; the sample table knows where
            # the audio really ends.
            return sink.result(declared), warnings, sink.non_finite
        return sink.result(), warnings, sink.non_finite
