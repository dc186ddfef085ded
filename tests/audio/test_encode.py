"""encode(): every format, depth and bitrate round-trips; bad options are refused by name;
writes are atomic."""

from __future__ import annotations

import io
import os
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from soundry.audio import AudioBuffer, _atomic, _lossy, _quantize, decode, encode
from soundry.errors import EncodeError, ParameterError
from tests.audio.helpers import lossy_match, tones

RATE = 44_100


@pytest.fixture(scope="module")
def music() -> AudioBuffer:
    """3 s of stereo tones over band-limited noise, so that ABR encoders spend their bits."""
    return AudioBuffer(tones(RATE, 2, 3.0, noise=0.3, noise_cutoff_hz=5_000, seed=3), RATE)


@pytest.mark.parametrize(
    ("kwargs", "codec", "bits", "kind"),
    [
        ({"format": "wav"}, "pcm_s24le", 24, "int"),  # the default depth
        ({"format": "wav", "bit_depth": 16}, "pcm_s16le", 16, "int"),
        ({"format": "wav", "bit_depth": 24}, "pcm_s24le", 24, "int"),
        ({"format": "wav", "bit_depth": 32}, "pcm_f32le", 32, "float"),
        ({"format": "wav", "sample_format": "float"}, "pcm_f32le", 32, "float"),
        ({"format": "wav", "bit_depth": 64}, "pcm_f64le", 64, "float"),
        ({"format": "wav", "bit_depth": 32, "sample_format": "int"}, "pcm_s32le", 32, "int"),
        ({"format": "aiff", "bit_depth": 16}, "pcm_s16be", 16, "int"),
        ({"format": "aiff"}, "pcm_s24be", 24, "int"),
        ({"format": "flac", "bit_depth": 16}, "flac", 16, "int"),
        ({"format": "flac"}, "flac", 24, "int"),
    ],
)
def test_pcm_round_trip(
    music: AudioBuffer, kwargs: dict[str, object], codec: str, bits: int, kind: str
) -> None:
    data = encode(music, None, **kwargs)  # type: ignore[arg-type]
    assert isinstance(data, bytes)

    audio = decode(data)

    src = audio.source
    assert src is not None
    assert (src.codec, src.bit_depth, src.sample_format) == (codec, bits, kind)
    assert (audio.sample_rate, audio.channels, audio.frames) == (RATE, 2, music.frames)
    error = audio.samples.astype(np.float64) - music.samples
    if kind == "float":
        assert np.array_equal(audio.samples, music.samples)
    elif bits == 32:
        assert np.max(np.abs(error)) <= 2.0**-31
    else:
        # TPDF dither of ±1 LSB plus rounding of ±0.5 LSB bounds the error at 1.5 LSB.
        lsb = 2.0 ** -(bits - 1)
        assert np.max(np.abs(error)) <= 1.5 * lsb
        assert np.std(error) == pytest.approx(0.5 * lsb, rel=0.05)


@pytest.mark.parametrize("bitrate_kbps", [128, 192, 256, 320])
def test_mp3_cbr_round_trip(music: AudioBuffer, bitrate_kbps: int) -> None:
    data = encode(music, None, format="mp3", bitrate_kbps=bitrate_kbps)
    assert isinstance(data, bytes)

    audio = decode(data)

    src = audio.source
    assert src is not None
    assert (src.container, src.codec, src.sample_rate, src.channels) == ("mp3", "mp3", RATE, 2)
    assert src.bitrate_bps == pytest.approx(bitrate_kbps * 1000, rel=0.1)
    assert audio.frames == music.frames  # the LAME tag makes decoding gapless
    with av.open(io.BytesIO(data)) as container:  # FFmpeg agrees it is CBR at that rate
        assert container.streams.audio[0].codec_context.bit_rate == bitrate_kbps * 1000
    corr, level_db = lossy_match(music.samples, audio.samples)
    assert corr > 0.99
    assert level_db < 0.5


