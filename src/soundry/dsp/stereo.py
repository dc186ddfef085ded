"""Stereo tools: mid/side, width (full-band and per band), panning, phase correlation.

Conventions: stereo audio has shape ``(2, frames)`` with left in row 0. Mid and side are
``M = (L + R) / 2`` and ``S = (L - R) / 2``, so that ``L = M + S`` and ``R = M - S`` and a
mono signal (L == R) has ``M = L`` and no side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np

from soundry.dsp.crossover import crossover_allpass, split_bands
from soundry.dsp.filters import _check_rate, cascade
from soundry.errors import ParameterError

__all__ = [
    "PanLaw",
    "band_width",
    "correlation",
    "correlation_from_sums",
    "correlation_series",
    "from_mid_side",
    "pan",
    "stereo_width_per_band",
    "to_mid_side",
    "width",
]

PanLaw = Literal["constant_power", "linear", "compromise"]

# Energies below this (a -200 dBFS mean square) count as silence in the ratios below.
_SILENCE = 1e-20


def _stereo(samples: np.ndarray, what: str) -> np.ndarray:
    data = np.asarray(samples)
    if data.ndim != 2 or data.shape[0] != 2:
        raise ParameterError(f"{what} needs stereo audio of shape (2, frames); got {data.shape}")
    return data


def _check_factor(value: float, name: str) -> float:
    out = float(value)
    if not math.isfinite(out) or out < 0:
        raise ParameterError(f"{name} must be a finite number >= 0; got {value!r}")
    return out


def to_mid_side(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split stereo into mid and side.

    Parameters
    ----------
    samples : np.ndarray [shape=(2, frames)]
        Stereo audio, left first.

    Returns
    -------
    mid : np.ndarray [shape=(frames,), dtype=float32]
        ``(L + R) / 2``.
    side : np.ndarray [shape=(frames,), dtype=float32]
        ``(L - R) / 2``.
    """
    data = _stereo(samples, "to_mid_side").astype(np.float64)
    mid = (data[0] + data[1]) * 0.5
    side = (data[0] - data[1]) * 0.5
    return mid.astype(np.float32), side.astype(np.float32)


