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
    sliding_min,
)
from soundry.dsp.loudness import true_peak_factor
from soundry.dsp.oversample import interpolator_phases, max_phase_gain, true_peak_envelope

__all__ = ["LimiterReport", "limit"]

# Zeros around the signal for the detector: the interpolator reaches 8 frames either side, so
# its tails past the ends of the signal (which the meter counts) land in the padding.
_EDGE_PAD = 16
# Frames each side of a peak over which the gain is held at or below its required value:
# the interpolator's stencil for a frame spans input frames -7 .. +8.
_HOLD_FRAMES = 8
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
# Frames left to measure come in short stretches; stretches closer than this are measured in
# one call (fewer, longer calls are faster).
_MERGE_GAP_FRAMES = 4096
_NEPER_TO_DB = 20.0 / math.log(10.0)
# A release tail this close to unity gain (in nepers) is snapped to it: exp() of it rounds to
# 1.0 in float32 anyway, and snapping lets unlimited stretches pass bit-exact.
_SNAP_NEPER = -3e-8
# Fixed-point scale (units per neper) of the look-ahead's running sums.
_FIXED_SCALE = 2.0**40


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


@numba.njit(cache=True, nogil=True)
def _ramp_and_release(
    held: np.ndarray, frames: int, first: int, second: int, release_coeff: float
) -> np.ndarray:
    """Two cascaded forward moving averages of ``held`` (lengths ``first``, ``second``),
    then a one-pole release; ``held`` must extend ``first + second - 2`` frames past
    ``frames``.

    The running sums are kept in fixed point (int64): they are exact, so they never drift,
    and a window of zeros sums to exactly zero, which gives frames needing no limiting a
    gain of exactly one. Falls of the averaged gain pass straight through the release
    stage; rises lag behind it, so the release never lifts the gain above the average.
    """
    # Rounded down, so the fixed-point gain is never above the float one.
    fixed = np.empty(held.shape[0], dtype=np.int64)
    for s in range(held.shape[0]):
        fixed[s] = np.int64(math.floor(held[s] * _FIXED_SCALE))
    out = np.empty(frames, dtype=np.float32)
    ring = np.zeros(second, dtype=np.int64)  # the last ``second`` first-stage sums
    position = 0
    sum1 = np.int64(0)
    for s in range(first - 1):
        sum1 += fixed[s]
    sum2 = np.int64(0)
    for s in range(second - 1):
        sum1 += fixed[s + first - 1]
        sum2 += sum1
        ring[position] = sum1
        position += 1
        sum1 -= fixed[s]
    scale = 1.0 / (first * second * _FIXED_SCALE)
    state = 0.0
    for t in range(frames):
        s = t + second - 1
        sum1 += fixed[s + first - 1]
        sum2 += sum1 - ring[position]
        ring[position] = sum1
        position += 1
        if position == second:
            position = 0
        sum1 -= fixed[s]
        value = sum2 * scale
        if value <= state:
            state = value
        else:
            state = release_coeff * state + (1.0 - release_coeff) * value
            if state > _SNAP_NEPER:
                state = 0.0
        out[t] = state
    return out


def _ramp_lengths(ramp: int) -> tuple[int, int]:
    """Split a ramp of ``ramp`` frames into two boxes whose cascade spans it: a trapezoid
    kernel, so the gain's slope is continuous and at most 1.5x that of a linear ramp."""
    first = max(1, math.ceil(2 * ramp / 3))
    return first, ramp - first + 1


def _look_ahead(log_required: np.ndarray, ramp: int, release_coeff: float) -> np.ndarray:
    """Smoothed log gain (nepers, <= 0) that stays at or under ``log_required`` within
    ``_HOLD_FRAMES`` of every frame; see the module docstring, steps 3 and 4."""
    frames = log_required.shape[0]
    # The averages read up to ``ramp`` frames past the end, where the minima must still see
    # the last frames' requirements (and "nothing needed" beyond).
    held = sliding_min(log_required, _HOLD_FRAMES + ramp - 1, _HOLD_FRAMES, 0.0, ramp)
    first, second = _ramp_lengths(ramp)
    return _ramp_and_release(held, frames, first, second, release_coeff)


