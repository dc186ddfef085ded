"""True-peak limiter: the ceiling holds on every input, measured by our own meter at 4x."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

import soundry.dsp.limiter as limiter_module
from soundry.dsp.limiter import LimiterReport, detector_envelope, limit
from soundry.dsp.loudness import true_peak_dbtp
from soundry.errors import ParameterError

RATE = 44_100
CEILINGS = (-1.0, -0.1, -3.0)
EBU_TRUE_PEAK_CASES = tuple(range(15, 24))
MUSIC = (
    "Kevin_MacLeod_-_Vibe_Ace.hq.ogg",
    "Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg",
    "admiralbob77_-_Choice_-_Drum-bass.hq.ogg",
)


def db(gain: float) -> np.ndarray:
    return np.float32(10.0 ** (gain / 20.0))


def assert_under_ceiling(x: np.ndarray, rate: int, ceiling: float, **options: object) -> None:
    y = limit(x, sample_rate=rate, ceiling_dbtp=ceiling, **options)  # type: ignore[arg-type]
    assert y.shape == x.shape and y.dtype == np.float32
    measured = true_peak_dbtp(y, rate)
    # Tolerance zero: the margin lives in the limiter, not here.
    assert measured <= ceiling, f"true peak {measured:.4f} dBTP over the {ceiling} ceiling"


# --------------------------------------------------------------------------------------------
# Synthetic torture signals


def _square(level_db: float) -> np.ndarray:
    t = np.arange(2 * RATE) / RATE
    wave = np.sign(np.sin(2 * np.pi * 997.0 * t)) * db(level_db)
    return np.stack([wave, -wave]).astype(np.float32)


def _impulses(_: np.random.Generator) -> np.ndarray:
    x = np.zeros((2, RATE), dtype=np.float32)
    x[:, 0] = 5.0  # at the very start: the filter's pre-ringing falls before the signal
    x[:, -1] = -3.0  # and at the very end
    x[0, 1000] = 10.0  # +20 dB, one channel
    x[:, 5000:9000:400] = 4.0  # a train
    x[1, 20_000] = 1.0
    x[1, 20_001] = -1.0  # full-scale doublet: a large inter-sample peak
    return x


def _white_noise(rng: np.random.Generator) -> np.ndarray:
    return (rng.standard_normal((2, 2 * RATE)) * db(12.0)).astype(np.float32)


def _sweep(_: np.random.Generator) -> np.ndarray:
    t = np.arange(3 * RATE) / RATE
    sweep = signal.chirp(t, f0=20.0, t1=t[-1], f1=20_000.0, method="logarithmic")
    return (sweep * db(6.0)).astype(np.float32)[np.newaxis, :]


def _clipped(rng: np.random.Generator) -> np.ndarray:
    loud = np.clip(rng.standard_normal((2, 2 * RATE)) * 3.0, -1.0, 1.0)
    return (loud * db(3.0)).astype(np.float32)


def _nyquist_bursts(rng: np.random.Generator) -> np.ndarray:
    x = np.zeros(RATE, dtype=np.float32)
    for start in rng.integers(0, RATE - 300, size=20):
        x[start : start + 200] = (-1.0) ** np.arange(200) * rng.uniform(0.5, 4.0)
    return x  # 1-D: mono in, mono out


def _high_tone_onsets(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(RATE) / RATE
    tone = np.sin(2 * np.pi * 19_000.0 * t + 0.3) * db(9.0)
    gate = np.repeat(rng.random(RATE // 441 + 1) < 0.5, 441)[:RATE]
    return np.stack([tone * gate, tone * ~gate]).astype(np.float32)


SYNTHETIC: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "square 0 dBFS": lambda _: _square(0.0),
    "square +6 dBFS": lambda _: _square(6.0),
    "impulses": _impulses,
    "white noise +12 dB": _white_noise,
    "sine sweep to 20 kHz +6 dB": _sweep,
    "clipped +3 dB": _clipped,
    "nyquist bursts": _nyquist_bursts,
    "19 kHz onsets +9 dB": _high_tone_onsets,
}


@pytest.mark.parametrize("ceiling", CEILINGS)
@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_ceiling_holds_on_synthetic_signals(
    name: str, ceiling: float, rng: np.random.Generator
) -> None:
    assert_under_ceiling(SYNTHETIC[name](rng), RATE, ceiling)


@pytest.mark.parametrize("ceiling", CEILINGS)
@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_ceiling_holds_on_the_gained_path(
    name: str, ceiling: float, rng: np.random.Generator
) -> None:
    """The loudness loop's path: gain applied inside, detector envelope computed once."""
    x = SYNTHETIC[name](rng) * db(-9.0)
    envelope = detector_envelope(x, RATE)
    for gain_db in (3.0, 9.0, 15.0):
        y = limit(x, sample_rate=RATE, ceiling_dbtp=ceiling, gain_db=gain_db, envelope=envelope)
        measured = true_peak_dbtp(y, RATE)
        assert measured <= ceiling, f"{measured:.4f} dBTP over {ceiling} at +{gain_db} dB"


