"""Random-access PCM sources."""

from __future__ import annotations

import numpy as np
import pytest

from soundry.audio.stream import ArraySource
from soundry.errors import ParameterError


def test_array_source_spans_are_views() -> None:
    samples = np.zeros((2, 100), dtype=np.float32)
    source = ArraySource(samples, 8000)
    assert np.shares_memory(source.read(10, 20), samples)
    with pytest.raises(ParameterError):
        source.read(20, 10)
