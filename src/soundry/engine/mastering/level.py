"""Closed-loop loudness targeting: gain, true-peak limiter, measure, correct.

A limiter takes loudness away as it works, so "gain by target minus measured, then limit"
lands short of the target by however much the limiter removed. The loop here corrects the
gain until the integrated loudness of the limited result is within ``tolerance_lu`` of the
target, or reports why it cannot be.

Trying a gain is cheap: the limiter's detector envelope is computed once (it scales with
the gain), :class:`~soundry.dsp.limiter.LimiterPreview` gives the limiter's gain curve at
that gain in one pass, and the loudness is estimated from K-weighted energies of the input
computed once, weighted by the gain curve squared (exact but for the K-filter's short
memory across gain changes). Only a gain the estimate accepts is rendered with the real
limiter and measured with our own BS.1770 meter; if that measurement misses the tolerance,
the estimate is recalibrated by the difference and the search goes on. The reported figures
are always measurements of the returned samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from soundry.dsp._kweighting import (
    TICKS_PER_SUBBLOCK,
    block_k_energy,
    k_weighting_sos,
    tick_bounds,
)
from soundry.dsp.limiter import (
    DetectorEnvelope,
    LimiterPreview,
    LimiterReport,
    detector_envelope,
    limit,
)
from soundry.dsp.loudness import (
    default_channel_weights,
    gated_integrated_lufs,
    integrated_loudness,
    true_peak_dbtp,
)
from soundry.dsp.oversample import max_true_peak
from soundry.errors import ParameterError

__all__ = [
    "LIMITED_FLOOR_DB",
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


_MOMENTARY_SUBBLOCKS = 4  # a 400 ms gating block is 4 sub-blocks of 100 ms
_NEPER_TO_DB = 20.0 / math.log(10.0)
# Gain reduction under this does not count as limiting (as in the limiter's report).
LIMITED_FLOOR_DB = 0.01
# Estimates aim this much closer than the tolerance, so that the one real measurement lands
# inside it despite the estimate's own (far smaller) error.
_ESTIMATE_AIM = 0.5
# Margin of the "nothing to limit" test on the true peak (float32 rounding of the detector).
_PEAK_MARGIN = 1.0 + 1e-4


@numba.njit(cache=True, nogil=True)
def _limited_energy(
    energy: np.ndarray,
    log_gain: np.ndarray,
    squared: np.ndarray,
    bounds: np.ndarray,
    floor_db: float,
) -> tuple[np.ndarray, float, float]:
    """Sub-block sums of ``energy * squared`` (``squared`` is the gain squared), and the
    largest and mean gain reduction (dB) over frames reduced by more than ``floor_db``."""
    n = bounds.shape[0] - 1
    sums = np.zeros(n)
    for k in range(n):
        total = 0.0
        for i in range(bounds[k], bounds[k + 1]):
            total += energy[i] * squared[i]
        sums[k] = total
    largest = 0.0
    reduced = 0.0
    count = 0
    floor = -floor_db / _NEPER_TO_DB
    for i in range(log_gain.shape[0]):
        lg = log_gain[i]
        largest = min(largest, lg)
        if lg < floor:
            reduced += lg
            count += 1
    mean = -_NEPER_TO_DB * reduced / count if count else 0.0
    return sums, -_NEPER_TO_DB * largest, mean


class _Estimate:
    """Loudness and limiting of ``limit(samples, gain_db=g)`` for any ``g``, estimated."""

    def __init__(
        self,
        audio: np.ndarray,
        sample_rate: int,
        *,
        source_lufs: float,
        ceiling_dbtp: float,
        release_ms: float,
    ) -> None:
        self._audio = audio
        self._rate = sample_rate
        self._source_lufs = source_lufs
        self._ceiling_dbtp = ceiling_dbtp
        self._release_ms = release_ms
        self._factor = 4 if sample_rate < 176_400 else 2
        # The true peak is at least the sample peak; it is searched for only when that
        # leaves open whether a gain needs limiting.
        self._sample_peak = float(np.abs(audio).max(initial=0.0))
        self._true_peak: float | None = None
        # Under this true peak nothing is limited (0.1 dB is more than the limiter's margin).
        self._unlimited_peak = 10.0 ** ((ceiling_dbtp - 0.1) / 20.0) / _PEAK_MARGIN
        # Built on the first gain that may need limiting.
        self.envelope: DetectorEnvelope | None = None
        self._preview: LimiterPreview | None = None
        self._energy = np.zeros(0)
        self._bounds = np.zeros(0, dtype=np.int64)

    def _build(self) -> LimiterPreview:
        if self._preview is None:
            audio, rate = self._audio, self._rate
            self.envelope = detector_envelope(audio, rate)
            self._preview = LimiterPreview(
                self.envelope,
                ceiling_dbtp=self._ceiling_dbtp,
                lookahead_ms=LIMITER_LOOKAHEAD_MS,
                release_ms=self._release_ms,
            )
            sos = k_weighting_sos(rate)
            weights = default_channel_weights(audio.shape[0]).astype(np.float64)
            self._energy = block_k_energy(audio, sos, weights, 1, audio.shape[1])
            self._bounds = tick_bounds(audio.shape[1], rate)[::TICKS_PER_SUBBLOCK]
        return self._preview

    def __call__(self, gain_db: float) -> tuple[float, float, float]:
        """Estimated integrated loudness (LUFS), largest and mean gain reduction (dB)."""
        scale = 10.0 ** (gain_db / 20.0)
        if self._sample_peak * scale <= self._unlimited_peak:
            if self._true_peak is None:
                self._true_peak = max_true_peak(self._audio, factor=self._factor)
            if self._true_peak * scale <= self._unlimited_peak:
                return self._source_lufs + gain_db, 0.0, 0.0  # nothing to limit: exact
        log_gain = self._build().log_gain(gain_db)[0]
        squared = np.exp(log_gain * np.float32(2.0))  # numpy's float32 exp is vectorised
        sums, largest, mean = _limited_energy(
            self._energy, log_gain, squared, self._bounds, LIMITED_FLOOR_DB
        )
        n = sums.shape[0] - _MOMENTARY_SUBBLOCKS + 1
        if n <= 0:
            return -math.inf, largest, mean
        windows = sum(sums[k : k + n] for k in range(_MOMENTARY_SUBBLOCKS))
        gain = float(np.float32(10.0 ** (gain_db / 20.0)))
        power = gain * gain * windows / (self._bounds[_MOMENTARY_SUBBLOCKS:] - self._bounds[:n])
        return gated_integrated_lufs(power), largest, mean


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
        ``apply_level(input, gain_db=gain_db, ...)[0]``, so re-applying ``gain_db``
        reproduces it bit for bit.
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
    estimate = _Estimate(
        audio,
        sample_rate,
        source_lufs=source_lufs,
        ceiling_dbtp=ceiling_dbtp,
        release_ms=release_ms,
    )

    def render(gain: float) -> tuple[np.ndarray, LimiterReport, float]:
        out, report = apply_level(
            audio,
            sample_rate=sample_rate,
            gain_db=gain,
            ceiling_dbtp=ceiling_dbtp,
            release_ms=release_ms,
            envelope=estimate.envelope,
        )
        return out, report, integrated_loudness(out, sample_rate)

    note = ""
    offset = 0.0  # real minus estimated loudness, once a render has shown it
    previous: tuple[float, float] | None = None  # (gain_db, estimate) of the last pass
    rendered: tuple[float, np.ndarray, LimiterReport, float] | None = None
    for iteration in range(1, max_iterations + 1):
        estimated, peak_reduction, mean_reduction = estimate(gain_db)
        measured = estimated + offset
        error_lu = target_lufs - measured
        if abs(error_lu) <= _ESTIMATE_AIM * tolerance_lu or iteration == max_iterations:
            out, report, real = render(gain_db)
            rendered = (gain_db, out, report, real)
            if abs(target_lufs - real) <= tolerance_lu or iteration == max_iterations:
                break
            # The estimate missed: recalibrate it on the measurement and go on from there.
            offset = real - estimated
            measured = real
            error_lu = target_lufs - measured
            peak_reduction = report.max_gain_reduction_db
            mean_reduction = report.mean_gain_reduction_db
        excess_db = max(
            peak_reduction - max_peak_limiting_db,
            mean_reduction - max_mean_limiting_db,
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
            break
        if error_lu > 0 and gain_db >= max_gain_db:
            note = f"the input needs more than {max_gain_db:g} dB of gain; stopped there"
            break
        # Under heavy limiting a dB of gain adds less than a LU: step by the secant slope of
        # the last two passes (bounded, so one odd pass cannot run away).
        slope = 1.0
        if previous is not None and abs(gain_db - previous[0]) > 1e-3:
            slope = (estimated - previous[1]) / (gain_db - previous[0])
            slope = min(max(slope, 0.25), 1.0)
        previous = (gain_db, estimated)
        gain_db = min(gain_db + error_lu / slope, max_gain_db)
    if rendered is None or rendered[0] != gain_db:
        out, report, measured = render(gain_db)
    else:
        _, out, report, measured = rendered
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
    envelope: DetectorEnvelope | None = None,
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
    envelope : DetectorEnvelope or None
        :func:`~soundry.dsp.limiter.detector_envelope` of ``samples``, if already known; the
        output is the same without it.

    Returns
    -------
    out : np.ndarray [shape=(channels, frames), dtype=float32]
    report : LimiterReport
    """
    return limit(
        np.asarray(samples, dtype=np.float32),
        sample_rate=sample_rate,
        ceiling_dbtp=ceiling_dbtp,
        lookahead_ms=LIMITER_LOOKAHEAD_MS,
        release_ms=release_ms,
        gain_db=gain_db,
        envelope=envelope,
        return_gain=True,
    )
