"""Reference mastering: measure a reference track and blend its targets with the track's own.

:func:`measure_reference_source` (and :func:`analyse_reference` for samples in memory)
measures what a master is matched on, in one chunked pass: the long-term tonal balance (in
the tonal stage's octave bands, normalised as that stage normalises, by
:func:`~soundry.engine.mastering.tonal.balance_from_powers`), the integrated loudness and
true peak (BS.1770), and the stereo width per band
(:class:`~soundry.engine.mastering.meter.TrackMeter`, the same figures as
:func:`~soundry.engine.mastering.image.measure_width`). The ``blend_*`` functions mix a
track's own values with the reference's, linearly, ``blend`` 0 giving the track's own and 100
the reference's:

* tonal balance in dB per band -> ``plan_tonal(target_curve_db=...)``;
* loudness in LUFS (clamped to the -24..-6 LUFS a master accepts) -> the gain decision;
* width as side-energy share per band -> ``plan_image(target=...)``.

A mono (or dual-mono) reference has no width to match: its ``width`` is None and
:func:`blend_width` returns None, so the stereo stage keeps its own settings.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from soundry.audio.stream import ArraySource, PcmSource
from soundry.engine.mastering.analysis import analyse_source
from soundry.engine.mastering.image import BAND_NAMES, as_audio, check_sample_rate
from soundry.engine.mastering.meter import TrackMeter
from soundry.engine.mastering.profiles import TONAL_BAND_CENTRES_HZ
from soundry.engine.mastering.settings import MAX_TARGET_LUFS, MIN_TARGET_LUFS
from soundry.engine.mastering.tonal import balance_from_powers
from soundry.errors import ParameterError

__all__ = [
    "ReferenceTargets",
    "analyse_reference",
    "blend_loudness",
    "blend_targets",
    "blend_width",
    "measure_reference_source",
    "targets_from_measurements",
]

# A stereo reference whose every band has less side than this share (SMR under -30 dB) is
# mono in practice: its "width" would only be codec noise.
_MONO_WIDTH = 1e-3


def _json_number(value: float) -> float | None:
    return round(float(value), 3) if math.isfinite(value) else None


@dataclass(frozen=True)
class ReferenceTargets:
    """What a reference track is matched on.

    Attributes
    ----------
    tonal_curve_db : np.ndarray [shape=(10,), dtype=float64]
        Long-term balance in dB at
        :data:`~soundry.engine.mastering.profiles.TONAL_BAND_CENTRES_HZ`, referred to its
        weighted mean (read-only).
    integrated_lufs : float
        Integrated loudness, LUFS (``-inf`` if the reference is silent or under 0.4 s).
    true_peak_dbtp : float
        True peak, dBTP (``-inf`` for silence).
    width : dict or None
        :func:`~soundry.engine.mastering.image.measure_width` of the reference; None when
        it is mono or dual-mono (no width target is then applied).
    sample_rate : int
        The reference's rate, Hz.
    channels : int
        Its channel count.
    duration_s : float
        Its length in seconds.
    """

    tonal_curve_db: np.ndarray = field(repr=False, compare=False)
    integrated_lufs: float
    true_peak_dbtp: float
    width: Mapping[str, float] | None
    sample_rate: int
    channels: int
    duration_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary for the mastering report (non-finite numbers become None)."""
        return {
            "band_centres_hz": [float(f) for f in TONAL_BAND_CENTRES_HZ],
            "tonal_curve_db": [round(float(v), 3) for v in self.tonal_curve_db],
            "integrated_lufs": _json_number(self.integrated_lufs),
            "true_peak_dbtp": _json_number(self.true_peak_dbtp),
            "width": None
            if self.width is None
            else {k: round(float(v), 4) for k, v in self.width.items()},
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "duration_s": round(self.duration_s, 3),
        }


def analyse_reference(samples: np.ndarray, sample_rate: int) -> ReferenceTargets:
    """Measure a reference track held in memory (any rate, mono or stereo).

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        The reference, float, finite.
    sample_rate : int
        Its sample rate in Hz (need not be the track's: every measure here is in Hz or dB).

    Returns
    -------
    ReferenceTargets
    """
    data = as_audio(samples)
    rate = check_sample_rate(sample_rate)
    audio = data[np.newaxis, :] if data.ndim == 1 else data
    return measure_reference_source(ArraySource(audio, rate))


def measure_reference_source(source: PcmSource, *, workers: int = 1) -> ReferenceTargets:
    """Measure a reference read a chunk at a time, in one pass: tonal balance from the
    mastering analysis's frame powers, loudness and width from the report's meter."""
    meter = TrackMeter(source.sample_rate, source.channels, source.frames)
    # Measured as it is, without the chain's DC blocker (as measure_balance_db does).
    analysis = analyse_source(
        source, dc_blocked=True, meter=meter, multiband=False, workers=workers
    )
    loudness = meter.loudness()
    return targets_from_measurements(
        balance_db=balance_from_powers(
            analysis.tonal_powers,
            analysis.tonal_mean_square,
            analysis.tonal_frame,
            source.sample_rate,
        ),
        integrated_lufs=loudness.integrated_lufs,
        true_peak_dbtp=loudness.true_peak_dbtp,
        width=meter.width(),
        sample_rate=source.sample_rate,
        channels=source.channels,
        frames=source.frames,
    )


