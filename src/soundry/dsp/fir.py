"""Linear-phase FIR filters for mastering: copies of IIR magnitude responses, or any curve.

A linear-phase FIR delays every frequency by the same ``(taps - 1) / 2`` samples, so EQ
changes the spectrum without smearing transients or shifting the phase between bands. The
designs here sample the wanted magnitude on a dense FFT grid, make it zero-phase, centre it
in ``taps`` coefficients and taper the ends. :func:`apply_fir` removes the delay, so the
result lines up with the input sample for sample. FFT convolution (``oaconvolve``) of a
4097-tap FIR costs about 0.65 s for 3 min of stereo on this machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import fft as sp_fft

from soundry.dsp.filters import _as_2d, _check_rate, _check_sos, _restore, sos_response
from soundry.errors import ParameterError

__all__ = ["apply_fir", "default_fir_taps", "fir_from_magnitude", "linear_phase_fir"]

# Default FIR length: about 85 ms (4097 taps at 48 kHz), never fewer than 4097 taps.
_DEFAULT_FIR_S = 4096 / 48_000
_MAX_TAPS = 2**20 + 1  # ~5 s at 192 kHz; the design grid is 8x this


def default_fir_taps(sample_rate: float) -> int:
    """Default odd FIR length for :func:`linear_phase_fir`: ~85 ms and at least 4097 taps."""
    half = max(2048, round(_check_rate(sample_rate) * _DEFAULT_FIR_S / 2))
    return 2 * half + 1


def _check_taps(taps: int | None, sample_rate: float) -> int:
    if taps is None:
        return default_fir_taps(sample_rate)
    n = int(taps)
    if n != taps or n < 3 or n % 2 == 0 or n > _MAX_TAPS:
        raise ParameterError(f"taps must be an odd integer from 3 to {_MAX_TAPS}; got {taps!r}")
    return n


def _fir_from_grid(magnitude: np.ndarray, nfft: int, taps: int) -> np.ndarray:
    """Windowed linear-phase FIR from |H| sampled at the ``nfft // 2 + 1`` rfft bins."""
    zero_phase = sp_fft.irfft(magnitude, nfft)
    half = taps // 2
    # The zero-phase response is centred on sample 0; rotate it to the middle of the taps.
    fir = np.concatenate([zero_phase[-half:], zero_phase[: half + 1]])
    # A Tukey taper keeps the centre of the response untouched: with typical EQ curves
    # most of the energy is there, and a full-length taper (Hann, Kaiser) would smear
    # low-frequency detail over a wider band. Measured against Kaiser β = 6 on EQ chains it
    # halves the error at 50-100 Hz.
    from scipy import signal  # here, not at the top: scipy.signal costs ~50 MB to import

    fir *= signal.get_window(("tukey", 0.5), taps, fftbins=False)
    # Enforce exact symmetry (rounding in irfft breaks it at the 1e-17 level).
    return np.ascontiguousarray((fir + fir[::-1]) * 0.5)


def _design_grid(taps: int) -> int:
    # A dense grid keeps the frequency-sampling error (time aliasing) far below the window's.
    return int(sp_fft.next_fast_len(8 * taps, real=True))


