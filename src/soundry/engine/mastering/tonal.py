"""The dynamic tonal stage: follow the track's balance over time, nudge it toward a target.

:func:`plan_tonal` analyses the track, :func:`apply_tonal` renders the plan. Splitting the
two lets previews and streamed long files render any stretch of the track from one
whole-track analysis.

Analysis
--------
Octave-band energies (bands of :data:`~soundry.engine.mastering.profiles.TONAL_BAND_CENTRES_HZ`)
are measured in Hann-windowed frames of about 0.19 s and averaged over 3 s windows centred
on instants 1 s apart. Each window's balance is its band levels referred to their own
(robust, weighted) mean, so a window's loudness is never what gets corrected, only its
shape.

Correction
----------
For each window: ``CORRECTION_FRACTION`` (60 %) of the gap between the balance and the
neutral curve, with the boost and cut limited to the profile's ``max_boost_db`` /
``max_cut_db``; bands more than 12 dB short of the target fade their boost out (by 24 dB
short there is nothing there to lift, and boosting it would only raise noise). The
profile's own curve (60 % of it, like the gap) is then added: the limits restrain how hard
a badly balanced track is pulled toward neutral, while the profile's character stays
audible whatever the input. Corrections are smoothed across bands, held through quiet
windows, smoothed over time (Gaussian, σ = 2 s) and scaled by ``intensity / 100`` (and
``strength`` when matching a reference curve).

Rendering
---------
Per block of ~0.28 s (cross-faded with its neighbours over ~46 ms), a minimum-phase FIR
with the gain curve interpolated to the block's time
(:mod:`soundry.engine.mastering._spectral`): causal, no latency, and an excerpt with
``plan.preroll_frames`` of pre-roll renders exactly like the full track. Measured: plan
plus render of a 3-minute 44.1 kHz stereo track take about 0.35–0.45 s on two cores.

When matching a reference, ``target_curve_db`` replaces the neutral-plus-profile target and
the same 60 % partial correction applies; ``strength`` then scales the result, so
``strength = 0`` is an exact identity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import fft as sp_fft
from scipy.ndimage import gaussian_filter1d

from soundry.dsp.spectrum import welch_window
from soundry.engine.mastering._spectral import BlockConvolver, filter_taps
from soundry.engine.mastering.profiles import (
    BAND_WEIGHTS,
    NEUTRAL_CURVE_DB,
    TONAL_BAND_CENTRES_HZ,
    TonalProfile,
)
from soundry.errors import ParameterError

__all__ = [
    "CORRECTION_FRACTION",
    "TonalPlan",
    "apply_tonal",
    "balance_from_powers",
    "frame_band_powers",
    "measure_balance_db",
    "plan_tonal",
    "plan_tonal_from_powers",
    "tonal_frame_frames",
]

CORRECTION_FRACTION = 0.6
"""Share of the gap between a window's balance and the target that is corrected."""

_WINDOW_S = 3.0
_HOP_S = 1.0
_TIME_SIGMA_HOPS = 2.0
# Band smoothing kernel (centre, each neighbour): stops a correction from alternating
# between adjacent octaves, which would sound like a comb rather than a tilt.
_BAND_SMOOTH = (0.6, 0.2)
# Boosts fade out for bands this far (dB) under the target: from full at 12 to none at 24.
_ABSENT_FROM_DB = 12.0
_ABSENT_TO_DB = 24.0
# A window quieter than this (mean-square dBFS), or this far under the loud windows, holds
# the previous correction: fades, reverb tails and noise floors say nothing about balance.
_QUIET_ABS_DB = -80.0
_QUIET_REL_DB = 40.0
_LOUD_PERCENTILE = 95.0
# Default limits when matching a reference curve without a profile.
_DEFAULT_MAX_DB = 6.0
# A band counts as measurable when this share of its octave lies below Nyquist.
_MIN_BAND_COVERAGE = 0.75
# Robust mean: band differences are clipped to this far either side of their median.
_ROBUST_CLIP_DB = 12.0
_ANALYSIS_BATCH = 64


