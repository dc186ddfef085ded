"""What the decoders share: opening a source once, sniffing its type, filling the output.

A source is opened exactly once. The first bytes are read for sniffing and the backend then
reads the same handle from the start, so a path, a byte string and a caller's file object
all take the same route and none is read twice.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from soundry.errors import DecodeError

__all__ = [
    "HEAD_BYTES",
    "SNDFILE_KINDS",
    "DecodeLimits",
    "FrameSink",
    "Input",
    "Source",
    "display_name",
    "id3v2_size",
    "looks_like_text",
    "open_input",
    "riff_data_size",
    "sniff",
]

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

# Enough to hold an ID3v2 tag of ordinary size plus the first audio header behind it.
HEAD_BYTES = 64 * 1024

# Containers handled by libsndfile; everything else goes to FFmpeg.
SNDFILE_KINDS = frozenset({"wav", "rf64", "w64", "aiff", "flac", "ogg", "mp3", "caf", "au"})


@dataclass(slots=True)
class Input:
    """An opened source: its display name, a seekable handle at offset 0, and its head."""

    name: str
    handle: BinaryIO
    head: bytes
    size_bytes: int | None
    fd: int | None = None  # an OS descriptor when the source is a real file, for libsndfile

    def rewind(self) -> None:
        self.handle.seek(0)
        if self.fd is not None:
            os.lseek(self.fd, 0, os.SEEK_SET)


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """The most audio a decode may produce, as a frame count at the source rate."""

    max_frames: int
    reason: str  # "the limit of ...", for the message when it is hit


def display_name(source: object) -> str:
    """How messages name a source: its path, ``<bytes>``, or a file object's name."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        return str(Path(source))
    name = getattr(source, "name", None)
    return name if isinstance(name, str) else "<stream>"


class _Window(io.RawIOBase):
    """A read-only view of a caller's seekable stream that starts at its current position."""

    def __init__(self, raw: BinaryIO, start: int) -> None:
        self._raw = raw
        self._start = start

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            return self._raw.seek(self._start + offset) - self._start
        return self._raw.seek(offset, whence) - self._start

    def tell(self) -> int:
        return self._raw.tell() - self._start


@contextmanager
def open_input(source: Source) -> Iterator[Input]:
    """Open ``source`` for reading; raise DecodeError naming it when that is impossible."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        yield Input("<bytes>", io.BytesIO(data), data[:HEAD_BYTES], len(data))
        return
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = str(path)
        try:
            # Unbuffered, so that every seek reaches the descriptor that libsndfile shares.
            handle = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise DecodeError(f"{name}: no such file") from None
        except IsADirectoryError:
            raise DecodeError(f"{name}: is a directory, not an audio file") from None
        except PermissionError:
            raise DecodeError(f"{name}: cannot read it (permission denied)") from None
        except OSError as exc:
            raise DecodeError(f"{name}: cannot open it ({exc.strerror or exc})") from None
        with handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise DecodeError(f"{name}: is a directory, not an audio file")
            head = handle.read(HEAD_BYTES)
            handle.seek(0)
            size = info.st_size if stat.S_ISREG(info.st_mode) else None
            yield Input(name, handle, head, size, fd=handle.fileno())
        return
    if not hasattr(source, "read"):
        raise DecodeError(
            f"cannot decode a {type(source).__name__}: pass a path, bytes or a binary file object"
        )
    name = display_name(source)
    try:
        seekable = bool(source.seekable())
    except (AttributeError, OSError, ValueError):
        seekable = False
    if not seekable:
        # Both backends need to seek (headers at the end, gapless trimming), so a pipe is
        # read into memory once.
        data = source.read()
        if not isinstance(data, bytes):
            raise DecodeError(f"{name}: the file object is not opened in binary mode")
        yield Input(name, io.BytesIO(data), data[:HEAD_BYTES], len(data))
        return
    start = source.tell()
    end = source.seek(0, os.SEEK_END)
    source.seek(start)
    head = source.read(HEAD_BYTES)
    if not isinstance(head, bytes):
        raise DecodeError(f"{name}: the file object is not opened in binary mode")
    source.seek(start)
    view: BinaryIO = source if start == 0 else io.BufferedReader(_Window(source, start))
    yield Input(name, view, head, end - start)


def id3v2_size(head: bytes) -> int:
    """Bytes taken by a leading ID3v2 tag (0 if none)."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = 0
    for byte in head[6:10]:
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def sniff(head: bytes) -> str | None:
    """The container kind from the magic bytes, or None when they are not recognised.

    Kinds: ``wav``, ``rf64``, ``w64``, ``aiff``, ``flac``, ``ogg``, ``mp3``, ``caf``, ``au``
    (read by libsndfile) and ``mp4``, ``adts``, ``matroska`` (read by FFmpeg).
    """
    if len(head) >= 12 and head[8:12] == b"WAVE":
        if head[:4] in (b"RIFF", b"RIFX"):
            return "wav"
        if head[:4] in (b"RF64", b"BW64"):
            return "rf64"
    if head[:4] == b"riff" and head[24:28] == b"wave":
        return "w64"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"caff":
        return "caf"
    if head[:4] == b".snd":
        return "au"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    offset = id3v2_size(head)
    if offset:
        after = head[offset : offset + 4]
        if after[:4] == b"fLaC":
            return "flac"
        if len(after) >= 2 and after[0] == 0xFF and after[1] & 0xF6 == 0xF0:
            return "adts"
        # An ID3 tag is an MP3 in practice, even when the first frame lies past the head.
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        layer = (head[1] >> 1) & 0x3
        return "adts" if layer == 0 else "mp3"
    return None


