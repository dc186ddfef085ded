"""Dynamics processors: a feed-forward compressor, a downward expander and a noise gate.

All three share one structure (Giannoulis, Massberg & Reiss, "Digital dynamic range
compressor design", JAES 2012): a level detector (peak or RMS, per channel or stereo-linked,
on the input or on an external sidechain) gives a level in dB, a static gain computer in the
log domain turns it into a target gain reduction in dB, a hold keeps that target steady
through the waveform's own swings, and a branching one-pole smooths it with attack and
release. Smoothing works on gain reduction in dB, so the time constants mean the same thing
at every level.

Time constants are those of a one-pole filter: ``attack_ms`` after a rise in level, the gain
reduction has covered 1 - 1/e (63 %) of the step in its target; after a fall it has done so
``hold_ms + release_ms`` later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np

from soundry.dsp._dynamics_common import (
    Detector,
    LinkMode,
    apply_gain,
    as_2d,
    check_range,
    check_rate,
    compress_row,
    detector_levels_db,
    expand_row,
    one_pole_coefficient,
)
from soundry.errors import ParameterError

__all__ = ["Compressor", "compress", "expand", "gate"]

# A gate is an expander whose slope is steep enough that range_db, not the ratio, sets how
# far it closes a few dB under the threshold.
_GATE_RATIO = 100.0


# ---------------------------------------------------------------------------------------------
# Shared driver


def _sidechain_source(sidechain: np.ndarray | None, audio: np.ndarray) -> np.ndarray:
    if sidechain is None:
        return audio
    key = as_2d(sidechain, "sidechain")
    if key.shape[1] != audio.shape[1]:
        raise ParameterError(
            f"sidechain must have the same number of frames as samples ({audio.shape[1]});"
            f" got {key.shape[1]}"
        )
    if key.shape[0] not in (1, audio.shape[0]):
        raise ParameterError(
            f"sidechain must have 1 or {audio.shape[0]} channels; got {key.shape[0]}"
        )
    return key


def _apply_reduction(
    audio: np.ndarray,
    reduction_db: np.ndarray,
    makeup_db: float,
    was_1d: bool,
    linked: bool,
    return_gain: bool,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    # numpy's float32 exp is vectorised (power is not, nor is a scalar exp in a kernel).
    gain = reduction_db * np.float32(-np.log(10.0) / 20.0)
    gain += np.float32(makeup_db * np.log(10.0) / 20.0)
    np.exp(gain, out=gain)
    out = apply_gain(audio, gain)
    if was_1d:
        out = out[0]
    if not return_gain:
        return out
    if linked or was_1d:
        curve = reduction_db[0]
    elif reduction_db.shape[0] != audio.shape[0]:  # a mono sidechain drove every channel
        curve = np.repeat(reduction_db, audio.shape[0], axis=0)
    else:
        curve = reduction_db
    return out, curve


def _validate_common(
    *,
    sample_rate: int,
    threshold_db: float,
    knee_db: float,
    attack_ms: float,
    release_ms: float,
    detector: str,
    rms_window_ms: float,
    link: str,
    makeup_db: float,
) -> int:
    rate = check_rate(sample_rate)
    check_range("threshold_db", threshold_db, -120.0, 24.0)
    check_range("knee_db", knee_db, 0.0, 48.0)
    check_range("attack_ms", attack_ms, 0.0, 5000.0)
    check_range("release_ms", release_ms, 0.0, 10000.0)
    check_range("rms_window_ms", rms_window_ms, 0.1, 1000.0)
    check_range("makeup_db", makeup_db, -60.0, 60.0)
    if detector not in ("peak", "rms"):
        raise ParameterError(f"detector must be 'peak' or 'rms'; got {detector!r}")
    if link not in ("max", "mean"):
        raise ParameterError(f"link must be 'max' or 'mean'; got {link!r}")
    return rate


# ---------------------------------------------------------------------------------------------
# Public API


@overload
def compress(
    samples: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    ratio: float,
    knee_db: float = ...,
    attack_ms: float = ...,
    release_ms: float = ...,
    hold_ms: float = ...,
    detector: Detector = ...,
    rms_window_ms: float = ...,
    sidechain: np.ndarray | None = ...,
    stereo_link: bool = ...,
    link: LinkMode = ...,
    makeup_db: float = ...,
    return_gain: Literal[False] = ...,
) -> np.ndarray: ...


@overload
def compress(
    samples: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    ratio: float,
    knee_db: float = ...,
    attack_ms: float = ...,
    release_ms: float = ...,
    hold_ms: float = ...,
    detector: Detector = ...,
    rms_window_ms: float = ...,
    sidechain: np.ndarray | None = ...,
    stereo_link: bool = ...,
    link: LinkMode = ...,
    makeup_db: float = ...,
    return_gain: Literal[True],
) -> tuple[np.ndarray, np.ndarray]: ...


@overload
def compress(
    samples: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    ratio: float,
    knee_db: float = ...,
    attack_ms: float = ...,
    release_ms: float = ...,
    hold_ms: float = ...,
    detector: Detector = ...,
    rms_window_ms: float = ...,
    sidechain: np.ndarray | None = ...,
    stereo_link: bool = ...,
    link: LinkMode = ...,
    makeup_db: float = ...,
    return_gain: bool = ...,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...


def compress(
    samples: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    ratio: float,
    knee_db: float = 6.0,
    attack_ms: float = 10.0,
    release_ms: float = 100.0,
    hold_ms: float = 10.0,
    detector: Detector = "peak",
    rms_window_ms: float = 10.0,
    sidechain: np.ndarray | None = None,
    stereo_link: bool = True,
    link: LinkMode = "max",
    makeup_db: float = 0.0,
    return_gain: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Feed-forward downward compressor with a soft knee.

    Static curve (levels in dB, ``W = knee_db``, ``T = threshold_db``, ``R = ratio``): below
    ``T - W/2`` the output equals the input; above ``T + W/2`` it is ``T + (in - T) / R``;
    in between a quadratic joins the two lines with matching slopes.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        Audio, float, finite.
    sample_rate : int
        Sample rate in Hz.
    threshold_db : float
        Threshold in dBFS (peak level for ``detector="peak"``, RMS level for ``"rms"``),
        -120 to +24.
    ratio : float
        Compression ratio, >= 1 (``np.inf`` limits).
    knee_db : float
        Width of the soft knee in dB (0 = hard knee).
    attack_ms, release_ms : float
        One-pole time constants of the gain reduction in ms (0 = instantaneous): rises use
        ``attack_ms``, falls ``release_ms`` (branching smoothing).
    hold_ms : float
        How long the largest target gain reduction is held before release may begin, ms.
        It bridges the waveform's zero crossings (tones down to ``500 / hold_ms`` Hz give a
        steady gain); 0 follows the instantaneous level.
    detector : {"peak", "rms"}
        Level detector: sample magnitude, or mean square over ``rms_window_ms``.
    rms_window_ms : float
        Length of the RMS detector's (causal, rectangular) window in ms.
    sidechain : np.ndarray [shape=(1 or channels, frames) or (frames,)] or None
        Detector input instead of ``samples``: e.g. a high-passed copy, or another track to
        duck under. Must have the same number of frames.
    stereo_link : bool
        One gain for all channels (so the stereo image does not move) from the linked
        detector level; False compresses each channel on its own.
    link : {"max", "mean"}
        How the linked detector combines channels: the loudest channel, or the mean power.
    makeup_db : float
        Gain added after compression, dB.
    return_gain : bool
        Also return the gain-reduction curve.

    Returns
    -------
    out : np.ndarray [shape like ``samples``, dtype=float32]
        Compressed audio.
    gain_reduction_db : np.ndarray [shape=(frames,) or (channels, frames), dtype=float32]
        Only with ``return_gain``: gain reduction in dB (>= 0, makeup not included); one row
        when linked (or mono), one per channel otherwise.

    Raises
    ------
    ParameterError
        On an out-of-range value, a malformed array or a mismatched sidechain.
    """
    rate = _validate_common(
        sample_rate=sample_rate,
        threshold_db=threshold_db,
        knee_db=knee_db,
        attack_ms=attack_ms,
        release_ms=release_ms,
        detector=detector,
        rms_window_ms=rms_window_ms,
        link=link,
        makeup_db=makeup_db,
    )
    check_range("ratio", ratio, 1.0, float("inf"))
    was_1d = np.ndim(samples) == 1
    audio = as_2d(samples)
    key = _sidechain_source(sidechain, audio)
    levels = detector_levels_db(
        key,
        sample_rate=rate,
        detector=detector,
        rms_window_ms=rms_window_ms,
        linked=stereo_link,
        link=link,
    )
    slope = 1.0 - 1.0 / float(ratio)
    hold = round(check_range("hold_ms", hold_ms, 0.0, 5000.0) * rate / 1000.0)
    attack = one_pole_coefficient(attack_ms, rate)
    release = one_pole_coefficient(release_ms, rate)
    reduction = np.stack(
        [
            compress_row(row, float(threshold_db), slope, float(knee_db), hold, attack, release)
            for row in levels
        ]
    )
    return _apply_reduction(audio, reduction, makeup_db, was_1d, stereo_link, return_gain)


