"""Loudness metering to ITU-R BS.1770-4 and EBU R 128 (Tech 3341 and Tech 3342).

:func:`measure` computes everything in one pass over the audio and returns a
:class:`LoudnessReport`. It gives integrated loudness (I), loudness range (LRA), the
momentary (M, 400 ms) and short-term (S, 3 s) series at 10 Hz with their maxima, true peak
and sample peak. The single-figure functions (:func:`integrated_loudness` and the others)
run the same code and return just one figure.

How it is computed
------------------
* **K-weighting.** The two-stage pre-filter of BS.1770 (high shelf, then the RLB high-pass)
  is applied in float64 to each channel. Its coefficients are derived for every rate from
  the published 48 kHz ones; see :func:`k_weighting_sos`.
* **Ticks and windows.** The squared filter output is summed over 5 ms ticks whose edges sit at
  ``floor(k * sample_rate / 200)``. This stays exact at rates where 100 ms is not a whole
  number of frames, such as 11 025 Hz. Twenty ticks make a 100 ms sub-block. A window of 4
  sub-blocks is a 400 ms gating block (75 % overlap); a window of 30 sub-blocks is a 3 s
  short-term block. Each window's mean square is its energy divided by its own length in
  frames. The 10 Hz series and the gating use these windows. The M and S maxima slide the
  window in 5 ms steps instead: EBU Tech 3341 case 13 moves a 400 ms burst in 20 ms steps,
  and a 10 Hz grid can under-read it by 0.5 LU.
* **Channels.** Channel ``c`` contributes ``G_c`` times its mean square, where
  ``L = -0.691 + 10 log10(sum_c G_c z_c)``. Defaults: 1.0 for every channel of mono, stereo
  and 3-channel audio; 5.0 (L R C Ls Rs) ``[1, 1, 1, 1.41, 1.41]``; 5.1 (L R C LFE Ls Rs)
  ``[1, 1, 1, 0, 1.41, 1.41]``; 7.1 (L R C LFE Lb Rb Ls Rs, back channels at ±150°)
  ``[1, 1, 1, 0, 1, 1, 1.41, 1.41]``. Other channel counts need explicit weights.
  Mono is measured as one channel, as BS.1770 defines it. Some tools add 3 dB to mono
  because they treat it as dual mono; this module does not.
* **Integrated loudness.** Gating blocks at or below -70 LUFS are dropped (absolute gate).
  A relative gate is then set 10 LU below the power mean of the remaining blocks, and
  blocks at or below it are also dropped. I is the power mean of the blocks left.
* **Loudness range** (Tech 3342). Short-term blocks are taken every 100 ms and pass an
  absolute gate at -70 LUFS and a relative gate 20 LU below their power mean. LRA is the
  difference between the 95th and 10th percentiles of the loudness of the blocks left, each
  taken as the nearest rank ``round((n - 1) p)`` of the sorted values.
* **True peak** (BS.1770-4 Annex 2). The signal is oversampled 4x below 176.4 kHz and 2x at
  176.4 kHz and above (a grid of 352.8 kHz or more, finer than 4x at 48 kHz). Interpolation
  uses a polyphase windowed sinc whose output passes through every input sample, so the
  reading is never below the sample peak. Oversampling runs only on the blocks whose bound
  could beat the running maximum; the result is exactly the same as oversampling
  everything (:func:`soundry.dsp.oversample.max_true_peak`). Every channel counts,
  including an LFE channel that has zero loudness weight.

Edge cases
----------
* When there are no complete windows, the figures are ``-inf``. This covers signals shorter
  than 400 ms, for which I, M max and S max are ``-inf`` (and S max is ``-inf`` up to 3 s).
  The same happens when nothing passes the gates, as with silence.
* LRA is 0.0 when no short-term block passes the gates.
* Silence reads ``-inf`` for every level. No warnings are raised and no NaN is produced.
  :meth:`LoudnessReport.to_dict` turns ``-inf`` into ``None`` for JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from soundry.audio.buffer import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, AudioBuffer
from soundry.dsp._kweighting import (
    PEAK_BLOCK_FRAMES,
    TICKS_PER_SUBBLOCK,
    filtered_energies,
    k_weighting_sos,
    tick_bounds,
)
from soundry.dsp.oversample import block_peaks, max_true_peak
from soundry.errors import ParameterError

__all__ = [
    "ABSOLUTE_GATE_LUFS",
    "LRA_RELATIVE_GATE_LU",
    "MOMENTARY_WINDOW_S",
    "RELATIVE_GATE_LU",
    "SERIES_RATE_HZ",
    "SHORT_TERM_WINDOW_S",
    "LoudnessReport",
    "default_channel_weights",
    "gated_integrated_lufs",
    "integrated_loudness",
    "k_weighting_sos",
    "loudness_range",
    "measure",
    "momentary_loudness",
    "report_from_ticks",
    "sample_peak_dbfs",
    "short_term_loudness",
    "true_peak_dbtp",
    "true_peak_factor",
]

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
LRA_RELATIVE_GATE_LU = -20.0
LRA_PERCENTILES = (0.10, 0.95)
MOMENTARY_WINDOW_S = 0.4
SHORT_TERM_WINDOW_S = 3.0
SERIES_RATE_HZ = 10
_MOMENTARY_SUBBLOCKS = round(MOMENTARY_WINDOW_S * SERIES_RATE_HZ)  # 4
_SHORT_TERM_SUBBLOCKS = round(SHORT_TERM_WINDOW_S * SERIES_RATE_HZ)  # 30
_LOUDNESS_OFFSET_DB = -0.691
_SURROUND_WEIGHT = 1.41

_SCALAR_FIELDS = (
    "integrated_lufs",
    "lra_lu",
    "true_peak_dbtp",
    "sample_peak_dbfs",
    "momentary_max_lufs",
    "short_term_max_lufs",
    "duration_s",
    "sample_rate",
    "channels",
)


def _json_number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class LoudnessReport:
    """Everything :func:`measure` finds, in LUFS, LU, dBTP and dBFS.

    Attributes
    ----------
    integrated_lufs : float
        Gated programme loudness (I), ``-inf`` when nothing passes the gates.
    lra_lu : float
        Loudness range (EBU Tech 3342), 0.0 when no short-term block passes the gates.
    true_peak_dbtp : float
        Largest true peak over all channels, ``-inf`` for silence.
    sample_peak_dbfs : float
        Largest absolute sample over all channels, ``-inf`` for silence.
    momentary_max_lufs : float
        Largest momentary (400 ms) loudness over windows at 5 ms steps (so at least the
        maximum of ``momentary_lufs``); ``-inf`` when shorter than 400 ms or silent.
    short_term_max_lufs : float
        Largest short-term (3 s) loudness over windows at 5 ms steps; ``-inf`` when shorter
        than 3 s or silent.
    duration_s : float
        Length of the audio in seconds.
    sample_rate : int
        Sample rate in Hz.
    channels : int
        Number of channels measured.
    momentary_lufs : np.ndarray [shape=(max(0, n_subblocks - 3),), dtype=float64]
        Momentary loudness at 10 Hz. Value ``j`` covers ``[0.1 j, 0.1 j + 0.4)`` s, so there
        is one value per complete 400 ms window. These windows are also the gating blocks
        of I. Silent windows hold ``-inf``.
    short_term_lufs : np.ndarray [shape=(max(0, n_subblocks - 29),), dtype=float64]
        Short-term loudness at 10 Hz. Value ``j`` covers ``[0.1 j, 0.1 j + 3)`` s; these are
        the blocks LRA uses.
    """

    integrated_lufs: float
    lra_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    momentary_max_lufs: float
    short_term_max_lufs: float
    duration_s: float
    sample_rate: int
    channels: int
    momentary_lufs: np.ndarray = field(repr=False, compare=False)
    short_term_lufs: np.ndarray = field(repr=False, compare=False)

    def to_dict(self, include_series: bool = False) -> dict[str, object]:
        """The report as a JSON-ready dict.

        Parameters
        ----------
        include_series : bool
            Also include ``momentary_lufs`` and ``short_term_lufs`` as lists.

        Returns
        -------
        report : dict
            The nine scalar fields, with ``None`` in place of ``-inf`` or NaN (also inside
            the series), and the series when asked for.
        """
        out: dict[str, object] = {}
        for name in _SCALAR_FIELDS:
            value = getattr(self, name)
            out[name] = value if isinstance(value, int) else _json_number(value)
        if include_series:
            out["momentary_lufs"] = [_json_number(v) for v in self.momentary_lufs.tolist()]
            out["short_term_lufs"] = [_json_number(v) for v in self.short_term_lufs.tolist()]
        return out


def default_channel_weights(channels: int) -> np.ndarray:
    """BS.1770 channel weights for the usual WAV channel orders.

    Parameters
    ----------
    channels : int
        1, 2 or 3 (all 1.0); 5 (L R C Ls Rs); 6 (5.1: L R C LFE Ls Rs); 8 (7.1: L R C LFE
        Lb Rb Ls Rs).

    Returns
    -------
    weights : np.ndarray [shape=(channels,), dtype=float64]
        1.0 for front and back channels, 1.41 for side surrounds (60° to 120° azimuth), 0.0
        for LFE.

    Raises
    ------
    ParameterError
        For other channel counts, whose layout is ambiguous: pass ``channel_weights``.
    """
    s = _SURROUND_WEIGHT
    layouts = {
        1: [1.0],
        2: [1.0, 1.0],
        3: [1.0, 1.0, 1.0],
        5: [1.0, 1.0, 1.0, s, s],
        6: [1.0, 1.0, 1.0, 0.0, s, s],
        8: [1.0, 1.0, 1.0, 0.0, 1.0, 1.0, s, s],
    }
    if channels not in layouts:
        raise ParameterError(
            f"no default loudness weights for {channels} channels (known layouts: 1, 2, 3, 5,"
            " 6 = 5.1, 8 = 7.1); pass channel_weights, one per channel"
        )
    return np.array(layouts[channels])


def true_peak_factor(sample_rate: int) -> int:
    """Oversampling factor used for true peak at ``sample_rate``: 4, or 2 from 176.4 kHz."""
    return 4 if sample_rate < 176_400 else 2


def _prepare(samples: np.ndarray | AudioBuffer, sample_rate: int | None) -> tuple[np.ndarray, int]:
    """Validate and normalise input to a C-contiguous float32/float64 (channels, frames)."""
    if isinstance(samples, AudioBuffer):
        if sample_rate is not None and sample_rate != samples.sample_rate:
            raise ParameterError(
                f"sample_rate {sample_rate} contradicts the buffer's {samples.sample_rate} Hz"
            )
        return samples.samples, samples.sample_rate
    if sample_rate is None:
        raise ParameterError("sample_rate is required when samples is an array")
    valid_rate = (
        not isinstance(sample_rate, bool)
        and isinstance(sample_rate, int | float | np.integer | np.floating)
        and math.isfinite(sample_rate)
        and sample_rate == int(sample_rate)
        and MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE
    )
    if not valid_rate:
        raise ParameterError(
            f"sample rate must be an integer from {MIN_SAMPLE_RATE} to {MAX_SAMPLE_RATE} Hz;"
            f" got {sample_rate!r}"
        )
    data = np.asarray(samples)
    if data.dtype.kind != "f":
        raise ParameterError(
            f"samples must be floating point (1.0 = full scale); got dtype {data.dtype}"
            + (
                ": divide integer PCM by its full-scale value first"
                if data.dtype.kind in "iu"
                else ""
            )
        )
    if data.ndim == 1:
        data = data[np.newaxis, :]
    if data.ndim != 2 or data.shape[0] < 1:
        raise ParameterError(
            f"samples must have shape (channels, frames) or (frames,); got {np.shape(samples)}"
        )
    if data.dtype not in (np.float32, np.float64):
        data = data.astype(np.float32)
    return np.ascontiguousarray(data), int(sample_rate)


def _weights(channel_weights: Sequence[float] | np.ndarray | None, channels: int) -> np.ndarray:
    if channel_weights is None:
        return default_channel_weights(channels)
    try:
        weights = np.asarray(channel_weights, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        weights = np.full(0, np.nan)
    if weights.shape[0] != channels or not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ParameterError(
            f"channel_weights must be {channels} finite non-negative numbers, one per channel;"
            f" got {channel_weights!r}"
        )
    return weights


def _raise_non_finite(data: np.ndarray) -> None:
    bad = np.argwhere(~np.isfinite(data))
    c, i = (int(v) for v in bad[0])
    raise ParameterError(
        f"samples must be finite; channel {c}, frame {i} holds {data[c, i]!r}"
        f" ({len(bad)} non-finite samples in all)"
    )


def _check_finite(data: np.ndarray) -> None:
    # max and min propagate NaN and expose infinities, without a boolean temporary.
    if data.size and not (math.isfinite(float(data.max())) and math.isfinite(float(data.min()))):
        _raise_non_finite(data)


def _to_lufs(mean_square: np.ndarray) -> np.ndarray:
    """``-0.691 + 10 log10(z)``, with ``-inf`` (and no warning) where ``z`` is 0."""
    out = np.full(mean_square.shape, -np.inf)
    positive = mean_square > 0.0
    out[positive] = _LOUDNESS_OFFSET_DB + 10.0 * np.log10(mean_square[positive])
    return out


def _lufs_to_power(lufs: float) -> float:
    return 10.0 ** ((lufs - _LOUDNESS_OFFSET_DB) / 10.0)


def _window_power(subblock_energy: np.ndarray, bounds: np.ndarray, length: int) -> np.ndarray:
    """Weighted mean square of every complete window of ``length`` sub-blocks (100 ms hop).

    Summed directly rather than by differencing a cumulative sum, so a silent window after a
    loud passage comes out exactly 0 rather than a rounding residue.
    """
    n = subblock_energy.shape[0] - length + 1
    if n <= 0:
        return np.zeros(0)
    total = np.lib.stride_tricks.sliding_window_view(subblock_energy, length).sum(axis=1)
    return total / (bounds[length : length + n] - bounds[:n])


def _max_window_power(tick_energy: np.ndarray, bounds: np.ndarray, length: int) -> float:
    """Largest weighted mean square over windows of ``length`` ticks at every tick step.

    A running total is fine here: its rounding residue (relative 1e-16 of the total) can
    only matter for windows far quieter than the loudest one.
    """
    n = tick_energy.shape[0] - length + 1
    if n <= 0:
        return 0.0
    running = np.concatenate([[0.0], np.cumsum(tick_energy)])
    totals = running[length:] - running[:-length]
    return max(float((totals / (bounds[length:] - bounds[:-length])).max()), 0.0)


def _gated_power(powers: np.ndarray, relative_gate_lu: float) -> np.ndarray:
    """The block powers that pass the absolute gate and then the relative gate."""
    above_absolute = powers[powers > _lufs_to_power(ABSOLUTE_GATE_LUFS)]
    if above_absolute.size == 0:
        return above_absolute
    threshold = above_absolute.mean() * 10.0 ** (relative_gate_lu / 10.0)
    return above_absolute[above_absolute > threshold]


def gated_integrated_lufs(momentary_power: np.ndarray) -> float:
    """Integrated loudness (LUFS) from the mean squares of the 400 ms gating blocks.

    Applies the absolute (-70 LUFS) and relative (-10 LU) gates of BS.1770-4; -inf when no
    block passes.

    Parameters
    ----------
    momentary_power : np.ndarray [shape=(n_blocks,)]
        Channel-weighted mean square of each K-weighted 400 ms block (75 % overlap).
    """
    gated = _gated_power(momentary_power, RELATIVE_GATE_LU)
    if gated.size == 0:
        return -math.inf
    return _power_to_lufs(float(gated.mean()))


def _range_from_blocks(short_term_power: np.ndarray) -> float:
    gated = _gated_power(short_term_power, LRA_RELATIVE_GATE_LU)
    if gated.size == 0:
        return 0.0
    ordered = np.sort(_to_lufs(gated))
    low, high = (ordered[int((ordered.size - 1) * p + 0.5)] for p in LRA_PERCENTILES)
    return float(high - low)


def _power_to_lufs(power: float) -> float:
    return _LOUDNESS_OFFSET_DB + 10.0 * math.log10(power) if power > 0.0 else -math.inf


def _amplitude_db(linear: float) -> float:
    return 20.0 * math.log10(linear) if linear > 0.0 else -math.inf


@dataclass
class _Series:
    momentary_power: np.ndarray  # [shape=(n_subblocks - 3,)] 400 ms windows at 10 Hz
    short_term_power: np.ndarray  # [shape=(n_subblocks - 29,)] 3 s windows at 10 Hz
    momentary_max_power: float  # over 400 ms windows at 5 ms steps
    short_term_max_power: float  # over 3 s windows at 5 ms steps


def _series(tick_energy: np.ndarray, ticks: np.ndarray, *, maxima: bool) -> _Series:
    """Gating-block and short-term powers (and their maxima) from the 5 ms tick energies."""
    n_sub = tick_energy.shape[0] // TICKS_PER_SUBBLOCK
    subblock_energy = (
        tick_energy[: n_sub * TICKS_PER_SUBBLOCK].reshape(n_sub, TICKS_PER_SUBBLOCK).sum(axis=1)
    )
    bounds = ticks[::TICKS_PER_SUBBLOCK]
    momentary_power = _window_power(subblock_energy, bounds, _MOMENTARY_SUBBLOCKS)
    short_term_power = _window_power(subblock_energy, bounds, _SHORT_TERM_SUBBLOCKS)
    momentary_max = short_term_max = 0.0
    if maxima:
        # The 10 Hz windows are among the 5 ms ones; the max() keeps that exact.
        momentary_max = max(
            _max_window_power(tick_energy, ticks, _MOMENTARY_SUBBLOCKS * TICKS_PER_SUBBLOCK),
            float(momentary_power.max(initial=0.0)),
        )
        short_term_max = max(
            _max_window_power(tick_energy, ticks, _SHORT_TERM_SUBBLOCKS * TICKS_PER_SUBBLOCK),
            float(short_term_power.max(initial=0.0)),
        )
    return _Series(momentary_power, short_term_power, momentary_max, short_term_max)


@dataclass
class _Analysis:
    tick_energy: np.ndarray  # [shape=(n_ticks,)] channel-weighted, complete 5 ms ticks
    ticks: np.ndarray  # tick_bounds of the data
    peaks: np.ndarray  # [shape=(channels, n_peak_blocks)]
    data: np.ndarray
    sample_rate: int

    def series(self) -> _Series:
        """Gating-block and short-term powers (no maxima)."""
        return _series(self.tick_energy, self.ticks, maxima=False)


def _analyse(
    samples: np.ndarray | AudioBuffer,
    sample_rate: int | None,
    channel_weights: Sequence[float] | np.ndarray | None,
) -> _Analysis:
    data, rate = _prepare(samples, sample_rate)
    weights = _weights(channel_weights, data.shape[0])
    ticks = tick_bounds(data.shape[1], rate)
    energies, peaks, finite = filtered_energies(data, rate, ticks)
    if not finite:
        _raise_non_finite(data)
    return _Analysis(weights @ energies[:, :-1], ticks, peaks, data, rate)


def report_from_ticks(
    tick_energy: np.ndarray,
    *,
    sample_peak: float,
    true_peak: float,
    frames: int,
    sample_rate: int,
    channels: int,
) -> LoudnessReport:
    """The :func:`measure` report of a track metered a piece at a time.

    Parameters
    ----------
    tick_energy : np.ndarray [shape=(n_ticks,), dtype=float64]
        Channel-weighted sum of the squared K-weighted signal over each complete 5 ms tick
        of :func:`~soundry.dsp._kweighting.tick_bounds` ``(frames, sample_rate)``.
    sample_peak, true_peak : float
        Largest absolute sample and largest true peak (linear, 1.0 = full scale).
    frames, sample_rate, channels : int
        Of the metered track.
    """
    ticks = tick_bounds(frames, sample_rate)
    if tick_energy.shape != (ticks.size - 1,):
        raise ParameterError(
            f"expected {ticks.size - 1} tick energies for {frames} frames; got {tick_energy.shape}"
        )
    series = _series(tick_energy, ticks, maxima=True)
    return LoudnessReport(
        integrated_lufs=gated_integrated_lufs(series.momentary_power),
        lra_lu=_range_from_blocks(series.short_term_power),
        true_peak_dbtp=_amplitude_db(true_peak),
        sample_peak_dbfs=_amplitude_db(sample_peak),
        momentary_max_lufs=_power_to_lufs(series.momentary_max_power),
        short_term_max_lufs=_power_to_lufs(series.short_term_max_power),
        duration_s=frames / sample_rate,
        sample_rate=sample_rate,
        channels=channels,
        momentary_lufs=_to_lufs(series.momentary_power),
        short_term_lufs=_to_lufs(series.short_term_power),
    )


def measure(
    samples: np.ndarray | AudioBuffer,
    sample_rate: int | None = None,
    *,
    channel_weights: Sequence[float] | np.ndarray | None = None,
) -> LoudnessReport:
    """Meter audio in one pass: I, LRA, M and S series and maxima, true and sample peak.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)] or AudioBuffer
        Floating-point audio, 1.0 = full scale; 1-D is mono. Must be finite.
    sample_rate : int
        Sample rate in Hz, 8 000 to 192 000. May be omitted for an AudioBuffer.
    channel_weights : sequence of float [shape=(channels,)], optional
        BS.1770 weight per channel; default :func:`default_channel_weights`.

    Returns
    -------
    report : LoudnessReport

    Raises
    ------
    ParameterError
        Wrong shape or dtype, sample rate out of range, non-finite samples, or channel
        weights of the wrong length (or none known for this channel count).
    """
    analysis = _analyse(samples, sample_rate, channel_weights)
    data, rate = analysis.data, analysis.sample_rate
    sample_peak = float(analysis.peaks.max()) if analysis.peaks.size else 0.0
    true_peak = max_true_peak(
        data,
        factor=true_peak_factor(rate),
        peaks=analysis.peaks,
        block_frames=PEAK_BLOCK_FRAMES,
    )
    return report_from_ticks(
        analysis.tick_energy,
        sample_peak=sample_peak,
        true_peak=true_peak,
        frames=data.shape[1],
        sample_rate=rate,
        channels=int(data.shape[0]),
    )


def integrated_loudness(
    samples: np.ndarray | AudioBuffer,
    sample_rate: int | None = None,
    *,
    channel_weights: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Gated integrated loudness (BS.1770-4) in LUFS.

    Parameters are as for :func:`measure`. Returns ``-inf`` when no 400 ms block passes the
    gates: silence, or a signal shorter than 400 ms.
    """
    analysis = _analyse(samples, sample_rate, channel_weights)
    return gated_integrated_lufs(analysis.series().momentary_power)