@pytest.mark.parametrize("rate", [8_000, 48_000, 96_000, 192_000])
def test_ceiling_holds_at_other_rates(rate: int, rng: np.random.Generator) -> None:
    noise = (rng.standard_normal((2, rate)) * db(10.0)).astype(np.float32)
    noise[:, rate // 2 : rate // 2 + 50] = 8.0
    assert_under_ceiling(noise, rate, -1.0)


@pytest.mark.parametrize(
    "options",
    [
        {"lookahead_ms": 1.0},
        {"lookahead_ms": 20.0, "attack_ms": 2.0},
        {"release_ms": 0.0},
        {"release_ms": 1000.0},
        {"stereo_link": False},
    ],
)
def test_ceiling_holds_with_any_settings(
    options: dict[str, object], rng: np.random.Generator
) -> None:
    assert_under_ceiling(_white_noise(rng), RATE, -1.0, **options)
    assert_under_ceiling(_impulses(rng), RATE, -0.1, **options)


def test_verification_pass_corrects_what_the_detector_lets_through(
    monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator
) -> None:
    # Make the detector aim 0.5 dB over the ceiling: only the verification passes stand
    # between the output and the ceiling now.
    monkeypatch.setattr(limiter_module, "_DETECTOR_MARGIN_DB", -0.5)
    x = _white_noise(rng)
    y, report = limit(x, sample_rate=RATE, ceiling_dbtp=-1.0, return_gain=True)
    assert report.correction_passes >= 1
    assert true_peak_dbtp(y, RATE) <= -1.0


# --------------------------------------------------------------------------------------------
# Real signals from ../shared/data


def _ebu_case(shared_data: Path, case: int) -> tuple[np.ndarray, int]:
    path = shared_data / "loudness" / "ebu-tech3341-partial" / f"seq-3341-{case}-24bit.wav.wav"
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T), rate


@pytest.mark.parametrize("gain_db", [6.0, 12.0, 20.0])
@pytest.mark.parametrize("case", EBU_TRUE_PEAK_CASES)
def test_ceiling_holds_on_ebu_true_peak_signals(
    shared_data: Path, case: int, gain_db: float
) -> None:
    x, rate = _ebu_case(shared_data, case)
    for ceiling in CEILINGS:
        assert_under_ceiling(x * db(gain_db), rate, ceiling)


def _music(shared_data: Path, name: str, seconds: float = 30.0) -> tuple[np.ndarray, int]:
    path = shared_data / "music" / "librosa-data" / name
    with sf.SoundFile(path) as f:
        rate = f.samplerate
        data = f.read(int(seconds * rate), dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.T), rate


@pytest.mark.parametrize("name", MUSIC)
def test_ceiling_holds_on_music_gained_10_db(shared_data: Path, name: str) -> None:
    x, rate = _music(shared_data, name)
    for ceiling in CEILINGS:
        assert_under_ceiling(x * db(10.0), rate, ceiling)


