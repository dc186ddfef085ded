"""decode() and probe(): every format, depth, rate and layout, checked sample by sample."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from soundry.audio import AudioBuffer, _sndfile, decode, encode, probe
from soundry.audio._sndfile import SndfileReader
from soundry.errors import ParameterError
from tests.audio.helpers import int_codes, lossy_match, tones, write_pcm

RATES = [8_000, 44_100, 48_000, 96_000, 192_000]
LAYOUTS = [1, 2, 6]
DURATION_S = 0.1


@pytest.mark.parametrize("channels", LAYOUTS)
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize(
    ("subtype", "codec", "bits"),
    [("PCM_16", "pcm_s16le", 16), ("PCM_24", "pcm_s24le", 24), ("PCM_32", "pcm_s32le", 32)],
)
def test_integer_wav_decodes_exactly(
    tmp_path: Path, subtype: str, codec: str, bits: int, rate: int, channels: int
) -> None:
    codes = int_codes(tones(rate, channels, DURATION_S, amplitude=0.9), bits)
    path = tmp_path / "in.wav"
    write_pcm(path, codes, rate, subtype)

    audio = decode(path)

    assert audio.samples.shape == codes.shape
    assert audio.samples.dtype == np.float32
    assert audio.sample_rate == rate
    src = audio.source
    assert src is not None
    assert (src.container, src.codec, src.bit_depth, src.sample_format) == (
        "wav",
        codec,
        bits,
        "int",
    )
    assert (src.sample_rate, src.channels) == (rate, channels)
    assert src.duration_s == pytest.approx(codes.shape[1] / rate)
    assert src.size_bytes == path.stat().st_size
    assert src.bitrate_bps == rate * channels * bits
    assert src.warnings == ()
    decoded = audio.samples.astype(np.float64) * 2.0 ** (bits - 1)
    if bits <= 24:  # float32 holds 24 bits: exact
        assert np.array_equal(decoded, codes)
    else:  # 32-bit codes rounded to float32's 24-bit mantissa: within its resolution
        assert np.max(np.abs(decoded - codes)) <= 2.0 ** (bits - 1 - 24)


@pytest.mark.parametrize("channels", LAYOUTS)
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize(
    ("subtype", "dtype", "codec"),
    [("FLOAT", "float32", "pcm_f32le"), ("DOUBLE", "float64", "pcm_f64le")],
)
def test_float_wav_decodes_exactly(
    tmp_path: Path, subtype: str, dtype: str, codec: str, rate: int, channels: int
) -> None:
    x = tones(rate, channels, DURATION_S, amplitude=1.2)  # float files may exceed full scale
    path = tmp_path / "in.wav"
    sf.write(path, x.T.astype(dtype), rate, subtype=subtype)

    audio = decode(path)

    assert audio.source is not None
    assert audio.source.codec == codec
    assert audio.source.sample_format == "float"
    assert audio.source.bit_depth == (32 if dtype == "float32" else 64)
    assert np.array_equal(audio.samples, x)


@pytest.mark.parametrize("channels", LAYOUTS)
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize(("subtype", "bits"), [("PCM_16", 16), ("PCM_24", 24)])
def test_flac_decodes_exactly(
    tmp_path: Path, subtype: str, bits: int, rate: int, channels: int
) -> None:
    codes = int_codes(tones(rate, channels, DURATION_S, amplitude=0.9, noise=0.01), bits)
    path = tmp_path / "in.flac"
    write_pcm(path, codes, rate, subtype, format="FLAC")

    audio = decode(path)

    src = audio.source
    assert src is not None
    assert (src.container, src.codec, src.bit_depth, src.sample_format) == (
        "flac",
        "flac",
        bits,
        "int",
    )
    assert (src.sample_rate, src.channels) == (rate, channels)
    assert src.bitrate_bps == pytest.approx(path.stat().st_size * 8 / src.duration_s, rel=0.01)
    assert np.array_equal(audio.samples.astype(np.float64) * 2.0 ** (bits - 1), codes)


@pytest.mark.parametrize(
    ("format", "subtype", "container", "codec"),
    [
        ("AIFF", "PCM_16", "aiff", "pcm_s16be"),
        ("AIFF", "PCM_24", "aiff", "pcm_s24be"),
        ("WAVEX", "PCM_24", "wav", "pcm_s24le"),
        ("RF64", "PCM_24", "rf64", "pcm_s24le"),
        ("W64", "PCM_16", "w64", "pcm_s16le"),
    ],
)
@pytest.mark.parametrize("channels", [2, 6])
def test_other_pcm_containers(
    tmp_path: Path, format: str, subtype: str, container: str, codec: str, channels: int
) -> None:
    bits = int(subtype[-2:])
    codes = int_codes(tones(48_000, channels, DURATION_S), bits)
    path = tmp_path / "in.bin"  # no telling extension: the content decides
    write_pcm(path, codes, 48_000, subtype, format=format)

    audio = decode(path)

    assert audio.source is not None
    assert (audio.source.container, audio.source.codec) == (container, codec)
    assert np.array_equal(audio.samples.astype(np.float64) * 2.0 ** (bits - 1), codes)


def test_aifc_float(tmp_path: Path) -> None:
    x = tones(44_100, 2, DURATION_S)
    path = tmp_path / "in.aifc"
    sf.write(path, x.T, 44_100, subtype="FLOAT", format="AIFF")
    audio = decode(path)
    assert audio.source is not None
    assert (audio.source.container, audio.source.codec) == ("aiff", "pcm_f32be")
    assert np.array_equal(audio.samples, x)


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate", [8_000, 16_000, 22_050, 32_000, 44_100, 48_000])
def test_mp3_from_libsndfile_encoder(tmp_path: Path, rate: int, channels: int) -> None:
    x = tones(rate, channels, 2.0)
    path = tmp_path / "in.mp3"
    sf.write(path, x.T, rate, format="MP3", subtype="MPEG_LAYER_III")

    audio = decode(path)

    src = audio.source
    assert src is not None
    assert (src.container, src.codec, src.bit_depth, src.sample_format) == (
        "mp3",
        "mp3",
        None,
        None,
    )
    assert (audio.sample_rate, audio.channels) == (rate, channels)
    assert src.bitrate_bps is not None and src.bitrate_bps > 0
    corr, level_db = lossy_match(x, audio.samples)
    assert corr > 0.99
    assert level_db < 0.5


@pytest.mark.parametrize("channels", LAYOUTS)
@pytest.mark.parametrize("rate", RATES)
def test_ogg_vorbis(tmp_path: Path, rate: int, channels: int) -> None:
    x = tones(rate, channels, 1.0, lfe=5 if channels == 6 else None)  # Vorbis 5.1 order
    path = tmp_path / "in.ogg"
    sf.write(path, x.T, rate, format="OGG", subtype="VORBIS")

    audio = decode(path)

    assert audio.source is not None
    assert (audio.source.container, audio.source.codec) == ("ogg", "vorbis")
    assert audio.samples.shape == x.shape  # Ogg granule positions make the length exact
    full_band = slice(0, 5) if channels == 6 else slice(None)
    corr, level_db = lossy_match(x[full_band], audio.samples[full_band])
    assert corr > 0.99
    assert level_db < 0.5
    if channels == 6:
        # libvorbis codes the LFE channel coarsely (about +1.5 dB at 40-60 Hz).
        assert lossy_match(x[5:], audio.samples[5:])[0] > 0.99


def test_ogg_opus(tmp_path: Path) -> None:
    x = tones(48_000, 2, 1.0)
    path = tmp_path / "in.opus"
    sf.write(path, x.T, 48_000, format="OGG", subtype="OPUS")
    audio = decode(path)
    assert audio.source is not None
    assert audio.source.codec == "opus"
    corr, level_db = lossy_match(x, audio.samples)
    assert corr > 0.99
    assert level_db < 0.5


@pytest.mark.parametrize(
    ("rate", "channels", "bitrate_kbps"),
    [
        *(
            (rate, channels, 128)
            for rate in (22_050, 44_100, 48_000, 96_000)
            for channels in (1, 2)
        ),
        # 5.1 needs about 50 kbit/s a channel before FFmpeg's AAC encoder is transparent.
        (44_100, 6, 320),
        (48_000, 6, 320),
    ],
)
def test_aac_m4a(tmp_path: Path, rate: int, channels: int, bitrate_kbps: int) -> None:
    x = tones(rate, channels, 1.0, lfe=3 if channels == 6 else None)  # L R C LFE Ls Rs
    path = tmp_path / "in.m4a"
    encode(AudioBuffer(x, rate), path, bitrate_kbps=bitrate_kbps)

    audio = decode(path)

    src = audio.source
    assert src is not None
    assert (src.container, src.codec, src.bit_depth) == ("mp4", "aac", None)
    assert audio.samples.shape == x.shape  # the MP4 edit list trims priming and padding
    corr, level_db = lossy_match(x, audio.samples)
    assert corr > 0.99
    assert level_db < 0.5


def test_mp4_named_mp3_is_sniffed_by_content(tmp_path: Path) -> None:
    path = tmp_path / "misnamed.mp3"
    encode(AudioBuffer(tones(44_100, 2, 0.5), 44_100), tmp_path / "right.m4a").rename(path)  # type: ignore[union-attr]
    assert decode(path).source.codec == "aac"  # type: ignore[union-attr]


def test_bytes_file_object_and_offset_sources(tmp_path: Path) -> None:
    codes = int_codes(tones(44_100, 2, DURATION_S), 16)
    path = tmp_path / "in.wav"
    write_pcm(path, codes, 44_100, "PCM_16")
    data = path.read_bytes()
    expected = decode(path).samples

    assert np.array_equal(decode(data).samples, expected)
    assert np.array_equal(decode(io.BytesIO(data)).samples, expected)
    with open(path, "rb") as handle:
        assert np.array_equal(decode(handle).samples, expected)
        assert not handle.closed  # a caller's file stays theirs
    # A file object positioned past a prefix is read from where it stands.
    stream = io.BytesIO(b"prefix--" + data)
    stream.seek(8)
    assert np.array_equal(decode(stream).samples, expected)


class _Pipe(io.RawIOBase):
    """A readable, non-seekable stream, like a socket or a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        chunk = self._data.read(min(len(buffer), 1000))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_non_seekable_stream(tmp_path: Path) -> None:
    path = tmp_path / "in.flac"
    codes = int_codes(tones(44_100, 2, DURATION_S), 16)
    write_pcm(path, codes, 44_100, "PCM_16", format="FLAC")
    audio = decode(io.BufferedReader(_Pipe(path.read_bytes())))
    assert np.array_equal(audio.samples.astype(np.float64) * 32768, codes)