@overload
def expand(
    samples: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    ratio: float = ...,
    range_db: float = ...,
    knee_db: float = ...,
    attack_ms: float = ...,
    hold_ms: float = ...,
    release_ms: float = ...,
    detector: Detector = ...,
    rms_window_ms: float = ...,
    sidechain: np.ndarray | None = ...,
    stereo_link: bool = ...,
    link: LinkMode = ...,
    makeup_db: float = ...,
    return_gain: Literal[False] = ...,
) -> np.ndarray: ...


@overload
def expand(
    samples: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    ratio: float = ...,
    range_db: float = ...,
    knee_db: float = ...,
    attack_ms: float = ...,
    hold_ms: float = ...,
    release_ms: float = ...,
    detector: Detector = ...,
    rms_window_ms: float = ...,
    sidechain: np.ndarray | None = ...,
    stereo_link: bool = ...,
    link: LinkMode = ...,
    makeup_db: float = ...,
    return_gain: Literal[True],
) -> tuple[np.ndarray, np.ndarray]: ...


@overload
def expand(
    samples: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    ratio: float = ...,
    range_db: float = ...,
    knee_db: float = ...,
    attack_ms: float = ...,
    hold_ms: float = ...,
    release_ms: float = ...,
    detector: Detector = ...,
    rms_window_ms: float = ...,
    sidechain: np.ndarray | None = ...,
    stereo_link: bool = ...,
    link: LinkMode = ...,
    makeup_db: float = ...,
    return_gain: bool = ...,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...


def expand(
    samples: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    ratio: float = 2.0,
    range_db: float = 40.0,
    knee_db: float = 0.0,
    attack_ms: float = 1.0,
    hold_ms: float = 10.0,
    release_ms: float = 100.0,
    detector: Detector = "peak",
    rms_window_ms: float = 10.0,
    sidechain: np.ndarray | None = None,
    stereo_link: bool = True,
    link: LinkMode = "max",
    makeup_db: float = 0.0,
    return_gain: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Downward expander: quieter passages are made quieter still.

    Below the threshold every dB the level falls takes ``ratio`` dB off the output (ratio 2
    is 1:2 expansion), with the attenuation capped at ``range_db``; above it nothing changes.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        Audio, float, finite.
    sample_rate : int
        Sample rate in Hz.
    threshold_db : float
        Threshold in dBFS, -120 to +24.
    ratio : float
        Expansion ratio, >= 1 (1 = no expansion).
    range_db : float
        The most the expander attenuates, dB (0 to 120).
    knee_db : float
        Soft-knee width in dB.
    attack_ms : float
        Time constant of opening (gain reduction falling) in ms.
    hold_ms : float
        How long the gain stays open after the level drops, ms; it also bridges the zero
        crossings of tones down to ``500 / hold_ms`` Hz.
    release_ms : float
        Time constant of closing in ms.
    detector, rms_window_ms, sidechain, stereo_link, link, makeup_db, return_gain
        As in :func:`compress`.

    Returns
    -------
    out : np.ndarray [shape like ``samples``, dtype=float32]
    gain_reduction_db : np.ndarray [shape=(frames,) or (channels, frames), dtype=float32]
        Only with ``return_gain``: attenuation in dB (>= 0).
    """
    rate = _validate_common(
        sample_rate=sample_rate,
        threshold_db=threshold_db,
        knee_db=knee_db,
        attack_ms=attack_ms,
        release_ms=release_ms,
        detector=detector,
        rms_window_ms=rms_window_ms,
        link=link,
        makeup_db=makeup_db,
    )
    check_range("ratio", ratio, 1.0, float("inf"))
    check_range("range_db", range_db, 0.0, 120.0)
    check_range("hold_ms", hold_ms, 0.0, 5000.0)
    was_1d = np.ndim(samples) == 1
    audio = as_2d(samples)
    key = _sidechain_source(sidechain, audio)
    levels = detector_levels_db(
        key,
        sample_rate=rate,
        detector=detector,
        rms_window_ms=rms_window_ms,
        linked=stereo_link,
        link=link,
    )
    hold = round(hold_ms * rate / 1000.0)
    reduction = np.stack(
        [
            expand_row(
                row,
                float(threshold_db),
                float(ratio) - 1.0,
                float(knee_db),
                float(range_db),
                hold,
                one_pole_coefficient(attack_ms, rate),
                one_pole_coefficient(release_ms, rate),
            )
            for row in levels
        ]
    )
    return _apply_reduction(audio, reduction, makeup_db, was_1d, stereo_link, return_gain)


@overload
def gate(
    samples: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    range_db: float = ...,
    attack_ms: float = ...,
    hold_ms: float = ...,
    release_ms: float = ...,
    detector: Detector = ...,
    rms_window_ms: float = ...,
    sidechain: np.ndarray | None = ...,
    stereo_link: bool = ...,
    link: LinkMode = ...,
    return_gain: Literal[False] = ...,
) -> np.ndarray: ...


@overload
def gate(
    samples: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    range_db: float = ...,
    attack_ms: float = ...,
    hold_ms: float = ...,
    release_ms: float = ...,
    detector: Detector = ...,
    rms_window_ms: float = ...,
    sidechain: np.ndarray | None = ...,
    stereo_link: bool = ...,
    link: LinkMode = ...,
    return_gain: Literal[True],
) -> tuple[np.ndarray, np.ndarray]: ...


@overload
def gate(
    samples: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    range_db: float = ...,
    attack_ms: float = ...,
    hold_ms: float = ...,
    release_ms: float = ...,
    detector: Detector = ...,
    rms_window_ms: float = ...,
    sidechain: np.ndarray | None = ...,
    stereo_link: bool = ...,
    link: LinkMode = ...,
    return_gain: bool = ...,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...


def gate(
    samples: np.ndarray,
    *,
    sample_rate: int,
    threshold_db: float,
    range_db: float = 80.0,
    attack_ms: float = 0.5,
    hold_ms: float = 20.0,
    release_ms: float = 80.0,
    detector: Detector = "peak",
    rms_window_ms: float = 10.0,
    sidechain: np.ndarray | None = None,
    stereo_link: bool = True,
    link: LinkMode = "max",
    return_gain: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Noise gate: an expander so steep that anything a few dB under the threshold is
    attenuated by the full ``range_db``.

    Parameters are as in :func:`expand` (the ratio is fixed at 100 and there is no knee).

    Returns
    -------
    out : np.ndarray [shape like ``samples``, dtype=float32]
    gain_reduction_db : np.ndarray [shape=(frames,) or (channels, frames), dtype=float32]
        Only with ``return_gain``.
    """
    return expand(
        samples,
        sample_rate=sample_rate,
        threshold_db=threshold_db,
        ratio=_GATE_RATIO,
        range_db=range_db,
        knee_db=0.0,
        attack_ms=attack_ms,
        hold_ms=hold_ms,
        release_ms=release_ms,
        detector=detector,
        rms_window_ms=rms_window_ms,
        sidechain=sidechain,
        stereo_link=stereo_link,
        link=link,
        return_gain=return_gain,
    )


@dataclass(frozen=True, slots=True)
class Compressor:
    """Compressor settings, as the mixing engine chooses and reports them.

    Attributes
    ----------
    threshold_db : float
        Threshold in dBFS.
    ratio : float
        Compression ratio (>= 1).
    attack_ms, release_ms : float
        Time constants in ms.
    knee_db : float
        Soft-knee width in dB.
    makeup_db : float
        Gain after compression in dB.
    """

    threshold_db: float
    ratio: float
    attack_ms: float = 10.0
    release_ms: float = 100.0
    knee_db: float = 6.0
    makeup_db: float = 0.0

    def process(self, samples: np.ndarray, *, sample_rate: int, **options: Any) -> np.ndarray:
        """Compress ``samples`` with these settings; ``options`` go to :func:`compress`
        (e.g. ``sidechain``, ``detector``, ``stereo_link``)."""
        result = compress(
            samples,
            sample_rate=sample_rate,
            threshold_db=self.threshold_db,
            ratio=self.ratio,
            knee_db=self.knee_db,
            attack_ms=self.attack_ms,
            release_ms=self.release_ms,
            makeup_db=self.makeup_db,
            **options,
        )
        return result[0] if isinstance(result, tuple) else result

    def to_dict(self) -> dict[str, float]:
        """Settings in the report shape (``threshold`` in dB, ``ratio``, times in ms)."""
        return {
            "threshold": self.threshold_db,
            "ratio": self.ratio,
            "attack_ms": self.attack_ms,
            "release_ms": self.release_ms,
            "knee_db": self.knee_db,
            "makeup_db": self.makeup_db,
        }
