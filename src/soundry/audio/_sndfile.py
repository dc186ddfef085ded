"""The libsndfile backend (via soundfile): WAV, RF64, W64, AIFF, FLAC, Ogg Vorbis/Opus, MP3.

libsndfile decodes straight into float32 and reads a real file through its own descriptor,
which makes it the fastest route for everything it understands.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import soundfile as sf

from soundry.audio._io import DecodeLimits, FrameSink, Input, id3v2_size, riff_data_size
from soundry.audio.buffer import SourceFormat
from soundry.errors import DecodeError

__all__ = ["SndfileError", "SndfileReader"]

SndfileError = sf.LibsndfileError

# 64 Ki frames per read: large enough that the per-call overhead vanishes, small enough that
# the interleaved scratch block stays in cache while it is transposed into the output.
BLOCK_FRAMES = 1 << 16

_CONTAINERS = {
    "WAV": "wav",
    "WAVEX": "wav",
    "RF64": "rf64",
    "W64": "w64",
    "AIFF": "aiff",
    "FLAC": "flac",
    "OGG": "ogg",
    "MP3": "mp3",
    "CAF": "caf",
    "AU": "au",
}

# subtype -> (codec stem, bit depth, sample format, endian-dependent)
_PCM: dict[str, tuple[str, int, str, bool]] = {
    "PCM_S8": ("pcm_s8", 8, "int", False),
    "PCM_U8": ("pcm_u8", 8, "int", False),
    "PCM_16": ("pcm_s16", 16, "int", True),
    "PCM_24": ("pcm_s24", 24, "int", True),
    "PCM_32": ("pcm_s32", 32, "int", True),
    "FLOAT": ("pcm_f32", 32, "float", True),
    "DOUBLE": ("pcm_f64", 64, "float", True),
}

_OTHER_CODECS = {
    "ULAW": "pcm_mulaw",
    "ALAW": "pcm_alaw",
    "IMA_ADPCM": "adpcm_ima_wav",
    "MS_ADPCM": "adpcm_ms",
    "GSM610": "gsm_ms",
    "VORBIS": "vorbis",
    "OPUS": "opus",
    "MPEG_LAYER_I": "mp1",
    "MPEG_LAYER_II": "mp2",
    "MPEG_LAYER_III": "mp3",
    "ALAC_16": "alac",
    "ALAC_20": "alac",
    "ALAC_24": "alac",
    "ALAC_32": "alac",
}

_LOSSY = frozenset({"vorbis", "opus", "mp1", "mp2", "mp3", "gsm_ms"})


def _aiff_is_little_endian(head: bytes) -> bool:
    """An AIFC whose compression type is ``sowt`` stores little-endian PCM."""
    if head[8:12] != b"AIFC":
        return False
    pos = 12
    while pos + 8 <= len(head):
        size = int.from_bytes(head[pos + 4 : pos + 8], "big")
        if head[pos : pos + 4] == b"COMM":
            return head[pos + 26 : pos + 30] == b"sowt"
        pos += 8 + size + (size & 1)
    return False


def _little_endian(kind: str, head: bytes) -> bool:
    if kind in ("wav", "rf64", "w64"):
        return head[:4] != b"RIFX"
    if kind == "aiff":
        return _aiff_is_little_endian(head)
    return False  # CAF and AU default to big-endian


def _raw_reader() -> Any:
    # soundfile's read() seeks to "where it read up to" after every call, and that seek fails
    # at the end of a damaged FLAC, losing the block. libsndfile's own read reports how many
    # frames arrived even when it then fails, so call it directly when soundfile exposes it.
    lib, ffi = getattr(sf, "_snd", None), getattr(sf, "_ffi", None)
    if lib is None or ffi is None or not hasattr(lib, "sf_readf_float"):
        return None
    return lib, ffi


_RAW = _raw_reader()


def _read_into(f: sf.SoundFile, block: np.ndarray) -> tuple[int, str | None]:
    """Read up to ``len(block)`` frames into ``block``: ``(frames read, error or None)``."""
    handle = getattr(f, "_file", None)
    if _RAW is None or handle is None:
        try:
            return f.read(out=block).shape[0], None
        except SndfileError as exc:
            return 0, str(exc.error_string)
    lib, ffi = _RAW
    pointer = ffi.cast("float *", block.__array_interface__["data"][0])
    got = int(lib.sf_readf_float(handle, pointer, block.shape[0]))
    if lib.sf_error(handle) != 0:
        return got, ffi.string(lib.sf_strerror(handle)).decode("utf-8", "replace")
    return got, None


class SndfileReader:
    """An open libsndfile handle with the format facts read from its header."""

    def __init__(self, inp: Input, kind: str) -> None:
        self._inp = inp
        inp.rewind()
        target: Any = inp.fd if inp.fd is not None else inp.handle
        self._file = sf.SoundFile(target, closefd=False)
        try:
            self.format, self.declared_frames, self.exact_length = self._facts(kind)
        except BaseException:
            self._file.close()
            raise

    def close(self) -> None:
        self._file.close()

    def _facts(self, kind: str) -> tuple[SourceFormat, int, bool]:
        f = self._file
        head = self._inp.head
        size = self._inp.size_bytes
        container = _CONTAINERS.get(f.format, kind)
        rate = int(f.samplerate)
        frames = int(f.frames)
        duration_s = frames / rate if rate > 0 else 0.0
        warnings: list[str] = []
        bit_depth: int | None = None
        sample_format: str | None = None
        bitrate: int | None = None
        if f.format == "FLAC":
            codec = "flac"
            if f.subtype in _PCM:
                _, bit_depth, sample_format, _ = _PCM[f.subtype]
        elif f.subtype in _PCM:
            stem, bit_depth, sample_format, endian = _PCM[f.subtype]
            codec = stem + ("le" if _little_endian(kind, head) else "be") if endian else stem
            bitrate = rate * f.channels * bit_depth
        else:
            codec = _OTHER_CODECS.get(f.subtype, f.subtype.lower())
            if codec == "alac":
                bit_depth, sample_format = int(f.subtype.split("_")[1]), "int"
        if bitrate is None and size and duration_s > 0:
            payload = size - id3v2_size(head)
            bitrate = round(payload * 8 / duration_s)
        if kind in ("wav", "rf64") and size is not None:
            data = riff_data_size(head)
            if data is not None and data[1] > size - data[0]:
                warnings.append(
                    f"truncated: the data chunk declares {data[1]} bytes but only "
                    f"{max(size - data[0], 0)} are in the file; read what is there"
                )
        fmt = SourceFormat(
            container=container,
            codec=codec,
            sample_rate=rate,
            channels=int(f.channels),
            duration_s=duration_s,
            bit_depth=bit_depth,
            sample_format=sample_format,
            bitrate_bps=bitrate,
            size_bytes=size,
            warnings=tuple(warnings),
        )
        # mpg123 estimates the length of an MP3 without a Xing/Info header; others are exact.
        exact = codec not in _LOSSY
        return fmt, frames, exact

    def decode(self, limits: DecodeLimits) -> tuple[np.ndarray, list[str], int]:
        """Read every frame: ``(samples (channels, frames), warnings, non-finite count)``."""
        f = self._file
        name = self._inp.name
        channels = int(f.channels)
        sink = FrameSink(
            self._inp,
            channels,
            self.declared_frames,
            limits,
            check_finite=f.subtype in ("FLOAT", "DOUBLE"),
        )
        block = np.empty((BLOCK_FRAMES, channels), dtype=np.float32)
        warnings: list[str] = []
        while True:
            got, error = _read_into(f, block)
            sink.add_interleaved(block[:got])
            if error is not None:
                if sink.frames == 0:
                    raise DecodeError(f"{name}: cannot decode the audio ({error})")
                warnings.append(
                    f"decoding stopped after {sink.frames} frames ({error}); "
                    "the file is probably truncated or damaged"
                )
                break
            if got < BLOCK_FRAMES:
                break
        declared = self.declared_frames
        shortfall = declared - sink.frames
        # An estimated MP3 length may be off by a few frames either way; a real truncation
        # loses far more than 1 %.
        tolerance = 0 if self.exact_length else max(declared // 100, 4 * 1152)
        if shortfall > tolerance and not warnings and not self.format.warnings:
            warnings.append(
                f"truncated: the header declares {declared} frames but the file holds "
                f"{sink.frames}; decoded what is there"
            )
        return sink.result(), warnings, sink.non_finite