def test_probe_matches_decode_without_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "in.flac"
    write_pcm(path, int_codes(tones(96_000, 6, 0.5), 24), 96_000, "PCM_24", format="FLAC")
    decoded = decode(path).source

    def refuse(*args: object) -> None:
        raise AssertionError("probe must not decode")

    monkeypatch.setattr(SndfileReader, "decode", refuse)
    assert probe(path) == decoded


def test_probe_m4a(tmp_path: Path) -> None:
    path = tmp_path / "in.m4a"
    encode(AudioBuffer(tones(48_000, 2, 1.0, noise=0.1), 48_000), path, bitrate_kbps=192)
    facts = probe(path)
    assert (facts.container, facts.codec, facts.sample_rate, facts.channels) == (
        "mp4",
        "aac",
        48_000,
        2,
    )
    assert facts.duration_s == pytest.approx(1.0)
    assert facts.bitrate_bps == pytest.approx(192_000, rel=0.1)


def test_mix_to_mono_and_stereo(tmp_path: Path) -> None:
    x = tones(44_100, 2, DURATION_S)
    path = tmp_path / "in.wav"
    sf.write(path, x.T, 44_100, subtype="FLOAT")
    mono = decode(path, channels=1)
    assert mono.samples.shape == (1, x.shape[1])
    np.testing.assert_allclose(mono.samples[0], x.mean(axis=0), atol=1e-7)
    sf.write(path, x[0], 44_100, subtype="FLOAT")
    stereo = decode(path, channels=2)
    assert np.array_equal(stereo.samples, np.stack([x[0], x[0]]))


