"""Bad input: every case raises a typed error naming the file and the cause, or decodes what is
there and says so; none crashes, hangs or allocates what a lying header asks for."""

from __future__ import annotations

import io
import struct
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from soundry.audio import AudioBuffer, decode, encode, probe
from soundry.errors import DecodeError, UnsupportedFormatError
from tests.audio.helpers import int_codes, tones, write_pcm

# A decode of a few seconds of audio needs well under this; a header-sized allocation of
# 2**32 frames would need gigabytes.
MEMORY_CEILING_BYTES = 64 * 1024**2


@pytest.fixture
def peak_memory() -> Iterator[Callable[[], int]]:
    """Peak bytes allocated (numpy included) since the fixture started."""
    tracemalloc.start()
    try:
        yield lambda: tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _wav(path: Path, seconds: float = 1.0, rate: int = 44_100, channels: int = 2) -> np.ndarray:
    codes = int_codes(tones(rate, channels, seconds), 16)
    write_pcm(path, codes, rate, "PCM_16")
    return codes


def _raises(
    path: Path | bytes, error: type[Exception], *causes: str, name: str | None = None
) -> str:
    """Decode and probe must both raise ``error`` with the name and every cause in the text."""
    expected_name = name or (str(path) if isinstance(path, Path) else "<bytes>")
    for call in (decode, probe):
        with pytest.raises(error) as info:
            call(path)
        message = str(info.value)
        assert expected_name in message, message
        for cause in causes:
            assert cause in message, message
    return message


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    _raises(path, DecodeError, "empty")


def test_text_renamed_wav(tmp_path: Path) -> None:
    path = tmp_path / "lyrics.wav"
    path.write_text("Verse 1\nthese are my lyrics, not audio\n")
    _raises(path, DecodeError, "text file", "Verse 1")


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.wav"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 8192, dtype=np.uint8).tobytes())
    _raises(path, DecodeError, "not a recognised audio format")


def test_nonexistent_path(tmp_path: Path) -> None:
    _raises(tmp_path / "nowhere.flac", DecodeError, "no such file")


def test_directory(tmp_path: Path) -> None:
    _raises(tmp_path, DecodeError, "directory")


def test_truncated_wav_header(tmp_path: Path) -> None:
    path = tmp_path / "head.wav"
    _wav(path)
    path.write_bytes(path.read_bytes()[:30])  # stops inside the fmt chunk
    _raises(path, DecodeError, "damaged or truncated WAV")


def test_truncated_wav_decodes_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "cut.wav"
    codes = _wav(path)
    data = path.read_bytes()
    path.write_bytes(data[: 44 + 4 * 10_000])  # header + 10 000 stereo 16-bit frames

    audio = decode(path)

    assert audio.samples.shape == (2, 10_000)
    assert np.array_equal(audio.samples.astype(np.float64) * 32768, codes[:, :10_000])
    assert audio.source is not None
    assert audio.source.duration_s == pytest.approx(10_000 / 44_100)
    assert any("truncated" in w for w in audio.source.warnings)
    assert any("truncated" in w for w in probe(path).warnings)


def test_truncated_flac_decodes_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "cut.flac"
    codes = int_codes(tones(44_100, 2, 4.0, noise=0.05), 16)
    write_pcm(path, codes, 44_100, "PCM_16", format="FLAC")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    audio = decode(path)

    frames = audio.frames
    assert 44_100 < frames < codes.shape[1]  # at least a second survives, not all of it
    assert np.array_equal(audio.samples.astype(np.float64) * 32768, codes[:, :frames])
    assert audio.source is not None
    assert audio.source.warnings, "a truncated FLAC must say so"


def test_truncated_mp3_decodes_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "cut.mp3"
    encode(AudioBuffer(tones(44_100, 2, 4.0), 44_100), path, bitrate_kbps=192)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    audio = decode(path)

    assert audio.source is not None
    assert 1.5 < audio.duration_s < 2.5
    assert any("truncated" in w for w in audio.source.warnings)


def test_truncated_m4a_decodes_what_is_there(tmp_path: Path) -> None:
    path = tmp_path / "cut.m4a"
    encode(AudioBuffer(tones(44_100, 2, 4.0), 44_100), path)  # index at the front
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    audio = decode(path)

    assert audio.source is not None
    assert 1.0 < audio.duration_s < 3.0
    assert audio.source.warnings


def test_wav_data_chunk_claiming_more_than_the_file(
    tmp_path: Path, peak_memory: Callable[[], int]
) -> None:
    path = tmp_path / "liar.wav"
    codes = _wav(path)
    data = bytearray(path.read_bytes())
    at = data.find(b"data")
    data[at + 4 : at + 8] = struct.pack("<I", 0xFFFF_FFF0)  # 4 GiB of "audio"
    path.write_bytes(bytes(data))

    audio = decode(path)

    assert peak_memory() < MEMORY_CEILING_BYTES
    assert np.array_equal(audio.samples.astype(np.float64) * 32768, codes)
    assert audio.source is not None
    assert any("declares 4294967280 bytes" in w for w in audio.source.warnings)


def test_wav_header_claiming_2_to_the_32_frames(
    tmp_path: Path, peak_memory: Callable[[], int]
) -> None:
    # RF64 keeps 64-bit sizes in its ds64 chunk: claim 2**32 frames of 16-bit mono.
    path = tmp_path / "huge.wav"
    codes = int_codes(tones(44_100, 1, 1.0), 16)
    write_pcm(path, codes, 44_100, "PCM_16", format="RF64")
    data = bytearray(path.read_bytes())
    assert data[12:16] == b"ds64"
    data[20:28] = struct.pack("<Q", 2 * 2**32)  # data size in bytes
    data[28:36] = struct.pack("<Q", 2**32)  # sample count
    path.write_bytes(bytes(data))

    audio = decode(path)

    assert peak_memory() < MEMORY_CEILING_BYTES
    assert np.array_equal(audio.samples.astype(np.float64) * 32768, codes)
    assert audio.source is not None
    assert any("truncated" in w for w in audio.source.warnings)


