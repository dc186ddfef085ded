"""Previews (up to five variants, the loudest 30 s by default) and album mode."""

from __future__ import annotations

import numpy as np
import pytest

from soundry.audio import AudioBuffer
from soundry.audio.synth import demo_song
from soundry.dsp.loudness import integrated_loudness
from soundry.engine.mastering import MasterSettings, master_album, master_previews
from soundry.engine.mastering.previews import loudest_window_start_s
from soundry.engine.mastering.streamed import master_buffer
from soundry.errors import ParameterError


@pytest.fixture(scope="module")
def quiet_loud_quiet() -> AudioBuffer:
    """75 s: 25 s at -12 dB, 30 s at full level, 20 s at -12 dB."""
    song = demo_song(duration_s=75.0, seed=5)
    gain = np.full(song.frames, 10 ** (-12 / 20), dtype=np.float32)
    rate = song.sample_rate
    gain[25 * rate : 55 * rate] = 1.0
    return song.with_samples(song.samples * gain)


def test_loudest_window_is_found(quiet_loud_quiet: AudioBuffer) -> None:
    start = loudest_window_start_s(quiet_loud_quiet.samples, quiet_loud_quiet.sample_rate)
    assert start == pytest.approx(25.0, abs=1.0)


def test_previews_equal_the_same_span_of_each_full_master(quiet_loud_quiet: AudioBuffer) -> None:
    variants = [
        MasterSettings(profile="a"),
        MasterSettings(profile="n", intensity=50, target_lufs=-16.0),
        MasterSettings(stereo_image=True, target_lufs=-10.0),
    ]
    previews = master_previews(quiet_loud_quiet, variants)
    rate = quiet_loud_quiet.sample_rate
    assert len(previews) == 3
    for preview, settings in zip(previews, variants, strict=True):
        assert preview.start_s == pytest.approx(25.0, abs=1.0)
        assert preview.audio.frames == 30 * rate
        assert preview.report.excerpt == {"start_s": preview.start_s, "duration_s": 30.0}
        mastered, _ = master_buffer(quiet_loud_quiet, settings)
        first = round(preview.start_s * rate)
        assert np.array_equal(preview.audio.samples, mastered.samples[:, first : first + 30 * rate])
        full = integrated_loudness(mastered.samples, rate)
        assert full == pytest.approx(settings.target_lufs, abs=0.3)


def test_preview_start_is_clamped_and_reported(song: AudioBuffer) -> None:
    (preview,) = master_previews(song, [MasterSettings()], start_s=1000.0, duration_s=10.0)
    assert preview.start_s == pytest.approx(song.duration_s - 10.0)
    assert preview.audio.frames == 10 * song.sample_rate


def test_preview_limits(song: AudioBuffer) -> None:
    with pytest.raises(ParameterError, match="1 to 5"):
        master_previews(song, [MasterSettings()] * 6)
    with pytest.raises(ParameterError, match="start"):
        master_previews(song, [MasterSettings()], start_s=-1.0)


def test_album_brings_tracks_together() -> None:
    from soundry.dsp.filters import apply_sos, high_shelf, low_shelf

    rate = 44_100
    base = [
        demo_song(duration_s=15.0, seed=s, tempo_bpm=t) for s, t in ((1, 96), (2, 120), (3, 140))
    ]
    dark = apply_sos(base[0].samples, high_shelf(3000.0, -8.0, rate)) * 0.3
    bright = apply_sos(base[1].samples, low_shelf(200.0, -8.0, rate))
    tracks = [base[0].with_samples(dark), base[1].with_samples(bright), base[2]]
    result = master_album(tracks, MasterSettings(target_lufs=-14.0))
    summary = result.summary
    assert summary["tonal_spread_db"]["after"] < summary["tonal_spread_db"]["before"] * 0.8
    assert summary["loudness_spread_lu"]["after"] < summary["loudness_spread_lu"]["before"]
    assert summary["loudness_spread_lu"]["after"] <= 3.0 + 0.3
    for entry, audio in zip(summary["tracks"], result.tracks, strict=True):
        assert integrated_loudness(audio.samples, rate) == pytest.approx(
            entry["target_lufs"], abs=0.3
        )
    assert max(entry["target_lufs"] for entry in summary["tracks"]) == -14.0


def test_album_rejects_one_track(song: AudioBuffer) -> None:
    with pytest.raises(ParameterError, match="2 to"):
        master_album([song], MasterSettings())


def test_previews_are_the_same_in_threads_or_not(song: AudioBuffer) -> None:
    variants = [MasterSettings(profile="a"), MasterSettings(profile="g", stereo_image=True)]
    serial = master_previews(song, variants, duration_s=10.0, workers=1)
    threaded = master_previews(song, variants, duration_s=10.0, workers=2)
    for one, other in zip(serial, threaded, strict=True):
        assert np.array_equal(one.audio.samples, other.audio.samples)
        assert one.report.to_dict() == other.report.to_dict()
