"""Random-access PCM sources: read any span of a track without holding all of it.

The mastering analysis reads a track a chunk at a time through this protocol, so that a
source which reads from disk can stand in for :class:`ArraySource` (samples already in
memory, spans as views) without the analysis changing.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from soundry.errors import ParameterError

__all__ = ["ArraySource", "PcmSource"]


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
