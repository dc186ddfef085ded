"""Linkwitz-Riley crossovers: split audio into bands that sum back to the input.

A Linkwitz-Riley low-pass / high-pass pair of order ``2n`` is a Butterworth filter of order
``n`` applied twice. For even ``n`` (LR4, LR8, ...) the pair sums to an all-pass with the
Butterworth poles, so two bands recombine with a flat magnitude and only a phase shift.

With more than one crossover that is only true if every band also carries the all-pass of
each crossover it does not pass through. Here band ``k`` (counting from the lowest) is::

    HP(f_1) · ... · HP(f_k) · LP(f_{k+1}) · AP(f_{k+2}) · ... · AP(f_K)

and the bands sum to ``AP(f_1) · ... · AP(f_K)``: flat magnitude, minimum phase, no latency.

The linear-phase variant replaces the filters by symmetric FIRs whose magnitudes are the
Linkwitz-Riley ones. Band ``k`` is the difference of two neighbouring low-passes, so the
bands sum to a pure delay; the delay is removed, and the bands add back to the input exactly
(to float rounding). It costs one FFT convolution per crossover.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from soundry.dsp.filters import (
    _as_2d,
    _check_freq,
    _check_rate,
    _restore,
    allpass,
    butterworth_q,
    cascade,
    highpass,
    lowpass,
)
from soundry.dsp.fir import linear_phase_fir
from soundry.errors import ParameterError

__all__ = [
    "crossover_allpass",
    "crossover_firs",
    "crossover_sos",
    "default_crossover_taps",
    "split_bands",
]


def _check_order(order: int) -> int:
    n = int(order)
    if n != order or n not in (4, 8, 12, 16):
        raise ParameterError(f"Linkwitz-Riley order must be 4, 8, 12 or 16; got {order!r}")
    return n


def _check_crossovers(crossover_hz: Sequence[float], sample_rate: float) -> list[float]:
    rate = _check_rate(sample_rate)
    freqs = [_check_freq(f, rate, "crossover_hz") for f in np.atleast_1d(crossover_hz)]
    if any(b <= a for a, b in itertools.pairwise(freqs)):
        raise ParameterError(f"crossover_hz must increase strictly; got {list(crossover_hz)!r}")
    return freqs


def _lr_pair(freq: float, rate: float, order: int) -> tuple[np.ndarray, np.ndarray]:
    slope = 3.0 * order  # each of the two Butterworth halves has half the LR slope
    lp = lowpass(freq, rate, slope_db_per_octave=slope)
    hp = highpass(freq, rate, slope_db_per_octave=slope)
    return cascade(lp, lp), cascade(hp, hp)


def crossover_allpass(freq_hz: float, sample_rate: float, *, order: int = 4) -> np.ndarray:
    """The all-pass that a Linkwitz-Riley low/high pair at ``freq_hz`` sums to.

    Parameters
    ----------
    freq_hz : float
        Crossover frequency in Hz.
    sample_rate : float
        Sample rate in Hz.
    order : int
        Linkwitz-Riley order (4 = 24 dB/oct, 8 = 48 dB/oct).

    Returns
    -------
    sos : np.ndarray [shape=(order // 4, 6), dtype=float64]
    """
    freq = _check_freq(freq_hz, sample_rate, "crossover_hz")
    n = _check_order(order)
    return cascade(*(allpass(freq, sample_rate, q=q) for q in butterworth_q(n // 2)))


def crossover_sos(
    crossover_hz: Sequence[float], sample_rate: float, *, order: int = 4
) -> list[np.ndarray]:
    """Per-band IIR filters of an all-pass-compensated Linkwitz-Riley crossover.

    Parameters
    ----------
    crossover_hz : sequence of float
        Strictly increasing crossover frequencies in Hz, within (0, Nyquist).
    sample_rate : float
        Sample rate in Hz.
    order : int
        Linkwitz-Riley order: 4 (LR4, 24 dB/oct) or 8 (LR8, 48 dB/oct); 12 and 16 also work.

    Returns
    -------
    bands : list of np.ndarray [shape=(n_sections, 6), dtype=float64]
        ``len(crossover_hz) + 1`` filters, lowest band first. Their outputs sum to the input
        passed through every crossover's all-pass (flat magnitude).
    """
    rate = _check_rate(sample_rate)
    freqs = _check_crossovers(crossover_hz, rate)
    n = _check_order(order)
    pairs = [_lr_pair(f, rate, n) for f in freqs]
    aps = [crossover_allpass(f, rate, order=n) for f in freqs]
    bands: list[np.ndarray] = []
    for k in range(len(freqs) + 1):
        parts = [pairs[j][1] for j in range(k)]  # high-passes of the crossovers below
        if k < len(freqs):
            parts.append(pairs[k][0])  # its own upper edge
            parts.extend(aps[k + 1 :])  # phase of the crossovers it never meets
        bands.append(cascade(*parts))
    return bands


def default_crossover_taps(crossover_hz: Sequence[float], sample_rate: float) -> int:
    """Default odd FIR length for linear-phase crossovers.

    Long enough for about 10 periods of the lowest crossover frequency (so its band edge is
    within ~0.1 dB of the Linkwitz-Riley shape) and never fewer than 1025 taps.
    """
    rate = _check_rate(sample_rate)
    freqs = _check_crossovers(crossover_hz, rate)
    if not freqs:
        return 1
    half = max(512, math.ceil(5.0 * rate / freqs[0]))
    return 2 * half + 1


def crossover_firs(
    crossover_hz: Sequence[float],
    sample_rate: float,
    *,
    order: int = 4,
    taps: int | None = None,
) -> list[np.ndarray]:
    """Per-band linear-phase FIRs with Linkwitz-Riley magnitudes that sum to a delay.

    Parameters
    ----------
    crossover_hz, sample_rate, order
        As for :func:`crossover_sos`.
    taps : int, optional
        Odd FIR length; default :func:`default_crossover_taps`.

    Returns
    -------
    bands : list of np.ndarray [shape=(taps,), dtype=float64]
        ``len(crossover_hz) + 1`` symmetric FIRs, lowest band first; they sum to a unit
        impulse at the centre tap, ``(taps - 1) / 2`` samples of delay.
    """
    rate = _check_rate(sample_rate)
    freqs = _check_crossovers(crossover_hz, rate)
    n = _check_order(order)
    length = default_crossover_taps(freqs, rate) if taps is None else taps
    lows = [linear_phase_fir(_lr_pair(f, rate, n)[0], rate, taps=length) for f in freqs]
    size = lows[0].size if lows else 1
    identity = np.zeros(size)
    identity[size // 2] = 1.0
    edges = [np.zeros(size), *lows, identity]
    return [edges[k + 1] - edges[k] for k in range(len(freqs) + 1)]


def split_bands(
    samples: np.ndarray,
    crossover_hz: Sequence[float],
    sample_rate: float,
    *,
    order: int = 4,
    linear_phase: bool = False,
    taps: int | None = None,
) -> list[np.ndarray]:
    """Split audio into frequency bands with a Linkwitz-Riley crossover.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        Audio, any real dtype.
    crossover_hz : sequence of float
        Strictly increasing crossover frequencies in Hz; may be empty (one band).
    sample_rate : float
        Sample rate in Hz.
    order : int
        4 (LR4, 24 dB/oct) or 8 (LR8, 48 dB/oct).
    linear_phase : bool
        False (default): minimum-phase IIR, zero latency; the bands sum to an all-pass
        version of the input (flat magnitude). True: linear-phase FIRs, time-aligned with the
        input; the bands sum back to the input itself.
    taps : int, optional
        FIR length for ``linear_phase``; default :func:`default_crossover_taps`.

    Returns
    -------
    bands : list of np.ndarray [same shape as samples, dtype=float32]
        ``len(crossover_hz) + 1`` bands, lowest first.
    """
    data, was_1d = _as_2d(samples)
    rate = _check_rate(sample_rate)
    freqs = _check_crossovers(crossover_hz, rate)
    n = _check_order(order)
    if not freqs:
        return [_restore(np.array(data, dtype=np.float32), was_1d)]
    x = np.asarray(data, dtype=np.float64)
    from scipy import signal  # here, not at the top: scipy.signal costs ~50 MB to import

    if not linear_phase:
        # One sosfilt call per band with all of its sections: the per-call cost dominates.
        return [
            _restore(
                np.ascontiguousarray(signal.sosfilt(sos, x, axis=-1), dtype=np.float32), was_1d
            )
            for sos in crossover_sos(freqs, rate, order=n)
        ]
    length = default_crossover_taps(freqs, rate) if taps is None else taps
    lows = [linear_phase_fir(_lr_pair(f, rate, n)[0], rate, taps=length) for f in freqs]
    delay = (lows[0].size - 1) // 2
    frames = x.shape[1]
    # Low-pass outputs at every crossover; band k is the difference of two of them, so the
    # bands telescope back to x exactly. One convolution per crossover, not per band.
    smoothed = [
        signal.oaconvolve(x, h[np.newaxis, :], mode="full", axes=-1)[:, delay : delay + frames]
        for h in lows
    ]
    edges = [np.zeros_like(x), *smoothed, x]
    return [
        _restore(np.ascontiguousarray(edges[k + 1] - edges[k], dtype=np.float32), was_1d)
        for k in range(len(freqs) + 1)
    ]