def test_no_pumping_on_music(shared_data: Path) -> None:
    x, rate = _music(shared_data, MUSIC[0], seconds=60.0)
    x = x * db(3.0)  # about 3 dB of limiting at the peaks
    highpass = signal.butter(4, 20.0, "high", fs=rate, output="sos")

    def fast_share(release_ms: float) -> tuple[float, float, LimiterReport]:
        _, report = limit(x, sample_rate=rate, release_ms=release_ms, return_gain=True)
        gr = report.gain_reduction_db.astype(np.float64)
        fast = signal.sosfiltfilt(highpass, gr)
        return float(np.sqrt(np.mean(fast**2))), float(np.sqrt(np.mean(gr**2))), report

    fast_db, total_db, report = fast_share(100.0)
    assert 2.5 < report.max_gain_reduction_db < 5.0
    # The gain moves slowly: what changes faster than 20 Hz is a small part of it, and small
    # in absolute terms.
    assert fast_db < 0.25 * total_db
    assert fast_db < 0.1
    # The measure does see pumping: a 1 ms release makes most of the movement fast.
    fast_pumping, total_pumping, _ = fast_share(1.0)
    assert fast_pumping > 0.35 * total_pumping


# --------------------------------------------------------------------------------------------
# Transparency and shape


def test_material_under_the_ceiling_passes_bit_exact(rng: np.random.Generator) -> None:
    x = (rng.standard_normal((2, RATE)) * 0.05).astype(np.float32)
    assert true_peak_dbtp(x, RATE) < -3.0
    y, report = limit(x, sample_rate=RATE, ceiling_dbtp=-1.0, return_gain=True)
    assert np.array_equal(y, x)
    assert report.max_gain_reduction_db == 0.0 and report.limited_percent == 0.0


def test_only_the_neighbourhood_of_a_peak_is_touched(rng: np.random.Generator) -> None:
    x = (rng.standard_normal((2, 6 * RATE)) * 0.05).astype(np.float32)
    x[:, 2 * RATE : 2 * RATE + 100] *= 40.0  # a burst 20+ dB over
    y, report = limit(x, sample_rate=RATE, ceiling_dbtp=-1.0, return_gain=True)
    before = 2 * RATE - report.latency_frames - 20
    assert np.array_equal(y[:, :before], x[:, :before])
    # The release tail (100 ms) has died out to exact unity well within 3 s.
    assert np.array_equal(y[:, 5 * RATE :], x[:, 5 * RATE :])
    assert true_peak_dbtp(y, RATE) <= -1.0


def test_silence_in_silence_out() -> None:
    silence = np.zeros((2, RATE), dtype=np.float32)
    y = limit(silence, sample_rate=RATE)
    assert np.array_equal(y, silence)


def test_mono_stays_mono_and_dual_mono_stays_identical(rng: np.random.Generator) -> None:
    mono = _white_noise(rng)[0]
    y = limit(mono, sample_rate=RATE)
    assert y.shape == mono.shape and y.ndim == 1
    y2 = limit(mono[np.newaxis, :], sample_rate=RATE)
    assert y2.shape == (1, mono.size)
    assert np.array_equal(y2[0], y)
    for link in (True, False):
        dual = limit(np.stack([mono, mono]), sample_rate=RATE, stereo_link=link)
        assert np.array_equal(dual[0], dual[1])
        assert np.array_equal(dual[0], y)


def test_unlinked_channels_are_independent(rng: np.random.Generator) -> None:
    quiet = (rng.standard_normal(RATE) * 0.05).astype(np.float32)
    loud = _white_noise(rng)[0, :RATE]
    y, report = limit(
        np.stack([loud, quiet]), sample_rate=RATE, stereo_link=False, return_gain=True
    )
    assert np.array_equal(y[1], quiet)
    assert report.gain_reduction_db.shape == (2, RATE)
    linked = limit(np.stack([loud, quiet]), sample_rate=RATE)
    assert not np.array_equal(linked[1], quiet)  # linked, the loud side ducks both


