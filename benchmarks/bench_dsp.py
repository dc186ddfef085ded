"""Dynamics benchmarks: compressor, true-peak limiter and a short mastering chain.

The peer is pedalboard (GPL-3.0, a benchmark peer only; imported here, never by the package):
``PeakFilter``, ``Compressor`` and ``BrickwallLimiter(true_peak=True)``. Both sides run on the
3-minute stereo track; each agreement column reports the true peak of both outputs (our 4x
meter) and their integrated loudness.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from benchmarks.harness import SAMPLE_RATE, Context, Workload
from soundry.dsp.dynamics import compress
from soundry.dsp.limiter import limit
from soundry.dsp.loudness import integrated_loudness, true_peak_dbtp

CEILING_DBTP = -1.0
EQ = {"freq_hz": 1000.0, "gain_db": 3.0, "q": 1.0}
COMP = {"threshold_db": -20.0, "ratio": 3.0, "attack_ms": 10.0, "release_ms": 100.0}
MAKEUP_DB = 6.0  # after the compressor, so that the limiter has peaks to catch
LIMITER_DRIVE_DB = 6.0  # gain before the limiter in the limiter-only workload


def peaking_sos(freq_hz: float, gain_db: float, q: float, sample_rate: int) -> np.ndarray:
    """RBJ cookbook peaking EQ as one second-order section, shape (1, 6)."""
    amplitude = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * freq_hz / sample_rate
    alpha = math.sin(w0) / (2.0 * q)
    b = [1.0 + alpha * amplitude, -2.0 * math.cos(w0), 1.0 - alpha * amplitude]
    a = [1.0 + alpha / amplitude, -2.0 * math.cos(w0), 1.0 - alpha / amplitude]
    return np.array([[*(v / a[0] for v in b), 1.0, a[1] / a[0], a[2] / a[0]]])


def _describe(ours: object, peer: object) -> str:
    assert isinstance(ours, np.ndarray) and isinstance(peer, np.ndarray)
    return (
        f"TP {true_peak_dbtp(ours, SAMPLE_RATE):+.2f} / {true_peak_dbtp(peer, SAMPLE_RATE):+.2f}"
        f" dBTP, I {integrated_loudness(ours, SAMPLE_RATE):.2f} /"
        f" {integrated_loudness(peer, SAMPLE_RATE):.2f} LUFS (ours / peer)"
    )


def workloads(ctx: Context) -> list[Workload]:
    track = ctx.track
    rate = SAMPLE_RATE
    sos = peaking_sos(EQ["freq_hz"], EQ["gain_db"], EQ["q"], rate).astype(np.float32)
    driven = track * np.float32(10.0 ** (LIMITER_DRIVE_DB / 20.0))

    def our_chain() -> np.ndarray:
        shaped = signal.sosfilt(sos, track, axis=-1).astype(np.float32, copy=False)
        glued = compress(shaped, sample_rate=rate, knee_db=0.0, makeup_db=MAKEUP_DB, **COMP)
        return limit(glued, sample_rate=rate, ceiling_dbtp=CEILING_DBTP)  # type: ignore[return-value]

    def our_compressor() -> np.ndarray:
        return compress(track, sample_rate=rate, knee_db=0.0, **COMP)  # type: ignore[return-value]

    def our_limiter() -> np.ndarray:
        return limit(driven, sample_rate=rate, ceiling_dbtp=CEILING_DBTP)  # type: ignore[return-value]

    result = [
        Workload(
            "chain: biquad + compressor + TP limiter",
            our_chain,
            limit_s=1.5,
        ),
        Workload("compressor", our_compressor),
        Workload("TP limiter (+6 dB in, -1 dBTP)", our_limiter),
    ]
    try:
        import pedalboard
    except ImportError:  # the bench group is not installed: time ours alone
        return result

    def peer_chain() -> np.ndarray:
        board = pedalboard.Pedalboard(
            [
                pedalboard.PeakFilter(EQ["freq_hz"], EQ["gain_db"], EQ["q"]),
                pedalboard.Compressor(**COMP),
                pedalboard.Gain(MAKEUP_DB),
                pedalboard.BrickwallLimiter(ceiling_db=CEILING_DBTP, true_peak=True),
            ]
        )
        return board(track, rate)

    def peer_compressor() -> np.ndarray:
        return pedalboard.Compressor(**COMP)(track, rate)

    def peer_limiter() -> np.ndarray:
        return pedalboard.BrickwallLimiter(ceiling_db=CEILING_DBTP, true_peak=True)(driven, rate)

    peers = (peer_chain, peer_compressor, peer_limiter)
    for workload, peer in zip(result, peers, strict=True):
        workload.peer = peer
        workload.peer_name = f"pedalboard {pedalboard.__version__}"
        workload.check = _describe
    return result
