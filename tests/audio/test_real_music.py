"""Real recordings from ../shared/data (skipped when absent): decode, and lossy round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soundry.audio import decode, encode, probe
from tests.audio.helpers import lossy_match

pytestmark = pytest.mark.shared_data


def _music(shared_data: Path) -> list[Path]:
    files = sorted((shared_data / "music" / "librosa-data").glob("*.ogg"))
    if not files:
        pytest.skip("no Ogg files in shared_data/music/librosa-data")
    return files


def test_every_recording_decodes_cleanly(shared_data: Path) -> None:
    for path in _music(shared_data):
        facts = probe(path)
        audio = decode(path)
        assert audio.source is not None
        assert (audio.source.container, audio.source.codec) == ("ogg", "vorbis"), path
        assert (audio.sample_rate, audio.channels) == (44_100, 2), path
        assert audio.source.warnings == (), path
        assert audio.duration_s == pytest.approx(facts.duration_s, abs=0.01), path
        assert np.isfinite(audio.samples).all(), path
        assert 0.05 < np.abs(audio.samples).max() < 1.5, path


def test_real_wav_and_flac(shared_data: Path) -> None:
    folder = shared_data / "annotated" / "madmom" / "audio"
    if not (folder / "stereo_sample.flac").exists():
        pytest.skip("madmom audio fixtures are absent")
    wav = decode(folder / "stereo_sample.wav")
    flac = decode(folder / "stereo_sample.flac")
    assert flac.source is not None
    assert flac.source.codec == "flac"
    assert np.array_equal(wav.samples, flac.samples)


@pytest.mark.parametrize(("format", "bitrate_kbps"), [("mp3", 320), ("aac", 256)])
def test_lossy_round_trip_of_real_music(shared_data: Path, format: str, bitrate_kbps: int) -> None:
    path = next(p for p in _music(shared_data) if "Vibe_Ace" in p.name)
    audio = decode(path)
    excerpt = audio.with_samples(audio.samples[:, 20 * 44_100 : 30 * 44_100] * 0.8)
    decoded = decode(encode(excerpt, None, format=format, bitrate_kbps=bitrate_kbps))
    assert decoded.frames == excerpt.frames
    corr, level_db = lossy_match(excerpt.samples, decoded.samples)
    assert corr > 0.99
    assert level_db < 0.5
