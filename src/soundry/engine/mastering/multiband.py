"""Gentle multiband dynamics: three bands, each held by its own stereo-linked compressor.

The track is split by an all-pass-compensated Linkwitz-Riley (LR4) crossover at
:data:`CROSSOVER_HZ`, each band's gain is reduced by a feed-forward compressor
(stereo-linked: one gain for both channels, so the image does not move) and the bands are
summed back. With every ratio 1 the sum is the input through the crossover's all-pass: flat
magnitude, a phase shift around the crossovers, no latency (the excerpt contract needs a
causal stage, which rules out a linear-phase split without post-roll).

Thresholds come from the track itself: :func:`plan_multiband` runs each band's detector over
the whole track and puts the threshold a few dB under the band's loud-passage level (the
95th percentile of its detector level, silence excluded), so that the compressor only
touches the loudest moments of each band, and never by more than a small range.
``character`` sets how firmly: "tight" (ratio 2.5, threshold 3 dB under, at most 3 dB of
reduction), "balanced" (1.8, 2 dB, 2 dB) or "wide" (1.3, 1 dB, 1 dB: almost nothing). On the
real recordings in the shared data that is 0.3-0.9 dB of mean gain reduction per band for
"tight", 0.17-0.45 dB for "balanced" and about 0.1 dB for "wide".

Each band then gets a fixed make-up gain that restores its long-term energy over the whole
track (computed in the plan by running the detector and gain computer over the track): the
loud moments of a band are held down relative to its quiet ones, but the track's long-term
tonal balance, which the tonal stage sets on purpose, is kept: on those recordings the
16-band long-term spectrum moves by at most 0.2-0.45 dB ("balanced") in any band within
40 dB of the loudest. The slow time constants and the range keep it so; a compressor that
ducks every transient reshapes the spectrum inside its band, which no make-up gain undoes.

Detector, gain and excerpts
---------------------------
Each band's level is an RMS over a band-specific window (30 / 20 / 15 ms), measured on a grid
of ~1 ms blocks anchored at absolute frame 0 (hence ``start_frame``); block ``j`` is driven
by the blocks before it, so the stage is causal. The gain computer and attack/release
smoother are those of :func:`soundry.dsp.dynamics.compress` (its gain computer, soft knee,
no hold, plus the range limit), stepped once per block, and each band's gain is interpolated
linearly across the block. The only recursive states are the crossover filters and the
smoother; two renders that start from different states converge at least as fast as the
release pole, so :attr:`MultibandPlan.preroll_frames` allows 12 release time constants (a
10 dB disagreement falls under 1e-5 of full scale; about 3 s), the detector window and the
filters' settling: an excerpt rendered from that far back matches the full render.

Cost: rendering is one fused numba pass (seven float64 biquads per channel and frame for
the split, the compressors stepped per block, no band stored): about 0.35 s for 3 minutes
of stereo at 44.1 kHz on the 2-core test machine; the plan is one measuring pass of the
same kernel (about 0.3 s).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal, overload

import numba
import numpy as np

from soundry.dsp._dynamics_common import _compressor_gain_computer
from soundry.engine.mastering.image import (
    as_audio,
    biquad,
    check_sample_rate,
    check_start_frame,
    crossover_settle_frames,
    lr4_coefficients,
    usable_edges,
)
from soundry.errors import ParameterError

__all__ = [
    "BAND_NAMES",
    "CHARACTERS",
    "CROSSOVER_HZ",
    "BandCompressor",
    "Character",
    "MultibandPlan",
    "apply_multiband",
    "band_block_powers",
    "band_params",
    "block_frames",
    "plan_multiband",
    "plan_multiband_from_powers",
    "reduction_series",
    "window_blocks",
]

Character = Literal["tight", "balanced", "wide"]

BAND_NAMES = ("low", "mid", "high")
"""Band names, lowest first: the keys of the gain-reduction statistics."""

CROSSOVER_HZ = (200.0, 3000.0)
"""Crossovers in Hz: kick and bass / body, voice and instruments / presence, cymbals, air."""

CHARACTERS: dict[str, tuple[float, float, float]] = {
    "tight": (2.5, 3.0, 3.0),
    "balanced": (1.8, 2.0, 2.0),
    "wide": (1.3, 1.0, 1.0),
}
"""Per character: ratio, dB of threshold under the band's loud-passage level, and range (the
most gain reduction, dB)."""

# Per band: attack ms, release ms, RMS window ms. Slower in the bass, whose cycles are long
# (a fast gain would modulate the waveform itself), faster in the top. All are slow enough
# to ride phrases rather than single hits: a gain that ducks every hi-hat darkens the band
# it shares with steadier sounds, which no make-up gain can undo.
_TIMING = ((40.0, 250.0, 30.0), (25.0, 200.0, 20.0), (15.0, 150.0, 15.0))
_KNEE_DB = 6.0
_LOUD_PERCENTILE = 95.0
# Level analysis: frames ignored as silence are more than this under the band's loudest.
_GATE_BELOW_MAX_DB = 40.0
_ABSOLUTE_GATE_DB = -80.0
_THRESHOLD_RANGE_DB = (-60.0, 0.0)
# A band whose loud level is this far under the loudest band's is not compressed.
_NEGLIGIBLE_DB = 30.0
_MAX_MAKEUP_DB = 3.0
_BLOCK_S = 0.001
_CONVERGE_TIME_CONSTANTS = 12.0
_FLOOR_POWER = 1e-24


@dataclass(frozen=True)
class BandCompressor:
    """The compressor settings of one band.

    Attributes
    ----------
    name : str
        "low", "mid" or "high".
    threshold_db : float
        Threshold of the band's RMS level, dBFS.
    ratio : float
        Compression ratio (1 = off).
    attack_ms, release_ms : float
        One-pole time constants of the gain reduction.
    knee_db : float
        Soft-knee width.
    rms_window_ms : float
        Length of the RMS detector window.
    loud_level_db : float or None
        The band's measured loud-passage level (95th percentile of its detector level),
        dBFS; the threshold sits under it. None for a silent band (ratio 1).
    makeup_db : float
        Fixed gain of the band after compression, dB: what the compressor takes from the
        band's long-term energy over the whole track, given back, so that the stage
        controls dynamics without changing the tonal balance the tonal stage set.
    range_db : float
        The most gain reduction the band's compressor applies, dB: transients far over the
        threshold are held down by this much, not crushed.
    """

    name: str
    threshold_db: float
    ratio: float
    attack_ms: float
    release_ms: float
    knee_db: float
    rms_window_ms: float
    loud_level_db: float | None
    makeup_db: float = 0.0
    range_db: float = 60.0


@dataclass(frozen=True)
class MultibandPlan:
    """Multiband dynamics settings for one track.

    Attributes
    ----------
    enabled : bool
        False: the stage passes audio through unchanged.
    character : str
        "tight", "balanced" or "wide".
    sample_rate : int
        Rate in Hz the plan was made for.
    crossover_hz : tuple of float
        Crossovers in use.
    bands : tuple of BandCompressor
        One per band, lowest first (``len(crossover_hz) + 1``).
    preroll_frames : int
        Frames of audio before an excerpt needed for it to match the full render.
    """

    enabled: bool
    character: str
    sample_rate: int
    crossover_hz: tuple[float, ...]
    bands: tuple[BandCompressor, ...]
    preroll_frames: int

    @property
    def is_identity(self) -> bool:
        """True when applying the plan returns the input unchanged."""
        return not self.enabled or all(b.ratio == 1.0 and b.makeup_db == 0.0 for b in self.bands)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able settings for the mastering report."""
        return {
            "enabled": self.enabled,
            "character": self.character,
            "crossover_hz": list(self.crossover_hz),
            "bands": [
                {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(b).items()}
                for b in self.bands
            ],
            "preroll_frames": self.preroll_frames,
        }


