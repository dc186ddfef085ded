"""Random-access PCM sources: read any span of a track without holding all of it.

The mastering engine analyses and renders a track a chunk at a time. A source hands it
``(channels, n)`` float32 spans: :class:`ArraySource` from samples already in memory (no
copy), :class:`SoundFileSource` straight from a file libsndfile reads (WAV, FLAC, AIFF,
Ogg), so a one-hour file never has to fit in memory.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf

from soundry.audio.buffer import AudioBuffer
from soundry.errors import DecodeError, ParameterError

__all__ = ["ArraySource", "PcmSource", "SoundFileSource", "as_source"]


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


class ArraySource:
    """Samples in memory, shape (channels, frames); spans are views."""

    def __init__(self, samples: np.ndarray, sample_rate: int) -> None:
        data = np.atleast_2d(np.asarray(samples))
        if data.dtype != np.float32 or not data.flags.c_contiguous:
            data = np.ascontiguousarray(data, dtype=np.float32)
        self._samples = data
        self._rate = int(sample_rate)

    @classmethod
    def of(cls, audio: AudioBuffer) -> ArraySource:
        """The samples of ``audio``."""
        return cls(audio.samples, audio.sample_rate)

    @property
    def samples(self) -> np.ndarray:
        """All of it, shape (channels, frames)."""
        return self._samples

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def channels(self) -> int:
        return int(self._samples.shape[0])

    @property
    def frames(self) -> int:
        return int(self._samples.shape[1])

    def read(self, start: int, stop: int) -> np.ndarray:
        _check_span(start, stop, self.frames)
        return self._samples[:, start:stop]


class SoundFileSource:
    """A file libsndfile can seek in (WAV, FLAC, AIFF, Ogg), read span by span.

    Reads are serialised by a lock, so chunks rendered in threads may share one source.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        try:
            self._file = sf.SoundFile(str(self._path))
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise DecodeError(f"{self._path}: cannot read it in blocks ({exc})") from None
        if not self._file.seekable():
            self._file.close()
            raise DecodeError(f"{self._path}: the file cannot be read in blocks")
        self._lock = threading.Lock()

    @property
    def sample_rate(self) -> int:
        return int(self._file.samplerate)

    @property
    def channels(self) -> int:
        return int(self._file.channels)

    @property
    def frames(self) -> int:
        return int(self._file.frames)

    def read(self, start: int, stop: int) -> np.ndarray:
        _check_span(start, stop, self.frames)
        with self._lock:
            self._file.seek(start)
            data = self._file.read(stop - start, dtype="float32", always_2d=True)
        if data.shape[0] != stop - start:
            raise DecodeError(
                f"{self._path}: the file ended at frame {start + data.shape[0]},"
                f" before its declared {self.frames} frames"
            )
        return np.ascontiguousarray(data.T)

    def close(self) -> None:
        """Release the file."""
        self._file.close()

    def __enter__(self) -> SoundFileSource:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def as_source(audio: AudioBuffer | PcmSource) -> PcmSource:
    """``audio`` as a source (an AudioBuffer becomes an :class:`ArraySource`)."""
    if isinstance(audio, AudioBuffer):
        return ArraySource.of(audio)
    return audio
