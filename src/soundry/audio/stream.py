"""Random-access PCM sources: read any span of a track without holding all of it.

Mastering reads a track a chunk at a time through this protocol, so a file read from disk
(:class:`SoundFileSource`) stands in for samples already in memory (:class:`ArraySource`,
spans as views), and an intermediate signal can live on disk (:class:`ScratchTrack`)
instead of in memory: an hour-long master holds a few chunks, not the whole track.
"""

from __future__ import annotations

import os
import tempfile
import threading
from typing import Protocol

import numpy as np
import soundfile as sf

from soundry.errors import DecodeError, ParameterError

__all__ = ["ArraySource", "PcmSource", "ScratchTrack", "SoundFileSource"]


class PcmSource(Protocol):
    """A track that can be read a span at a time."""

    @property
    def sample_rate(self) -> int:
        """Hz."""
        ...

    @property
    def channels(self) -> int:
        """Channel count."""
        ...

    @property
    def frames(self) -> int:
        """Length in frames."""
        ...

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start:stop`` (``0 <= start <= stop <= frames``), float32, shape
        (channels, stop - start). The result may be a read-only view."""
        ...


def _check_span(start: int, stop: int, frames: int) -> None:
    if not 0 <= start <= stop <= frames:
        raise ParameterError(f"span {start}..{stop} is not inside the track's {frames} frames")


class _Shape:
    """The rate, channel count and length every source reports."""

    _rate: int
    _channels: int
    _frames: int

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def channels(self) -> int:
        return self._channels

    @property
    def frames(self) -> int:
        return self._frames


class ArraySource(_Shape):
    """Samples in memory, shape (channels, frames); spans are views."""

    def __init__(self, samples: np.ndarray, sample_rate: int) -> None:
        data = np.atleast_2d(np.asarray(samples))
        if data.dtype != np.float32 or not data.flags.c_contiguous:
            data = np.ascontiguousarray(data, dtype=np.float32)
        self._samples = data
        self._rate = int(sample_rate)
        self._channels, self._frames = int(data.shape[0]), int(data.shape[1])

    def read(self, start: int, stop: int) -> np.ndarray:
        _check_span(start, stop, self.frames)
        return self._samples[:, start:stop]


class SoundFileSource(_Shape):
    """A PCM file read through libsndfile a span at a time (WAV, RF64, W64, AIFF, FLAC).

    Each thread reads through its own handle, so spans can be read concurrently. Only what
    is asked for is decoded; nothing of the file is held between reads.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = os.fspath(path)
        try:
            info = sf.info(self._path)
        except sf.LibsndfileError as exc:
            raise DecodeError(f"{self._path}: {exc.error_string}") from exc
        if not info.frames or info.frames < 0:
            raise DecodeError(f"{self._path}: the file holds no audio frames")
        self._rate = int(info.samplerate)
        self._channels = int(info.channels)
        self._frames = int(info.frames)
        self._local = threading.local()
        self._handles: list[sf.SoundFile] = []
        self._lock = threading.Lock()

    def _handle(self) -> sf.SoundFile:
        handle = getattr(self._local, "handle", None)
        if handle is None:
            handle = sf.SoundFile(self._path)
            self._local.handle = handle
            with self._lock:
                self._handles.append(handle)
        return handle

    def read(self, start: int, stop: int) -> np.ndarray:
        _check_span(start, stop, self.frames)
        handle = self._handle()
        handle.seek(start)
        block = handle.read(stop - start, dtype="float32", always_2d=True)
        if block.shape[0] != stop - start:
            raise DecodeError(
                f"{self._path}: ended at frame {start + block.shape[0]}, before the"
                f" {self.frames} frames its header declares"
            )
        return np.ascontiguousarray(block.T)

    def close(self) -> None:
        """Close every handle opened so far."""
        with self._lock:
            for handle in self._handles:
                handle.close()
            self._handles.clear()
        self._local = threading.local()


class ScratchTrack(_Shape):
    """A temporary float32 track on disk: written span by span, read back as a PcmSource.

    Channels are stored one after another (planar), so a span of one channel is a single
    contiguous read. Reads and writes go through ``pread``/``pwrite`` rather than a memory
    map: the data stays in the page cache, not in the process's resident memory.
    """

    def __init__(self, channels: int, frames: int, sample_rate: int) -> None:
        self._channels, self._frames, self._rate = int(channels), int(frames), int(sample_rate)
        # Closed by close(): the file lives as long as the scratch track.
        handle = tempfile.TemporaryFile(prefix="soundry-scratch-")  # noqa: SIM115
        self._file = handle
        self._fd = handle.fileno()
        os.ftruncate(self._fd, self._channels * self._frames * 4)

    def write(self, start: int, block: np.ndarray) -> None:
        """Store ``block`` (shape (channels, n)) at frames ``start:start + n``."""
        data = np.ascontiguousarray(block, dtype=np.float32)
        _check_span(start, start + data.shape[1], self.frames)
        for c in range(self._channels):
            os.pwrite(self._fd, data[c].tobytes(), (c * self._frames + start) * 4)

    def read(self, start: int, stop: int) -> np.ndarray:
        _check_span(start, stop, self.frames)
        out = np.empty((self._channels, stop - start), dtype=np.float32)
        for c in range(self._channels):
            raw = os.pread(self._fd, (stop - start) * 4, (c * self._frames + start) * 4)
            out[c] = np.frombuffer(raw, dtype=np.float32)
        return out

    def close(self) -> None:
        """Delete the file."""
        self._file.close()

    def __enter__(self) -> ScratchTrack:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
