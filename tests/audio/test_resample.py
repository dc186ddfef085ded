"""resample(): frequency, level and length survive; bad arguments are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soundry.audio import RESAMPLE_QUALITIES, AudioBuffer, SourceFormat, resample
from soundry.errors import ParameterError
from tests.audio.helpers import rms_db


def _sine(rate: int, freq_hz: float, seconds: float, channels: int = 1) -> AudioBuffer:
    t = np.arange(round(seconds * rate)) / rate
    x = 0.5 * np.sin(2 * np.pi * freq_hz * t)
    return AudioBuffer(np.tile(x, (channels, 1)).astype(np.float32), rate)


def _peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum) * rate / x.size)


def test_44k1_to_48k_keeps_a_1khz_sine() -> None:
    source = _sine(44_100, 1000.0, 2.0, channels=2)
    out = resample(source, 48_000)

    assert out.sample_rate == 48_000
    assert out.samples.shape == (2, 96_000)
    assert out.samples.dtype == np.float32
    middle = out.samples[:, 4_800:-4_800]  # away from the filter's edge transients
    for row in middle:
        assert _peak_hz(row, 48_000) == pytest.approx(1000.0, abs=0.5)
        assert rms_db(row) == pytest.approx(rms_db(source.samples[0]), abs=0.05)


@pytest.mark.parametrize(
    ("rate_in", "rate_out"),
    [(48_000, 44_100), (8_000, 192_000), (192_000, 8_000), (44_100, 22_050)],
)
def test_length_scales(rate_in: int, rate_out: int) -> None:
    out = resample(_sine(rate_in, 440.0, 1.5), rate_out)
    assert out.frames == round(1.5 * rate_out)


def test_downsampling_removes_what_cannot_be_kept() -> None:
    # 30 kHz cannot exist at 44.1 kHz: it must vanish rather than alias to 14.1 kHz.
    out = resample(_sine(96_000, 30_000.0, 1.0), 44_100)
    assert rms_db(out.samples[:, 4_410:-4_410]) < -100.0


@pytest.mark.parametrize("quality", RESAMPLE_QUALITIES)
def test_every_quality(quality: str) -> None:
    out = resample(_sine(44_100, 1000.0, 0.5), 48_000, quality=quality)
    assert _peak_hz(out.samples[0], 48_000) == pytest.approx(1000.0, abs=2.0)


def test_same_rate_is_the_same_object_and_source_is_kept() -> None:
    facts = SourceFormat("wav", "pcm_s16le", 44_100, 6, 1.0, 16, "int")
    buffer = AudioBuffer(np.zeros((6, 44_100), np.float32), 44_100, facts)
    assert resample(buffer, 44_100) is buffer
    out = resample(buffer, 48_000)
    assert out.source == facts
    assert out.samples.shape == (6, 48_000)


def test_channels_are_resampled_independently() -> None:
    left = _sine(44_100, 500.0, 1.0).samples[0]
    right = _sine(44_100, 3000.0, 1.0).samples[0]
    out = resample(AudioBuffer(np.stack([left, right]), 44_100), 48_000)
    assert _peak_hz(out.samples[0], 48_000) == pytest.approx(500.0, abs=1.0)
    assert _peak_hz(out.samples[1], 48_000) == pytest.approx(3000.0, abs=1.0)


@pytest.mark.parametrize(
    ("rate", "quality"), [(4_000, "HQ"), (400_000, "HQ"), (44_100.5, "HQ"), (48_000, "best")]
)
def test_bad_arguments(rate: float, quality: str) -> None:
    with pytest.raises(ParameterError):
        resample(_sine(44_100, 1000.0, 0.1), rate, quality=quality)  # type: ignore[arg-type]


def test_resample_to_file_equals_resample(tmp_path: Path) -> None:
    """Converted span by span into a file, the samples are those of the in-memory call."""
    import soundfile as sf

    from soundry.audio.resample import resample_to_file
    from soundry.audio.stream import ArraySource

    rng = np.random.default_rng(4)
    x = (0.2 * rng.standard_normal((2, 200_003))).astype(np.float32)
    for rate in (48_000, 22_050):
        path = tmp_path / f"r{rate}.wav"
        resample_to_file(ArraySource(x, 44_100), rate, path)
        got, got_rate = sf.read(path, dtype="float32", always_2d=True)
        want = resample(AudioBuffer(x, 44_100), rate).samples
        assert got_rate == rate
        assert got.T.shape == want.shape
        np.testing.assert_array_equal(got.T, want)