def test_flac_header_claiming_433_hours_is_refused_before_allocating(
    tmp_path: Path, peak_memory: Callable[[], int]
) -> None:
    path = tmp_path / "huge.flac"
    write_pcm(path, int_codes(tones(44_100, 2, 0.5), 16), 44_100, "PCM_16", format="FLAC")
    data = bytearray(path.read_bytes())
    # STREAMINFO starts at byte 8; its total-samples field is the low 36 bits of bytes 18-25.
    word = int.from_bytes(data[18:26], "big") | (2**36 - 1)
    data[18:26] = word.to_bytes(8, "big")
    path.write_bytes(bytes(data))

    with pytest.raises(DecodeError) as info:
        decode(path)

    assert peak_memory() < MEMORY_CEILING_BYTES
    message = str(info.value)
    assert str(path) in message
    assert "68719476735 frames" in message
    assert "limit of 4.00 h" in message


def test_max_duration_s_refuses_longer_files(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    _wav(path, seconds=2.0)
    with pytest.raises(DecodeError) as info:
        decode(path, max_duration_s=1.0)
    assert str(path) in str(info.value)
    assert "limit of 1.0 s" in str(info.value)
    assert decode(path, max_duration_s=2.0).frames == 88_200


def test_zero_length_audio(tmp_path: Path) -> None:
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros((0, 2), np.int16), 44_100, subtype="PCM_16")
    with pytest.raises(DecodeError) as info:
        decode(path)
    assert str(path) in str(info.value)
    assert "contains no audio" in str(info.value)
    assert probe(path).duration_s == 0.0  # the header itself is fine


def test_non_finite_float_wav(tmp_path: Path) -> None:
    path = tmp_path / "nan.wav"
    x = tones(44_100, 2, 0.5).T.copy()
    x[100, 0] = np.nan
    x[200, 1] = np.inf
    x[300, 1] = -np.inf
    sf.write(path, x, 44_100, subtype="FLOAT")
    with pytest.raises(DecodeError) as info:
        decode(path)
    assert str(path) in str(info.value)
    assert "3 non-finite samples" in str(info.value)


def test_video_only_mp4(tmp_path: Path) -> None:
    path = tmp_path / "video.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    _raises(path, UnsupportedFormatError, "no audio stream", "video only")


def test_refused_audio_codec(tmp_path: Path) -> None:
    path = tmp_path / "surround.mp4"
    rate = 48_000
    x = tones(rate, 2, 0.2)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("ac3", rate=rate, layout="stereo")
        stream.codec_context.format = "fltp"
        for start in range(0, x.shape[1], 1536):
            chunk = np.ascontiguousarray(x[:, start : start + 1536])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = rate, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    _raises(path, UnsupportedFormatError, "audio codec 'ac3' is not supported")


def test_wav_with_unknown_encoding(tmp_path: Path) -> None:
    path = tmp_path / "odd.wav"
    _wav(path)
    data = bytearray(path.read_bytes())
    data[20:22] = struct.pack("<H", 0x1234)  # wFormatTag
    path.write_bytes(bytes(data))
    _raises(path, UnsupportedFormatError, "WAV audio encoding 0x1234 is not supported")


@pytest.mark.parametrize("rate", [4_000, 384_000])
def test_sample_rate_outside_8_to_192_khz(tmp_path: Path, rate: int) -> None:
    path = tmp_path / f"rate{rate}.wav"
    _wav(path, seconds=0.1, rate=rate)
    _raises(path, DecodeError, f"sample rate {rate} Hz", "8000-192000")


def test_bytes_and_streams_are_named_in_messages(tmp_path: Path) -> None:
    _raises(b"not audio at all, just words\n", DecodeError, "text file", name="<bytes>")
    path = tmp_path / "named.wav"
    path.write_text("plain text\n")
    with open(path, "rb") as handle, pytest.raises(DecodeError, match=r"named\.wav"):
        decode(handle)
    with pytest.raises(DecodeError, match="<stream>"):
        decode(io.BufferedReader(io.BytesIO(b"")))


def test_not_a_source() -> None:
    with pytest.raises(DecodeError, match="cannot decode a int"):
        decode(42)  # type: ignore[arg-type]


def test_flac_header_claiming_3_hours_within_the_limit_allocates_little(
    tmp_path: Path, peak_memory: Callable[[], int]
) -> None:
    path = tmp_path / "liar.flac"
    codes = int_codes(tones(44_100, 2, 1.0), 16)
    write_pcm(path, codes, 44_100, "PCM_16", format="FLAC")
    data = bytearray(path.read_bytes())
    claimed = 3 * 3600 * 44_100
    word = (int.from_bytes(data[18:26], "big") & ~(2**36 - 1)) | claimed
    data[18:26] = word.to_bytes(8, "big")
    path.write_bytes(bytes(data))

    audio = decode(path)

    assert peak_memory() < MEMORY_CEILING_BYTES  # not the 3.8 GB the header asks for
    assert np.array_equal(audio.samples.astype(np.float64) * 32768, codes)
    assert audio.source is not None
    assert any(f"declares {claimed} frames" in w for w in audio.source.warnings)
