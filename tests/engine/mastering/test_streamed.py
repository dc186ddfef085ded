"""Streamed masters: chunked meters and renders equal the whole-track ones; file to file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from soundry.audio import AudioBuffer, decode
from soundry.audio.encode import PcmStreamWriter
from soundry.audio.stream import ArraySource, ScratchTrack, SoundFileSource
from soundry.audio.synth import demo_song
from soundry.dsp.loudness import measure, true_peak_dbtp
from soundry.dsp.spectrum import band_levels_db
from soundry.engine.mastering.analysis import dc_block
from soundry.engine.mastering.chain import render_pre_limiter
from soundry.engine.mastering.files import master_file
from soundry.engine.mastering.image import measure_width
from soundry.engine.mastering.level import apply_level
from soundry.engine.mastering.meter import EQ_BANDS, TrackMeter
from soundry.engine.mastering.output import OutputFormat
from soundry.engine.mastering.report import snapshot
from soundry.engine.mastering.settings import MasterSettings
from soundry.engine.mastering.streamed import ArraySink, master_source
from soundry.errors import DecodeError, ParameterError


@pytest.fixture(scope="module")
def long_song() -> AudioBuffer:
    """70 s of generated music: three 30 s chunks, so seams fall inside the track."""
    return demo_song(duration_s=70.0, seed=5)


def _meter_in_chunks(x: np.ndarray, rate: int, chunk: int) -> TrackMeter:
    meter = TrackMeter(rate, x.shape[0], x.shape[1])
    starts = list(range(0, x.shape[1], chunk))
    for start in reversed(starts):  # any order: each cell is counted where it starts
        stop = min(x.shape[1], start + chunk)
        first = max(0, start - meter.preroll_frames)
        last = min(x.shape[1], stop + meter.postroll_frames)
        meter.add(x[:, first:last], first, start, stop)
    return meter


def test_chunked_meter_equals_whole_track_snapshot(long_song: AudioBuffer) -> None:
    x, rate = long_song.samples, long_song.sample_rate
    whole = snapshot(x, rate)
    got = _meter_in_chunks(x, rate, 400_003).snapshot()
    for key, value in whole["loudness"].items():
        assert got["loudness"][key] == pytest.approx(value, abs=1e-6), key
    np.testing.assert_allclose(got["eq_levels_db"], whole["eq_levels_db"], atol=1e-6)
    for key, value in whole["stereo_width"].items():
        assert got["stereo_width"][key] == pytest.approx(value, abs=1e-6), key


def test_meter_reads_what_the_whole_array_measures_read(long_song: AudioBuffer) -> None:
    """The report's EQ levels (segments without overlap) agree with the 50 %-overlap Welch
    levels of dsp.spectrum, and its widths with image.measure_width."""
    x, rate = long_song.samples, long_song.sample_rate
    got = snapshot(x, rate)
    np.testing.assert_allclose(
        got["eq_levels_db"], band_levels_db(x, rate, n_bands=EQ_BANDS), atol=0.3
    )
    for key, value in measure_width(x, rate).items():
        assert got["stereo_width"][key] == pytest.approx(value, abs=1e-9), key


def test_meter_rejects_a_span_without_context(long_song: AudioBuffer) -> None:
    x = long_song.samples
    meter = TrackMeter(long_song.sample_rate, 2, x.shape[1])
    with pytest.raises(ParameterError, match="needs frames"):
        meter.add(x[:, 100_000:200_000], 100_000, 100_000, 200_000)


def test_streamed_master_equals_the_whole_track_render(long_song: AudioBuffer) -> None:
    """Chunks are invisible: the chain run over the whole array at once, with the plan and
    gain the streamed master chose, gives the same samples to float32 rounding."""
    settings = MasterSettings(profile="c", target_lufs=-12.0)
    rate = long_song.sample_rate
    sink = ArraySink(long_song.channels, long_song.frames)
    streamed = master_source(ArraySource(long_song.samples, rate), settings, sink, workers=2)
    plan = streamed.plan
    whole, multiband_stats = render_pre_limiter(dc_block(long_song.samples, rate), plan, rate)
    # Each chunk reports the gain reduction of its own frames, not of its pre-roll.
    for band, figures in multiband_stats.items():
        assert streamed.multiband_stats[band]["max_gr_db"] == pytest.approx(
            figures["max_gr_db"], abs=2e-3
        )
        assert streamed.multiband_stats[band]["mean_gr_db"] == pytest.approx(
            figures["mean_gr_db"], abs=2e-3
        )
    whole, _ = apply_level(
        whole, sample_rate=rate, gain_db=plan.gain_db, ceiling_dbtp=settings.ceiling_dbtp
    )
    assert np.abs(sink.samples - whole).max() < 1e-5
    measured = measure(sink.samples, rate)
    assert streamed.loudness.integrated_lufs == pytest.approx(measured.integrated_lufs, abs=1e-6)
    assert abs(measured.integrated_lufs + 12.0) <= 0.3
    assert measured.true_peak_dbtp <= -1.0 + 0.05


def test_master_file_streams_pcm_to_pcm(long_song: AudioBuffer, tmp_path: Path) -> None:
    source = tmp_path / "mix.flac"
    sf.write(source, long_song.samples.T, long_song.sample_rate, subtype="PCM_24")
    out = tmp_path / "master.wav"
    done = master_file(source, out, MasterSettings(), OutputFormat("wav", None, 24))
    report = done.report
    master = decode(out)
    assert master.source is not None and master.source.bit_depth == 24
    assert master.frames == long_song.frames
    measured = measure(master.samples, master.sample_rate)
    assert abs(measured.integrated_lufs + 14.0) <= 0.3
    assert true_peak_dbtp(master.samples, master.sample_rate) <= -1.0 + 0.05
    figures = report.to_dict()
    assert figures["after"]["loudness"]["integrated_lufs"] == pytest.approx(
        measured.integrated_lufs, abs=0.01
    )
    assert not list(tmp_path.glob(".master.wav.*"))  # no temporary file left behind
    assert done.attempts == 1 and done.delivered_true_peak_dbtp <= -1.0 + 0.05


@pytest.mark.parametrize(("fmt", "rate"), [("mp3", 48_000), ("aac", 44_100)])
def test_master_file_to_lossy_holds_the_ceiling_as_decoded(
    long_song: AudioBuffer, tmp_path: Path, fmt: str, rate: int
) -> None:
    """A lossy master (resampled on the way when asked) is streamed: its decoded file holds
    the ceiling, measured here on the file itself, at the loudness asked for."""
    source = tmp_path / "mix.wav"
    sf.write(source, long_song.samples.T, long_song.sample_rate, subtype="FLOAT")
    out = tmp_path / f"master.{'m4a' if fmt == 'aac' else fmt}"
    settings = MasterSettings(target_lufs=-10.0)
    done = master_file(source, out, settings, OutputFormat(fmt, rate, bitrate_kbps=256))
    master = decode(out)
    assert master.sample_rate == rate
    assert master.frames >= round(long_song.frames * rate / long_song.sample_rate)
    peak = true_peak_dbtp(master.samples, master.sample_rate)
    assert peak <= -1.0 + 0.05
    assert done.delivered_true_peak_dbtp == pytest.approx(peak, abs=0.05)
    assert done.limiter_ceiling_dbtp <= -1.0
    assert abs(measure(master.samples, rate).integrated_lufs + 10.0) <= 0.5
    assert not list(tmp_path.glob(".master.*"))


def test_scratch_track_round_trip() -> None:
    scratch = ScratchTrack(2, 1000, 48_000)
    try:
        block = np.arange(600, dtype=np.float32).reshape(2, 300)
        scratch.write(100, block)
        np.testing.assert_array_equal(scratch.read(100, 400), block)
        assert not scratch.read(0, 100).any()
        with pytest.raises(ParameterError):
            scratch.read(900, 1100)
    finally:
        scratch.close()


def test_sound_file_source_reads_spans(tmp_path: Path) -> None:
    data = np.random.default_rng(3).uniform(-0.5, 0.5, (2, 5000)).astype(np.float32)
    path = tmp_path / "x.wav"
    sf.write(path, data.T, 44_100, subtype="FLOAT")
    source = SoundFileSource(path)
    try:
        assert (source.channels, source.frames, source.sample_rate) == (2, 5000, 44_100)
        np.testing.assert_array_equal(source.read(1234, 4321), data[:, 1234:4321])
    finally:
        source.close()
    (tmp_path / "bad.wav").write_bytes(b"RIFF0000WAVEjunk")
    with pytest.raises(DecodeError):
        SoundFileSource(tmp_path / "bad.wav")


def test_pcm_stream_writer_restarts(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    writer = PcmStreamWriter(path, format="wav", sample_rate=8000, channels=1, bit_depth=16)
    writer.write(np.full((1, 100), 0.5, dtype=np.float32))
    writer.start()  # a corrected pass starts the file again
    writer.write(np.full((1, 50), 0.25, dtype=np.float32))
    writer.close()
    data, rate = sf.read(path, dtype="float32")
    assert rate == 8000 and data.shape == (50,)
    assert np.abs(data - 0.25).max() < 2.0 / 32768
