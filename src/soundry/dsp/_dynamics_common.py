"""Pieces shared by the dynamics processors and the limiter: argument checks and kernels."""

from __future__ import annotations

import math
from typing import Literal

import numba
import numpy as np

from soundry.audio.buffer import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from soundry.errors import ParameterError

__all__ = [
    "Detector",
    "LinkMode",
    "apply_gain",
    "as_2d",
    "check_range",
    "check_rate",
    "compress_row",
    "detector_levels_db",
    "expand_row",
    "one_pole_coefficient",
    "sliding_min",
]

Detector = Literal["peak", "rms"]
LinkMode = Literal["max", "mean"]

# Levels are floored here so that silence gives a finite (very low) level, never -inf/NaN.
_FLOOR_DB = -240.0
_FLOOR_POWER = 10.0 ** (_FLOOR_DB / 10.0)


def check_rate(sample_rate: int) -> int:
    """``sample_rate`` as an int, or :class:`ParameterError` naming it."""
    try:
        rate = int(sample_rate)
    except (TypeError, ValueError, OverflowError):
        rate = -1
    if rate != sample_rate or not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise ParameterError(
            f"sample_rate must be an integer from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz;"
            f" got {sample_rate}"
        )
    return rate


def check_range(name: str, value: float, low: float, high: float) -> float:
    """``value`` as a float in ``[low, high]``, or :class:`ParameterError` naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number; got {value!r}") from None
    if not low <= number <= high:  # also rejects NaN
        raise ParameterError(f"{name} must be from {low:g} to {high:g}; got {value}")
    return number


def as_2d(samples: np.ndarray, name: str = "samples") -> np.ndarray:
    """``samples`` as C-contiguous float32 ``(channels, frames)``; rejects NaN and inf.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        Float audio.
    name : str
        Argument name for error messages.

    Returns
    -------
    audio : np.ndarray [shape=(channels, frames), dtype=float32]
    """
    data = np.asarray(samples)
    if data.ndim == 1:
        data = data[np.newaxis, :]
    if data.ndim != 2 or data.shape[0] < 1:
        raise ParameterError(
            f"{name} must have shape (channels, frames) or (frames,); got {np.shape(samples)}"
        )
    if not np.issubdtype(data.dtype, np.floating):
        raise ParameterError(f"{name} must be a float array; got dtype {data.dtype}")
    data = np.ascontiguousarray(data, dtype=np.float32)
    if not np.isfinite(data).all():
        raise ParameterError(f"{name} contains NaN or infinite values")
    return data


def one_pole_coefficient(time_ms: float, sample_rate: int) -> float:
    """Pole of a one-pole smoother that covers 1 - 1/e of a step in ``time_ms``.

    0 ms gives 0.0, an instantaneous response.
    """
    if time_ms <= 0.0:
        return 0.0
    return math.exp(-1000.0 / (time_ms * sample_rate))


@numba.njit(cache=True, nogil=True)
def sliding_min(
    values: np.ndarray, back: int, ahead: int, outside: float, extra: int = 0
) -> np.ndarray:
    """``out[i] = min(values[i - back : i + ahead + 1])``, reading ``outside`` past the ends.

    van Herk / Gil-Werman: cut the padded signal into blocks of the window length; a window
    spans at most two blocks, so its minimum is the minimum of a suffix of one block and a
    prefix of the next. Suffix minima are stored, prefix minima run along with the output:
    three passes for any window length, with no data-dependent branches.

    Parameters
    ----------
    values : np.ndarray [shape=(n,), dtype=float32 or float64]
    back, ahead : int
        Frames of the window before and after ``i`` (>= 0).
    outside : float
        Value assumed before the first and after the last frame.
    extra : int
        Outputs to compute past the last frame (their windows reach further into
        ``outside``).

    Returns
    -------
    out : np.ndarray [shape=(n + extra,), same dtype as ``values``]
    """
    frames = values.shape[0]
    n = frames + extra
    width = back + ahead + 1
    size = n + width - 1
    padded = np.empty(size, dtype=values.dtype)
    padded[:back] = outside
    padded[back : back + frames] = values
    padded[back + frames :] = outside
    suffix = np.empty(size, dtype=values.dtype)
    for start in range(0, size, width):
        stop = min(start + width, size)
        acc = padded[stop - 1]
        for p in range(stop - 1, start - 1, -1):
            value = padded[p]
            acc = value if value < acc else acc
            suffix[p] = acc
    out = np.empty(n, dtype=values.dtype)
    # The window of out[i] is padded[i : i + width]; ``prefix`` is the minimum from the start
    # of the block holding its last frame up to that frame, ``phase`` that frame's offset in
    # its block (kept as a counter: an integer modulo per sample would dominate the cost).
    prefix = padded[0]
    for p in range(1, width - 1):
        value = padded[p]
        prefix = value if value < prefix else prefix
    phase = width - 2
    for i in range(n):
        value = padded[i + width - 1]
        phase += 1
        if phase == width:
            phase = 0
            prefix = value
        elif i == 0 and width == 1:
            prefix = value
        else:
            prefix = value if value < prefix else prefix
        low = suffix[i]
        out[i] = prefix if prefix < low else low
    return out


@numba.njit(cache=True, nogil=True)
def apply_gain(audio: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """``audio * gain`` row by row, float32; ``gain`` has one row or one per channel.

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, frames), dtype=float32]
    gain : np.ndarray [shape=(1 or channels, frames), dtype=float32]

    Returns
    -------
    out : np.ndarray [shape=(channels, frames), dtype=float32]
    """
    channels, n = audio.shape
    out = np.empty((channels, n), dtype=np.float32)
    shared = gain.shape[0] == 1
    for c in range(channels):
        g = gain[0] if shared else gain[c]
        src = audio[c]
        dst = out[c]
        for i in range(n):
            dst[i] = src[i] * g[i]
    return out


# ---------------------------------------------------------------------------------------------
# Level detection for the dynamics processors


@numba.njit(cache=True, nogil=True)
def _moving_mean_square(row: np.ndarray, window: int) -> np.ndarray:
    """Causal mean of x² over the last ``window`` frames (zeros before the start).

    Block sums, not a running add/subtract: a running sum drifts after a loud passage and
    would report a level of rounding noise (or a negative power) in the silence after it.
    Each window is a suffix of one block plus a prefix of the next, both summed afresh per
    block, so the error stays relative to the window's own content.
    """
    n = row.shape[0]
    size = n + window - 1  # padded frame p holds row[p - window + 1]
    offset = window - 1
    suffix = np.empty(size, dtype=np.float64)
    for start in range(0, size, window):
        acc = 0.0
        for p in range(min(start + window, size) - 1, start - 1, -1):
            if p >= offset:
                acc += float(row[p - offset]) * float(row[p - offset])
            suffix[p] = acc
    out = np.empty(n, dtype=np.float32)
    scale = 1.0 / window
    prefix = 0.0
    # The window of out[i] is padded frames i .. i + offset, and frame i + offset is row[i];
    # ``phase`` is that last frame's offset in its block (a counter, not a modulo per sample).
    phase = offset % window - 1
    for i in range(n):
        power = float(row[i]) * float(row[i])
        phase += 1
        if phase == window:
            phase = 0
        prefix = power if phase == 0 else prefix + power
        total = prefix if phase == window - 1 else suffix[i] + prefix
        out[i] = total * scale
    return out


@numba.njit(cache=True, nogil=True)
def _combine_channels(power: np.ndarray, use_mean: bool, square: bool) -> np.ndarray:
    """Per-frame maximum (or mean) over channels of ``power`` (squared first if ``square``):
    the linked detector, in one pass over the audio."""
    channels, n = power.shape
    out = np.empty(n, dtype=np.float32)
    first = power[0]
    for i in range(n):
        out[i] = first[i] * first[i] if square else first[i]
    for c in range(1, channels):
        row = power[c]
        for i in range(n):
            value = row[i] * row[i] if square else row[i]
            if use_mean:
                out[i] += value
            elif value > out[i]:
                out[i] = value
    if use_mean:
        scale = np.float32(1.0 / channels)
        for i in range(n):
            out[i] *= scale
    return out


def detector_levels_db(
    source: np.ndarray,
    *,
    sample_rate: int,
    detector: Detector,
    rms_window_ms: float,
    linked: bool,
    link: LinkMode,
) -> np.ndarray:
    """Detector level per frame in dB (floored at -240 dB, never -inf).

    Parameters
    ----------
    source : np.ndarray [shape=(channels, frames), dtype=float32]
        Detector input.
    sample_rate : int
        Sample rate in Hz.
    detector : {"peak", "rms"}
        Sample magnitude, or mean square over a causal ``rms_window_ms`` window.
    rms_window_ms : float
        RMS window length in ms.
    linked : bool
        Combine the channels into one detector row.
    link : {"max", "mean"}
        How linked channels combine: the largest power or the mean power.

    Returns
    -------
    level_db : np.ndarray [shape=(1 or channels, frames), dtype=float32]
    """
    if detector == "peak" and linked and source.shape[0] > 1:
        power = _combine_channels(source, link == "mean", True)[np.newaxis, :]
    else:
        if detector == "peak":
            power = np.square(source)
        else:
            window = max(1, round(rms_window_ms * sample_rate / 1000.0))
            power = np.stack([_moving_mean_square(row, window) for row in source])
        if linked and power.shape[0] > 1:
            power = _combine_channels(power, link == "mean", False)[np.newaxis, :]
    np.maximum(power, np.float32(_FLOOR_POWER), out=power)
    np.log10(power, out=power)
    power *= np.float32(10.0)
    return power


# ---------------------------------------------------------------------------------------------
# Static curves (log domain) fused with hold and time smoothing, one pass per detector row:
# the compressor's and the expander's kernels
#
# An audio-rate level dips towards -inf at every zero crossing, so the target gain reduction
# computed from it swings once per half cycle. A hold keeps the most demanding target of the
# last ``hold`` frames (a peak that is not renewed within the hold expires, and the target
# falls to the current one), so a steady tone gives a steady target and the smoothing only
# ever sees level changes. Then a branching one-pole: one time constant while the reduction
# rises, the other while it falls. Attack therefore follows exactly one one-pole (63 % after
# attack_ms), and release does too once the hold has expired (63 % hold_ms + release_ms
# after the level drops).


@numba.njit(cache=True, nogil=True)
def _compressor_gain_computer(
    level_db: float, threshold_db: float, slope: float, knee_db: float
) -> float:
    """Gain reduction in dB (>= 0); ``slope`` is 1 - 1/ratio."""
    over = level_db - threshold_db
    if knee_db > 0.0 and 2.0 * abs(over) <= knee_db:
        half = over + 0.5 * knee_db
        return slope * half * half / (2.0 * knee_db)
    if over <= 0.0:
        return 0.0
    return slope * over


@numba.njit(cache=True, nogil=True)
def compress_row(
    level_db: np.ndarray,
    threshold_db: float,
    slope: float,
    knee_db: float,
    hold: int,
    attack_coeff: float,
    release_coeff: float,
) -> np.ndarray:
    """Smoothed gain reduction (dB, >= 0) of a compressor for one detector row: the largest
    target is held, rises use the attack constant and falls the release constant."""
    n = level_db.shape[0]
    out = np.empty(n, dtype=np.float32)
    held = 0.0
    age = 0
    smooth = 0.0
    for i in range(n):
        target = _compressor_gain_computer(level_db[i], threshold_db, slope, knee_db)
        if target >= held:
            held = target
            age = 0
        else:
            age += 1
            if age > hold:
                held = target
                age = 0
        coeff = attack_coeff if held > smooth else release_coeff
        smooth = coeff * smooth + (1.0 - coeff) * held
        out[i] = smooth
    return out


@numba.njit(cache=True, nogil=True)
def expand_row(
    level_db: np.ndarray,
    threshold_db: float,
    slope: float,
    knee_db: float,
    range_db: float,
    hold: int,
    attack_coeff: float,
    release_coeff: float,
) -> np.ndarray:
    """Smoothed gain reduction (dB, >= 0) of a downward expander for one detector row: the
    smallest target (the most open gain) is held; opening uses the attack constant and
    closing the release constant. ``slope`` is ratio - 1."""
    n = level_db.shape[0]
    out = np.empty(n, dtype=np.float32)
    held = 0.0
    age = 0
    smooth = 0.0
    for i in range(n):
        under = threshold_db - level_db[i]
        if knee_db > 0.0 and 2.0 * abs(under) <= knee_db:
            half = under + 0.5 * knee_db
            target = slope * half * half / (2.0 * knee_db)
        elif under <= 0.0:
            target = 0.0
        else:
            target = slope * under
        target = min(target, range_db)
        if target <= held:
            held = target
            age = 0
        else:
            age += 1
            if age > hold:
                held = target
                age = 0
        coeff = attack_coeff if held < smooth else release_coeff
        smooth = coeff * smooth + (1.0 - coeff) * held
        out[i] = smooth
    return out
