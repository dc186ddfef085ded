"""Polyphase oversampling for true-peak measurement and true-peak limiting.

Inter-sample peaks of a band-limited signal are found by interpolating it at a higher rate
(ITU-R BS.1770-4 Annex 2: at least 4x). Rather than materialising the oversampled signal
(4x the memory and time), the kernels here compute the polyphase outputs on the fly and
reduce them straight away: to one peak value, or to a per-frame envelope at the input rate.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np
from scipy import signal

__all__ = [
    "DEFAULT_FACTOR",
    "DEFAULT_TAPS_PER_PHASE",
    "interpolator_phases",
    "max_phase_gain",
    "true_peak_envelope",
    "upsampled_peak",
]

DEFAULT_FACTOR = 4
DEFAULT_TAPS_PER_PHASE = 16


@lru_cache(maxsize=8)
def interpolator_phases(
    factor: int = DEFAULT_FACTOR, taps_per_phase: int = DEFAULT_TAPS_PER_PHASE
) -> np.ndarray:
    """Polyphase components of a windowed-sinc interpolation filter.

    Parameters
    ----------
    factor : int
        Oversampling factor L (4 meets BS.1770-4).
    taps_per_phase : int
        Taps per polyphase branch; the prototype has ``factor * taps_per_phase`` taps.

    Returns
    -------
    phases : np.ndarray [shape=(factor, taps_per_phase), dtype=float64]
        ``phases[p, k]`` multiplies ``x[n - k]`` to give output sample ``n * factor + p``.
        Each branch has unity DC gain. Read-only.
    """
    numtaps = factor * taps_per_phase
    # Cut-off a little under the input Nyquist, Kaiser window: flat to ~0.9 * Nyquist,
    # which covers the 3341 true-peak tones and keeps the branches short.
    prototype = signal.firwin(numtaps, 0.98 / factor, window=("kaiser", 8.0)) * factor
    phases = np.ascontiguousarray(prototype.reshape(taps_per_phase, factor).T)
    phases /= phases.sum(axis=1, keepdims=True)
    phases.setflags(write=False)
    return phases


def max_phase_gain(phases: np.ndarray) -> float:
    """Largest L1 norm among the branches: no interpolated sample exceeds this times the
    largest input sample magnitude it was computed from (a bound, used to skip work)."""
    return float(np.abs(phases).sum(axis=1).max())


def _alignment_frames(phases: np.ndarray) -> int:
    factor, taps = phases.shape
    return round((factor * taps - 1) / (2 * factor))


_BLOCK = 2048


@numba.njit(cache=True, nogil=True, fastmath=True)
def _phase_block(
    padded: np.ndarray, phases: np.ndarray, start: int, stop: int, out: np.ndarray
) -> None:
    """out[p, i] = sum_k phases[p, k] * padded[start + i + taps - 1 - k], for i < stop - start.

    The inner loop runs over i with fixed coefficients, so it vectorises.
    """
    factor, taps = phases.shape
    length = stop - start
    for p in range(factor):
        # 1-D slices: numba then knows the rows do not alias and vectorises the loop.
        acc = out[p, :length]
        acc[:] = 0.0
        for k in range(taps):
            h = phases[p, k]
            base = start + taps - 1 - k
            segment = padded[base : base + length]
            for i in range(length):
                acc[i] += h * segment[i]


@numba.njit(cache=True, nogil=True, fastmath=True)
def _upsampled_peak_kernel(padded: np.ndarray, phases: np.ndarray) -> float:
    factor, taps = phases.shape
    n_out = padded.shape[0] - taps + 1
    buf = np.empty((factor, _BLOCK), dtype=np.float32)
    peak = 0.0
    for start in range(0, n_out, _BLOCK):
        stop = min(start + _BLOCK, n_out)
        _phase_block(padded, phases, start, stop, buf)
        for p in range(factor):
            for i in range(stop - start):
                a = abs(buf[p, i])
                if a > peak:
                    peak = a
    return peak


@numba.njit(cache=True, nogil=True, fastmath=True)
def _true_peak_envelope_kernel(padded: np.ndarray, phases: np.ndarray, n_frames: int) -> np.ndarray:
    factor, _taps = phases.shape
    env = np.empty(n_frames, dtype=np.float32)
    buf = np.empty((factor, _BLOCK), dtype=np.float32)
    for start in range(0, n_frames, _BLOCK):
        stop = min(start + _BLOCK, n_frames)
        _phase_block(padded, phases, start, stop, buf)
        for i in range(stop - start):
            best = abs(buf[0, i])
            for p in range(1, factor):
                a = abs(buf[p, i])
                if a > best:
                    best = a
            env[start + i] = best
    return env


def _padded(row: np.ndarray, before: int, after: int) -> np.ndarray:
    out = np.zeros(row.shape[0] + before + after, dtype=np.float32)
    out[before : before + row.shape[0]] = row
    return out


def upsampled_peak(
    samples: np.ndarray,
    *,
    factor: int = DEFAULT_FACTOR,
    taps_per_phase: int = DEFAULT_TAPS_PER_PHASE,
) -> np.ndarray:
    """Largest absolute value of each channel after oversampling (linear, not dB).

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames)]
        Audio, any float dtype.
    factor, taps_per_phase : int
        See :func:`interpolator_phases`.

    Returns
    -------
    peaks : np.ndarray [shape=(channels,), dtype=float64]
        Linear true-peak magnitude per channel (1.0 = 0 dBTP), including the filter tails
        at both ends of the signal.
    """
    phases = interpolator_phases(factor, taps_per_phase).astype(np.float32)
    taps = phases.shape[1]
    data = np.atleast_2d(samples)
    # Zero padding on both sides lets the filter tails ring out, as a real DAC would.
    return np.array(
        [_upsampled_peak_kernel(_padded(row, taps - 1, taps - 1), phases) for row in data],
        dtype=np.float64,
    )


def true_peak_envelope(
    samples: np.ndarray,
    *,
    factor: int = DEFAULT_FACTOR,
    taps_per_phase: int = DEFAULT_TAPS_PER_PHASE,
) -> np.ndarray:
    """Per-frame magnitude of the oversampled signal, at the input rate.

    ``envelope[c, n]`` is the largest ``|y|`` among the ``factor`` interpolated samples
    around input frame ``n`` (aligned to within one frame). A limiter that keeps this
    envelope under its ceiling keeps the true peak under it.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames)]
        Audio, any float dtype.

    Returns
    -------
    envelope : np.ndarray [shape=(channels, frames), dtype=float32]
        Linear magnitude (1.0 = 0 dBTP).
    """
    phases = interpolator_phases(factor, taps_per_phase)
    delay = _alignment_frames(phases)
    taps = phases.shape[1]
    data = np.atleast_2d(samples)
    out = np.empty(data.shape, dtype=np.float32)
    for c, row in enumerate(data):
        # Output i reads padded[i + taps - 1 - k]: shift so it is centred on input frame i.
        padded = _padded(row, taps - 1 - delay, delay + taps)
        out[c] = _true_peak_envelope_kernel(padded, phases.astype(np.float32), row.shape[0])
    return out