def test_no_dc_offset_is_introduced() -> None:
    t = np.arange(2 * RATE) / RATE
    tone = (np.sin(2 * np.pi * 100.0 * t) * db(10.0)).astype(np.float32)
    y = limit(tone, sample_rate=RATE)
    whole_periods = slice(RATE // 10, RATE // 10 + 100 * 441)
    assert abs(float(np.mean(y[whole_periods], dtype=np.float64))) < 1e-4
    assert abs(float(np.mean(tone[whole_periods], dtype=np.float64))) < 1e-6


def test_gain_curve_is_smooth(rng: np.random.Generator) -> None:
    x = _impulses(rng)
    _, report = limit(x, sample_rate=RATE, lookahead_ms=5.0, return_gain=True)
    gr = report.gain_reduction_db
    # The worst impulse needs ~21 dB; the attack ramp spreads it over ~210 frames, so no
    # frame-to-frame change is near a step.
    assert report.max_gain_reduction_db > 20.0
    assert np.abs(np.diff(gr)).max() < 0.25
    # The gain has reached its full reduction before the peak and holds it over the
    # interpolator's reach (8 frames either side), so the peak's neighbours are scaled alike.
    peak = 1000
    assert np.ptp(gr[peak - 8 : peak + 9]) < 1e-4
    assert gr[peak - 20] < gr[peak]


def test_deterministic(rng: np.random.Generator) -> None:
    x = _white_noise(rng)
    assert np.array_equal(limit(x, sample_rate=RATE), limit(x, sample_rate=RATE))


def test_latency_compensation() -> None:
    x = np.zeros((1, RATE), dtype=np.float32)
    x[0, 3000] = 4.0
    aligned, report = limit(x, sample_rate=RATE, return_gain=True)
    delayed = limit(x, sample_rate=RATE, compensate_latency=False)
    lag = report.latency_frames
    assert lag == round(0.005 * RATE)
    assert np.argmax(np.abs(aligned[0])) == 3000
    assert np.array_equal(delayed[0, lag:], aligned[0, :-lag])
    assert not delayed[0, :lag].any()


def test_report_statistics() -> None:
    t = np.arange(RATE) / RATE
    tone = (np.sin(2 * np.pi * 1000.0 * t) * db(6.0)).astype(np.float32)
    tp_in = true_peak_dbtp(tone, RATE)
    _, report = limit(tone, sample_rate=RATE, ceiling_dbtp=-1.0, return_gain=True)
    # A steady tone 7 dB over: a steady 7 dB (plus the limiter's margin, under 0.05 dB).
    assert report.max_gain_reduction_db == pytest.approx(tp_in + 1.0, abs=0.05)
    assert report.mean_gain_reduction_db == pytest.approx(tp_in + 1.0, abs=0.1)
    assert report.limited_percent > 99.0
    assert report.to_dict()["latency_frames"] == report.latency_frames
    assert report.gain_reduction_db.shape == (RATE,)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"ceiling_dbtp": 1.0}, "ceiling_dbtp"),
        ({"ceiling_dbtp": float("nan")}, "ceiling_dbtp"),
        ({"lookahead_ms": 0.1}, "lookahead_ms"),
        ({"attack_ms": 9.0}, "attack_ms"),
        ({"release_ms": -5.0}, "release_ms"),
        ({"sample_rate": 7}, "sample_rate"),
    ],
)
def test_bad_parameters_name_the_value(kwargs: dict[str, object], fragment: str) -> None:
    args: dict[str, object] = {"sample_rate": RATE}
    args.update(kwargs)
    with pytest.raises(ParameterError, match=fragment):
        limit(np.zeros(100, dtype=np.float32), **args)  # type: ignore[arg-type]


def test_non_finite_input_is_rejected() -> None:
    x = np.zeros(100, dtype=np.float32)
    x[3] = np.inf
    with pytest.raises(ParameterError, match="NaN or infinite"):
        limit(x, sample_rate=RATE)