@dataclass(frozen=True, eq=False)
class TonalPlan:
    """Time-varying band gains for :func:`apply_tonal`.

    Attributes
    ----------
    band_centres_hz : np.ndarray [shape=(n_bands,)]
        Band centres in Hz.
    times_s : np.ndarray [shape=(n_times,)]
        Analysis instants in seconds from the start of the track.
    gains_db : np.ndarray [shape=(n_times, n_bands)]
        Gain per band at each instant in dB, smoothed, limited and already scaled by
        ``intensity`` (and ``strength``). Linear in time between instants.
    profile : str or None
        Profile name, or None.
    intensity : float
        0–100.
    preroll_frames : int
        Frames of input before an excerpt that rendering it needs (0 for an identity plan).
    strength : float
        Reference-matching blend 0–1 (1 when a profile drives the plan).
    sample_rate : float
        Rate the plan was made for (Hz).
    """

    band_centres_hz: np.ndarray
    times_s: np.ndarray
    gains_db: np.ndarray
    profile: str | None
    intensity: float
    preroll_frames: int
    strength: float = 1.0
    sample_rate: float = 0.0

    @property
    def is_identity(self) -> bool:
        """True when every gain is 0 dB (rendering returns the input unchanged)."""
        return not bool(np.any(self.gains_db))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary: settings, mean gain per band and the largest |gain|."""
        gains = np.asarray(self.gains_db, dtype=np.float64)
        mean = gains.mean(axis=0) if gains.size else np.zeros(self.band_centres_hz.size)
        return {
            "profile": self.profile,
            "intensity": float(self.intensity),
            "strength": float(self.strength),
            "band_centres_hz": [float(f) for f in self.band_centres_hz],
            "mean_gain_db": [round(float(g), 3) for g in mean],
            "max_abs_gain_db": round(float(np.abs(gains).max()) if gains.size else 0.0, 3),
            "analysis_instants": int(self.times_s.size),
        }


def _frozen(arr: np.ndarray) -> np.ndarray:
    arr = np.array(arr, dtype=np.float64)
    arr.flags.writeable = False
    return arr


def _identity_plan(
    profile: str | None, intensity: float, strength: float, rate: float
) -> TonalPlan:
    return TonalPlan(
        band_centres_hz=_frozen(TONAL_BAND_CENTRES_HZ),
        times_s=_frozen(np.zeros(1)),
        gains_db=_frozen(np.zeros((1, TONAL_BAND_CENTRES_HZ.size))),
        profile=profile,
        intensity=intensity,
        preroll_frames=0,
        strength=strength,
        sample_rate=rate,
    )


# --------------------------------------------------------------------------- validation


def _check_audio(samples: np.ndarray) -> tuple[np.ndarray, bool]:
    data = np.asarray(samples)
    was_1d = data.ndim == 1
    if was_1d:
        data = data[np.newaxis, :]
    if data.ndim != 2:
        raise ParameterError(
            f"audio must have shape (channels, frames) or (frames,); got {np.shape(samples)}"
        )
    if not (np.issubdtype(data.dtype, np.floating) or np.issubdtype(data.dtype, np.integer)):
        raise ParameterError(f"audio must be a real numeric array; got dtype {data.dtype}")
    if data.shape[0] < 1:
        raise ParameterError("audio has no channels")
    if not np.isfinite(data).all():
        raise ParameterError("audio contains NaN or infinite samples")
    return data, was_1d


def _check_rate(sample_rate: float) -> float:
    try:
        rate = float(sample_rate)
    except (TypeError, ValueError):
        raise ParameterError(f"sample_rate must be a number of Hz; got {sample_rate!r}") from None
    if not math.isfinite(rate) or rate < 1000.0:
        raise ParameterError(f"sample_rate must be at least 1000 Hz; got {sample_rate!r}")
    return rate


def _check_unit(name: str, value: float, high: float) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number from 0 to {high:g}; got {value!r}") from None
    if not math.isfinite(out) or not 0.0 <= out <= high:
        raise ParameterError(f"{name} must be from 0 to {high:g}; got {value!r}")
    return out


# --------------------------------------------------------------------------- analysis


def _band_layout(rate: float, frame: int) -> tuple[np.ndarray, np.ndarray]:
    """Band index per rfft bin (-1 = outside every band) and which bands are measurable."""
    freqs = sp_fft.rfftfreq(frame, 1.0 / rate)
    lower = TONAL_BAND_CENTRES_HZ / math.sqrt(2.0)
    upper = TONAL_BAND_CENTRES_HZ * math.sqrt(2.0)
    band = np.searchsorted(lower, freqs, side="right") - 1
    band[(freqs < lower[0]) | (band < 0) | (freqs >= upper[np.maximum(band, 0)])] = -1
    nyquist = rate / 2.0
    coverage = np.clip(np.log2(np.maximum(nyquist, 1e-9) / lower), 0.0, 1.0)
    has_bins = np.bincount(band[band >= 0], minlength=lower.size) > 0
    return band, (coverage >= _MIN_BAND_COVERAGE) & has_bins


def tonal_frame_frames(sample_rate: float) -> int:
    """Frames per analysis frame of the tonal stage at ``sample_rate`` (about 0.19 s)."""
    return 2 * filter_taps(sample_rate)


def _run_starts(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start of each run of equal labels along the bins, and the label of each run."""
    starts = np.flatnonzero(np.diff(labels, prepend=labels[0] - 1))
    return starts, labels[starts]


