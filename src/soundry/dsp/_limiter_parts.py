"""Kernels of the true-peak limiter (:mod:`soundry.dsp.limiter`): look-ahead gain, the cheap
bound that spares most frames from measuring, and measuring the output on stretches."""

from __future__ import annotations

import math

import numba
import numpy as np

from soundry.dsp._dynamics_common import sliding_min
from soundry.dsp.oversample import true_peak_envelope

# Zeros around the signal for the detector: the interpolator reaches 8 frames either side, so
# its tails past the ends of the signal (which the meter counts) land in the padding.
_EDGE_PAD = 16
# Frames each side of a peak over which the gain is held at or below its required value:
# the interpolator's stencil for a frame spans input frames -7 .. +8.
_HOLD_FRAMES = 8
# Frames left to measure come in short stretches; stretches closer than this are measured in
# one call (fewer, longer calls are faster).
_MERGE_GAP_FRAMES = 4096
_NEPER_TO_DB = 20.0 / math.log(10.0)
# A release tail this close to unity gain (in nepers) is snapped to it: exp() of it rounds to
# 1.0 in float32 anyway, and snapping lets unlimited stretches pass bit-exact.
_SNAP_NEPER = -3e-8
# Fixed-point scale (units per neper) of the look-ahead's running sums.
_FIXED_SCALE = 2.0**40


@numba.njit(cache=True, nogil=True)
def _ramp_and_release(
    held: np.ndarray,
    frames: int,
    first: int,
    second: int,
    release_coeff: float,
) -> np.ndarray:
    """Two cascaded forward moving averages of ``min(0, held)`` (lengths ``first``,
    ``second``), then a one-pole release; ``held`` (the limiter's held minima) must extend
    ``first + second - 2`` frames past ``frames``.

    The running sums are kept in fixed point (int64): they are exact, so they never drift,
    and a window of zeros sums to exactly zero, which gives frames needing no limiting a
    gain of exactly one. Falls of the averaged gain pass straight through the release
    stage; rises lag behind it, so the release never lifts the gain above the average.
    """
    # Rounded down, so the fixed-point gain is never above the float one.
    fixed = np.empty(held.shape[0], dtype=np.int64)
    for s in range(held.shape[0]):
        fixed[s] = np.int64(math.floor(min(0.0, held[s]) * _FIXED_SCALE))
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
