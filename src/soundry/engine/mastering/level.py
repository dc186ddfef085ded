"""Closed-loop loudness targeting: gain, true-peak limiter, measure, correct.

A limiter takes loudness away as it works, so "gain by target minus measured, then limit"
lands short of the target by however much the limiter removed. The loop here measures the
limited result with our own BS.1770 meter and corrects the gain until the integrated
loudness is within ``tolerance_lu`` of the target, or reports why it cannot be.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from soundry.dsp.limiter import LimiterReport, limit
from soundry.dsp.loudness import integrated_loudness, true_peak_dbtp
from soundry.errors import ParameterError

__all__ = [
    "LIMITER_LOOKAHEAD_MS",
    "LIMITER_RELEASE_MS",
    "LevelResult",
    "apply_level",
    "reach_loudness",
]

MIN_TARGET_LUFS = -24.0
MAX_TARGET_LUFS = -6.0
LIMITER_LOOKAHEAD_MS = 5.0
LIMITER_RELEASE_MS = 100.0


@dataclass(frozen=True)
class LevelResult:
    """What :func:`reach_loudness` did.

    Attributes
    ----------
    samples : np.ndarray [shape=(channels, frames), dtype=float32]
        The levelled and limited audio.
    gain_db : float
        Gain applied before the limiter.
    integrated_lufs : float
        Measured integrated loudness of ``samples``.
    true_peak_dbtp : float
        Measured true peak of ``samples``.
    iterations : int
        Limiter passes used.
    reached : bool
        Whether the result is within the tolerance of the target.
    note : str
        Why the target was not reached, or empty.
    limiter : LimiterReport or None
        The final limiter pass (gain-reduction statistics); None for silent input.
    """

    samples: np.ndarray
    gain_db: float
    integrated_lufs: float
    true_peak_dbtp: float
    iterations: int
    reached: bool
    note: str = ""
    limiter: LimiterReport | None = None


def reach_loudness(
    samples: np.ndarray,
    *,
    sample_rate: int,
    target_lufs: float = -14.0,
    ceiling_dbtp: float = -1.0,
    tolerance_lu: float = 0.05,
    max_gain_db: float = 30.0,
    max_peak_limiting_db: float = 15.0,
    max_mean_limiting_db: float = 4.0,
    max_iterations: int = 6,
    release_ms: float = LIMITER_RELEASE_MS,
) -> LevelResult:
    """Gain and limit ``samples`` to ``target_lufs`` with the true peak at most ``ceiling_dbtp``.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames)]
        Audio to level.
    sample_rate : int
        Sample rate in Hz.
    target_lufs : float
        Integrated loudness to reach, -24 to -6 LUFS.
    ceiling_dbtp : float
        True-peak ceiling of the output in dBTP.
    tolerance_lu : float
        How close to the target is close enough, in LU.
    max_gain_db : float
        The most gain the loop may apply; quiet material needing more is left short and the
        result says so rather than raising noise by tens of dB.
    max_peak_limiting_db, max_mean_limiting_db : float
        The most gain reduction the limiter may apply at any instant, and on average over
        the track. Shaving a few transients by 10 dB is normal for a loud master; holding
        the whole track 4 dB down is crushing it. A target that needs more stops there and
        the result says so.
    max_iterations : int
        Limiter passes at most.
    release_ms : float
        Limiter release time in ms.

    Returns
    -------
    LevelResult
        The audio and the measured facts. ``samples`` is exactly
        ``limit(input * 10**(gain_db / 20), ...)``, so re-applying ``gain_db`` reproduces it.
        Silence returns unchanged with ``reached`` False.
    """
    if not MIN_TARGET_LUFS <= target_lufs <= MAX_TARGET_LUFS:
        raise ParameterError(
            f"target_lufs must be from {MIN_TARGET_LUFS} to {MAX_TARGET_LUFS}; got {target_lufs}"
        )
    if not -20.0 <= ceiling_dbtp <= 0.0:
        raise ParameterError(f"ceiling_dbtp must be from -20 to 0 dBTP; got {ceiling_dbtp}")
    audio = np.asarray(samples, dtype=np.float32)
    source_lufs = integrated_loudness(audio, sample_rate)
    if not math.isfinite(source_lufs):
        return LevelResult(
            audio,
            0.0,
            source_lufs,
            true_peak_dbtp(audio, sample_rate),
            0,
            False,
            "the input is silent (below the -70 LUFS gate): nothing to level",
        )
    gain_db = min(target_lufs - source_lufs, max_gain_db)
    note = ""
    previous: tuple[float, float] | None = None  # (gain_db, measured LUFS) of the last pass
    for iteration in range(1, max_iterations + 1):
        out, report = apply_level(
            audio,
            sample_rate=sample_rate,
            gain_db=gain_db,
            ceiling_dbtp=ceiling_dbtp,
            release_ms=release_ms,
        )
        measured = integrated_loudness(out, sample_rate)
        error_lu = target_lufs - measured
        if abs(error_lu) <= tolerance_lu or iteration == max_iterations:
            break
        excess_db = max(
            report.max_gain_reduction_db - max_peak_limiting_db,
            report.mean_gain_reduction_db - max_mean_limiting_db,
        )
        if excess_db > 0:
            # Too much limiting already: back off by the excess and stop there.
            gain_db -= excess_db
            note = (
                f"reaching {target_lufs:g} LUFS would need more limiting than"
                f" {max_peak_limiting_db:g} dB at peaks or {max_mean_limiting_db:g} dB on"
                f" average under a {ceiling_dbtp:g} dBTP ceiling; stopped short rather than"
                " crush the dynamics"
            )
        elif error_lu > 0 and gain_db >= max_gain_db:
            note = f"the input needs more than {max_gain_db:g} dB of gain; stopped there"
            break
        else:
            # Under heavy limiting a dB of gain adds less than a LU: step by the secant
            # slope of the last two passes (bounded, so one odd pass cannot run away).
            slope = 1.0
            if previous is not None and abs(gain_db - previous[0]) > 1e-3:
                slope = (measured - previous[1]) / (gain_db - previous[0])
                slope = min(max(slope, 0.25), 1.0)
            previous = (gain_db, measured)
            gain_db = min(gain_db + error_lu / slope, max_gain_db)
            continue
        out, report = apply_level(
            audio,
            sample_rate=sample_rate,
            gain_db=gain_db,
            ceiling_dbtp=ceiling_dbtp,
            release_ms=release_ms,
        )
        measured = integrated_loudness(out, sample_rate)
        break
    reached = abs(target_lufs - measured) <= tolerance_lu
    if not reached and not note:
        note = f"reached {measured:.2f} LUFS, not {target_lufs:.2f}, in {iteration} passes"
    return LevelResult(
        out,
        gain_db,
        measured,
        true_peak_dbtp(out, sample_rate),
        iteration,
        reached,
        note,
        report,
    )


def apply_level(
    samples: np.ndarray,
    *,
    sample_rate: int,
    gain_db: float,
    ceiling_dbtp: float,
    release_ms: float = LIMITER_RELEASE_MS,
) -> tuple[np.ndarray, LimiterReport]:
    """Gain then true-peak limit: the last stage of every master, shared by plan and render.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames)]
        Audio before the gain.
    sample_rate : int
        Sample rate in Hz.
    gain_db : float
        Gain before the limiter, dB.
    ceiling_dbtp : float
        Limiter ceiling, dBTP.
    release_ms : float
        Limiter release, ms.

    Returns
    -------
    out : np.ndarray [shape=(channels, frames), dtype=float32]
    report : LimiterReport
    """
    gained = np.asarray(samples, dtype=np.float32) * np.float32(10.0 ** (gain_db / 20.0))
    return limit(
        gained,
        sample_rate=sample_rate,
        ceiling_dbtp=ceiling_dbtp,
        lookahead_ms=LIMITER_LOOKAHEAD_MS,
        release_ms=release_ms,
        return_gain=True,
    )
