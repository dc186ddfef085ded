"""Loudness metering against libebur128 (pyebur128) and pyloudnorm on the 3-minute track.

The peer for full metering is libebur128 with every mode it has switched on (I, M, S, LRA,
true peak) in a single pass over the track: the cheapest way it produces the same figures.
It then reads I, LRA, TP and the final M and S. Ours also returns the 10 Hz M and S series.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from benchmarks.harness import Context, Workload
from soundry.dsp.loudness import (
    LoudnessReport,
    integrated_loudness,
    measure,
    true_peak_dbtp,
)

SAMPLE_RATE = 44_100


def _tech3342_range(short_term_lufs: np.ndarray) -> float:
    values = short_term_lufs[short_term_lufs > -70.0]
    if values.size == 0:
        return 0.0
    values = np.sort(values[values > 10 * math.log10(np.mean(10 ** (values / 10))) - 20.0])
    n = values.size
    return float(values[round((n - 1) * 0.95)] - values[round((n - 1) * 0.10)])


def _libebur128_all(track: np.ndarray) -> Callable[[], dict[str, float]]:
    import pyebur128 as eb

    channels, frames = track.shape
    interleaved = np.ascontiguousarray(track.T).reshape(-1)
    mode = (
        eb.MeasurementMode.MODE_I
        | eb.MeasurementMode.MODE_S
        | eb.MeasurementMode.MODE_LRA
        | eb.MeasurementMode.MODE_TRUE_PEAK
    )

    def run() -> dict[str, float]:
        state = eb.R128State(channels, SAMPLE_RATE, mode)
        state.add_frames(interleaved, frames)
        return {
            "I": eb.get_loudness_global(state),
            "LRA": eb.get_loudness_range(state),
            "TP": 20 * math.log10(max(eb.get_true_peak(state, c) for c in range(channels))),
            "M": eb.get_loudness_momentary(state),
            "S": eb.get_loudness_shortterm(state),
        }

    return run


def _libebur128_true_peak(track: np.ndarray) -> Callable[[], float]:
    import pyebur128 as eb

    channels, frames = track.shape
    interleaved = np.ascontiguousarray(track.T).reshape(-1)

    def run() -> float:
        state = eb.R128State(channels, SAMPLE_RATE, eb.MeasurementMode.MODE_TRUE_PEAK)
        state.add_frames(interleaved, frames)
        return 20 * math.log10(max(eb.get_true_peak(state, c) for c in range(channels)))

    return run


def _check_all(ours: object, peer: object) -> str:
    assert isinstance(ours, LoudnessReport) and isinstance(peer, dict)
    d_i = ours.integrated_lufs - peer["I"]
    d_tp = ours.true_peak_dbtp - peer["TP"]
    # libebur128 takes a short-term block every 1 s for LRA, Tech 3342 (2016) asks for 10 Hz
    # or more (ours). Same rule on libebur128's blocks (every 10th of ours): comparable.
    d_lra_same_blocks = _tech3342_range(ours.short_term_lufs[::10]) - peer["LRA"]
    d_lra = ours.lra_lu - peer["LRA"]
    ok = abs(d_i) <= 0.05 and abs(d_tp) <= 0.1 and abs(d_lra_same_blocks) <= 0.05
    return (
        f"{'equal' if ok else 'DIFFERENT'}: ΔI {d_i:+.3f} LU, ΔTP {d_tp:+.3f} dB,"
        f" ΔLRA {d_lra_same_blocks:+.3f} LU on its 1 s blocks ({d_lra:+.3f} with ours at 10 Hz)"
    )


def _difference(unit: str) -> Callable[[object, object], str]:
    def check(ours: object, peer: object) -> str:
        assert isinstance(ours, float) and isinstance(peer, float)
        return f"Δ {ours - peer:+.3f} {unit}"

    return check


def workloads(ctx: Context) -> list[Workload]:
    track = ctx.track
    out = []
    try:
        full_peer: Callable[[], object] | None = _libebur128_all(track)
        tp_peer: Callable[[], object] | None = _libebur128_true_peak(track)
    except ImportError:
        full_peer = tp_peer = None
    out.append(
        Workload(
            "loudness: I+M+S+LRA+TP",
            ours=lambda: measure(track, SAMPLE_RATE),
            peer=full_peer,
            peer_name="pyebur128 (all modes, one pass)" if full_peer else "",
            check=_check_all if full_peer else None,
            min_speedup=2.0 if full_peer else None,
        )
    )
    out.append(
        Workload(
            "loudness: true peak",
            ours=lambda: true_peak_dbtp(track, SAMPLE_RATE),
            peer=tp_peer,
            peer_name="pyebur128 (TP mode)" if tp_peer else "",
            check=_difference("dB") if tp_peer else None,
        )
    )
    try:
        import pyloudnorm

        meter = pyloudnorm.Meter(SAMPLE_RATE)
        frames_first = np.ascontiguousarray(track.T, dtype=np.float64)
        i_peer: Callable[[], object] | None = lambda: float(  # noqa: E731
            meter.integrated_loudness(frames_first)
        )
    except ImportError:
        i_peer = None
    out.append(
        Workload(
            "loudness: integrated",
            ours=lambda: integrated_loudness(track, SAMPLE_RATE),
            peer=i_peer,
            peer_name="pyloudnorm" if i_peer else "",
            check=_difference("LU") if i_peer else None,
        )
    )
    return out