def loudness_range(
    samples: np.ndarray | AudioBuffer,
    sample_rate: int | None = None,
    *,
    channel_weights: Sequence[float] | np.ndarray | None = None,
) -> float:
    """Loudness range (EBU Tech 3342) in LU; 0.0 when no 3 s block passes the gates.

    Parameters are as for :func:`measure`.
    """
    analysis = _analyse(samples, sample_rate, channel_weights)
    return _range_from_blocks(analysis.series().short_term_power)


def momentary_loudness(
    samples: np.ndarray | AudioBuffer,
    sample_rate: int | None = None,
    *,
    channel_weights: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """Momentary loudness (400 ms windows) at 10 Hz in LUFS.

    Parameters are as for :func:`measure`.

    Returns
    -------
    momentary_lufs : np.ndarray [shape=(max(0, n_subblocks - 3),), dtype=float64]
        Value ``j`` covers ``[0.1 j, 0.1 j + 0.4)`` s; ``-inf`` where silent.
    """
    analysis = _analyse(samples, sample_rate, channel_weights)
    return _to_lufs(analysis.series().momentary_power)


def short_term_loudness(
    samples: np.ndarray | AudioBuffer,
    sample_rate: int | None = None,
    *,
    channel_weights: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """Short-term loudness (3 s windows) at 10 Hz in LUFS.

    Parameters are as for :func:`measure`.

    Returns
    -------
    short_term_lufs : np.ndarray [shape=(max(0, n_subblocks - 29),), dtype=float64]
        Value ``j`` covers ``[0.1 j, 0.1 j + 3)`` s; ``-inf`` where silent.
    """
    analysis = _analyse(samples, sample_rate, channel_weights)
    return _to_lufs(analysis.series().short_term_power)


def _peak_input(samples: np.ndarray | AudioBuffer) -> np.ndarray:
    # Peaks do not depend on the rate: validate the array with a dummy in-range rate.
    if isinstance(samples, AudioBuffer):
        data = samples.samples
    else:
        data, _ = _prepare(samples, MIN_SAMPLE_RATE)
    return data


def true_peak_dbtp(samples: np.ndarray | AudioBuffer, sample_rate: int | None = None) -> float:
    """True peak (BS.1770-4 Annex 2) in dBTP, the largest over all channels.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)] or AudioBuffer
        Finite floating-point audio, 1.0 = full scale.
    sample_rate : int
        Sample rate in Hz, which sets the oversampling factor (:func:`true_peak_factor`).

    Returns
    -------
    true_peak : float
        ``-inf`` for silence. Never below the sample peak.
    """
    data, rate = _prepare(samples, sample_rate)
    _check_finite(data)
    peaks = block_peaks(data, PEAK_BLOCK_FRAMES)
    linear = max_true_peak(
        data, factor=true_peak_factor(rate), peaks=peaks, block_frames=PEAK_BLOCK_FRAMES
    )
    return _amplitude_db(linear)


def sample_peak_dbfs(samples: np.ndarray | AudioBuffer) -> float:
    """Largest absolute sample over all channels in dBFS (``-inf`` for silence).

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)] or AudioBuffer
        Finite floating-point audio, 1.0 = full scale.
    """
    data = _peak_input(samples)
    _check_finite(data)
    if data.size == 0:
        return -math.inf
    return _amplitude_db(max(-float(data.min()), float(data.max())))
