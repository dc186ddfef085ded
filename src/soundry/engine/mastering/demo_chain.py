"""A fixed, gentle mastering chain used by ``soundry demo``.

High-pass at 30 Hz, a touch of low and high shelf, a 2:1 glue compressor, then the closed
loudness loop (gain, true-peak limiter, measure). The full mastering engine with tonal
profiles, stereo image and previews builds on the same primitives.
"""

from __future__ import annotations

from typing import Any

from soundry.audio.buffer import AudioBuffer
from soundry.dsp.dynamics import compress
from soundry.dsp.filters import apply_sos, cascade, high_shelf, highpass, low_shelf
from soundry.dsp.loudness import measure
from soundry.engine.mastering.level import reach_loudness

__all__ = ["master_demo"]


def master_demo(
    song: AudioBuffer, *, target_lufs: float = -14.0, ceiling_dbtp: float = -1.0
) -> tuple[dict[str, Any], AudioBuffer]:
    """Master ``song`` with the fixed chain; return the report and the master.

    Parameters
    ----------
    song : AudioBuffer
        Stereo or mono audio at any supported rate.
    target_lufs, ceiling_dbtp : float
        Loudness target (LUFS) and true-peak ceiling (dBTP).

    Returns
    -------
    report : dict
        ``before`` and ``after`` loudness facts, the ``chain`` applied, ``gain_db``,
        ``iterations``, ``reached`` and a ``note``.
    master : AudioBuffer
        The mastered audio, same shape and rate as ``song``.
    """
    rate = song.sample_rate
    eq = cascade(
        highpass(30.0, rate, slope_db_per_octave=12),
        low_shelf(120.0, 1.0, rate),
        high_shelf(8000.0, 1.5, rate),
    )
    shaped = apply_sos(song.samples, eq)
    glued = compress(
        shaped, sample_rate=rate, threshold_db=-18.0, ratio=2.0, attack_ms=30.0, release_ms=200.0
    )
    level = reach_loudness(
        glued, sample_rate=rate, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp
    )
    report: dict[str, Any] = {
        "before": measure(song.samples, rate).to_dict(),
        "after": measure(level.samples, rate).to_dict(),
        "chain": [
            "high-pass 30 Hz 12 dB/oct",
            "low shelf 120 Hz +1 dB",
            "high shelf 8 kHz +1.5 dB",
            "compressor -18 dB 2:1 30/200 ms",
            f"gain {level.gain_db:+.2f} dB",
            f"true-peak limiter {ceiling_dbtp:g} dBTP",
        ],
        "gain_db": level.gain_db,
        "iterations": level.iterations,
        "reached": level.reached,
        "note": level.note,
    }
    return report, song.with_samples(level.samples)
