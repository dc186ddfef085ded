"""Dynamics benchmarks: compressor, true-peak limiter and a short mastering chain.

The peer is pedalboard (GPL-3.0, a benchmark peer only; imported here, never by the package):
``PeakFilter``, ``Compressor`` and ``BrickwallLimiter(true_peak=True)``. Both sides run on the
3-minute stereo track; each agreement column reports the true peak of both outputs (our 4x
meter) and their integrated loudness. The compressors are not meant to agree on loudness:
ours compares the held sample peak with the threshold (a steady tone lands exactly on the
static curve), pedalboard's (JUCE) an attack/release-smoothed envelope that sits below the
peaks, so at the same settings ours takes off more.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import SAMPLE_RATE, Context, Workload
from soundry.dsp.dynamics import compress
from soundry.dsp.filters import apply_sos, peaking
from soundry.dsp.limiter import limit
from soundry.dsp.loudness import integrated_loudness, true_peak_dbtp

CEILING_DBTP = -1.0
EQ = {"freq_hz": 1000.0, "gain_db": 3.0, "q": 1.0}
# Compressor: threshold dB, ratio, attack and release ms (hard knee: pedalboard has none).
THRESHOLD_DB, RATIO, ATTACK_MS, RELEASE_MS = -20.0, 3.0, 10.0, 100.0
MAKEUP_DB = 6.0  # after the compressor, so that the limiter has peaks to catch
LIMITER_DRIVE_DB = 6.0  # gain before the limiter in the limiter-only workload


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
    sos = peaking(EQ["freq_hz"], EQ["gain_db"], EQ["q"], rate)  # RBJ peaking biquad
    driven = track * np.float32(10.0 ** (LIMITER_DRIVE_DB / 20.0))

    def our_compress(audio: np.ndarray, makeup_db: float = 0.0) -> np.ndarray:
        return compress(
            audio,
            sample_rate=rate,
            threshold_db=THRESHOLD_DB,
            ratio=RATIO,
            knee_db=0.0,
            attack_ms=ATTACK_MS,
            release_ms=RELEASE_MS,
            makeup_db=makeup_db,
        )

    def our_chain() -> np.ndarray:
        glued = our_compress(apply_sos(track, sos), MAKEUP_DB)
        return limit(glued, sample_rate=rate, ceiling_dbtp=CEILING_DBTP)

    def our_compressor() -> np.ndarray:
        return our_compress(track)

    def our_limiter() -> np.ndarray:
        return limit(driven, sample_rate=rate, ceiling_dbtp=CEILING_DBTP)

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

    def peer_compressor_plugin() -> pedalboard.Compressor:
        return pedalboard.Compressor(
            threshold_db=THRESHOLD_DB, ratio=RATIO, attack_ms=ATTACK_MS, release_ms=RELEASE_MS
        )

    def peer_chain() -> np.ndarray:
        board = pedalboard.Pedalboard(
            [
                pedalboard.PeakFilter(EQ["freq_hz"], EQ["gain_db"], EQ["q"]),
                peer_compressor_plugin(),
                pedalboard.Gain(MAKEUP_DB),
                pedalboard.BrickwallLimiter(ceiling_db=CEILING_DBTP, true_peak=True),
            ]
        )
        return board(track, rate)

    def peer_compressor() -> np.ndarray:
        return peer_compressor_plugin()(track, rate)

    def peer_limiter() -> np.ndarray:
        return pedalboard.BrickwallLimiter(ceiling_db=CEILING_DBTP, true_peak=True)(driven, rate)

    peers = (peer_chain, peer_compressor, peer_limiter)
    for workload, peer in zip(result, peers, strict=True):
        workload.peer = peer
        workload.peer_name = f"pedalboard {pedalboard.__version__}"
        workload.check = _describe
    return result
