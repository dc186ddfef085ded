"""Algorithmic stereo reverb: early reflections plus a 16-line feedback delay network.

Signal flow, per input channel ``c``::

    x_c ─ pre-delay ─ input diffusion (4 series all-passes) ─┬─ early-reflection taps ─┐
                                                             └─ into FDN lines c, c+C … ┤
                                     FDN line outputs ─ two orthogonal output mixes ───┴─ L, R

The late reverb is a feedback delay network (Jot): 16 delay lines whose lengths are distinct
primes (so mutually prime) spread log-uniformly over 23–59 ms × ``size``, mixed through a
normalised 16×16 Hadamard matrix (orthogonal, so lossless; applied as a fast
Walsh–Hadamard transform). Line ``i`` of length ``d_i`` samples has loop gain

    g_i = 10 ** (-3 · d_i / (rt60_s · sample_rate))

so every line loses 60 dB per ``rt60_s`` seconds, whatever its length, and the energy of the
whole network decays at that rate. Damping puts a one-pole low-pass with DC gain ``g_i`` in each
loop; its pole is chosen per line (Jot's absorbent filters) so that at Nyquist the decay time is
``rt60_s · 10 ** -damping`` for every line alike, while low frequencies keep ``rt60_s``.

Early reflections (sparse taps over the first ~23 ms, different for left and right) fill the
gap before the first FDN echo, so the first sound arrives exactly ``predelay_ms`` after the
input. The left and right outputs tap the lines with orthogonal sign patterns, which makes them
decorrelated. The recursion runs in one numba-compiled loop; everything is deterministic.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from soundry.dsp.filters import _as_2d, _check_rate
from soundry.errors import ParameterError

__all__ = ["reverb"]

_N_LINES = 16
_LINE_MS = (23.0, 59.0)  # shortest and longest FDN delay at size 1
_DIFFUSER_MS = (1.31, 2.27, 3.73, 5.41)  # series all-passes; far from the line lengths
_ER_TAPS = 12  # early-reflection taps per output channel
_MAX_DIFFUSION_GAIN = 0.7


def _is_prime(n: int) -> bool:
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    return all(n % k for k in range(3, math.isqrt(n) + 1, 2))


def _distinct_primes(targets: np.ndarray) -> np.ndarray:
    """The smallest unused prime >= each target, so the lengths are mutually prime."""
    used: set[int] = set()
    out = []
    for target in targets:
        n = max(2, round(float(target)))
        while not _is_prime(n) or n in used:
            n += 1
        used.add(n)
        out.append(n)
    return np.array(out, dtype=np.int64)


def _sign_pattern(seed: int, size: int) -> np.ndarray:
    # A fixed generator: the pattern is part of the design, not randomness at run time.
    return np.where(np.random.default_rng(seed).random(size) < 0.5, -1.0, 1.0)


def _hadamard_rows(n: int) -> np.ndarray:
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


_CHUNK = 16384  # frames per pass of the kernel's outer loop (bounds the scratch memory)
_BLOCK = 256  # frames per FDN block: 16 lines x 256 x 8 bytes fits in L1


@numba.njit(cache=True, nogil=True)
def _ring_read(ring: np.ndarray, frame: int, dst: np.ndarray) -> None:
    """dst[j] = ring[(frame + j) mod len(ring)], copied in at most two contiguous pieces."""
    size = ring.shape[0]
    pos = frame % size
    first = min(dst.shape[0], size - pos)
    dst[:first] = ring[pos : pos + first]
    dst[first:] = ring[: dst.shape[0] - first]


@numba.njit(cache=True, nogil=True)
def _ring_write(ring: np.ndarray, frame: int, src: np.ndarray) -> None:
    """ring[(frame + j) mod len(ring)] = src[j], in at most two contiguous pieces."""
    size = ring.shape[0]
    pos = frame % size
    first = min(src.shape[0], size - pos)
    ring[pos : pos + first] = src[:first]
    ring[: src.shape[0] - first] = src[first:]


@numba.njit(cache=True, nogil=True)
def _diffuse_chunk(
    x: np.ndarray,
    start: int,
    length: int,
    predelay: int,
    ap_delays: np.ndarray,
    ap_gain: float,
    ap_buf: np.ndarray,
    u: np.ndarray,
    offset: int,
) -> None:
    """Pre-delayed, all-pass-diffused input for frames [start, start + length) into
    ``u[c, offset:offset + length]``. Stage by stage: each loop is a short recursion."""
    n_chan, n_in = x.shape
    ap_mask = ap_buf.shape[2] - 1
    for c in range(n_chan):
        row = u[c, offset : offset + length]
        for j in range(length):
            src = start + j - predelay
            row[j] = x[c, src] if 0 <= src < n_in else 0.0
        for a in range(ap_delays.shape[0]):
            buf = ap_buf[c, a]
            d = ap_delays[a]
            for j in range(length):
                n = start + j
                delayed = buf[(n - d) & ap_mask]
                w = row[j] + ap_gain * delayed
                buf[n & ap_mask] = w
                row[j] = delayed - ap_gain * w


@numba.njit(cache=True, nogil=True)
def _reverb_kernel(
    x: np.ndarray,
    n_out: int,
    predelay: int,
    ap_delays: np.ndarray,
    ap_gain: float,
    er_times: np.ndarray,
    er_gains: np.ndarray,
    line_delays: np.ndarray,
    line_gain: np.ndarray,
    line_pole: np.ndarray,
    line_in: np.ndarray,
    line_chan: np.ndarray,
    out_mix: np.ndarray,
    wet: float,
    dry: float,
) -> np.ndarray:
    n_chan, n_in = x.shape
    n_lines = line_delays.shape[0]
    n_taps = er_times.shape[1]
    d_min = line_delays.min()

    # A ring must hold the longest delay plus the block being written.
    line_size = line_delays.max() + _BLOCK
    ap_size = 1
    while ap_size <= ap_delays.max():
        ap_size *= 2
    lines = np.zeros((n_lines, line_size))
    ap_buf = np.zeros((n_chan, ap_delays.shape[0], ap_size))
    # u holds the diffused input: er_hist frames of history, then the current chunk.
    er_hist = er_times.max()
    u = np.zeros((n_chan, er_hist + _CHUNK))
    block = min(d_min, _BLOCK)
    v = np.zeros((n_lines, block))
    lp_state = np.zeros(n_lines)
    line_a = (1.0 - line_pole) * line_gain
    scale = 1.0 / math.sqrt(n_lines)
    out = np.zeros((2, n_out), dtype=np.float32)
    acc = np.zeros((2, _CHUNK))

    for start in range(0, n_out, _CHUNK):
        length = min(_CHUNK, n_out - start)
        _diffuse_chunk(x, start, length, predelay, ap_delays, ap_gain, ap_buf, u, er_hist)

        # The FDN in blocks no longer than the shortest line: every value a block reads was
        # written before it, so each stage below is a plain loop over the block. Blocks of
        # at most _BLOCK frames keep the working set in L1.
        for b0 in range(0, length, block):
            blen = min(block, length - b0)
            n0 = start + b0
            # Gather the delayed samples, in up to two contiguous pieces of the ring.
            for i in range(n_lines):
                _ring_read(lines[i], n0 - line_delays[i], v[i, :blen])
            # Damping one-poles, four lines at a time so that their recursions overlap.
            for i in range(0, n_lines, 4):
                a0, a1, a2, a3 = line_a[i], line_a[i + 1], line_a[i + 2], line_a[i + 3]
                p0, p1, p2, p3 = line_pole[i], line_pole[i + 1], line_pole[i + 2], line_pole[i + 3]
                s0, s1, s2, s3 = lp_state[i], lp_state[i + 1], lp_state[i + 2], lp_state[i + 3]
                r0, r1, r2, r3 = v[i], v[i + 1], v[i + 2], v[i + 3]
                for j in range(blen):
                    s0 = a0 * r0[j] + p0 * s0
                    s1 = a1 * r1[j] + p1 * s1
                    s2 = a2 * r2[j] + p2 * s2
                    s3 = a3 * r3[j] + p3 * s3
                    r0[j] = s0
                    r1[j] = s1
                    r2[j] = s2
                    r3[j] = s3
                lp_state[i], lp_state[i + 1], lp_state[i + 2], lp_state[i + 3] = s0, s1, s2, s3
            # Fast Walsh-Hadamard transform across the lines, vectorised along time.
            h = 1
            while h < n_lines:
                for first in range(0, n_lines, 2 * h):
                    for k in range(first, first + h):
                        top = v[k, :blen]
                        bottom = v[k + h, :blen]
                        for j in range(blen):
                            t = top[j]
                            top[j] = t + bottom[j]
                            bottom[j] = t - bottom[j]
                h *= 2
            # Outputs. The kernel sees the lines after the Hadamard mix; the caller has
            # folded the inverse mix into out_mix, so the output taps are usually one line.
            for o in range(2):
                dst = acc[o, b0 : b0 + blen]
                for i in range(n_lines):
                    g = out_mix[o, i]
                    if g != 0.0:
                        row = v[i]
                        for j in range(blen):
                            dst[j] += g * row[j]
            # Feed back, plus the diffused input.
            for i in range(n_lines):
                g = line_in[i]
                urow = u[line_chan[i], er_hist + b0 : er_hist + b0 + blen]
                row = v[i]
                for j in range(blen):
                    row[j] = scale * row[j] + g * urow[j]
                _ring_write(lines[i], n0, row[:blen])

        for o in range(2):
            src_chan = o % n_chan
            dst = acc[o, :length]
            # Early reflections, in sub-blocks so the accumulator stays in L1.
            for e0 in range(0, length, _BLOCK):
                elen = min(_BLOCK, length - e0)
                part = dst[e0 : e0 + elen]
                for t in range(n_taps):
                    g = er_gains[o, t]
                    first = er_hist - er_times[o, t] + e0
                    urow = u[src_chan, first : first + elen]
                    for j in range(elen):
                        part[j] += g * urow[j]
            for j in range(length):
                n = start + j
                dry_in = x[src_chan, n] if n < n_in else 0.0
                out[o, n] = wet * dst[j] + dry * dry_in
                dst[j] = 0.0

        # Keep the last er_hist frames of diffused input as history for the next chunk.
        for c in range(n_chan):
            for j in range(er_hist):
                u[c, j] = u[c, length + j]
    return out


def _check_range(value: float, name: str, low: float, high: float) -> float:
    out = float(value)
    if not math.isfinite(out) or not low <= out <= high:
        raise ParameterError(f"{name} must lie within {low:g}..{high:g}; got {value!r}")
    return out


def reverb(
    samples: np.ndarray,
    sample_rate: float,
    *,
    rt60_s: float = 1.5,
    predelay_ms: float = 20.0,
    damping: float = 0.5,
    size: float = 1.0,
    diffusion: float = 0.7,
    wet: float = 1.0,
    dry: float = 0.0,
    tail_s: float = 0.0,
) -> np.ndarray:
    """Stereo algorithmic reverb (early reflections + 16-line FDN late reverb).

    The defaults return the wet signal only, as a send/return effect would. The wet level is
    normalised so that, undamped, steady white noise comes back at its input level (within
    0.5 dB for ``rt60_s`` from 0.3 to 10 s); damping then removes high-frequency energy
    (white noise returns about 2.5 dB lower at ``damping=0.5``, 6 dB at 1).

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames) or (frames,)]
        Input audio, any real dtype. Each input channel feeds its own subset of the delay
        lines; the left output's early reflections come from channel 0 and the right's from
        channel 1 (or 0 for mono).
    sample_rate : float
        Sample rate in Hz; all delays scale with it.
    rt60_s : float
        Time in seconds for the reverb energy to decay by 60 dB (at low frequencies when
        damped), 0.05..30.
    predelay_ms : float
        Delay in milliseconds from the input to the first reflection, 0..500.
    damping : float
        High-frequency absorption, 0..1. 0: all frequencies decay in ``rt60_s``; otherwise
        the decay time at Nyquist is ``rt60_s · 10 ** -damping`` (1: ten times shorter).
    size : float
        Scales the delay-line and early-reflection times, 0.25..2 (1 = a mid-size hall).
    diffusion : float
        Input diffusion, 0..1 (0 = none: early reflections stay discrete echoes).
    wet : float
        Linear gain of the reverberated signal.
    dry : float
        Linear gain of the unprocessed input added to the output (mono input goes to both
        sides, stereo input straight through).
    tail_s : float
        Seconds of extra output after the end of the input, to let the reverb ring out.

    Returns
    -------
    out : np.ndarray [shape=(2, frames + round(tail_s · sample_rate)), dtype=float32]
        Always stereo (a 1-D mono input gives a 2-D result).
    """
    data, _ = _as_2d(samples)
    rate = _check_rate(sample_rate)
    rt60 = _check_range(rt60_s, "rt60_s", 0.05, 30.0)
    pre_ms = _check_range(predelay_ms, "predelay_ms", 0.0, 500.0)
    damp = _check_range(damping, "damping", 0.0, 1.0)
    scale_size = _check_range(size, "size", 0.25, 2.0)
    diff = _check_range(diffusion, "diffusion", 0.0, 1.0)
    wet_gain = _check_range(wet, "wet", 0.0, 100.0)
    dry_gain = _check_range(dry, "dry", 0.0, 100.0)
    tail = _check_range(tail_s, "tail_s", 0.0, 600.0)
    n_chan, frames = data.shape
    if n_chan < 1:
        raise ParameterError("reverb needs at least one input channel")
    if n_chan > _N_LINES:
        raise ParameterError(f"reverb takes at most {_N_LINES} input channels; got {n_chan}")

    ms_to_samples = rate / 1000.0
    line_ms = np.geomspace(_LINE_MS[0], _LINE_MS[1], _N_LINES) * scale_size
    line_delays = _distinct_primes(line_ms * ms_to_samples)
    line_gain = 10.0 ** (-3.0 * line_delays / (rt60 * rate))
    # Per-line pole so that the loop gain at Nyquist, g_i·(1 - p)/(1 + p), equals the gain a
    # line of that length needs for a decay time of rt60 · 10**-damping.
    nyquist_ratio = 10.0 ** (-3.0 * line_delays * (10.0**damp - 1.0) / (rt60 * rate))
    line_pole = (1.0 - nyquist_ratio) / (1.0 + nyquist_ratio)

    # Level. Per unit of energy injected, the late reverb returns about g²/(1 - g²) (the
    # first pass is already attenuated once; g for the mean line length), and the early
    # reflections are given the tail's initial energy density over the gap before it. The
    # injection is scaled so the two together return the input's energy.
    mean_delay = float(line_delays.mean())
    gap = float(line_delays.min())
    g2 = 10.0 ** (-6.0 * mean_delay / (rt60 * rate))
    late_energy = g2 / (1.0 - g2)
    early_energy = g2 * gap / mean_delay
    injected = 1.0 / (late_energy + early_energy)

    # Input: channel c drives lines c, c + C, ... with a fixed sign pattern. With the
    # 1/sqrt(lines) gain a mono input and a stereo input of the same per-channel level put
    # the same energy into the network.
    line_chan = np.arange(_N_LINES, dtype=np.int64) % n_chan
    line_in = _sign_pattern(17, _N_LINES) * math.sqrt(injected / _N_LINES)
    # Output mixes: two Hadamard rows (orthogonal, so the late L and R are uncorrelated).
    out_mix = _hadamard_rows(_N_LINES)[[5, 10]]
    # The kernel taps the lines after the (unnormalised) Hadamard mix, H·v, not v itself.
    out_mix_after = out_mix @ _hadamard_rows(_N_LINES) / _N_LINES

    # Early reflections: taps spread over the gap before the first FDN echo, decaying at the
    # same rate as the tail; the first tap is at 0 ms on the left and 0.4 ms on the right.
    er_times = np.empty((2, _ER_TAPS), dtype=np.int64)
    er_gains = np.empty((2, _ER_TAPS))
    for o in range(2):
        frac = np.sort(np.random.default_rng(31 + o).random(_ER_TAPS - 1))
        first = 0.0 if o == 0 else 0.4 * ms_to_samples
        times = np.concatenate([[first], first + frac * (gap - first)])
        er_times[o] = np.round(times).astype(np.int64)
        decay = 10.0 ** (-3.0 * times / (rt60 * rate))
        er_gains[o] = _sign_pattern(41 + o, _ER_TAPS) * decay
        er_gains[o, 0] = abs(er_gains[o, 0])
        er_gains[o] *= math.sqrt(injected * early_energy / float(np.sum(er_gains[o] ** 2)))

    ap_delays = np.array([round(ms * ms_to_samples) for ms in _DIFFUSER_MS], dtype=np.int64)
    ap_delays = np.maximum(ap_delays, 1)

    total = frames + round(tail * rate)
    return _reverb_kernel(
        np.ascontiguousarray(data, dtype=np.float64),
        total,
        round(pre_ms * ms_to_samples),
        ap_delays,
        diff * _MAX_DIFFUSION_GAIN,
        er_times,
        er_gains,
        line_delays,
        line_gain,
        line_pole,
        line_in,
        line_chan,
        out_mix_after,
        wet_gain,
        dry_gain,
    )