# ---------------------------------------------------------------------------------------------
# Crossover and detector: one fused pass over the audio


@numba.njit(cache=True, nogil=True, inline="always")
def _reduction_step(mean_power: float, band: np.ndarray, smooth: float) -> float:
    """One block of a band's compressor: the gain computer of
    :func:`soundry.dsp.dynamics.compress` (soft knee) on the detector level, limited to the
    band's range, then the attack/release one-pole (no hold). Returns the new reduction, dB.

    ``band`` holds threshold dB, slope (1 - 1/ratio), knee dB, attack and release
    coefficients per block, linear make-up gain and range dB.
    """
    level_db = 10.0 * math.log10(max(mean_power, _FLOOR_POWER))
    target = min(_compressor_gain_computer(level_db, band[0], band[1], band[2]), band[6])
    coeff = band[3] if target > smooth else band[4]
    return coeff * smooth + (1.0 - coeff) * target


@numba.njit(cache=True, nogil=True)
def reduction_series(power: np.ndarray, window: int, band: np.ndarray) -> np.ndarray:
    """Gain reduction (dB) at the end of every block for a whole track's block powers, as
    :func:`_render` computes it block by block."""
    out = np.empty(power.size)
    smooth = 0.0
    for j in range(power.size):
        total = 0.0
        for m in range(max(0, j - window), j):
            total += power[m]
        smooth = _reduction_step(total / window, band, smooth)
        out[j] = smooth
    return out