def targets_from_measurements(
    *,
    balance_db: np.ndarray,
    integrated_lufs: float,
    true_peak_dbtp: float,
    width: Mapping[str, float] | None,
    sample_rate: int,
    channels: int,
    frames: int,
) -> ReferenceTargets:
    """:class:`ReferenceTargets` from measurements already made (a reference streamed from
    disk is measured by the same pass that analyses it)."""
    curve = np.array(balance_db, dtype=np.float64)
    curve.flags.writeable = False
    if width is not None and max(width[b] for b in BAND_NAMES) < _MONO_WIDTH:
        width = None
    return ReferenceTargets(
        tonal_curve_db=curve,
        integrated_lufs=float(integrated_lufs),
        true_peak_dbtp=float(true_peak_dbtp),
        width=None if width is None else dict(width),
        sample_rate=sample_rate,
        channels=channels,
        duration_s=frames / sample_rate,
    )


def _fraction(blend: float) -> float:
    try:
        value = float(blend)
    except (TypeError, ValueError):
        raise ParameterError(f"blend must be a number from 0 to 100; got {blend!r}") from None
    if not 0.0 <= value <= 100.0:  # also rejects NaN
        raise ParameterError(f"blend must be from 0 to 100; got {blend!r}")
    return value / 100.0


def blend_targets(
    track_curve_db: np.ndarray, reference: ReferenceTargets, blend: float
) -> np.ndarray:
    """Tonal balance to aim at: the track's own moved ``blend`` % of the way to the reference.

    Parameters
    ----------
    track_curve_db : np.ndarray [shape=(10,)]
        The track's own balance (``analyse_reference(track).tonal_curve_db``), dB.
    reference : ReferenceTargets
    blend : float
        0 to 100.

    Returns
    -------
    curve_db : np.ndarray [shape=(10,), dtype=float64]
        ``(1 - b) · track + b · reference`` with ``b = blend / 100`` (linear in dB).
    """
    b = _fraction(blend)
    own = np.asarray(track_curve_db, dtype=np.float64)
    if own.shape != reference.tonal_curve_db.shape or not np.isfinite(own).all():
        raise ParameterError(
            f"track_curve_db must be {reference.tonal_curve_db.size} finite dB values; got"
            f" shape {own.shape}"
        )
    out: np.ndarray = (1.0 - b) * own + b * reference.tonal_curve_db
    return out


def blend_loudness(default_target_lufs: float, reference: ReferenceTargets, blend: float) -> float:
    """Loudness to aim at: the requested target moved ``blend`` % toward the reference's.

    Parameters
    ----------
    default_target_lufs : float
        The target the master would have without a reference, LUFS.
    reference : ReferenceTargets
    blend : float
        0 to 100.

    Returns
    -------
    target_lufs : float
        Linear in LU, clamped to -24..-6 LUFS. The default itself when the reference has no
        measurable loudness (silence).
    """
    b = _fraction(blend)
    default = float(default_target_lufs)
    if not math.isfinite(default):
        raise ParameterError(f"default_target_lufs must be finite; got {default_target_lufs!r}")
    if not math.isfinite(reference.integrated_lufs) or b == 0.0:
        return default
    mixed = (1.0 - b) * default + b * reference.integrated_lufs
    return min(max(mixed, MIN_TARGET_LUFS), MAX_TARGET_LUFS)


def blend_width(
    track_width: Mapping[str, float] | None, reference: ReferenceTargets, blend: float
) -> dict[str, float] | None:
    """Per-band width to aim at, for ``plan_image(target=...)``.

    Parameters
    ----------
    track_width : mapping or None
        The track's own :func:`~soundry.engine.mastering.image.measure_width` (None if it
        is mono).
    reference : ReferenceTargets
    blend : float
        0 to 100.

    Returns
    -------
    target : dict or None
        ``{"low", "mid", "high"}``: ``(1 - b) · track + b · reference`` in side-energy share.
        None (no width target) when either track is mono or ``blend`` is 0, so that a blend
        of 0 leaves the stereo stage exactly as it would be without a reference.
    """
    b = _fraction(blend)
    if track_width is None or reference.width is None or b == 0.0:
        return None
    out = {}
    for band in BAND_NAMES:
        own = float(track_width[band])
        if not 0.0 <= own <= 1.0:
            raise ParameterError(f"track_width[{band!r}] must be from 0 to 1; got {own!r}")
        # Just under 1: plan_image needs a finite side-to-mid ratio to aim at.
        out[band] = min((1.0 - b) * own + b * float(reference.width[band]), 0.999)
    return out
