"""Search: the cheapest arrangements of a given length, one through every allowed jump.

An arrangement is a path through the song's beats: play on (beat ``i`` to ``i + 1``, free)
or take a jump ``e -> b`` (its cut cost plus a per-cut penalty). Every segment holds at
least ``m`` beats, enforced by letting each jump (and the start) play the first ``m``
beats of the new segment at once: the path *lands* at ``b + m``.

A dynamic programme over (elapsed time, beat) finds the cheapest path to every state:
elapsed time is bucketed (about half a beat per bucket) but each state keeps the exact
elapsed seconds of the path it holds, so lengths never drift. One pass runs forward from
the start, one backward from the end. Joining them at a jump ``e -> b`` gives the cheapest
arrangement of the target length that takes that jump (forward to ``e``, the jump,
backward from ``b + m``): one candidate per jump, which is what makes the pool diverse.
Arrangements with no jump at all (the song itself, or a trim when the start or end may go)
come from the forward pass alone.

Cost: ``O(Q (N + M))`` per pass for ``Q`` time buckets, ``N`` beats and ``M`` jumps; the
states need ``2 Q (N + 1)`` cells of 24 bytes, held under :data:`STATE_BUDGET` by widening
the buckets on very long targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["STATE_BUDGET", "Path", "SearchSpace", "search"]

STATE_BUDGET = 1_500_000
"""Most (time bucket, beat) states per pass; beyond it buckets widen."""

_INF = np.float32(np.inf)


@dataclass(frozen=True, eq=False)
class SearchSpace:
    """Everything a search needs, in arrays.

    Attributes
    ----------
    beat_lengths_s : np.ndarray [shape=(N,), dtype=float64]
        Seconds from one segment edge to the next (``np.diff(edges_s)``).
    edges_s : np.ndarray [shape=(N + 1,), dtype=float64]
        Segment edges, seconds.
    min_segment_beats : int
        ``m``: every segment holds at least this many beats.
    jump_source, jump_target : np.ndarray [shape=(M,), dtype=int64]
        Jumps ``e -> b``, sorted by ``e``.
    jump_cost : np.ndarray [shape=(M,), dtype=float64]
        What taking each jump adds to the objective (cut cost plus penalties).
    start_beat : np.ndarray [shape=(S,), dtype=int64]
        Beats a path may start on.
    start_cost : np.ndarray [shape=(S,), dtype=float64]
        What starting there adds to the objective.
    end_edge : np.ndarray [shape=(E,), dtype=int64]
        Edges a path may end on (``N`` = the end of the track).
    end_cost : np.ndarray [shape=(E,), dtype=float64]
        What ending there adds to the objective.
    """

    beat_lengths_s: np.ndarray
    edges_s: np.ndarray
    min_segment_beats: int
    jump_source: np.ndarray
    jump_target: np.ndarray
    jump_cost: np.ndarray
    start_beat: np.ndarray
    start_cost: np.ndarray
    end_edge: np.ndarray
    end_cost: np.ndarray


@dataclass(frozen=True)
class Path:
    """One arrangement found by the search.

    Attributes
    ----------
    segments : tuple of (int, int)
        ``(start, end)`` beat pairs, end exclusive (an edge index, ``N`` = track end).
    objective : float
        Its cost in the search: cuts, penalties and the length error term.
    """

    segments: tuple[tuple[int, int], ...]
    objective: float


@numba.njit(cache=True)
def _forward(
    lengths: np.ndarray,
    out_ptr: np.ndarray,
    j_target: np.ndarray,
    j_len: np.ndarray,
    j_cost: np.ndarray,
    s_node: np.ndarray,
    s_len: np.ndarray,
    s_cost: np.ndarray,
    s_beat: np.ndarray,
    m: int,
    delta: float,
    buckets: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    nodes = lengths.size + 1
    cost = np.full((buckets, nodes), np.inf, np.float32)
    tau = np.zeros((buckets, nodes), np.float64)
    # Pointer to the jump that began the current segment: the state it left from
    # (bucket, beat) and the beat it landed on; bucket -1 = the path's start.
    p_bucket = np.full((buckets, nodes), -1, np.int32)
    p_beat = np.full((buckets, nodes), -1, np.int32)
    p_start = np.full((buckets, nodes), -1, np.int32)
    for s in range(s_node.size):
        q = int(s_len[s] / delta)
        node = s_node[s]
        if q < buckets and s_cost[s] < cost[q, node]:
            cost[q, node] = s_cost[s]
            tau[q, node] = s_len[s]
            p_start[q, node] = s_beat[s]
    for q in range(buckets):
        for i in range(nodes):
            f = cost[q, i]
            if f == np.inf:
                continue
            t = tau[q, i]
            if i < nodes - 1:
                t2 = t + lengths[i]
                q2 = int(t2 / delta)
                if q2 < buckets and f < cost[q2, i + 1]:
                    cost[q2, i + 1] = f
                    tau[q2, i + 1] = t2
                    p_bucket[q2, i + 1] = p_bucket[q, i]
                    p_beat[q2, i + 1] = p_beat[q, i]
                    p_start[q2, i + 1] = p_start[q, i]
            for k in range(out_ptr[i], out_ptr[i + 1]):
                t2 = t + j_len[k]
                q2 = int(t2 / delta)
                if q2 <= q or q2 >= buckets:
                    continue
                f2 = f + j_cost[k]
                land = j_target[k] + m
                if f2 < cost[q2, land]:
                    cost[q2, land] = f2
                    tau[q2, land] = t2
                    p_bucket[q2, land] = q
                    p_beat[q2, land] = i
                    p_start[q2, land] = j_target[k]
    return cost, tau, p_bucket, p_beat, p_start


@numba.njit(cache=True)
def _backward(
    lengths: np.ndarray,
    in_ptr: np.ndarray,
    j_source: np.ndarray,
    j_target: np.ndarray,
    j_len: np.ndarray,
    j_cost: np.ndarray,
    e_node: np.ndarray,
    e_cost: np.ndarray,
    delta: float,
    buckets: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    nodes = lengths.size + 1
    cost = np.full((buckets, nodes), np.inf, np.float32)
    tau = np.zeros((buckets, nodes), np.float64)
    # Pointer to the next jump: the edge the current segment ends on, the beat it jumps
    # to and the bucket of the state it lands in; bucket -1 = the path ends there.
    p_bucket = np.full((buckets, nodes), -1, np.int32)
    p_target = np.full((buckets, nodes), -1, np.int32)
    p_end = np.full((buckets, nodes), -1, np.int32)
    for s in range(e_node.size):
        node = e_node[s]
        if e_cost[s] < cost[0, node]:
            cost[0, node] = e_cost[s]
            p_end[0, node] = node
    for r in range(buckets):
        for i in range(nodes - 1, -1, -1):
            g = cost[r, i]
            if g == np.inf:
                continue
            t = tau[r, i]
            if i >= 1:
                t2 = t + lengths[i - 1]
                r2 = int(t2 / delta)
                if r2 < buckets and g < cost[r2, i - 1]:
                    cost[r2, i - 1] = g
                    tau[r2, i - 1] = t2
                    p_bucket[r2, i - 1] = p_bucket[r, i]
                    p_target[r2, i - 1] = p_target[r, i]
                    p_end[r2, i - 1] = p_end[r, i]
            for k in range(in_ptr[i], in_ptr[i + 1]):
                t2 = t + j_len[k]
                r2 = int(t2 / delta)
                if r2 <= r or r2 >= buckets:
                    continue
                g2 = g + j_cost[k]
                e = j_source[k]
                if g2 < cost[r2, e]:
                    cost[r2, e] = g2
                    tau[r2, e] = t2
                    p_bucket[r2, e] = r
                    p_target[r2, e] = j_target[k]
                    p_end[r2, e] = e
    return cost, tau, p_bucket, p_target, p_end


@numba.njit(cache=True)
def _join(
    f_cost: np.ndarray,
    f_tau: np.ndarray,
    g_cost: np.ndarray,
    g_tau: np.ndarray,
    j_source: np.ndarray,
    j_target: np.ndarray,
    j_len: np.ndarray,
    j_cost: np.ndarray,
    m: int,
    delta: float,
    target: float,
    window: float,
    error_weight: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    buckets, nodes = f_cost.shape
    best = np.full(j_source.size, np.inf, np.float64)
    best_q = np.full(j_source.size, -1, np.int64)
    best_r = np.full(j_source.size, -1, np.int64)
    # First and last reachable bucket of every beat: most of each column is empty.
    first = np.full(nodes, buckets, np.int64)
    last = np.full(nodes, -1, np.int64)
    for q in range(buckets):
        for i in range(nodes):
            if f_cost[q, i] != np.inf:
                first[i] = min(first[i], q)
                last[i] = q
    for k in range(j_source.size):
        e = j_source[k]
        land = j_target[k] + m
        for q in range(first[e], last[e] + 1):
            f = f_cost[q, e]
            if f == np.inf:
                continue
            t1 = f_tau[q, e] + j_len[k]
            if t1 > target + window:
                break
            rest = target - t1
            r_lo = max(0, int((rest - window) / delta))
            r_hi = min(buckets - 1, int((rest + window) / delta))
            for r in range(r_lo, r_hi + 1):
                g = g_cost[r, land]
                if g == np.inf:
                    continue
                error = abs(t1 + g_tau[r, land] - target)
                if error > window:
                    continue
                total = f + j_cost[k] + g + error_weight * error
                if total < best[k]:
                    best[k] = total
                    best_q[k] = q
                    best_r[k] = r
    return best, best_q, best_r


def _forward_segments(
    pointers: tuple[np.ndarray, np.ndarray, np.ndarray], bucket: int, beat: int
) -> list[tuple[int, int]]:
    p_bucket, p_beat, p_start = pointers
    segments = []
    end = beat
    while True:
        start = int(p_start[bucket, beat])
        segments.append((start, end))
        previous = int(p_bucket[bucket, beat])
        if previous < 0:
            break
        bucket, beat = previous, int(p_beat[bucket, beat])
        end = beat
    return segments[::-1]


def _backward_segments(
    pointers: tuple[np.ndarray, np.ndarray, np.ndarray], bucket: int, beat: int, start: int, m: int
) -> list[tuple[int, int]]:
    p_bucket, p_target, p_end = pointers
    segments = []
    while True:
        segments.append((start, int(p_end[bucket, beat])))
        following = int(p_bucket[bucket, beat])
        if following < 0:
            break
        start = int(p_target[bucket, beat])
        bucket, beat = following, start + m
    return segments


@dataclass
class _Passes:
    delta: float
    f_cost: np.ndarray
    f_tau: np.ndarray
    f_pointers: tuple[np.ndarray, np.ndarray, np.ndarray]
    g_cost: np.ndarray
    g_tau: np.ndarray
    g_pointers: tuple[np.ndarray, np.ndarray, np.ndarray]
    jump_length: np.ndarray
    backward_order: np.ndarray


def _run_passes(space: SearchSpace, horizon_s: float, bucket_s: float) -> _Passes:
    n = space.beat_lengths_s.size
    m = space.min_segment_beats
    delta = max(bucket_s, horizon_s * (n + 1) / STATE_BUDGET)
    buckets = int(horizon_s / delta) + 1
    edges = space.edges_s
    jump_length = edges[space.jump_target + m] - edges[space.jump_target]
    out_ptr = np.searchsorted(space.jump_source, np.arange(n + 2)).astype(np.int64)
    start_node = space.start_beat + m
    start_len = edges[start_node] - edges[space.start_beat]
    f_cost, f_tau, *f_pointers = _forward(
        space.beat_lengths_s,
        out_ptr,
        space.jump_target,
        jump_length,
        space.jump_cost,
        start_node,
        start_len,
        space.start_cost,
        space.start_beat,
        m,
        delta,
        buckets,
    )
    landing = space.jump_target + m
    order = np.argsort(landing, kind="stable")
    in_ptr = np.searchsorted(landing[order], np.arange(n + 2)).astype(np.int64)
    g_cost, g_tau, *g_pointers = _backward(
        space.beat_lengths_s,
        in_ptr,
        space.jump_source[order],
        space.jump_target[order],
        jump_length[order],
        space.jump_cost[order],
        space.end_edge,
        space.end_cost,
        delta,
        buckets,
    )
    return _Passes(
        delta=delta,
        f_cost=f_cost,
        f_tau=f_tau,
        f_pointers=(f_pointers[0], f_pointers[1], f_pointers[2]),
        g_cost=g_cost,
        g_tau=g_tau,
        g_pointers=(g_pointers[0], g_pointers[1], g_pointers[2]),
        jump_length=jump_length,
        backward_order=order,
    )


def _paths_for_window(
    space: SearchSpace,
    passes: _Passes,
    target_s: float,
    window_s: float,
    error_weight: float,
    pool_size: int,
    max_cuts: int,
) -> list[Path]:
    m = space.min_segment_beats
    found: list[tuple[float, int, int, int]] = []  # (objective, kind or jump, bucket, bucket)
    best, best_q, best_r = _join(
        passes.f_cost,
        passes.f_tau,
        passes.g_cost,
        passes.g_tau,
        space.jump_source,
        space.jump_target,
        passes.jump_length,
        space.jump_cost,
        m,
        passes.delta,
        float(target_s),
        float(window_s),
        float(error_weight),
    )
    hits = np.flatnonzero(np.isfinite(best))
    found.extend((float(best[k]), int(k), int(best_q[k]), int(best_r[k])) for k in hits)
    # Paths without a jump into the window's end: the forward pass alone.
    for e, extra in zip(space.end_edge.tolist(), space.end_cost.tolist(), strict=True):
        column = passes.f_cost[:, e]
        error = np.abs(passes.f_tau[:, e] - target_s)
        ok = np.flatnonzero(np.isfinite(column) & (error <= window_s))
        for q in ok.tolist():
            objective = float(column[q]) + extra + error_weight * float(error[q])
            found.append((objective, -1 - e, q, -1))
    found.sort()
    paths: list[Path] = []
    seen: set[tuple[tuple[int, int], ...]] = set()
    for objective, which, q, r in found:
        if which >= 0:
            e = int(space.jump_source[which])
            b = int(space.jump_target[which])
            segments = _forward_segments(passes.f_pointers, q, e)
            segments += _backward_segments(passes.g_pointers, r, b + m, b, m)
        else:
            segments = _forward_segments(passes.f_pointers, q, -1 - which)
        key = tuple(segments)
        if len(key) - 1 > max_cuts or key in seen:
            continue
        seen.add(key)
        paths.append(Path(segments=key, objective=objective))
        if len(paths) >= pool_size:
            break
    return paths


def search(
    space: SearchSpace,
    target_s: float,
    *,
    windows_s: tuple[float, ...],
    bucket_s: float,
    error_weight: float,
    pool_size: int,
    max_cuts: tuple[int, ...],
) -> tuple[list[Path], float]:
    """The cheapest arrangements near ``target_s``, one per jump, within the first window
    that holds any with few enough cuts.

    Parameters
    ----------
    space : SearchSpace
        Beats, jumps, starts and ends.
    target_s : float
        Wanted length, seconds.
    windows_s : tuple of float
        Increasing tolerances, seconds: the first one that some arrangement meets is used.
    bucket_s : float
        Width of a time bucket, seconds (widened if the states would exceed the budget).
    error_weight : float
        Objective added per second of length error.
    pool_size : int
        Most paths returned.
    max_cuts : tuple of int
        Increasing limits on the number of cuts: every window is tried under the first
        limit, then under the next. Paths are the cheapest through each jump whatever
        their cuts, and the limit is applied to them afterwards.

    Returns
    -------
    paths : list of Path
        Distinct arrangements, cheapest first (empty when no window holds any).
    window_s : float
        The window they meet.
    """
    passes = _run_passes(space, target_s + windows_s[-1], bucket_s)
    for cuts in max_cuts:
        for window in windows_s:
            paths = _paths_for_window(
                space, passes, target_s, window, error_weight, pool_size, cuts
            )
            if paths:
                return paths, window
    return [], windows_s[-1]