@pytest.mark.parametrize("rate", [8_000, 22_050, 32_000, 48_000])
def test_mp3_other_rates(rate: int) -> None:
    buffer = AudioBuffer(tones(rate, 1, 2.0), rate)
    audio = decode(encode(buffer, None, format="mp3", bitrate_kbps=128))
    assert (audio.sample_rate, audio.channels, audio.frames) == (rate, 1, buffer.frames)
    corr, level_db = lossy_match(buffer.samples, audio.samples)
    assert corr > 0.99
    assert level_db < 0.5


@pytest.mark.parametrize("format", ["aac", "m4a"])
@pytest.mark.parametrize("bitrate_kbps", [128, 192, 256, 320])
def test_aac_round_trip(music: AudioBuffer, format: str, bitrate_kbps: int) -> None:
    data = encode(music, None, format=format, bitrate_kbps=bitrate_kbps)
    assert isinstance(data, bytes)
    assert data[4:12] == b"ftypM4A "  # an M4A (MP4) file
    assert data.find(b"moov") < data.find(b"mdat")  # index first: streams while loading

    audio = decode(data)

    src = audio.source
    assert src is not None
    assert (src.container, src.codec) == ("mp4", "aac")
    assert src.bitrate_bps == pytest.approx(bitrate_kbps * 1000, rel=0.1)
    assert audio.frames == music.frames
    with av.open(io.BytesIO(data)) as container:
        assert container.streams.audio[0].codec_context.profile == "LC"
    corr, level_db = lossy_match(music.samples, audio.samples)
    assert corr > 0.99
    assert level_db < 0.5


def test_ogg_vorbis_round_trip(music: AudioBuffer) -> None:
    audio = decode(encode(music, None, format="ogg", bitrate_kbps=192))
    assert audio.source is not None
    assert (audio.source.container, audio.source.codec) == ("ogg", "vorbis")
    assert audio.source.bitrate_bps == pytest.approx(192_000, rel=0.35)  # VBR: a target
    corr, level_db = lossy_match(music.samples, audio.samples)
    assert corr > 0.99
    assert level_db < 0.5


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("a.wav", "pcm_s24le"),
        ("a.WAV", "pcm_s24le"),
        ("a.flac", "flac"),
        ("a.aiff", "pcm_s24be"),
        ("a.mp3", "mp3"),
        ("a.m4a", "aac"),
        ("a.aac", "aac"),
        ("a.ogg", "vorbis"),
    ],
)
def test_format_from_extension(tmp_path: Path, music: AudioBuffer, name: str, codec: str) -> None:
    path = encode(music, tmp_path / name)
    assert path == tmp_path / name
    assert decode(path).source.codec == codec  # type: ignore[union-attr]


def test_sixteen_bit_audio_re_encodes_losslessly(tmp_path: Path) -> None:
    codes = np.random.default_rng(1).integers(-20_000, 20_000, (2, 10_000)).astype(np.int16)
    first = tmp_path / "first.wav"
    sf.write(first, codes.T, RATE, subtype="PCM_16")
    second = encode(decode(first), tmp_path / "second.wav", bit_depth=16)
    read, _ = sf.read(second, dtype="int16")
    assert np.array_equal(read.T, codes)  # no dither is added to audio already on the grid


def test_integer_formats_clip(tmp_path: Path) -> None:
    x = np.array([[1.5, 1.0, -1.0, -2.0, 0.5]], dtype=np.float32)
    path = encode(AudioBuffer(x, RATE), tmp_path / "clip.wav", bit_depth=16, dither=False)
    read, _ = sf.read(path, dtype="int16")
    assert read.tolist() == [32767, 32767, -32768, -32768, 16384]
    path = encode(AudioBuffer(x, RATE), tmp_path / "int32.wav", bit_depth=32, sample_format="int")
    read, _ = sf.read(path, dtype="int32")
    assert read.tolist() == [2**31 - 1, 2**31 - 1, -(2**31), -(2**31), 2**30]
    path = encode(AudioBuffer(x, RATE), tmp_path / "float.wav", bit_depth=32)
    assert np.array_equal(decode(path).samples, x)  # float keeps headroom


def test_encode_can_resample_when_asked() -> None:
    buffer = AudioBuffer(tones(96_000, 2, 1.0), 96_000)
    with pytest.raises(ParameterError, match="32000, 44100, 48000"):
        encode(buffer, None, format="mp3")
    audio = decode(encode(buffer, None, format="mp3", sample_rate=48_000))
    assert (audio.sample_rate, audio.frames) == (48_000, 48_000)