@numba.njit(cache=True, nogil=True)
def _unproven_frames(
    log_gain: np.ndarray,
    gain: np.ndarray,
    envelope: np.ndarray,
    reach: int,
    limit_gain: float,
    headroom: float,
) -> np.ndarray:
    """Frames whose output true peak cannot be shown to be under the verify level.

    For frame t, with gain g and input samples x over the interpolator's stencil S,
    ``y(t) = g_t x(t) + sum_j h_j (g_j - g_t) x_j``. The first term is at most
    ``g_t * envelope_t``. Every frame has ``g_j |x_j| <= target`` (the gain never exceeds
    the required gain, and the envelope includes the sample itself), so the second is at most
    ``H * target * (exp(D) - 1)``, where H bounds the branches' L1 norm and D is the largest
    log-gain difference over S, itself at most the total variation of the log gain there.
    ``limit_gain`` is ``H * target``; ``headroom`` the verify level. Frames where the sum
    stays under it need no measuring; this leaves out nearly all of them, since the gain is
    held flat around every peak.

    Returns
    -------
    unproven : np.ndarray [shape=(frames,), dtype=bool]
    """
    rows, frames = log_gain.shape
    unproven = np.zeros(frames, dtype=np.bool_)
    for r in range(rows):
        lg = log_gain[r]
        # Window sum of |l[j + 1] - l[j]| for j in [t - reach, t + reach); l = 0 outside.
        variation = 0.0
        for j in range(-reach - 1, reach - 1):
            lo = lg[j] if 0 <= j < frames else 0.0
            hi = lg[j + 1] if 0 <= j + 1 < frames else 0.0
            variation += abs(hi - lo)
        for t in range(frames):
            j = t + reach - 1  # the difference entering the window
            lo = lg[j] if j < frames else 0.0
            hi = lg[j + 1] if j + 1 < frames else 0.0
            variation += abs(hi - lo)
            k = t - reach - 1  # the difference leaving it
            lo = lg[k] if k >= 0 else 0.0
            hi = lg[k + 1] if k + 1 >= 0 else 0.0
            variation -= abs(hi - lo)
            # Rounding in the running sum is far below this guard.
            spread = max(variation, 0.0) + 1e-9
            if spread > 0.5:
                unproven[t] = True
                continue
            # exp(D) - 1 <= D (1 + D) for D <= 1.
            bound = gain[r, t] * envelope[r, t] * (1.0 + 1e-5) + limit_gain * spread * (
                1.0 + spread
            )
            if bound > headroom:
                unproven[t] = True
    return unproven


@numba.njit(cache=True, nogil=True)
def _scan_stretches(mask: np.ndarray, merge_gap: int, found: np.ndarray) -> int:
    """Count (and, if ``found`` has room, record) the runs of :func:`_stretches`."""
    frames = mask.shape[0]
    count = 0
    start = -1
    last = -1
    for i in range(frames):
        if not mask[i]:
            continue
        if start < 0:
            start = i
        elif i - last > merge_gap:
            if count < found.shape[0]:
                found[count, 0] = start
                found[count, 1] = last + 1
            count += 1
            start = i
        last = i
    if start >= 0:
        if count < found.shape[0]:
            found[count, 0] = start
            found[count, 1] = last + 1
        count += 1
    return count


def _stretches(mask: np.ndarray, merge_gap: int) -> np.ndarray:
    """Half-open ``[start, stop)`` runs of True in ``mask``, merged when closer than
    ``merge_gap`` frames.

    Returns
    -------
    stretches : np.ndarray [shape=(count, 2), dtype=int64]
    """
    found = np.empty((0, 2), dtype=np.int64)
    count = _scan_stretches(mask, merge_gap, found)
    found = np.empty((count, 2), dtype=np.int64)
    _scan_stretches(mask, merge_gap, found)
    return found


@numba.njit(cache=True, nogil=True)
def _link(envelope: np.ndarray, linked: bool) -> tuple[np.ndarray, float]:
    """The detector rows (the channels' maximum when ``linked``) and their overall maximum."""
    channels, frames = envelope.shape
    if not linked or channels == 1:
        peak = 0.0
        for c in range(channels):
            for i in range(frames):
                peak = max(peak, envelope[c, i])
        return envelope, peak
    out = envelope[0].copy()
    for c in range(1, channels):
        row = envelope[c]
        for i in range(frames):
            out[i] = max(out[i], row[i])
    peak = 0.0
    for i in range(frames):
        peak = max(peak, out[i])
    return out.reshape((1, frames)), peak