def _band_sums(power: np.ndarray, starts: np.ndarray, run_labels: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``power`` (frames, bins) over the bins of each of ``n`` bands, each band one
    run of bins (summed with ``reduceat``: no BLAS thread pool inside the chunk workers)."""
    runs = np.add.reduceat(power, starts, axis=1, dtype=np.float64)
    out = np.zeros((power.shape[0], n))
    inside = run_labels >= 0
    out[:, run_labels[inside]] = runs[:, inside]
    return out


def frame_band_powers(
    data: np.ndarray, rate: float, extra_labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Band powers per analysis frame, summed over channels.

    Returns powers (n_frames, n_bands) and mean squares (n_frames,), both averaged over
    channels, and the frame length. Frames do not overlap; the trailing partial frame is
    zero-padded. With ``extra_labels`` (shape (frame // 2 + 1,): the extra band of each
    rfft bin, -1 for none; each band one run of bins) the powers have ``n_bands + n_extra``
    columns, the extra bands last.
    """
    frame = tonal_frame_frames(rate)
    channels, frames = data.shape
    n_frames = max(1, -(-frames // frame))
    band, _ = _band_layout(rate, frame)
    n_octaves = TONAL_BAND_CENTRES_HZ.size
    octave_runs = _run_starts(band)
    extra_runs = None if extra_labels is None else _run_starts(np.asarray(extra_labels))
    n_extra = 0 if extra_labels is None else int(np.max(extra_labels, initial=-1)) + 1
    window = welch_window(frame)
    # Parseval for a one-sided spectrum (ignoring DC/Nyquist): mean square of the windowed
    # frame, corrected for the window's own power, averaged over channels.
    scale = 2.0 / (frame * float(np.sum(window.astype(np.float64) ** 2)) * channels)
    powers = np.zeros((n_frames, n_octaves + n_extra))
    mean_square = np.zeros(n_frames)
    chunk = np.empty((channels, _ANALYSIS_BATCH * frame), dtype=np.float32)
    for first in range(0, n_frames, _ANALYSIS_BATCH):
        last = min(first + _ANALYSIS_BATCH, n_frames)
        got = data[:, first * frame : last * frame]
        span = (last - first) * frame
        chunk[:, : got.shape[1]] = got
        chunk[:, got.shape[1] : span] = 0.0
        framed = chunk[:, :span].reshape(channels, last - first, frame)
        framed *= window
        spectra = sp_fft.rfft(framed, axis=-1)
        power = spectra.real**2 + spectra.imag**2
        power = power.sum(axis=0) if channels > 1 else power[0]
        mean_square[first:last] = power.sum(axis=1, dtype=np.float64) * scale
        powers[first:last, :n_octaves] = _band_sums(power, *octave_runs, n_octaves) * scale
        if extra_runs is not None:
            powers[first:last, n_octaves:] = _band_sums(power, *extra_runs, n_extra) * scale
    return powers, mean_square, frame


def _window_averages(
    values: np.ndarray, frame: int, rate: float, times_s: np.ndarray
) -> np.ndarray:
    """Mean of per-frame ``values`` over the window centred on each instant."""
    centres = (np.arange(values.shape[0]) + 0.5) * frame / rate
    lo = np.searchsorted(centres, times_s - _WINDOW_S / 2.0, side="left")
    hi = np.searchsorted(centres, times_s + _WINDOW_S / 2.0, side="left")
    # A window that catches no frame centre (very short input) uses the nearest frame.
    empty = hi <= lo
    nearest = np.clip(np.searchsorted(centres, times_s), 0, values.shape[0] - 1)
    lo = np.where(empty, nearest, lo)
    hi = np.where(empty, nearest + 1, hi)
    cumulative = np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])
    out: np.ndarray = (cumulative[hi] - cumulative[lo]) / (hi - lo).reshape(
        -1, *([1] * (values.ndim - 1))
    )
    return out


def _levels_db(power: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(power, 1e-30))


def _robust_offset(diff: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of each row of ``diff`` after clipping outliers around the median.

    A band with next to no energy (a solo trumpet's sub octave) would otherwise drag a
    plain mean by tens of dB and turn every other band's correction into a boost.
    """
    median = np.median(diff[:, weights > 0], axis=-1, keepdims=True)
    clipped = np.clip(diff, median - _ROBUST_CLIP_DB, median + _ROBUST_CLIP_DB)
    out: np.ndarray = (clipped * weights).sum(axis=-1, keepdims=True) / weights.sum()
    return out


def _normalised(curve: np.ndarray, valid: np.ndarray) -> np.ndarray:
    weights = BAND_WEIGHTS * valid
    return curve - float((curve * weights).sum() / weights.sum())


def measure_balance_db(samples: np.ndarray, sample_rate: float) -> np.ndarray:
    """Long-term tonal balance of a track in the tonal stage's band layout.

    The octave-band levels over the track's non-quiet stretches, referred to their
    (weighted) mean: pass it as ``target_curve_db`` to :func:`plan_tonal` to match another
    track's balance (reference mastering).

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        Audio.
    sample_rate : float
        Sample rate in Hz.

    Returns
    -------
    balance_db : np.ndarray [shape=(n_bands,), dtype=float64]
        dB per band of :data:`~soundry.engine.mastering.profiles.TONAL_BAND_CENTRES_HZ`;
        bands above Nyquist repeat the highest measurable band; all zeros for silence.
    """
    data, _ = _check_audio(samples)
    rate = _check_rate(sample_rate)
    n_bands = TONAL_BAND_CENTRES_HZ.size
    if data.shape[1] == 0:
        return np.zeros(n_bands)
    powers, mean_square, frame = frame_band_powers(data, rate)
    return balance_from_powers(powers, mean_square, frame, rate)


def balance_from_powers(
    powers: np.ndarray, mean_square: np.ndarray, frame: int, sample_rate: float
) -> np.ndarray:
    """:func:`measure_balance_db` from :func:`frame_band_powers` results (the mastering
    analysis keeps them, so a track measured once need not be read again).

    Parameters
    ----------
    powers : np.ndarray [shape=(n_frames, n_bands)]
    mean_square : np.ndarray [shape=(n_frames,)]
    frame : int
        Frames per analysis frame.
    sample_rate : float
        Hz.
    """
    n_bands = TONAL_BAND_CENTRES_HZ.size
    if mean_square.size == 0:
        return np.zeros(n_bands)
    _, valid = _band_layout(float(sample_rate), frame)
    level = _levels_db(mean_square)
    loud = level >= max(
        _QUIET_ABS_DB, float(np.percentile(level, _LOUD_PERCENTILE)) - _QUIET_REL_DB
    )
    if not loud.any() or valid.sum() < 3:
        return np.zeros(n_bands)
    balance = _levels_db(powers[loud].mean(axis=0))
    balance = _fill_invalid(_normalised(balance, valid)[np.newaxis], valid)[0]
    return balance


def _fill_invalid(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Replace columns of unmeasurable bands by the nearest measurable band's column."""
    if valid.all():
        return values
    good = np.flatnonzero(valid)
    nearest = good[np.abs(np.arange(valid.size)[:, None] - good[None, :]).argmin(axis=1)]
    return values[:, nearest]


# --------------------------------------------------------------------------- planning


def _limits(profile: TonalProfile | None) -> tuple[float, float]:
    if profile is None:
        return _DEFAULT_MAX_DB, _DEFAULT_MAX_DB
    return float(profile.max_boost_db), float(profile.max_cut_db)


def _match_corrections(
    levels_db: np.ndarray, target_db: np.ndarray, valid: np.ndarray, boost: float, cut: float
) -> np.ndarray:
    """Limited partial corrections toward ``target_db`` for each window (row)."""
    weights = BAND_WEIGHTS * valid
    gap = np.where(valid, target_db - levels_db, 0.0)
    gap = gap - _robust_offset(gap, weights)
    wanted = CORRECTION_FRACTION * gap
    # Fade the boost of bands that are largely absent rather than merely quiet.
    presence = np.clip((_ABSENT_TO_DB - gap) / (_ABSENT_TO_DB - _ABSENT_FROM_DB), 0.0, 1.0)
    wanted = np.where(wanted > 0, wanted * presence, wanted)
    return np.clip(wanted, -cut, boost)


def _smooth_bands(gains: np.ndarray) -> np.ndarray:
    centre, side = _BAND_SMOOTH
    padded = np.pad(gains, ((0, 0), (1, 1)), mode="edge")
    out: np.ndarray = centre * gains + side * (padded[:, :-2] + padded[:, 2:])
    return out


def _hold_quiet(gains: np.ndarray, loud: np.ndarray) -> np.ndarray:
    """Quiet windows take the previous loud window's gains (the first loud one at the start)."""
    index = np.where(loud, np.arange(loud.size), -1)
    index = np.maximum.accumulate(index)
    index[index < 0] = int(np.flatnonzero(loud)[0])
    return gains[index]


def plan_tonal(
    samples: np.ndarray,
    sample_rate: float,
    *,
    profile: TonalProfile | None,
    intensity: float = 100.0,
    target_curve_db: np.ndarray | None = None,
    strength: float = 1.0,
) -> TonalPlan:
    """Analyse a track and plan its time-varying tonal correction.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        The whole track (any real dtype; float32 is fastest).
    sample_rate : float
        Sample rate in Hz.
    profile : TonalProfile or None
        Target character (``NEUTRAL_CURVE_DB + profile.target_curve_db``) and limits. None
        without ``target_curve_db`` plans no correction.
    intensity : float
        0–100: share of the correction applied (0 = none).
    target_curve_db : np.ndarray [shape=(n_bands,)], optional
        A balance to match instead (e.g. :func:`measure_balance_db` of a reference track),
        in dB at :data:`~soundry.engine.mastering.profiles.TONAL_BAND_CENTRES_HZ`; only
        its shape matters. The profile, if any, then only sets the limits.
    strength : float
        0–1 blend of the reference correction (scales the gains like ``intensity``).

    Returns
    -------
    TonalPlan
        An identity plan (all gains 0) for intensity 0, strength 0, no target, silence or
        an empty track.

    Raises
    ------
    ParameterError
        Bad audio, rate, intensity, strength or target curve.
    """
    data, _ = _check_audio(samples)
    rate = _check_rate(sample_rate)
    powers, mean_square, frame = (
        frame_band_powers(data, rate) if data.shape[1] else (np.zeros((0, 1)), np.zeros(0), 0)
    )
    return plan_tonal_from_powers(
        powers,
        mean_square,
        frame,
        data.shape[1],
        rate,
        profile=profile,
        intensity=intensity,
        target_curve_db=target_curve_db,
        strength=strength,
    )


def plan_tonal_from_powers(
    powers: np.ndarray,
    mean_square: np.ndarray,
    frame: int,
    frames: int,
    sample_rate: float,
    *,
    profile: TonalProfile | None,
    intensity: float = 100.0,
    target_curve_db: np.ndarray | None = None,
    strength: float = 1.0,
) -> TonalPlan:
    """:func:`plan_tonal` from the track's analysis frames instead of its samples.

    Parameters
    ----------
    powers : np.ndarray [shape=(n_frames, n_bands)]
        Octave-band power per frame (:class:`~soundry.engine.mastering.analysis.SourceAnalysis`
        ``.tonal_powers``).
    mean_square : np.ndarray [shape=(n_frames,)]
        Mean square per frame.
    frame : int
        Frames per analysis frame.
    frames : int
        Length of the track in frames.
    sample_rate : float
        Hz.
    profile, intensity, target_curve_db, strength
        As for :func:`plan_tonal`.
    """
    rate = _check_rate(sample_rate)
    level = _check_unit("intensity", intensity, 100.0)
    blend = _check_unit("strength", strength, 1.0)
    name = profile.name if profile is not None else None
    n_bands = TONAL_BAND_CENTRES_HZ.size
    target = None
    if target_curve_db is not None:
        target = np.asarray(target_curve_db, dtype=np.float64)
        if target.shape != (n_bands,) or not np.isfinite(target).all():
            raise ParameterError(
                f"target_curve_db must be {n_bands} finite dB values (one per band of "
                f"TONAL_BAND_CENTRES_HZ); got shape {target.shape}"
            )
    scale = level / 100.0 * blend
    if scale == 0.0 or (profile is None and target is None) or frames == 0:
        return _identity_plan(name, level, blend, rate)

    _, valid = _band_layout(rate, frame)
    if valid.sum() < 3:
        return _identity_plan(name, level, blend, rate)
    duration_s = frames / rate
    times = np.arange(int(duration_s // _HOP_S) + 1) * _HOP_S
    band_levels = _levels_db(_window_averages(powers, frame, rate, times))
    window_db = _levels_db(_window_averages(mean_square, frame, rate, times))
    loud_db = float(np.percentile(window_db, _LOUD_PERCENTILE))
    loud = (window_db >= _QUIET_ABS_DB) & (window_db >= loud_db - _QUIET_REL_DB)
    if not loud.any():
        return _identity_plan(name, level, blend, rate)

    boost, cut = _limits(profile)
    if target is not None:
        gains = _match_corrections(band_levels, _normalised(target, valid), valid, boost, cut)
    else:
        assert profile is not None
        gains = _match_corrections(band_levels, NEUTRAL_CURVE_DB, valid, boost, cut)
        character = _normalised(np.asarray(profile.target_curve_db, dtype=np.float64), valid)
        gains = gains + CORRECTION_FRACTION * character
    gains = _fill_invalid(gains, valid)
    gains = _smooth_bands(gains)
    gains = _hold_quiet(gains, loud)
    if gains.shape[0] > 1:
        gains = gaussian_filter1d(gains, _TIME_SIGMA_HOPS, axis=0, mode="nearest")
    gains = gains * scale
    return TonalPlan(
        band_centres_hz=_frozen(TONAL_BAND_CENTRES_HZ),
        times_s=_frozen(times),
        gains_db=_frozen(gains),
        profile=name,
        intensity=level,
        preroll_frames=filter_taps(rate),
        strength=blend,
        sample_rate=rate,
    )


# --------------------------------------------------------------------------- rendering


def apply_tonal(
    samples: np.ndarray, sample_rate: float, plan: TonalPlan, *, start_frame: int = 0
) -> np.ndarray:
    """Render a :class:`TonalPlan` on the whole track or on an excerpt of it.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        Audio: the track, or the frames ``start_frame …`` of it.
    sample_rate : float
        Sample rate in Hz (the plan's).
    plan : TonalPlan
        From :func:`plan_tonal` on the whole track.
    start_frame : int
        Absolute frame index of ``samples[..., 0]`` in the track. To render frames
        ``s … e`` exactly as the full render does, pass ``samples = x[..., s - P : e]``
        with ``start_frame = s - P`` (``P = plan.preroll_frames``) and drop the first
        ``P`` output frames. No post-roll is needed: the filters are causal.

    Returns
    -------
    out : np.ndarray [same shape as samples, dtype=float32]
        Time-aligned with the input (no latency). An identity plan returns the input
        converted to float32 (bit-identical for float32 input).
    """
    data, was_1d = _check_audio(samples)
    rate = _check_rate(sample_rate)
    if plan.sample_rate and not math.isclose(plan.sample_rate, rate):
        raise ParameterError(
            f"the plan was made at {plan.sample_rate:g} Hz; audio is at {rate:g} Hz"
        )
    first = int(start_frame)
    if first != start_frame or first < 0:
        raise ParameterError(f"start_frame must be a non-negative integer; got {start_frame!r}")
    if plan.is_identity or data.shape[1] == 0:
        out = np.array(data, dtype=np.float32, copy=True)
    else:
        convolver = BlockConvolver(plan.band_centres_hz, plan.times_s, plan.gains_db, rate)
        out = convolver.apply(np.asarray(data, dtype=np.float32), first)
    return out[0] if was_1d else out