def test_bytes_io_destination(music: AudioBuffer) -> None:
    sink = io.BytesIO(b"old")
    sink.seek(0, io.SEEK_END)
    data = encode(music, sink, format="flac")
    assert isinstance(data, bytes)
    assert sink.getvalue() == b"old" + data
    assert decode(data).source.codec == "flac"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"format": "mp3", "bitrate_kbps": 100}, ["MP3 bitrate_kbps", "128, 160, 192"]),
        ({"format": "flac", "sample_format": "float"}, ["FLAC stores integer"]),
        ({"format": "flac", "bit_depth": 32}, ["FLAC bit_depth must be 16 or 24"]),
        ({"format": "aac", "bitrate_kbps": 44}, ["AAC bitrate_kbps must be from 128 to 320"]),
        ({"format": "wav", "bit_depth": 20}, ["(16, 24, 32)"]),
        ({"format": "wav", "bit_depth": 16, "sample_format": "float"}, ["(32, 64)"]),
        ({"format": "wav", "bitrate_kbps": 320}, ["lossless"]),
        ({"format": "mp3", "bit_depth": 16}, ["lossy"]),
        ({"format": "opus"}, ["unknown format 'opus'"]),
        ({}, ["pass format="]),
    ],
)
def test_bad_options_are_refused(
    music: AudioBuffer, kwargs: dict[str, object], words: list[str]
) -> None:
    with pytest.raises(ParameterError) as info:
        encode(music, None, **kwargs)  # type: ignore[arg-type]
    for word in words:
        assert word in str(info.value)


def test_codec_limits_on_rate_and_channels() -> None:
    with pytest.raises(ParameterError, match="MP3 cannot store 96000 Hz"):
        encode(AudioBuffer(tones(96_000, 2, 0.1), 96_000), None, format="mp3")
    with pytest.raises(ParameterError, match="at most 160 kbit/s"):
        encode(AudioBuffer(tones(22_050, 2, 0.1), 22_050), None, format="mp3", bitrate_kbps=320)
    with pytest.raises(ParameterError, match="1 or 2 channels"):
        encode(AudioBuffer(tones(48_000, 6, 0.1), 48_000), None, format="mp3")
    with pytest.raises(ParameterError, match="AAC cannot store 192000 Hz"):
        encode(AudioBuffer(tones(192_000, 2, 0.1), 192_000), None, format="aac")
    with pytest.raises(ParameterError, match="at most 132 kbit/s"):
        encode(AudioBuffer(tones(22_050, 1, 0.1), 22_050), None, format="aac", bitrate_kbps=192)


def test_non_finite_and_empty_audio_are_refused(tmp_path: Path) -> None:
    x = tones(RATE, 2, 0.1)
    x[0, 5] = np.nan
    x[1, 9] = np.inf
    with pytest.raises(ParameterError, match="2 non-finite samples"):
        encode(AudioBuffer(x, RATE), tmp_path / "nan.wav")
    with pytest.raises(ParameterError, match="empty"):
        encode(AudioBuffer(np.zeros((2, 0), np.float32), RATE), tmp_path / "empty.wav")
    assert list(tmp_path.iterdir()) == []


def test_contradicting_extension(tmp_path: Path, music: AudioBuffer) -> None:
    with pytest.raises(ParameterError, match="contradicts"):
        encode(music, tmp_path / "a.wav", format="mp3")
    assert encode(music, tmp_path / "a.mp4", format="aac") == tmp_path / "a.mp4"


# --- atomic writes --------------------------------------------------------------------------


def _old_file(tmp_path: Path, name: str) -> tuple[Path, bytes]:
    path = tmp_path / name
    path.write_bytes(b"previous contents")
    return path, path.read_bytes()