def from_mid_side(mid: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Rebuild left/right from mid and side (the inverse of :func:`to_mid_side`).

    Parameters
    ----------
    mid, side : np.ndarray [shape=(frames,) or (1, frames)]

    Returns
    -------
    stereo : np.ndarray [shape=(2, frames), dtype=float32]
        ``[M + S, M - S]``.
    """
    m = np.asarray(mid, dtype=np.float64).reshape(-1)
    s = np.asarray(side, dtype=np.float64).reshape(-1)
    if m.shape != s.shape or np.ndim(mid) > 2 or np.ndim(side) > 2:
        raise ParameterError(
            f"mid and side must be single channels of equal length; got {np.shape(mid)}"
            f" and {np.shape(side)}"
        )
    return np.stack([m + s, m - s]).astype(np.float32)


def width(samples: np.ndarray, factor: float) -> np.ndarray:
    """Scale the stereo width by scaling the side signal.

    Parameters
    ----------
    samples : np.ndarray [shape=(2, frames)]
        Stereo audio. Mono input (1-D or one channel) is returned unchanged as float32.
    factor : float
        Side gain: 0 folds to mono, 1 leaves the audio unchanged, above 1 widens.

    Returns
    -------
    out : np.ndarray [same shape as samples, dtype=float32]
    """
    f = _check_factor(factor, "factor")
    data = np.asarray(samples)
    if data.ndim == 1 or (data.ndim == 2 and data.shape[0] == 1):
        return data.astype(np.float32)
    x = _stereo(data, "width").astype(np.float64)
    mid = (x[0] + x[1]) * 0.5
    side = (x[0] - x[1]) * (0.5 * f)
    return np.stack([mid + side, mid - side]).astype(np.float32)


def band_width(
    samples: np.ndarray,
    crossover_hz: Sequence[float],
    factors: Sequence[float],
    sample_rate: float,
    *,
    order: int = 4,
    linear_phase: bool = False,
) -> np.ndarray:
    """Per-band stereo width: the side signal is split by a crossover and each band scaled.

    Typical use is a mono bass: ``band_width(x, [120], [0.0, 1.0], sr)``.

    Parameters
    ----------
    samples : np.ndarray [shape=(2, frames)]
        Stereo audio.
    crossover_hz : sequence of float
        Strictly increasing crossover frequencies in Hz.
    factors : sequence of float
        ``len(crossover_hz) + 1`` side gains (>= 0), lowest band first; see :func:`width`.
    sample_rate : float
        Sample rate in Hz.
    order : int
        Linkwitz-Riley order of the crossover (4 or 8).
    linear_phase : bool
        False: IIR crossover with no latency. Its bands sum to an all-pass, so the mid signal
        is passed through the same all-pass and the output is the input with a common phase
        shift (flat magnitude) when every factor is 1. True: linear-phase FIR crossover; the
        output equals the input exactly when every factor is 1.

    Returns
    -------
    out : np.ndarray [shape=(2, frames), dtype=float32]
    """
    x = _stereo(samples, "band_width").astype(np.float64)
    rate = _check_rate(sample_rate)
    gains = [_check_factor(f, "factors") for f in factors]
    if len(gains) != len(crossover_hz) + 1:
        raise ParameterError(
            f"need one factor per band ({len(crossover_hz) + 1}); got {len(gains)} factors"
        )
    mid = (x[0] + x[1]) * 0.5
    side_bands = split_bands(
        (x[0] - x[1]) * 0.5, crossover_hz, rate, order=order, linear_phase=linear_phase
    )
    side = np.zeros_like(mid)
    for gain, band in zip(gains, side_bands, strict=True):
        if gain != 0.0:
            side += gain * band.astype(np.float64)
    if not linear_phase and len(crossover_hz):
        ap = cascade(*(crossover_allpass(f, rate, order=order) for f in crossover_hz))
        from scipy import signal  # here, not at the top: scipy.signal costs ~50 MB to import

        mid = signal.sosfilt(ap, mid)
    return np.stack([mid + side, mid - side]).astype(np.float32)


def stereo_width_per_band(
    samples: np.ndarray,
    crossover_hz: Sequence[float],
    sample_rate: float,
    *,
    order: int = 4,
) -> np.ndarray:
    """How wide each frequency band is: the side share of the band's energy.

    For each band (split with the same Linkwitz-Riley crossover as :func:`split_bands`)
    the measure is ``E_S / (E_M + E_S)``, with ``E_M`` and ``E_S`` the energies of mid and
    side in that band. It runs from 0 (mono) through 0.5 (left and right uncorrelated at
    equal level, or one side only) to 1 (left = -right, fully out of phase). In terms of the
    side-to-mid ratio, ``SMR_dB = 10 log10(w / (1 - w))``. A silent band reads 0.

    Parameters
    ----------
    samples : np.ndarray [shape=(2, frames)]
        Stereo audio.
    crossover_hz : sequence of float
        Strictly increasing band edges in Hz; may be empty (one full band).
    sample_rate : float
        Sample rate in Hz.
    order : int
        Linkwitz-Riley order of the crossover (4 or 8).

    Returns
    -------
    width : np.ndarray [shape=(len(crossover_hz) + 1,), dtype=float64]
        Values in [0, 1], lowest band first.
    """
    x = _stereo(samples, "stereo_width_per_band").astype(np.float64)
    ms = np.stack([(x[0] + x[1]) * 0.5, (x[0] - x[1]) * 0.5])
    bands = split_bands(ms, crossover_hz, _check_rate(sample_rate), order=order)
    out = np.empty(len(bands), dtype=np.float64)
    for k, band in enumerate(bands):
        energy = np.einsum("cn,cn->c", band, band, dtype=np.float64)
        total = float(energy.sum())
        out[k] = float(energy[1]) / total if total > _SILENCE * band.shape[1] else 0.0
    return out


def _pan_gains(position: float, law: str) -> tuple[float, float]:
    # sin/cos law written with two sines, so that the far side is exactly 0 at ±1 (cos(π/2)
    # is 6e-17, not 0).
    left = math.sin((1.0 - position) * math.pi / 4.0)
    right = math.sin((1.0 + position) * math.pi / 4.0)
    if law == "constant_power":
        return left, right
    if law == "linear":
        return (1.0 - position) * 0.5, (1.0 + position) * 0.5
    if law == "compromise":
        # Geometric mean of the two laws: -4.5 dB at centre.
        return (
            math.sqrt(left * (1.0 - position) * 0.5),
            math.sqrt(right * (1.0 + position) * 0.5),
        )
    raise ParameterError(f"law must be 'constant_power', 'linear' or 'compromise'; got {law!r}")


def pan(
    mono_or_stereo: np.ndarray, position: float, *, law: PanLaw = "constant_power"
) -> np.ndarray:
    """Place a mono source in the stereo field, or set the balance of a stereo one.

    Parameters
    ----------
    mono_or_stereo : np.ndarray [shape=(frames,), (1, frames) or (2, frames)]
        A mono source, or stereo audio.
    position : float
        -1 = hard left, 0 = centre, +1 = hard right.
    law : {"constant_power", "linear", "compromise"}
        Mono sources: ``constant_power`` (sin/cos, -3 dB per side at centre, ``L² + R²``
        constant), ``linear`` (-6 dB at centre, ``L + R`` constant) or ``compromise``
        (-4.5 dB at centre). Stereo sources get a balance control with the same law
        normalised to unity at centre: the far channel is attenuated and the near one is
        never boosted above unity.

    Returns
    -------
    stereo : np.ndarray [shape=(2, frames), dtype=float32]
    """
    p = float(position)
    if not math.isfinite(p) or not -1.0 <= p <= 1.0:
        raise ParameterError(f"position must lie within -1 (left) .. +1 (right); got {position!r}")
    data = np.asarray(mono_or_stereo)
    gl, gr = _pan_gains(p, law)
    if data.ndim == 1 or (data.ndim == 2 and data.shape[0] == 1):
        x = data.reshape(-1).astype(np.float64)
        return np.stack([gl * x, gr * x]).astype(np.float32)
    x = _stereo(data, "pan").astype(np.float64)
    centre_l, centre_r = _pan_gains(0.0, law)
    bl, br = min(1.0, gl / centre_l), min(1.0, gr / centre_r)
    return np.stack([bl * x[0], br * x[1]]).astype(np.float32)


def _pearson_like(ll: np.ndarray, rr: np.ndarray, lr: np.ndarray, frames: int) -> np.ndarray:
    floor = _SILENCE * max(frames, 1)
    denom = np.sqrt(ll * rr)
    both_silent = (ll <= floor) & (rr <= floor)
    one_silent = ~both_silent & ((ll <= floor) | (rr <= floor))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(denom > 0, lr / np.where(denom > 0, denom, 1.0), 0.0)
    # Silence cannot cancel in a mono fold-down: read it as fully correlated.
    rho = np.where(both_silent, 1.0, np.where(one_silent, 0.0, rho))
    return np.clip(rho, -1.0, 1.0)


def correlation_from_sums(ll: float, rr: float, lr: float, frames: int) -> float:
    """:func:`correlation` from ``Σ L²``, ``Σ R²`` and ``Σ L·R`` over ``frames`` frames."""
    return float(_pearson_like(np.array(ll), np.array(rr), np.array(lr), frames))


def correlation(samples: np.ndarray) -> float:
    """Phase correlation of a stereo signal, as on a correlation meter.

    ``ρ = Σ L·R / sqrt(Σ L² · Σ R²)``, without removing the mean (DC cancels in a mono sum
    like anything else). +1 = mono, 0 = uncorrelated, -1 = one channel polarity-inverted.
    Digital silence on both channels reads +1; silence on one channel only reads 0.

    Parameters
    ----------
    samples : np.ndarray [shape=(2, frames)]
        Stereo audio. Mono input (1-D or one channel) reads +1.

    Returns
    -------
    rho : float
        In [-1, 1].
    """
    data = np.asarray(samples)
    if data.ndim == 1 or (data.ndim == 2 and data.shape[0] == 1):
        return 1.0
    x = _stereo(data, "correlation").astype(np.float64)
    ll = np.array(np.dot(x[0], x[0]))
    rr = np.array(np.dot(x[1], x[1]))
    lr = np.array(np.dot(x[0], x[1]))
    return float(_pearson_like(ll, rr, lr, x.shape[1]))


def correlation_series(
    samples: np.ndarray,
    sample_rate: float,
    *,
    window_ms: float = 400.0,
    hop_ms: float = 100.0,
) -> np.ndarray:
    """Short-time phase correlation (see :func:`correlation`) over sliding windows.

    Parameters
    ----------
    samples : np.ndarray [shape=(2, frames)]
        Stereo audio.
    sample_rate : float
        Sample rate in Hz.
    window_ms : float
        Window length in milliseconds.
    hop_ms : float
        Step between windows in milliseconds.

    Returns
    -------
    rho : np.ndarray [shape=(n_windows,), dtype=float64]
        Window ``k`` covers frames ``[k·hop, k·hop + window)``; only whole windows are
        measured (one window over everything when the audio is shorter than a window).
    """
    x = _stereo(samples, "correlation_series").astype(np.float64)
    rate = _check_rate(sample_rate)
    win = round(float(window_ms) * rate / 1000.0)
    hop = round(float(hop_ms) * rate / 1000.0)
    if not (math.isfinite(window_ms) and math.isfinite(hop_ms)) or win < 1 or hop < 1:
        raise ParameterError(
            f"window_ms and hop_ms must give at least one sample; got {window_ms!r}, {hop_ms!r}"
        )
    frames = x.shape[1]
    win = min(win, max(frames, 1))
    n_windows = 1 + max(frames - win, 0) // hop
    starts = np.arange(n_windows) * hop

    def windowed(product: np.ndarray) -> np.ndarray:
        csum = np.concatenate([[0.0], np.cumsum(product)])
        return np.asarray(csum[starts + win] - csum[starts])

    ll = windowed(x[0] * x[0])
    rr = windowed(x[1] * x[1])
    lr = windowed(x[0] * x[1])
    return _pearson_like(ll, rr, lr, win)
