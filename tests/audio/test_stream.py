"""Random-access PCM sources."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from soundry.audio.stream import ArraySource, SoundFileSource
from soundry.errors import DecodeError, ParameterError


def test_sound_file_source_reads_any_span(tmp_path: Path, rng: np.random.Generator) -> None:
    data = rng.uniform(-0.5, 0.5, size=(44_100 * 3, 2)).astype(np.float32)
    path = tmp_path / "x.wav"
    sf.write(path, data, 44_100, subtype="FLOAT")
    with SoundFileSource(path) as source:
        assert (source.sample_rate, source.channels, source.frames) == (44_100, 2, data.shape[0])
        np.testing.assert_array_equal(source.read(1000, 5000), data[1000:5000].T)
        np.testing.assert_array_equal(source.read(0, data.shape[0]), data.T)
        with pytest.raises(ParameterError, match="not inside"):
            source.read(5, data.shape[0] + 1)


def test_array_source_spans_are_views() -> None:
    samples = np.zeros((2, 100), dtype=np.float32)
    source = ArraySource(samples, 8000)
    assert np.shares_memory(source.read(10, 20), samples)
    with pytest.raises(ParameterError):
        source.read(20, 10)


def test_sound_file_source_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(DecodeError, match=r"bad\.wav"):
        SoundFileSource(path)