def test_51_downmix_follows_bs775(tmp_path: Path) -> None:
    x = tones(48_000, 6, DURATION_S)
    path = tmp_path / "in.wav"
    sf.write(path, x.T, 48_000, subtype="FLOAT")
    stereo = decode(path, channels=2).samples
    g = np.sqrt(0.5)
    left = (x[0] + g * x[2] + g * x[4]) / (1 + 2 * g)
    right = (x[1] + g * x[2] + g * x[5]) / (1 + 2 * g)
    np.testing.assert_allclose(stereo, np.stack([left, right]), atol=1e-6)


def test_decode_can_resample(tmp_path: Path) -> None:
    path = tmp_path / "in.wav"
    sf.write(path, tones(44_100, 2, 1.0).T, 44_100, subtype="PCM_24")
    audio = decode(path, sample_rate=48_000, channels=1)
    assert audio.sample_rate == 48_000
    assert audio.samples.shape == (1, 48_000)
    assert audio.source is not None
    assert audio.source.sample_rate == 44_100  # the facts stay those of the file


@pytest.mark.parametrize(
    "kwargs", [{"channels": 3}, {"channels": 0}, {"sample_rate": 4_000}, {"max_duration_s": -1.0}]
)
def test_bad_arguments(tmp_path: Path, kwargs: dict[str, float]) -> None:
    path = tmp_path / "in.wav"
    sf.write(path, tones(44_100, 2, DURATION_S).T, 44_100)
    with pytest.raises(ParameterError):
        decode(path, **kwargs)  # type: ignore[arg-type]