def test_failure_mid_pcm_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, before = _old_file(tmp_path, "master.wav")
    real = _quantize.Quantizer.__call__
    calls = []

    def failing(self: _quantize.Quantizer, block: np.ndarray) -> np.ndarray:
        calls.append(1)
        if len(calls) == 3:  # two blocks are already in the temp file
            raise ParameterError("simulated failure mid-way")
        return real(self, block)

    monkeypatch.setattr(_quantize.Quantizer, "__call__", failing)
    long = AudioBuffer(tones(RATE, 2, 5.0), RATE)
    with pytest.raises(ParameterError, match="simulated"):
        encode(long, path, bit_depth=16)
    assert len(calls) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.wav"]
    assert path.read_bytes() == before


def test_failure_mid_mp3_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, music: AudioBuffer
) -> None:
    path, before = _old_file(tmp_path, "master.mp3")
    real = av.AudioFrame.from_ndarray
    calls = []

    def failing(*args: object, **kwargs: object) -> av.AudioFrame:
        calls.append(1)
        if len(calls) == 50:
            raise RuntimeError("simulated encoder crash")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_lossy.av.AudioFrame, "from_ndarray", failing)
    with pytest.raises(EncodeError) as info:
        encode(music, path)
    assert str(path) in str(info.value)
    assert "simulated encoder crash" in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.mp3"]
    assert path.read_bytes() == before


def test_missing_directory(tmp_path: Path, music: AudioBuffer) -> None:
    with pytest.raises(EncodeError, match="cannot write"):
        encode(music, tmp_path / "no" / "such" / "dir" / "a.wav")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only directory")
def test_read_only_directory(tmp_path: Path, music: AudioBuffer) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(EncodeError, match="cannot write"):
            encode(music, locked / "a.wav")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_destination_is_a_directory(tmp_path: Path, music: AudioBuffer) -> None:
    target = tmp_path / "taken.wav"
    target.mkdir()
    with pytest.raises(EncodeError, match="cannot write"):
        encode(music, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.wav"]
    assert target.is_dir()


def test_replaces_existing_file_and_keeps_its_mode(tmp_path: Path, music: AudioBuffer) -> None:
    path, _ = _old_file(tmp_path, "master.flac")
    path.chmod(0o640)
    encode(music, path)
    assert decode(path).source.codec == "flac"  # type: ignore[union-attr]
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.flac"]


def test_new_file_gets_the_umask_mode(tmp_path: Path, music: AudioBuffer) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    path = encode(music, tmp_path / "fresh.wav")
    assert isinstance(path, Path)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_unwritable_directory_simulated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, music: AudioBuffer
) -> None:
    # Root ignores directory permissions, so make creating the temp file fail the way a
    # read-only directory would.
    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(_atomic.tempfile, "mkstemp", refuse)
    path, before = _old_file(tmp_path, "master.wav")
    with pytest.raises(EncodeError) as info:
        encode(music, path)
    assert str(path) in str(info.value)
    assert "Permission denied" in str(info.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize(("format", "codec"), [("mp3", "mp3"), ("aac", "aac"), ("ogg", "vorbis")])
def test_encode_source_streams_a_track_on_disk(
    tmp_path: Path, music: AudioBuffer, format: str, codec: str
) -> None:
    """A track read span by span encodes like the same samples in memory."""
    from soundry.audio.encode import encode_source
    from soundry.audio.stream import ScratchTrack

    with ScratchTrack(music.channels, music.frames, music.sample_rate) as track:
        track.write(0, music.samples)
        path = tmp_path / f"streamed.{format}"
        encode_source(track, path, format=format, bitrate_kbps=192)
    audio = decode(path)
    assert audio.source is not None and audio.source.codec == codec
    corr, level_db = lossy_match(music.samples, audio.samples)
    assert corr > 0.99
    assert level_db < 0.5


def test_encode_source_refuses_pcm_and_bad_options(tmp_path: Path, music: AudioBuffer) -> None:
    from soundry.audio.encode import encode_source
    from soundry.audio.stream import ArraySource

    source = ArraySource(music.samples, music.sample_rate)
    with pytest.raises(ParameterError, match="PcmStreamWriter"):
        encode_source(source, tmp_path / "x.wav", format="wav")
    with pytest.raises(ParameterError, match="MP3 bitrate_kbps"):
        encode_source(source, tmp_path / "x.mp3", format="mp3", bitrate_kbps=100)