# Fused multiply-adds (``contract``): about a sixth faster, and no less accurate.
@numba.njit(cache=True, nogil=True, fastmath={"contract"})
def _render(
    x: np.ndarray,
    coef: np.ndarray,
    offset: int,
    block: int,
    n_blocks: int,
    params: np.ndarray,
    windows: np.ndarray,
    out: np.ndarray,
    write: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Split, compress and recombine three bands in one pass, a ~1 ms block at a time.

    The bands are those of :func:`soundry.dsp.crossover.split_bands` (LR4, all-pass
    compensated) with fewer sections: at each edge the low-pass is the edge's all-pass minus
    its high-pass (LP + HP = AP for a Linkwitz-Riley pair), the upper bands share the first
    high-pass and the low band takes the second edge's all-pass: seven float64 biquads per
    channel and frame, no band stored.

    At the start of block ``j`` each band's detector level is the mean of its block powers
    over the ``windows[k]`` blocks before ``j`` (causal), and one step of the compressor's
    gain computer and attack/release smoother (those of :func:`soundry.dsp.dynamics.compress`
    with no hold) gives its gain reduction at the end of the block; the gain is interpolated
    linearly across the block from the previous block's.

    Parameters
    ----------
    x : np.ndarray [shape=(channels, frames), dtype=float32]
    coef : np.ndarray [shape=(6, 5)]
        From :func:`~soundry.engine.mastering.image.lr4_coefficients`.
    offset : int
        Position of ``x[:, 0]`` within its block of the absolute block grid.
    block, n_blocks : int
        Block length in frames; blocks the frames touch.
    params : np.ndarray [shape=(3, 7), dtype=float64]
        Per band: threshold dB, slope (1 - 1/ratio), knee dB, attack and release
        coefficients per block, linear make-up gain, range dB (:func:`band_params`).
    windows : np.ndarray [shape=(3,), dtype=int64]
        Detector window of each band, in blocks.
    out : np.ndarray [shape=(channels, frames), dtype=float32]
        Receives the output when ``write``.
    write : bool
        False only measures (the plan's analysis pass).

    Returns
    -------
    powers : np.ndarray [shape=(3, n_blocks), dtype=float64]
        Mean square of each band's input per block, on the louder channel.
    reduction : np.ndarray [shape=(3, n_blocks), dtype=float32]
        Gain reduction (dB) at the end of each block.
    """
    channels, frames = x.shape
    # Both channels run side by side (two independent filter chains per frame keep the
    # core busy); mono runs its one channel in both lanes.
    second = channels - 1
    hp1a = (coef[0, 0], coef[0, 1], coef[0, 2], coef[0, 3], coef[0, 4])
    hp1b = (coef[1, 0], coef[1, 1], coef[1, 2], coef[1, 3], coef[1, 4])
    ap1 = (coef[2, 0], coef[2, 1], coef[2, 2], coef[2, 3], coef[2, 4])
    hp2a = (coef[3, 0], coef[3, 1], coef[3, 2], coef[3, 3], coef[3, 4])
    hp2b = (coef[4, 0], coef[4, 1], coef[4, 2], coef[4, 3], coef[4, 4])
    ap2 = (coef[5, 0], coef[5, 1], coef[5, 2], coef[5, 3], coef[5, 4])
    powers = np.zeros((3, n_blocks))
    reduction = np.zeros((3, n_blocks), dtype=np.float32)
    smooth = np.zeros(3)
    start_gain = np.ones(3)
    end_gain = params[:, 5].copy()  # no reduction before the first block
    inv_block = 1.0 / block
    # Filter states, seven sections of two each, for lane a (first channel) and lane b.
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = a12 = a13 = 0.0
    b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = b8 = b9 = b10 = b11 = b12 = b13 = 0.0
    done = 0
    for j in range(n_blocks):
        for k in range(3):
            total = 0.0
            for m in range(max(0, j - windows[k]), j):
                total += powers[k, m]
            smooth[k] = _reduction_step(total / windows[k], params[k], smooth[k])
            reduction[k, j] = smooth[k]
            start_gain[k] = end_gain[k]
            end_gain[k] = params[k, 5] * 10.0 ** (-smooth[k] / 20.0)
        first = offset if j == 0 else 0
        count = min(block - first, frames - done)
        low_a = mid_a = high_a = low_b = mid_b = high_b = 0.0
        for t in range(count):
            u = float(x[0, done + t])
            v = float(x[second, done + t])
            hu, a0, a1 = biquad(hp1a, u, a0, a1)
            hv, b0, b1 = biquad(hp1a, v, b0, b1)
            hu, a2, a3 = biquad(hp1b, hu, a2, a3)
            hv, b2, b3 = biquad(hp1b, hv, b2, b3)
            lu, a4, a5 = biquad(ap1, u, a4, a5)
            lv, b4, b5 = biquad(ap1, v, b4, b5)
            lu, a6, a7 = biquad(ap2, lu - hu, a6, a7)
            lv, b6, b7 = biquad(ap2, lv - hv, b6, b7)
            tu, a8, a9 = biquad(hp2a, hu, a8, a9)
            tv, b8, b9 = biquad(hp2a, hv, b8, b9)
            tu, a10, a11 = biquad(hp2b, tu, a10, a11)
            tv, b10, b11 = biquad(hp2b, tv, b10, b11)
            mu, a12, a13 = biquad(ap2, hu, a12, a13)
            mv, b12, b13 = biquad(ap2, hv, b12, b13)
            mu -= tu
            mv -= tv
            low_a += lu * lu
            mid_a += mu * mu
            high_a += tu * tu
            low_b += lv * lv
            mid_b += mv * mv
            high_b += tv * tv
            if write:
                frac = (first + t + 1) * inv_block
                g0 = start_gain[0] + (end_gain[0] - start_gain[0]) * frac
                g1 = start_gain[1] + (end_gain[1] - start_gain[1]) * frac
                g2 = start_gain[2] + (end_gain[2] - start_gain[2]) * frac
                out[0, done + t] = g0 * lu + g1 * mu + g2 * tu
                out[second, done + t] = g0 * lv + g1 * mv + g2 * tv
        powers[0, j] = max(low_a, low_b) * inv_block
        powers[1, j] = max(mid_a, mid_b) * inv_block
        powers[2, j] = max(high_a, high_b) * inv_block
        done += count
    return powers, reduction


def block_frames(rate: int) -> int:
    return max(1, round(_BLOCK_S * rate))


def window_blocks(window_ms: float, rate: int) -> int:
    return max(1, round(window_ms / 1000.0 * rate / block_frames(rate)))


def _stereo_at_most(audio: np.ndarray) -> np.ndarray:
    """``audio`` unless it has more than two channels (the kernel runs two lanes)."""
    if audio.shape[0] > 2:
        raise ParameterError(
            f"the multiband stage takes mono or stereo audio; got {audio.shape[0]} channels"
        )
    return audio


def _block_grid(frames: int, start_frame: int, rate: int) -> tuple[int, int, int]:
    """``(block, offset, n_blocks)`` of the absolute block grid over an excerpt."""
    block = block_frames(rate)
    offset = start_frame % block
    return block, offset, -(-(offset + frames) // block)


def band_block_powers(
    audio: np.ndarray, rate: int, edges: tuple[float, ...], start_frame: int
) -> np.ndarray:
    """Mean square of each band per block, on the louder channel (stereo link): the
    detector's input. Frames before the excerpt count as silence.

    Returns
    -------
    power : np.ndarray [shape=(3, n_blocks), dtype=float64]
    """
    block, offset, n_blocks = _block_grid(audio.shape[1], start_frame, rate)
    idle = np.zeros((3, 7))
    idle[:, 5] = 1.0
    powers, _ = _render(
        _stereo_at_most(audio),
        lr4_coefficients(edges, rate),
        offset,
        block,
        n_blocks,
        idle,
        np.ones(3, dtype=np.int64),
        np.zeros((1, 1), np.float32),
        False,
    )
    return powers


def _detector_db(power: np.ndarray, window_ms: float, rate: int) -> np.ndarray:
    """RMS level (dBFS) driving each block, as :func:`_render` sees it: the mean of the
    band's power over the window of blocks before it."""
    k = window_blocks(window_ms, rate)
    # float32 like the powers: an hour of ~1 ms blocks is 3.6 million values.
    smoothed = np.convolve(power, np.full(k, 1.0 / k, dtype=np.float32))[: power.size]
    previous = np.concatenate([np.zeros(1, np.float32), smoothed[:-1]])
    out: np.ndarray = 10.0 * np.log10(np.maximum(previous, np.float32(_FLOOR_POWER)))
    return out


def _pole(time_ms: float, step_rate: float) -> float:
    """One-pole coefficient covering 1 - 1/e of a step in ``time_ms`` at ``step_rate`` Hz."""
    return math.exp(-1000.0 / (time_ms * step_rate)) if time_ms > 0 else 0.0


def band_params(settings: BandCompressor, rate: int) -> np.ndarray:
    """The kernel's parameter row for one band (see :func:`_reduction_step`)."""
    block_rate = rate / block_frames(rate)
    return np.array(
        [
            settings.threshold_db,
            1.0 - 1.0 / settings.ratio,
            settings.knee_db,
            _pole(settings.attack_ms, block_rate),
            _pole(settings.release_ms, block_rate),
            10.0 ** (settings.makeup_db / 20.0),
            settings.range_db,
        ]
    )


def _makeup_db(settings: BandCompressor, power: np.ndarray, rate: int) -> float:
    """Gain (dB, 0 to :data:`_MAX_MAKEUP_DB`) that restores the band's long-term energy."""
    reduction = reduction_series(
        power, window_blocks(settings.rms_window_ms, rate), band_params(settings, rate)
    )
    kept = float(np.sum(power * 10.0 ** (-reduction / 10.0)))
    total = float(np.sum(power))
    if kept <= 0.0 or total <= 0.0:
        return 0.0
    return round(min(max(10.0 * math.log10(total / kept), 0.0), _MAX_MAKEUP_DB), 3)


def _preroll(edges: tuple[float, ...], bands: Sequence[BandCompressor], rate: int) -> int:
    slowest = max(b.release_ms for b in bands)
    window = max(window_blocks(b.rms_window_ms, rate) for b in bands) + 2
    smoother = math.ceil(_CONVERGE_TIME_CONSTANTS * slowest / 1000.0 * rate)
    settle = crossover_settle_frames(edges, rate)
    return settle + window * block_frames(rate) + smoother


def _loud_level_db(levels_db: np.ndarray) -> float | None:
    if levels_db.size == 0:
        return None
    gate = max(_ABSOLUTE_GATE_DB, float(levels_db.max()) - _GATE_BELOW_MAX_DB)
    active = levels_db[levels_db > gate]
    if active.size == 0:
        return None
    return float(np.percentile(active, _LOUD_PERCENTILE))


def plan_multiband(
    samples: np.ndarray,
    sample_rate: int,
    *,
    character: Character = "balanced",
    enabled: bool = True,
) -> MultibandPlan:
    """Choose each band's compressor from the track's own band levels.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        The whole track, float, finite.
    sample_rate : int
        Sample rate in Hz.
    character : {"tight", "balanced", "wide"}
        How firmly to hold the dynamics (see :data:`CHARACTERS`).
    enabled : bool
        False gives a plan that passes audio through unchanged (ratios 1).

    Returns
    -------
    MultibandPlan
        Thresholds a few dB under each band's loud-passage level (clamped to -60..0 dBFS).
        A silent band, or one whose loud level is more than 30 dB under the loudest band's,
        gets ratio 1; a disabled plan has every ratio 1 and applies as an identity.
    """
    data = as_audio(samples)
    rate = check_sample_rate(sample_rate)
    edges = usable_edges(CROSSOVER_HZ, rate)
    audio = np.ascontiguousarray(np.atleast_2d(data), dtype=np.float32)
    analyse = enabled and audio.shape[1] > 0 and character in CHARACTERS
    powers = band_block_powers(audio, rate, edges, 0) if analyse else None
    return plan_multiband_from_powers(powers, rate, character=character, enabled=enabled)


def plan_multiband_from_powers(
    powers: np.ndarray | None,
    sample_rate: int,
    *,
    character: Character = "balanced",
    enabled: bool = True,
) -> MultibandPlan:
    """:func:`plan_multiband` from the detector's block powers instead of the samples.

    Parameters
    ----------
    powers : np.ndarray [shape=(n_bands, n_blocks)] or None
        Mean square of each band per ~1 ms block on the louder channel (as
        :class:`~soundry.engine.mastering.analysis.SourceAnalysis` ``.band_powers``, or a
        prediction of them after the tonal stage); None or empty plans no compression.
    sample_rate : int
        Hz.
    character, enabled
        As for :func:`plan_multiband`.
    """
    rate = check_sample_rate(sample_rate)
    if character not in CHARACTERS:
        raise ParameterError(f"character must be one of {', '.join(CHARACTERS)}; got {character!r}")
    ratio, under_db, range_db = CHARACTERS[character]
    edges = usable_edges(CROSSOVER_HZ, rate)
    if not enabled or powers is None or powers.shape[-1] == 0:
        powers = None
    louds: list[float | None] = [None] * (len(edges) + 1)
    if powers is not None:
        louds = [
            _loud_level_db(_detector_db(powers[k], timing[2], rate))
            for k, timing in enumerate(_TIMING[: len(edges) + 1])
        ]
    loudest = max((v for v in louds if v is not None), default=None)
    bands = []
    for name, (attack, release, window), loud in zip(BAND_NAMES, _TIMING, louds, strict=False):
        # A band far under the others (a trumpet's sub-bass: rumble and noise) is left alone.
        active = loud is not None and loudest is not None and loud > loudest - _NEGLIGIBLE_DB
        threshold = _THRESHOLD_RANGE_DB[1] if loud is None else loud - under_db
        threshold = min(max(threshold, _THRESHOLD_RANGE_DB[0]), _THRESHOLD_RANGE_DB[1])
        bands.append(
            BandCompressor(
                name=name,
                threshold_db=round(threshold, 2),
                ratio=ratio if active else 1.0,
                attack_ms=attack,
                release_ms=release,
                knee_db=_KNEE_DB,
                rms_window_ms=window,
                loud_level_db=None if loud is None else round(loud, 2),
                range_db=range_db,
            )
        )
    if powers is not None:
        bands = [
            dataclasses.replace(b, makeup_db=_makeup_db(b, powers[k], rate))
            for k, b in enumerate(bands)
        ]
    identity = all(b.ratio == 1.0 for b in bands)
    return MultibandPlan(
        enabled=enabled,
        character=character,
        sample_rate=rate,
        crossover_hz=edges,
        bands=tuple(bands),
        preroll_frames=0 if identity else _preroll(edges, bands, rate),
    )


# ---------------------------------------------------------------------------------------------
# Rendering


def _zero_stats(plan: MultibandPlan) -> dict[str, dict[str, float]]:
    return {b.name: {"max_gr_db": 0.0, "mean_gr_db": 0.0} for b in plan.bands}


@overload
def apply_multiband(
    samples: np.ndarray,
    sample_rate: int,
    plan: MultibandPlan,
    *,
    start_frame: int = ...,
    return_stats: Literal[False] = ...,
    stats_from_frame: int | None = ...,
) -> np.ndarray: ...


@overload
def apply_multiband(
    samples: np.ndarray,
    sample_rate: int,
    plan: MultibandPlan,
    *,
    start_frame: int = ...,
    return_stats: Literal[True],
    stats_from_frame: int | None = ...,
) -> tuple[np.ndarray, dict[str, dict[str, float]]]: ...


def apply_multiband(
    samples: np.ndarray,
    sample_rate: int,
    plan: MultibandPlan,
    *,
    start_frame: int = 0,
    return_stats: bool = False,
    stats_from_frame: int | None = None,
) -> np.ndarray | tuple[np.ndarray, dict[str, dict[str, float]]]:
    """Render the multiband plan.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        Audio, float, finite: the whole track or an excerpt of it.
    sample_rate : int
        Sample rate in Hz; must be the plan's.
    plan : MultibandPlan
        From :func:`plan_multiband`.
    start_frame : int
        Absolute frame of the track at which ``samples`` begins (anchors the detector's
        block grid). Rendered from ``plan.preroll_frames`` before an excerpt, the excerpt
        matches the full render within 1e-5.
    return_stats : bool
        Also return gain-reduction statistics.
    stats_from_frame : int or None
        Absolute frame from which the statistics count (the blocks starting there or later):
        a chunk rendered with pre-roll reports only its own frames. None: all of them.

    Returns
    -------
    out : np.ndarray [same shape as samples, dtype=float32]
        The input itself (as float32) when the plan is an identity.
    stats : dict
        Only with ``return_stats``: band name -> ``{"max_gr_db", "mean_gr_db"}``, the largest
        and the mean gain reduction (dB, >= 0) over the rendered frames.
    """
    data = as_audio(samples)
    rate = check_sample_rate(sample_rate)
    start = check_start_frame(start_frame)
    if rate != plan.sample_rate:
        raise ParameterError(f"the plan was made for {plan.sample_rate} Hz; got audio at {rate} Hz")
    if plan.is_identity or data.shape[-1] == 0:
        out = np.array(data, dtype=np.float32)
        return (out, _zero_stats(plan)) if return_stats else out
    audio = np.ascontiguousarray(np.atleast_2d(data), dtype=np.float32)
    block, offset, n_blocks = _block_grid(audio.shape[1], start, rate)
    params = np.array([band_params(b, rate) for b in plan.bands])
    windows = np.array([window_blocks(b.rms_window_ms, rate) for b in plan.bands])
    total = np.empty(audio.shape, dtype=np.float32)
    _, reduction = _render(
        _stereo_at_most(audio),
        lr4_coefficients(plan.crossover_hz, rate),
        offset,
        block,
        n_blocks,
        params,
        windows.astype(np.int64),
        total,
        True,
    )
    # Block j of the render starts at absolute frame (start - offset) + j * block.
    counted = 0
    if stats_from_frame is not None:
        counted = min(max(0, -(-(stats_from_frame - (start - offset)) // block)), n_blocks)
    kept = reduction[:, counted:]
    stats = {
        b.name: {
            "max_gr_db": round(float(kept[k].max(initial=0.0)), 3),
            "mean_gr_db": round(float(kept[k].mean(dtype=np.float64)) if kept.size else 0.0, 3),
        }
        for k, b in enumerate(plan.bands)
    }
    out = total[0] if data.ndim == 1 else total
    return (out, stats) if return_stats else out