def test_ffmpeg_takes_over_when_libsndfile_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback reads the same descriptor libsndfile already moved: it must start over."""
    path = tmp_path / "in.flac"
    codes = int_codes(tones(44_100, 2, 2.0), 16)
    write_pcm(path, codes, 44_100, "PCM_16", format="FLAC")
    real = _sndfile.sf.SoundFile

    def refuse_after_reading(*args: object, **kwargs: object) -> object:
        handle = real(*args, **kwargs)
        handle.read(30_000)
        handle.close()
        raise sf.LibsndfileError(1, prefix="simulated refusal: ")

    monkeypatch.setattr(_sndfile.sf, "SoundFile", refuse_after_reading)
    audio = decode(path)
    assert audio.source is not None
    assert audio.source.codec == "flac"
    assert np.array_equal(audio.samples.astype(np.float64) * 32768, codes)


def test_raw_adts_aac_without_a_container_index() -> None:
    rate = 44_100
    x = tones(rate, 2, 2.0)
    sink = io.BytesIO()
    with av.open(sink, "w", format="adts") as container:
        stream = container.add_stream("aac", rate=rate, layout="stereo")
        stream.codec_context.bit_rate = 192_000
        for start in range(0, x.shape[1], 1024):
            chunk = np.ascontiguousarray(x[:, start : start + 1024])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = rate, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))

    audio = decode(sink.getvalue())

    assert audio.source is not None
    assert (audio.source.container, audio.source.codec) == ("adts", "aac")
    # No edit list in ADTS: the encoder's priming and padding stay, a few thousand samples.
    assert 0 <= audio.frames - x.shape[1] < 4096
    corr, level_db = lossy_match(x, audio.samples)
    assert corr > 0.99
    assert level_db < 0.5


def test_public_soundfile_read_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without soundfile's internals (a future version), decoding still works the slow way."""
    monkeypatch.setattr(_sndfile, "_RAW", None)
    path = tmp_path / "in.flac"
    codes = int_codes(tones(48_000, 2, 3.0), 24)
    write_pcm(path, codes, 48_000, "PCM_24", format="FLAC")
    assert np.array_equal(decode(path).samples.astype(np.float64) * 2.0**23, codes)
