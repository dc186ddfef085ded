"""Look-ahead true-peak limiter.

The output's true peak, as our meter measures it (:func:`soundry.dsp.loudness.true_peak_dbtp`:
4x oversampling, 2x from 176.4 kHz), never exceeds the ceiling. How:

1. **Detector.** :func:`~soundry.dsp.oversample.true_peak_envelope`, with the meter's
   interpolator and factor, gives per frame the largest magnitude of the oversampled
   signal, so inter-sample peaks are seen. The signal is zero-padded first so that the
   filter's ringing past either end counts too, as it does for the meter.
2. **Required gain** ``r = min(1, target / envelope)`` per frame (one row for all channels
   when stereo-linked), in the log domain (nepers); ``target`` is the ceiling less
   ``_DETECTOR_MARGIN_DB``.
3. **Look-ahead.** A sliding minimum of ``log r`` over the ramp plus a hold of
   ``_HOLD_FRAMES`` on both sides, then two cascaded forward moving averages (the attack
   ramp). Each output of the averages is a convex combination of minima that all include
   every frame within ``_HOLD_FRAMES`` of it, so the gain is at most the required gain over
   the interpolator's whole stencil around each frame, while falling along a smooth
   S-shaped ramp that starts ``lookahead_ms`` before the peak.
4. **Release.** A one-pole rise (``release_ms``) in the log domain; it only ever lags the
   look-ahead gain upwards, so it keeps the bound.
5. **Verification.** A gain that varies across the interpolator's stencil changes the
   inter-sample peaks a little. A cheap bound (:func:`_unproven_frames`) shows most frames
   under ``ceiling - _VERIFY_MARGIN_DB`` without measuring; the rest are measured on the
   output. Frames still over get a correction built the same way (held over the stencil, so
   it scales their interpolated values exactly), and the check repeats.

The processing is offline, so the output is time-aligned with the input by default;
``latency_frames`` is what a streaming version of the same limiter would delay by.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, overload

import numba
import numpy as np

from soundry.dsp._dynamics_common import (
    apply_gain,
    as_2d,
    check_range,
    check_rate,
    one_pole_coefficient,
)
from soundry.dsp._limiter_parts import (
    _EDGE_PAD,
    _HOLD_FRAMES,
    _MERGE_GAP_FRAMES,
    _NEPER_TO_DB,
    _link,
    _look_ahead,
    _measure,
    _stretches,
    _unproven_frames,
)
from soundry.dsp.loudness import true_peak_factor
from soundry.dsp.oversample import (
    interpolator_phases,
    max_phase_gain,
    max_true_peak,
    true_peak_envelope,
)
from soundry.errors import ParameterError

__all__ = [
    "DetectorEnvelope",
    "LimiterReport",
    "detector_envelope",
    "detector_target",
    "limit",
]

# Margins under the ceiling: the detector's target, and the level that triggers a
# correction after measuring the output. The gap between them absorbs the small changes the
# gain's own modulation makes to inter-sample peaks, so corrections are rare.
_DETECTOR_MARGIN_DB = 0.03
_VERIFY_MARGIN_DB = 0.01
# Correction passes at most. Each converges the overs it finds (it scales them exactly);
# a later pass only catches overs created where a correction ramps back to unity.
_MAX_CORRECTIONS = 6
# Gain reduction below this is not counted as "limiting" in the report: release tails decay
# exponentially and would otherwise count as limited for seconds after the last peak.
_REPORT_FLOOR_DB = 0.01


@dataclass(frozen=True)
class LimiterReport:
    """What the limiter did.

    Attributes
    ----------
    gain_reduction_db : np.ndarray [shape=(frames,) or (channels, frames), dtype=float32]
        Gain reduction per frame in dB (>= 0), time-aligned with the output; one row when
        stereo-linked or mono.
    max_gain_reduction_db : float
        Largest gain reduction, dB.
    mean_gain_reduction_db : float
        Mean gain reduction over the limited frames, dB (0 when none).
    limited_percent : float
        Share of frames with more than 0.01 dB of gain reduction, percent.
    latency_frames : int
        Look-ahead in frames: the delay of the uncompensated output.
    correction_passes : int
        Verification passes that found and corrected residual overs.
    ceiling_dbtp : float
        The ceiling the output was held under, dBTP.
    """

    gain_reduction_db: np.ndarray
    max_gain_reduction_db: float
    mean_gain_reduction_db: float
    limited_percent: float
    latency_frames: int
    correction_passes: int
    ceiling_dbtp: float

    def to_dict(self) -> dict[str, float | int]:
        """The statistics (not the curve) as a JSON-ready dict."""
        return {
            "max_gain_reduction_db": self.max_gain_reduction_db,
            "mean_gain_reduction_db": self.mean_gain_reduction_db,
            "limited_percent": self.limited_percent,
            "latency_frames": self.latency_frames,
            "correction_passes": self.correction_passes,
            "ceiling_dbtp": self.ceiling_dbtp,
        }


@dataclass(frozen=True)
class DetectorEnvelope:
    """The limiter's detector input for one signal at unity gain (step 1 of the module
    docstring), from :func:`detector_envelope`.

    The interpolator is linear, so the envelope of ``g * x`` is ``g`` times that of ``x``:
    computed once, it serves :func:`limit` at any ``gain_db`` on the same samples.
    ``limit(x, gain_db=g, envelope=detector_envelope(x, rate))``
    gives exactly the samples of ``limit(x, gain_db=g)``.

    Attributes
    ----------
    values : np.ndarray [shape=(rows, frames + 32), dtype=float32]
        Read-only. True-peak magnitude per frame of the signal zero-padded by 16 frames on
        each side; one row (the channels' maximum) when linked, else one per channel.
    peak : float
        Largest of ``values``.
    frames, channels, sample_rate : int
        What it was computed for.
    linked : bool
        Whether the rows were linked (stereo link with more than one channel).
    """

    values: np.ndarray
    peak: float
    frames: int
    channels: int
    sample_rate: int
    linked: bool


def _detector(audio: np.ndarray, rate: int, stereo_link: bool) -> DetectorEnvelope:
    channels, frames = audio.shape
    padded = np.zeros((channels, frames + 2 * _EDGE_PAD), dtype=np.float32)
    padded[:, _EDGE_PAD : _EDGE_PAD + frames] = audio
    # The meter's oversampling factor, so that the detector sees the peaks the meter will.
    linked = stereo_link and channels > 1
    values, peak = _link(true_peak_envelope(padded, factor=true_peak_factor(rate)), linked)
    values.setflags(write=False)
    return DetectorEnvelope(values, float(peak), frames, channels, rate, linked)


def detector_envelope(
    samples: np.ndarray, sample_rate: int, *, stereo_link: bool = True
) -> DetectorEnvelope:
    """The detector envelope :func:`limit` computes from ``samples`` (at unity gain).

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        Audio, float, finite: the samples that will be passed to :func:`limit`.
    sample_rate : int
        Sample rate in Hz.
    stereo_link : bool
        As it will be passed to :func:`limit`.

    Returns
    -------
    DetectorEnvelope
    """
    return _detector(as_2d(samples), check_rate(sample_rate), stereo_link)


def detector_target(ceiling_dbtp: float) -> float:
    """The linear level the limiter holds its detector to under ``ceiling_dbtp`` (dBTP):
    the ceiling less the detector margin."""
    return 10.0 ** (ceiling_dbtp / 20.0) * 10.0 ** (-_DETECTOR_MARGIN_DB / 20.0)


def _check_detector(
    detector: DetectorEnvelope, channels: int, frames: int, rate: int, linked: bool
) -> None:
    made_for = (detector.channels, detector.frames, detector.sample_rate, detector.linked)
    if made_for != (channels, frames, rate, linked):
        raise ParameterError(
            "envelope was computed for (channels, frames, sample_rate, linked) ="
            f" {made_for}, not {(channels, frames, rate, linked)}: use"
            " detector_envelope() of the same samples with the same stereo_link"
        )


def _check_args(
    sample_rate: int,
    ceiling_dbtp: float,
    lookahead_ms: float,
    attack_ms: float | None,
    release_ms: float,
) -> tuple[int, int, int]:
    """Validated rate, look-ahead and ramp lengths in frames."""
    rate = check_rate(sample_rate)
    check_range("ceiling_dbtp", ceiling_dbtp, -60.0, 0.0)
    check_range("lookahead_ms", lookahead_ms, 1.0, 50.0)
    check_range("release_ms", release_ms, 0.0, 5000.0)
    lookahead = max(round(lookahead_ms * rate / 1000.0), _HOLD_FRAMES + 2)
    longest = lookahead - _HOLD_FRAMES
    if attack_ms is None:
        ramp = longest
    else:
        check_range("attack_ms", attack_ms, 0.0, lookahead_ms)
        ramp = min(max(round(attack_ms * rate / 1000.0), 1), longest)
    return rate, lookahead, ramp


@numba.njit(cache=True, nogil=True)
def _reduction(log_gain: np.ndarray, floor_db: float) -> tuple[np.ndarray, float, float, int]:
    """Gain reduction in dB (>= 0, float32) and its max, its sum and count over frames
    above ``floor_db``."""
    rows, frames = log_gain.shape
    out = np.empty((rows, frames), dtype=np.float32)
    scale = np.float32(-_NEPER_TO_DB)
    largest = 0.0
    total = 0.0
    count = 0
    for r in range(rows):
        for i in range(frames):
            value = max(scale * log_gain[r, i], np.float32(0.0))
            out[r, i] = value
            largest = max(largest, value)
            if value > floor_db:
                total += value
                count += 1
    return out, largest, total, count


def _report(
    log_gain: np.ndarray,
    *,
    was_1d: bool,
    lookahead: int,
    passes: int,
    ceiling_dbtp: float,
) -> LimiterReport:
    reduction, largest, total, count = _reduction(log_gain, _REPORT_FLOOR_DB)
    frames = max(reduction.size, 1)
    return LimiterReport(
        gain_reduction_db=reduction[0] if (was_1d or reduction.shape[0] == 1) else reduction,
        max_gain_reduction_db=float(largest),
        mean_gain_reduction_db=total / count if count else 0.0,
        limited_percent=100.0 * count / frames,
        latency_frames=lookahead,
        correction_passes=passes,
        ceiling_dbtp=float(ceiling_dbtp),
    )


@overload
def limit(
    samples: np.ndarray,
    *,
    sample_rate: int,
    ceiling_dbtp: float = ...,
    lookahead_ms: float = ...,
    attack_ms: float | None = ...,
    release_ms: float = ...,
    stereo_link: bool = ...,
    compensate_latency: bool = ...,
    gain_db: float = ...,
    envelope: DetectorEnvelope | None = ...,
    return_gain: Literal[False] = ...,
) -> np.ndarray: ...


@overload
def limit(
    samples: np.ndarray,
    *,
    sample_rate: int,
    ceiling_dbtp: float = ...,
    lookahead_ms: float = ...,
    attack_ms: float | None = ...,
    release_ms: float = ...,
    stereo_link: bool = ...,
    compensate_latency: bool = ...,
    gain_db: float = ...,
    envelope: DetectorEnvelope | None = ...,
    return_gain: Literal[True],
) -> tuple[np.ndarray, LimiterReport]: ...


@overload
def limit(
    samples: np.ndarray,
    *,
    sample_rate: int,
    ceiling_dbtp: float = ...,
    lookahead_ms: float = ...,
    attack_ms: float | None = ...,
    release_ms: float = ...,
    stereo_link: bool = ...,
    compensate_latency: bool = ...,
    gain_db: float = ...,
    envelope: DetectorEnvelope | None = ...,
    return_gain: bool = ...,
) -> np.ndarray | tuple[np.ndarray, LimiterReport]: ...


def limit(
    samples: np.ndarray,
    *,
    sample_rate: int,
    ceiling_dbtp: float = -1.0,
    lookahead_ms: float = 5.0,
    attack_ms: float | None = None,
    release_ms: float = 100.0,
    stereo_link: bool = True,
    compensate_latency: bool = True,
    gain_db: float = 0.0,
    envelope: DetectorEnvelope | None = None,
    return_gain: bool = False,
) -> np.ndarray | tuple[np.ndarray, LimiterReport]:
    """Hold the true peak of ``samples`` at or under ``ceiling_dbtp``.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        Audio, float, finite; any level (over-full-scale input is fine).
    sample_rate : int
        Sample rate in Hz.
    ceiling_dbtp : float
        Largest true peak allowed in the output, dBTP (-60 to 0). The output sits at most
        a few hundredths of a dB under it where limiting.
    lookahead_ms : float
        How far ahead the limiter looks, ms (1 to 50): the gain starts falling this long
        before a peak. At least 10 frames are used.
    attack_ms : float or None
        Length of the attack ramp within the look-ahead, ms: shorter keeps more of a
        transient's onset, longer is smoother. None uses the whole look-ahead (less the
        8-frame hold around each peak).
    release_ms : float
        One-pole time constant of the recovery after a peak, ms (applied to the gain in dB).
    stereo_link : bool
        One gain for all channels (the image stays put); False limits each channel alone.
    compensate_latency : bool
        True returns output aligned with the input. False returns what a streaming limiter
        would: delayed by ``latency_frames``, the last ``latency_frames`` frames cut off.
    gain_db : float
        Gain applied before limiting, dB (-100 to 100): the input is
        ``samples * float32(10 ** (gain_db / 20))``. The detector scales the envelope of
        ``samples`` by the gain instead of measuring the gained samples again (the two agree
        to float32 rounding, far inside the margins); this is the path for levelling, and
        the same ``gain_db`` always gives the same output.
    envelope : DetectorEnvelope or None
        :func:`detector_envelope` of ``samples`` (at unity gain, same ``stereo_link``), to
        limit the same samples at several gains without computing it each time. The output
        is exactly that of computing it here.
    return_gain : bool
        Also return a :class:`LimiterReport` with the gain-reduction curve and statistics.

    Returns
    -------
    out : np.ndarray [shape like ``samples``, dtype=float32]
        Limited audio, as long as the input.
    report : LimiterReport
        Only with ``return_gain``.

    Raises
    ------
    ParameterError
        On an out-of-range value or a malformed array.
    """
    rate, lookahead, ramp = _check_args(
        sample_rate, ceiling_dbtp, lookahead_ms, attack_ms, release_ms
    )
    check_range("gain_db", gain_db, -100.0, 100.0)
    was_1d = np.ndim(samples) == 1
    source = as_2d(samples)
    channels, frames = source.shape
    ceiling = 10.0 ** (ceiling_dbtp / 20.0)
    target = detector_target(ceiling_dbtp)
    verify_at = ceiling * 10.0 ** (-_VERIFY_MARGIN_DB / 20.0)
    factor = true_peak_factor(rate)
    linked = stereo_link and channels > 1
    gain = np.float32(10.0 ** (gain_db / 20.0))
    audio = source if gain_db == 0.0 else source * gain

    detector = envelope
    if detector is not None:
        _check_detector(detector, channels, frames, rate, linked)
    elif max_true_peak(source, factor=factor) * float(gain) * (1.0 + 1e-4) > target:
        # Otherwise nothing can need limiting (the exact peak search reads the same
        # interpolated values as the envelope, to float32 rounding), and the envelope is
        # not needed to know it.
        detector = _detector(source, rate, stereo_link)
    padded_frames = frames + 2 * _EDGE_PAD
    inner = slice(_EDGE_PAD, _EDGE_PAD + frames)
    rows = 1 if linked else channels
    log_gain = np.zeros((rows, padded_frames), dtype=np.float32)
    passes = 0
    if detector is not None and float(np.float32(detector.peak) * gain) > target:
        # Scaling is monotonic in float32: the peak of the scaled rows is the scaled peak.
        env = detector.values * gain if gain_db != 0.0 else detector.values
        log_required = np.empty_like(env)
        with np.errstate(divide="ignore"):
            np.divide(np.float32(target), env, out=log_required)
        np.log(log_required, out=log_required)
        np.minimum(log_required, 0.0, out=log_required)
        release = one_pole_coefficient(release_ms, rate)
        log_gain = np.stack([_look_ahead(row, ramp, release) for row in log_required])
        gain_curve = np.exp(log_gain)
        result = apply_gain(audio, gain_curve[:, inner])
        phases = interpolator_phases(factor)
        # The bound of _unproven_frames needs the envelope to include the samples themselves
        # (a pass-through branch); without one, every frame is measured.
        provable = np.count_nonzero(phases[0]) == 1 and float(phases[0].max()) == 1.0
        for _ in range(_MAX_CORRECTIONS):
            if provable:
                unproven = _unproven_frames(
                    log_gain,
                    gain_curve,
                    env,
                    phases.shape[1] // 2 + 1,
                    max_phase_gain(phases) * target,
                    verify_at,
                )
            else:
                unproven = np.ones(padded_frames, dtype=np.bool_)
            segments = _measure(result, _stretches(unproven, _MERGE_GAP_FRAMES), factor, linked)
            overs = [(start, seg) for start, seg in segments if float(seg.max()) > verify_at]
            if not overs:
                break
            passes += 1
            fix = np.zeros_like(log_gain)
            for start, over in overs:
                # A hair under the verify level, so that float32 rounding of the corrected
                # product does not leave the same frame marginally over again.
                with np.errstate(divide="ignore"):
                    wanted = np.log(np.float32(verify_at * (1.0 - 1e-5)) / over)
                fix[:, start : start + over.shape[1]] = np.minimum(wanted, 0.0)
            log_gain += np.stack([_look_ahead(row, ramp, 0.0) for row in fix])
            gain_curve = np.exp(log_gain)
            result = apply_gain(audio, gain_curve[:, inner])
        else:
            # Last resort, never reached on any signal we have tried: scaling the whole
            # output scales its interpolated values exactly, whatever the gain did.
            measured = max_true_peak(result, factor=factor)
            if measured > verify_at:
                log_gain += np.float32(math.log(verify_at * (1.0 - 1e-5) / measured))
                result = apply_gain(audio, np.exp(log_gain)[:, inner])
    else:
        result = audio.copy()

    log_gain = log_gain[:, inner]
    if not compensate_latency:
        delayed = np.zeros_like(result)
        delayed[:, lookahead:] = result[:, : max(frames - lookahead, 0)]
        result = delayed
        shifted = np.zeros_like(log_gain)
        shifted[:, lookahead:] = log_gain[:, : max(frames - lookahead, 0)]
        log_gain = shifted
    if was_1d:
        result = result[0]
    if not return_gain:
        return result
    return result, _report(
        log_gain, was_1d=was_1d, lookahead=lookahead, passes=passes, ceiling_dbtp=ceiling_dbtp
    )