def linear_phase_fir(sos: np.ndarray, sample_rate: float, *, taps: int | None = None) -> np.ndarray:
    """Linear-phase FIR with the magnitude response of an IIR filter.

    |H| of ``sos`` is sampled on a dense frequency grid, made zero-phase, shifted to the middle
    of ``taps`` coefficients and tapered (Tukey, α = 0.5). The result is symmetric, so its
    group delay is exactly ``(taps - 1) / 2`` samples at every frequency. An IIR response
    that rings longer than half the FIR is smoothed: with 4097 taps at 48 kHz the magnitude
    follows a typical mastering chain (shelves, Q <= 2 bells, 12-24 dB/oct low cut) within
    0.2 dB above 50 Hz, but a Q 4 bell at 60 Hz needs about 16k taps.

    Parameters
    ----------
    sos : np.ndarray [shape=(n_sections, 6)]
        The filter whose magnitude to copy.
    sample_rate : float
        Sample rate in Hz (only checked; the design is in normalised frequency).
    taps : int, optional
        Odd number of coefficients; default :func:`default_fir_taps` (4097 at 48 kHz).

    Returns
    -------
    fir : np.ndarray [shape=(taps,), dtype=float64]
        Apply with :func:`apply_fir`.
    """
    arr = _check_sos(sos)
    n = _check_taps(taps, sample_rate)
    nfft = _design_grid(n)
    h = sos_response(arr, np.linspace(0.0, 0.5, nfft // 2 + 1), 1.0)
    return _fir_from_grid(np.abs(h), nfft, n)


def fir_from_magnitude(
    freqs_hz: Sequence[float] | np.ndarray,
    gain_db: Sequence[float] | np.ndarray,
    sample_rate: float,
    *,
    taps: int | None = None,
) -> np.ndarray:
    """Linear-phase FIR following an arbitrary magnitude curve (e.g. a reference-match EQ).

    Parameters
    ----------
    freqs_hz : array_like [shape=(n,)]
        Increasing frequencies in Hz within 0..Nyquist.
    gain_db : array_like [shape=(n,)]
        Wanted gain at each frequency in dB; interpolated linearly in dB over log-frequency
        between the points and held constant beyond the ends.
    sample_rate : float
        Sample rate in Hz.
    taps : int, optional
        Odd number of coefficients; default :func:`default_fir_taps`.

    Returns
    -------
    fir : np.ndarray [shape=(taps,), dtype=float64]
        Symmetric; delay ``(taps - 1) / 2`` samples.
    """
    rate = _check_rate(sample_rate)
    n = _check_taps(taps, rate)
    freqs = np.asarray(freqs_hz, dtype=np.float64)
    gains = np.asarray(gain_db, dtype=np.float64)
    if freqs.ndim != 1 or freqs.shape != gains.shape or freqs.size < 1:
        raise ParameterError("freqs_hz and gain_db must be 1-D arrays of the same length")
    if not (np.all(np.isfinite(freqs)) and np.all(np.isfinite(gains))):
        raise ParameterError("freqs_hz and gain_db must be finite")
    if np.any(freqs <= 0) or np.any(freqs > rate / 2) or np.any(np.diff(freqs) <= 0):
        raise ParameterError(f"freqs_hz must increase strictly within (0, {rate / 2:g}] Hz")
    nfft = _design_grid(n)
    grid = np.arange(nfft // 2 + 1) * (rate / nfft)
    grid[0] = grid[1] * 0.5  # log-frequency interpolation needs a positive DC stand-in
    db = np.interp(np.log(grid), np.log(freqs), gains)
    return _fir_from_grid(10.0 ** (db / 20.0), nfft, n)


def apply_fir(samples: np.ndarray, fir: np.ndarray, *, compensate_delay: bool = True) -> np.ndarray:
    """Convolve audio with an FIR (overlap-add) along the last axis.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
    fir : np.ndarray [shape=(taps,)]
        Coefficients, e.g. from :func:`linear_phase_fir`.
    compensate_delay : bool
        Remove the ``(taps - 1) // 2`` samples of delay of a linear-phase FIR, so the output
        is time-aligned with the input. Otherwise the output is causal (delayed).

    Returns
    -------
    filtered : np.ndarray [same shape as samples, dtype=float32]
        Same number of frames as the input.
    """
    data, was_1d = _as_2d(samples)
    h = np.asarray(fir, dtype=np.float64)
    if h.ndim != 1 or h.size < 1 or not np.all(np.isfinite(h)):
        raise ParameterError(f"fir must be a finite 1-D array; got shape {h.shape}")
    frames = data.shape[1]
    if frames == 0:
        return _restore(np.zeros(data.shape, dtype=np.float32), was_1d)
    from scipy import signal  # here, not at the top: scipy.signal costs ~50 MB to import

    full = signal.oaconvolve(data.astype(np.float64), h[np.newaxis, :], mode="full", axes=-1)
    start = (h.size - 1) // 2 if compensate_delay else 0
    out = np.ascontiguousarray(full[:, start : start + frames], dtype=np.float32)
    return _restore(out, was_1d)
