"""The multiband stage's compiled pass: split, detect, compress and recombine in one go.

:mod:`~soundry.engine.mastering.multiband` plans the bands' compressors and renders them
with :func:`render_bands`; :func:`band_block_powers` runs the same pass without writing, to
measure the detector's input for the plan. Blocks of ~1 ms sit on the track's absolute
grid, so a chunk rendered with its pre-roll matches the whole-track render.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from soundry.dsp._dynamics_common import _compressor_gain_computer
from soundry.engine.mastering.image import biquad, lr4_coefficients, lr4_sections
from soundry.errors import ParameterError

__all__ = [
    "FLOOR_POWER",
    "band_block_powers",
    "block_frames",
    "block_grid",
    "reduction_series",
    "render_bands",
    "stereo_at_most",
    "window_blocks",
]

_BLOCK_S = 0.001
FLOOR_POWER = 1e-24
"""Smallest band power the detector reads (silence), linear."""


@numba.njit(cache=True, nogil=True, inline="always")
def _reduction_step(mean_power: float, band: np.ndarray, smooth: float) -> float:
    """One block of a band's compressor: the gain computer of
    :func:`soundry.dsp.dynamics.compress` (soft knee) on the detector level, limited to the
    band's range, then the attack/release one-pole (no hold). Returns the new reduction, dB.

    ``band`` holds threshold dB, slope (1 - 1/ratio), knee dB, attack and release
    coefficients per block, linear make-up gain and range dB.
    """
    level_db = 10.0 * math.log10(max(mean_power, FLOOR_POWER))
    target = min(_compressor_gain_computer(level_db, band[0], band[1], band[2]), band[6])
    coeff = band[3] if target > smooth else band[4]
    return coeff * smooth + (1.0 - coeff) * target


@numba.njit(cache=True, nogil=True)
def reduction_series(power: np.ndarray, window: int, band: np.ndarray) -> np.ndarray:
    """Gain reduction (dB) at the end of every block for a whole track's block powers, as
    :func:`render_bands` computes it block by block."""
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
def render_bands(
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
    hp1a, hp1b, ap1, hp2a, hp2b, ap2 = lr4_sections(coef)
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


def stereo_at_most(audio: np.ndarray) -> np.ndarray:
    """``audio`` unless it has more than two channels (the kernel runs two lanes)."""
    if audio.shape[0] > 2:
        raise ParameterError(
            f"the multiband stage takes mono or stereo audio; got {audio.shape[0]} channels"
        )
    return audio


def block_grid(frames: int, start_frame: int, rate: int) -> tuple[int, int, int]:
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
    block, offset, n_blocks = block_grid(audio.shape[1], start_frame, rate)
    idle = np.zeros((3, 7))
    idle[:, 5] = 1.0
    powers, _ = render_bands(
        stereo_at_most(audio),
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