def _measure(
    out: np.ndarray, stretches: np.ndarray, factor: int, linked: bool
) -> list[tuple[int, np.ndarray]]:
    """True-peak envelope of the output on ``stretches`` of padded frames.

    ``out`` is the unpadded output; frame ``p`` of the padded grid is ``out[:, p - _EDGE_PAD]``
    (zero outside). Each stretch is measured with enough context on both sides that its
    values equal those of the whole signal's envelope.

    Returns
    -------
    segments : list of (start, envelope rows)
        Padded start frame and the detector rows over the stretch (linked when ``linked``).
    """
    context = 2 * _HOLD_FRAMES
    channels, frames = out.shape
    segments = []
    for start, stop in stretches.tolist():
        lo, hi = start - context - _EDGE_PAD, stop + context - _EDGE_PAD
        if lo < 0 or hi > frames:  # reaches into the zeros around the signal
            piece = np.zeros((channels, hi - lo), dtype=np.float32)
            piece[:, max(-lo, 0) : min(frames, hi) - lo] = out[:, max(lo, 0) : min(frames, hi)]
        else:
            piece = out[:, lo:hi]
        env = true_peak_envelope(piece, factor=factor)[:, context : context + stop - start]
        segments.append((start, _link(np.ascontiguousarray(env), linked)[0]))
    return segments


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


def _report(
    log_gain: np.ndarray,
    *,
    was_1d: bool,
    lookahead: int,
    passes: int,
    ceiling_dbtp: float,
) -> LimiterReport:
    reduction = (-_NEPER_TO_DB * log_gain).astype(np.float32)
    np.maximum(reduction, 0.0, out=reduction)
    limited = reduction > _REPORT_FLOOR_DB
    count = int(limited.sum())
    frames = max(reduction.size, 1)
    return LimiterReport(
        gain_reduction_db=reduction[0] if (was_1d or reduction.shape[0] == 1) else reduction,
        max_gain_reduction_db=float(reduction.max(initial=0.0)),
        mean_gain_reduction_db=float(reduction[limited].mean()) if count else 0.0,
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
    was_1d = np.ndim(samples) == 1
    audio = as_2d(samples)
    channels, frames = audio.shape
    ceiling = 10.0 ** (ceiling_dbtp / 20.0)
    target = ceiling * 10.0 ** (-_DETECTOR_MARGIN_DB / 20.0)
    verify_at = ceiling * 10.0 ** (-_VERIFY_MARGIN_DB / 20.0)

    padded = np.zeros((channels, frames + 2 * _EDGE_PAD), dtype=np.float32)
    padded[:, _EDGE_PAD : _EDGE_PAD + frames] = audio
    # The meter's oversampling factor, so that the detector sees the peaks the meter will.
    factor = true_peak_factor(rate)
    linked = stereo_link and channels > 1
    envelope, peak = _link(true_peak_envelope(padded, factor=factor), linked)
    rows = envelope.shape[0]
    inner = slice(_EDGE_PAD, _EDGE_PAD + frames)

    log_gain = np.zeros((rows, padded.shape[1]), dtype=np.float32)
    passes = 0
    if peak > target:
        log_required = np.empty_like(envelope)
        with np.errstate(divide="ignore"):
            np.divide(np.float32(target), envelope, out=log_required)
        np.log(log_required, out=log_required)
        np.minimum(log_required, 0.0, out=log_required)
        release = one_pole_coefficient(release_ms, rate)
        log_gain = np.stack([_look_ahead(row, ramp, release) for row in log_required])
        gain = np.exp(log_gain)
        result = apply_gain(audio, gain[:, inner])
        phases = interpolator_phases(factor)
        # The bound of _unproven_frames needs the envelope to include the samples themselves
        # (a pass-through branch); without one, every frame is measured.
        provable = np.count_nonzero(phases[0]) == 1 and float(phases[0].max()) == 1.0
        for _ in range(_MAX_CORRECTIONS):
            if provable:
                unproven = _unproven_frames(
                    log_gain,
                    gain,
                    envelope,
                    phases.shape[1] // 2 + 1,
                    max_phase_gain(phases) * target,
                    verify_at,
                )
            else:
                unproven = np.ones(padded.shape[1], dtype=np.bool_)
            segments = _measure(result, _stretches(unproven, _MERGE_GAP_FRAMES), factor, linked)
            overs = [(start, env) for start, env in segments if float(env.max()) > verify_at]
            if not overs:
                break
            passes += 1
            fix = np.zeros_like(log_gain)
            for start, env in overs:
                # A hair under the verify level, so that float32 rounding of the corrected
                # product does not leave the same frame marginally over again.
                with np.errstate(divide="ignore"):
                    wanted = np.log(np.float32(verify_at * (1.0 - 1e-5)) / env)
                fix[:, start : start + env.shape[1]] = np.minimum(wanted, 0.0)
            log_gain += np.stack([_look_ahead(row, ramp, 0.0) for row in fix])
            gain = np.exp(log_gain)
            result = apply_gain(audio, gain[:, inner])
        else:
            # Last resort, never reached on any signal we have tried: scaling the whole
            # output scales its interpolated values exactly, whatever the gain did.
            padded[:, inner] = result
            measured = float(true_peak_envelope(padded, factor=factor).max())
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