def looks_like_text(head: bytes) -> bool:
    """True when the first bytes read as text (UTF-8, no control bytes but whitespace)."""
    sample = head[:4096]
    if not sample:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(sample) - 3:
            return False
        text = sample[: exc.start].decode("utf-8")
    return all(ch.isprintable() or ch in "\t\n\r\f\v" for ch in text)


def riff_data_size(head: bytes) -> tuple[int, int] | None:
    """``(offset, declared_size)`` of the ``data`` chunk of a RIFF or RF64 WAVE head.

    For RF64 the 32-bit size is a placeholder and the real one is in the ``ds64`` chunk.
    None when the head holds no ``data`` chunk header.
    """
    if len(head) < 12 or head[8:12] != b"WAVE" or head[:4] not in (b"RIFF", b"RF64", b"BW64"):
        return None
    ds64_data_size: int | None = None
    pos = 12
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        size = int.from_bytes(head[pos + 4 : pos + 8], "little")
        if chunk_id == b"ds64" and pos + 24 <= len(head):
            ds64_data_size = int.from_bytes(head[pos + 16 : pos + 24], "little")
        if chunk_id == b"data":
            if size == 0xFFFF_FFFF and ds64_data_size is not None:
                size = ds64_data_size
            return pos + 8, size
        pos += 8 + size + (size & 1)
    return None


# No real file stores more frames than this per byte: even 6 kbit/s mono Opus holds 64 at
# 48 kHz. A header that claims more is lying, so it only sizes the first allocation this far.
_MAX_FRAMES_PER_BYTE = 64
_UNKNOWN_LENGTH_FRAMES = 1 << 20


class FrameSink:
    """Collects decoded blocks into one ``(channels, frames)`` float32 array.

    The array is sized from the header's frame count so that the common case needs no copy;
    it grows when the header undercounted and is trimmed when the file held less. Growth
    past ``limits.max_frames`` raises DecodeError instead of allocating.
    """

    def __init__(
        self,
        inp: Input,
        channels: int,
        expected_frames: int | None,
        limits: DecodeLimits,
        *,
        check_finite: bool,
    ) -> None:
        capacity = expected_frames or _UNKNOWN_LENGTH_FRAMES
        if inp.size_bytes is not None:
            capacity = min(capacity, max(inp.size_bytes * _MAX_FRAMES_PER_BYTE, 1))
        self._name = inp.name
        self._limits = limits
        self._check_finite = check_finite
        self._out = np.empty((channels, min(capacity, limits.max_frames)), dtype=np.float32)
        self.frames = 0
        self.non_finite = 0

    def _reserve(self, frames: int) -> np.ndarray:
        needed = self.frames + frames
        if needed > self._limits.max_frames:
            raise DecodeError(f"{self._name}: holds more audio than {self._limits.reason}")
        capacity = self._out.shape[1]
        if needed > capacity:
            grown = min(max(needed, 2 * capacity), self._limits.max_frames)
            out = np.empty((self._out.shape[0], grown), dtype=np.float32)
            out[:, : self.frames] = self._out[:, : self.frames]
            self._out = out
        return self._out[:, self.frames : needed]

    def add_interleaved(self, block: np.ndarray) -> None:
        """Append a ``(frames, channels)`` block (libsndfile's layout)."""
        n = block.shape[0]
        if n == 0:
            return
        self._reserve(n)[...] = block.T
        self._count(self._out[:, self.frames : self.frames + n])
        self.frames += n

    def add_planar(self, block: np.ndarray) -> None:
        """Append a ``(channels, frames)`` block (FFmpeg's planar layout)."""
        n = block.shape[1]
        if n == 0:
            return
        self._reserve(n)[...] = block
        self._count(self._out[:, self.frames : self.frames + n])
        self.frames += n

    def _count(self, written: np.ndarray) -> None:
        if self._check_finite and not np.isfinite(written).all():
            self.non_finite += int(written.size - np.count_nonzero(np.isfinite(written)))

    def result(self, frames: int | None = None) -> np.ndarray:
        """The samples, ``(channels, frames)``; ``frames`` trims to a known length."""
        n = self.frames if frames is None else min(frames, self.frames)
        if n == self._out.shape[1]:
            return self._out
        return np.ascontiguousarray(self._out[:, :n])
