"""Compressor, expander and gate, measured on tones, noise and real music."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from soundry.dsp.dynamics import Compressor, compress, expand, gate
from soundry.errors import ParameterError

RATE = 44_100


def tone(level_db: float, seconds: float, freq_hz: float = 1000.0) -> np.ndarray:
    """A sine whose peak is ``level_db`` dBFS."""
    t = np.arange(round(seconds * RATE)) / RATE
    return (10.0 ** (level_db / 20.0) * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def settled_peak_db(x: np.ndarray) -> float:
    """Peak level of the last quarter second, after the detector has settled."""
    return float(20.0 * np.log10(np.abs(x[..., -RATE // 4 :]).max()))


def step_time_ms(curve: np.ndarray, start: int, before: float, after: float) -> float:
    """Time from ``start`` until ``curve`` has covered 1 - 1/e of the step before -> after."""
    mark = before + (1.0 - np.exp(-1.0)) * (after - before)
    tail = curve[start:]
    crossed = tail >= mark if after > before else tail <= mark
    return float(np.argmax(crossed)) / RATE * 1000.0


# --------------------------------------------------------------------------------------------
# Compressor: static curve


@pytest.mark.parametrize("level_db", [-60.0, -40.0, -26.0, -21.0, -20.0, -19.0, -12.0, -6.0, 0.0])
def test_static_curve_hard_knee(level_db: float) -> None:
    x = tone(level_db, 1.0)
    y = compress(x, sample_rate=RATE, threshold_db=-20.0, ratio=4.0, knee_db=0.0)
    measured_in = settled_peak_db(x)
    if measured_in <= -20.0:
        assert np.array_equal(y, x)  # below threshold: untouched, bit for bit
    else:
        expected = -20.0 + (measured_in + 20.0) / 4.0
        assert settled_peak_db(y) == pytest.approx(expected, abs=0.25)


def test_static_curve_error_is_tiny_on_a_steady_tone() -> None:
    errors = []
    for level_db in np.arange(-19.0, 0.5, 1.0):
        x = tone(float(level_db), 0.6)
        y = compress(x, sample_rate=RATE, threshold_db=-20.0, ratio=4.0, knee_db=0.0)
        expected = -20.0 + (settled_peak_db(x) + 20.0) / 4.0
        errors.append(settled_peak_db(y) - expected)
    assert max(abs(e) for e in errors) < 0.02


def test_rms_detector_follows_the_rms_level() -> None:
    # Peak -6 dBFS is -9.03 dB RMS: 10.97 dB over a -20 dB RMS threshold, ratio 3.
    x = tone(-6.0, 1.0)
    y = compress(x, sample_rate=RATE, threshold_db=-20.0, ratio=3.0, knee_db=0.0, detector="rms")
    rms_in = 10.0 * np.log10(np.mean(np.square(x[-RATE // 4 :], dtype=np.float64)))
    expected_gain = -(rms_in + 20.0) * (1.0 - 1.0 / 3.0)
    assert settled_peak_db(y) - settled_peak_db(x) == pytest.approx(expected_gain, abs=0.25)


def test_soft_knee_is_continuous_and_between_the_asymptotes() -> None:
    threshold, ratio, knee = -20.0, 4.0, 12.0
    levels = np.arange(-40.0, 0.01, 0.5)
    out = []
    for level in levels:
        y = compress(
            tone(float(level), 0.5),
            sample_rate=RATE,
            threshold_db=threshold,
            ratio=ratio,
            knee_db=knee,
        )
        out.append(settled_peak_db(y))
    ins = np.array([settled_peak_db(tone(float(level), 0.5)) for level in levels])
    out_db = np.array(out)
    hard = np.where(ins > threshold, threshold + (ins - threshold) / ratio, ins)
    knee_start = threshold - knee / 2.0
    # Continuous: no jumps beyond the input step.
    assert np.abs(np.diff(out_db)).max() <= 0.5 + 1e-3
    inside = np.abs(ins - threshold) < knee / 2.0
    # In the knee: at or under the hard-knee curve, and over the line of slope 1/ratio
    # through the knee's start (the curve bends smoothly from one asymptote to the other).
    assert np.all(out_db[inside] <= hard[inside] + 0.01)
    assert np.all(out_db[inside] >= knee_start + (ins[inside] - knee_start) / ratio - 0.01)
    # The quadratic knee itself, and the hard curve outside it.
    over = ins - threshold + knee / 2.0
    quadratic = ins + (1.0 / ratio - 1.0) * over**2 / (2.0 * knee)
    assert np.abs(out_db[inside] - quadratic[inside]).max() < 0.05
    assert np.abs(out_db[~inside] - hard[~inside]).max() < 0.05
    # At the threshold the knee takes off (1 - 1/R) * W / 8.
    at_threshold = np.argmin(np.abs(ins - threshold))
    assert ins[at_threshold] - out_db[at_threshold] == pytest.approx(
        (1 - 1 / ratio) * knee / 8, abs=0.05
    )


# --------------------------------------------------------------------------------------------
# Compressor: time constants


@pytest.mark.parametrize(("attack_ms", "release_ms"), [(10.0, 100.0), (2.0, 50.0), (30.0, 300.0)])
def test_attack_and_release_time_constants(attack_ms: float, release_ms: float) -> None:
    quiet, loud = tone(-30.0, 1.0), tone(-10.0, 1.0)  # a +20 dB step, then back
    x = np.concatenate([quiet, loud, quiet])
    hold_ms = 5.0
    _, gr = compress(
        x,
        sample_rate=RATE,
        threshold_db=-40.0,
        ratio=10.0,
        knee_db=0.0,
        attack_ms=attack_ms,
        release_ms=release_ms,
        hold_ms=hold_ms,
        return_gain=True,
    )
    n = quiet.size
    low, high = float(gr[n - 1]), float(gr[2 * n - 1])
    assert low == pytest.approx(9.0, abs=0.05) and high == pytest.approx(27.0, abs=0.05)
    attack = step_time_ms(gr, n, low, high)
    release = step_time_ms(gr, 2 * n, high, low)
    assert attack == pytest.approx(attack_ms, rel=0.2)
    # Release starts when the hold expires.
    assert release - hold_ms == pytest.approx(release_ms, rel=0.2)
    assert release == pytest.approx(release_ms, rel=0.2)


def test_gain_reduction_curve_has_no_steps() -> None:
    x = np.concatenate([tone(-40.0, 0.5), tone(0.0, 0.5), tone(-40.0, 0.5)])
    _, gr = compress(
        x, sample_rate=RATE, threshold_db=-30.0, ratio=8.0, attack_ms=5.0, return_gain=True
    )
    # A 26 dB step in the target, spread by a 5 ms attack (220 samples): about 0.12 dB/sample.
    assert np.abs(np.diff(gr)).max() < 0.15


# --------------------------------------------------------------------------------------------
# Compressor: linking and sidechain


def test_stereo_link_keeps_the_image(rng: np.random.Generator) -> None:
    noise = rng.standard_normal(2 * RATE).astype(np.float32)
    bursts = np.repeat(rng.uniform(0.05, 1.0, size=40), RATE // 20).astype(np.float32)
    left = 0.8 * noise * bursts
    right = 0.3 * noise * bursts  # a source panned left: L/R = 8/3 everywhere
    stereo = np.stack([left, right])
    y, gr = compress(
        stereo, sample_rate=RATE, threshold_db=-20.0, ratio=6.0, attack_ms=1.0, return_gain=True
    )
    assert gr.shape == (left.size,)
    assert gr.max() > 6.0  # it did compress
    nz = np.abs(right) > 1e-3
    assert np.allclose(y[0][nz] / y[1][nz], 8.0 / 3.0, rtol=1e-5)
    # Unlinked, the louder channel is compressed harder and the image moves.
    y2, gr2 = compress(
        stereo,
        sample_rate=RATE,
        threshold_db=-20.0,
        ratio=6.0,
        attack_ms=1.0,
        stereo_link=False,
        return_gain=True,
    )
    assert gr2.shape == (2, left.size)
    assert not np.allclose(y2[0][nz] / y2[1][nz], 8.0 / 3.0, rtol=1e-2)


def test_mean_link_compresses_less_than_max_link() -> None:
    stereo = np.stack([tone(-6.0, 1.0), tone(-30.0, 1.0)])
    _, by_max = compress(stereo, sample_rate=RATE, threshold_db=-20.0, ratio=4.0, return_gain=True)
    _, by_mean = compress(
        stereo, sample_rate=RATE, threshold_db=-20.0, ratio=4.0, link="mean", return_gain=True
    )
    assert by_mean[-1] < by_max[-1] - 1.0


def test_sidechain_drives_the_gain(rng: np.random.Generator) -> None:
    # Ducking: a steady pad under a kick-like key that comes and goes.
    pad = tone(-12.0, 2.0, 440.0)
    key = np.zeros_like(pad)
    key[RATE // 2 : RATE] = tone(-3.0, 0.5, 60.0)
    y, gr = compress(
        pad,
        sample_rate=RATE,
        threshold_db=-30.0,
        ratio=4.0,
        knee_db=0.0,
        attack_ms=1.0,
        release_ms=50.0,
        sidechain=key,
        return_gain=True,
    )
    quiet_key = slice(RATE // 10, RATE // 2 - 10)
    loud_key = slice(3 * RATE // 4, RATE - 10)
    assert gr[quiet_key].max() == 0.0  # the pad alone is over the threshold but not the key
    assert np.array_equal(y[quiet_key], pad[quiet_key])
    # Under the key: key peak -3 dB, 27 dB over, ratio 4 -> 20.25 dB of ducking.
    assert float(np.median(gr[loud_key])) == pytest.approx(20.25, abs=0.3)
    # And the input alone would have been compressed differently.
    _, own = compress(
        pad, sample_rate=RATE, threshold_db=-30.0, ratio=4.0, knee_db=0.0, return_gain=True
    )
    assert own[quiet_key].max() > 10.0


def test_sidechain_must_match_frames() -> None:
    with pytest.raises(ParameterError, match="same number of frames"):
        compress(
            tone(-6.0, 0.1),
            sample_rate=RATE,
            threshold_db=-20.0,
            ratio=2.0,
            sidechain=np.zeros(10, dtype=np.float32),
        )


# --------------------------------------------------------------------------------------------
# Expander and gate


@pytest.mark.parametrize("level_db", [-70.0, -55.0, -45.0, -35.0, -20.0])
def test_expander_static_curve(level_db: float) -> None:
    threshold, ratio, range_db = -40.0, 2.0, 25.0
    x = tone(level_db, 1.0)
    y = expand(x, sample_rate=RATE, threshold_db=threshold, ratio=ratio, range_db=range_db)
    measured = settled_peak_db(x)
    expected_cut = min(max(threshold - measured, 0.0) * (ratio - 1.0), range_db)
    assert settled_peak_db(x) - settled_peak_db(y) == pytest.approx(expected_cut, abs=0.1)


def test_gate_closes_on_noise_and_opens_on_signal(rng: np.random.Generator) -> None:
    noise = (rng.standard_normal(3 * RATE) * 10 ** (-70 / 20)).astype(np.float32)
    signal = np.zeros_like(noise)
    signal[RATE : 2 * RATE] = tone(-20.0, 1.0, 220.0)
    x = noise + signal
    y, gr = gate(x, sample_rate=RATE, threshold_db=-50.0, range_db=60.0, return_gain=True)
    closed = slice(RATE // 2, RATE - 10)
    opened = slice(RATE + RATE // 20, 2 * RATE)
    after = slice(2 * RATE + RATE // 2, 3 * RATE)
    assert gr[closed].min() > 59.0
    assert gr[opened].max() < 0.01
    assert gr[after].min() > 59.0
    # Opening is fast (0.5 ms attack): full level within 5 ms of the onset.
    assert gr[RATE + RATE // 200 :][: RATE // 10].max() < 0.01
    assert 20 * np.log10(rms(y[closed]) / rms(x[closed])) < -59.0


# --------------------------------------------------------------------------------------------
# Robustness, shapes, settings


@pytest.mark.parametrize("detector", ["peak", "rms"])
def test_silence_gives_silence_without_nan(detector: str) -> None:
    silence = np.zeros((2, RATE // 2), dtype=np.float32)
    for process in (compress, expand):
        y = process(silence, sample_rate=RATE, threshold_db=-20.0, ratio=4.0, detector=detector)
        assert np.all(np.isfinite(y)) and not y.any()
    assert np.all(np.isfinite(gate(silence, sample_rate=RATE, threshold_db=-60.0)))


def test_deterministic_and_shape_preserving(rng: np.random.Generator) -> None:
    x = (rng.standard_normal((2, RATE)) * 0.3).astype(np.float32)
    a = compress(x, sample_rate=RATE, threshold_db=-20.0, ratio=4.0)
    b = compress(x, sample_rate=RATE, threshold_db=-20.0, ratio=4.0)
    assert a.dtype == np.float32 and a.shape == x.shape
    assert np.array_equal(a, b)
    mono = compress(x[0].astype(np.float64), sample_rate=RATE, threshold_db=-20.0, ratio=4.0)
    assert mono.shape == (RATE,) and mono.dtype == np.float32
    assert np.array_equal(
        expand(x, sample_rate=RATE, threshold_db=-20.0),
        expand(x, sample_rate=RATE, threshold_db=-20.0),
    )


def test_makeup_gain_is_applied() -> None:
    x = tone(-40.0, 0.5)
    y = compress(x, sample_rate=RATE, threshold_db=-20.0, ratio=4.0, makeup_db=6.0)
    assert settled_peak_db(y) - settled_peak_db(x) == pytest.approx(6.0, abs=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"ratio": 0.5}, "ratio"),
        ({"ratio": float("nan")}, "ratio"),
        ({"knee_db": -1.0}, "knee_db"),
        ({"attack_ms": -1.0}, "attack_ms"),
        ({"threshold_db": 50.0}, "threshold_db"),
        ({"detector": "loud"}, "detector"),
        ({"sample_rate": 1000}, "sample_rate"),
    ],
)
def test_bad_parameters_name_the_value(kwargs: dict[str, object], fragment: str) -> None:
    args: dict[str, object] = {"sample_rate": RATE, "threshold_db": -20.0, "ratio": 2.0}
    args.update(kwargs)
    with pytest.raises(ParameterError, match=fragment):
        compress(tone(-6.0, 0.1), **args)  # type: ignore[arg-type]


def test_non_finite_input_is_rejected() -> None:
    x = tone(-6.0, 0.1)
    x[10] = np.nan
    with pytest.raises(ParameterError, match="NaN"):
        compress(x, sample_rate=RATE, threshold_db=-20.0, ratio=2.0)


def test_compressor_settings_object() -> None:
    settings = Compressor(threshold_db=-18.0, ratio=3.0, attack_ms=20.0, release_ms=150.0)
    x = tone(-6.0, 0.5)
    assert np.array_equal(
        settings.process(x, sample_rate=RATE),
        compress(
            x, sample_rate=RATE, threshold_db=-18.0, ratio=3.0, attack_ms=20.0, release_ms=150.0
        ),
    )
    assert settings.to_dict() == {
        "threshold": -18.0,
        "ratio": 3.0,
        "attack_ms": 20.0,
        "release_ms": 150.0,
        "knee_db": 6.0,
        "makeup_db": 0.0,
    }


def test_compresses_real_music(shared_data: Path) -> None:
    path = shared_data / "music" / "librosa-data" / "Kevin_MacLeod_-_Vibe_Ace.hq.ogg"
    music, rate = sf.read(path, dtype="float32", always_2d=True, frames=20 * 44_100)
    x = np.ascontiguousarray(music.T)
    y, gr = compress(x, sample_rate=rate, threshold_db=-24.0, ratio=4.0, return_gain=True)
    assert gr.max() > 3.0
    assert np.all(np.isfinite(y))
    spread_in, spread_out = _short_term_spread_db(x, rate), _short_term_spread_db(y, rate)
    assert spread_out < spread_in - 0.5  # louder and quieter passages moved closer together


def _short_term_spread_db(x: np.ndarray, rate: int) -> float:
    """Standard deviation of the 400 ms RMS levels, dB (windows above -50 dBFS)."""
    window = int(0.4 * rate)
    usable = x[:, : x.shape[1] // window * window].astype(np.float64)
    power = np.square(usable).mean(axis=0).reshape(-1, window).mean(axis=1)
    levels = 10 * np.log10(power[power > 1e-5])
    return float(levels.std())
