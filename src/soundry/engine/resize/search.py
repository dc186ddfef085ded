"""Search: the cheapest arrangements of a given length, one through every allowed jump.

An arrangement is a path through a graph whose nodes are the places a segment may start
or end (the track's start, every bar line, its end): play on to the next node (free) or
take a jump ``e -> b`` (its cut cost plus a per-cut penalty). Every segment holds at least
``m`` beats, enforced by letting each jump (and the start) play the first ``m`` beats of
the new segment at once: the path *lands* at the node ``m`` beats after ``b``.

A dynamic programme over (elapsed time, node) finds the cheapest path to every state:
elapsed time is bucketed (one beat per bucket) but each state keeps the exact elapsed
seconds of the path it holds, so lengths never drift. One pass runs forward from the
start, one backward from the end. Joining them at a jump ``e -> b`` gives the cheapest
arrangement of the target length that takes that jump (forward to ``e``, the jump,
backward from its landing): one candidate per jump, which is what makes the pool diverse.
The join runs over the :data:`VIA_JUMPS` cheapest jumps and every jump that makes the
target length on its own. Arrangements with no jump at all (the song itself, or a trim
when the start or end may go) come from the forward pass alone.

Cost: ``O(Q (U + M))`` per pass for ``Q`` time buckets, ``U`` nodes (about one per bar)
and ``M`` jumps; the states need ``2 Q U`` cells of 24 bytes. Beyond
:data:`STATE_BUDGET` states the buckets widen (up to :data:`MAX_WIDENING` beats): one path
per bucket and node is kept, so wider buckets mean fewer paths to choose from, not less
exact lengths.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["MAX_WIDENING", "STATE_BUDGET", "VIA_JUMPS", "Path", "SearchSpace", "search"]

STATE_BUDGET = 100_000
"""(time bucket, node) states per pass beyond which buckets widen (up to
:data:`MAX_WIDENING` times): long targets then cost about what a 5-minute song does."""
MAX_WIDENING = 4
"""Widest bucket, in units of the requested width: precision before the budget."""
VIA_JUMPS = 1500
"""Jumps (the cheapest) through which the cheapest arrangement is sought."""


@dataclass(frozen=True, eq=False)
class SearchSpace:
    """Everything a search needs, as a graph over ``U`` nodes.

    Nodes are the places a segment may start or end: edge 0 (the start of the track),
    every bar line, and edge ``N`` (its end). Playing on moves from one node to the next.

    Attributes
    ----------
    node_edge : np.ndarray [shape=(U,), dtype=int64]
        Edge index (beat) of every node, increasing, from 0 to ``N``.
    step_s : np.ndarray [shape=(U - 1,), dtype=float64]
        Seconds from each node to the next.
    jump_source, jump_target, jump_land : np.ndarray [shape=(M,), dtype=int64]
        Jumps as nodes: from ``source`` to ``target``, where the first segment's beats
        (``min_segment_beats``) take the path to ``land``; sorted by source.
    jump_length_s : np.ndarray [shape=(M,), dtype=float64]
        Seconds from ``target`` to ``land``.
    jump_cost : np.ndarray [shape=(M,), dtype=float64]
        What taking each jump adds to the objective (cut cost plus penalty).
    land_of : np.ndarray [shape=(U,), dtype=int64]
        The landing node of a segment starting at each node (-1 where none fits).
    start_node, start_land : np.ndarray [shape=(S,), dtype=int64]
        Where a path may start, and the node its first segment takes it to.
    start_length_s, start_cost : np.ndarray [shape=(S,), dtype=float64]
        Seconds from start to landing; what starting there adds to the objective.
    end_node : np.ndarray [shape=(E,), dtype=int64]
        Nodes a path may end on.
    end_cost : np.ndarray [shape=(E,), dtype=float64]
        What ending there adds to the objective.
    """

    node_edge: np.ndarray
    step_s: np.ndarray
    jump_source: np.ndarray
    jump_target: np.ndarray
    jump_land: np.ndarray
    jump_length_s: np.ndarray
    jump_cost: np.ndarray
    land_of: np.ndarray
    start_node: np.ndarray
    start_land: np.ndarray
    start_length_s: np.ndarray
    start_cost: np.ndarray
    end_node: np.ndarray
    end_cost: np.ndarray

    @property
    def n_nodes(self) -> int:
        """Number of nodes ``U``."""
        return int(self.node_edge.size)


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


@numba.njit(cache=True, nogil=True)
def _empty_states(
    buckets: int, nodes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A pass's (bucket, node) tables, all unreached: cost (inf), exact elapsed seconds
    and three pointers (-1)."""
    cost = np.full((buckets, nodes), np.inf, np.float32)
    tau = np.zeros((buckets, nodes), np.float64)
    p_a = np.full((buckets, nodes), -1, np.int32)
    p_b = np.full((buckets, nodes), -1, np.int32)
    p_c = np.full((buckets, nodes), -1, np.int32)
    return cost, tau, p_a, p_b, p_c


@numba.njit(cache=True, nogil=True)
def _forward(
    steps: np.ndarray,
    out_ptr: np.ndarray,
    j_target: np.ndarray,
    j_land: np.ndarray,
    j_len: np.ndarray,
    j_cost: np.ndarray,
    s_node: np.ndarray,
    s_land: np.ndarray,
    s_len: np.ndarray,
    s_cost: np.ndarray,
    delta: float,
    buckets: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    nodes = steps.size + 1
    # Pointer to the jump that began the current segment: the state it left from
    # (bucket, node) and the node it jumped to; bucket -1 = the path's start.
    cost, tau, p_bucket, p_node, p_start = _empty_states(buckets, nodes)
    for s in range(s_node.size):
        q = int(s_len[s] / delta)
        node = s_land[s]
        if q < buckets and s_cost[s] < cost[q, node]:
            cost[q, node] = s_cost[s]
            tau[q, node] = s_len[s]
            p_start[q, node] = s_node[s]
    for q in range(buckets):
        for i in range(nodes):
            f = cost[q, i]
            if f == np.inf:
                continue
            t = tau[q, i]
            if i < nodes - 1:
                t2 = t + steps[i]
                q2 = int(t2 / delta)
                if q2 < buckets and f < cost[q2, i + 1]:
                    cost[q2, i + 1] = f
                    tau[q2, i + 1] = t2
                    p_bucket[q2, i + 1] = p_bucket[q, i]
                    p_node[q2, i + 1] = p_node[q, i]
                    p_start[q2, i + 1] = p_start[q, i]
            for k in range(out_ptr[i], out_ptr[i + 1]):
                t2 = t + j_len[k]
                q2 = int(t2 / delta)
                if q2 <= q or q2 >= buckets:
                    continue
                f2 = f + j_cost[k]
                land = j_land[k]
                if f2 < cost[q2, land]:
                    cost[q2, land] = f2
                    tau[q2, land] = t2
                    p_bucket[q2, land] = q
                    p_node[q2, land] = i
                    p_start[q2, land] = j_target[k]
    return cost, tau, p_bucket, p_node, p_start


@numba.njit(cache=True, nogil=True)
def _backward(
    steps: np.ndarray,
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
    nodes = steps.size + 1
    # Pointer to the next jump: the node the current segment ends on, the node it jumps
    # to and the bucket of the state it lands in; bucket -1 = the path ends there.
    cost, tau, p_bucket, p_target, p_end = _empty_states(buckets, nodes)
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
                t2 = t + steps[i - 1]
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


@numba.njit(cache=True, nogil=True)
def _join(
    f_cost: np.ndarray,
    f_tau: np.ndarray,
    g_cost: np.ndarray,
    g_tau: np.ndarray,
    j_source: np.ndarray,
    j_land: np.ndarray,
    j_len: np.ndarray,
    j_cost: np.ndarray,
    delta: float,
    target: float,
    window: float,
    error_weight: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Arrays here are node-major: [node, bucket].
    nodes, buckets = f_cost.shape
    best = np.full(j_source.size, np.inf, np.float64)
    best_q = np.full(j_source.size, -1, np.int64)
    best_r = np.full(j_source.size, -1, np.int64)
    # First and last reachable bucket of every node: parts of each row are empty.
    first = np.full(nodes, buckets, np.int64)
    last = np.full(nodes, -1, np.int64)
    for i in range(nodes):
        for q in range(buckets):
            if f_cost[i, q] != np.inf:
                first[i] = min(first[i], q)
                last[i] = q
    for k in range(j_source.size):
        e = j_source[k]
        land = j_land[k]
        for q in range(first[e], last[e] + 1):
            f = f_cost[e, q]
            if f == np.inf:
                continue
            t1 = f_tau[e, q] + j_len[k]
            if t1 > target + window:
                break
            rest = target - t1
            r_lo = max(0, int((rest - window) / delta))
            r_hi = min(buckets - 1, int((rest + window) / delta))
            for r in range(r_lo, r_hi + 1):
                g = g_cost[land, r]
                if g == np.inf:
                    continue
                error = abs(t1 + g_tau[land, r] - target)
                if error > window:
                    continue
                total = f + j_cost[k] + g + error_weight * error
                if total < best[k]:
                    best[k] = total
                    best_q[k] = q
                    best_r[k] = r
    return best, best_q, best_r


def _forward_segments(
    pointers: tuple[np.ndarray, np.ndarray, np.ndarray], bucket: int, node: int
) -> list[tuple[int, int]]:
    p_bucket, p_node, p_start = pointers
    segments = []
    end = node
    while True:
        segments.append((int(p_start[bucket, node]), end))
        previous = int(p_bucket[bucket, node])
        if previous < 0:
            break
        bucket, node = previous, int(p_node[bucket, node])
        end = node
    return segments[::-1]


def _backward_segments(
    pointers: tuple[np.ndarray, np.ndarray, np.ndarray],
    land_of: np.ndarray,
    bucket: int,
    node: int,
    start: int,
) -> list[tuple[int, int]]:
    p_bucket, p_target, p_end = pointers
    segments = []
    while True:
        segments.append((start, int(p_end[bucket, node])))
        following = int(p_bucket[bucket, node])
        if following < 0:
            break
        start = int(p_target[bucket, node])
        bucket, node = following, int(land_of[start])
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

    def __post_init__(self) -> None:
        # Node-major copies for the join, which walks one node's buckets at a time.
        self.f_cost_t = np.ascontiguousarray(self.f_cost.T)
        self.f_tau_t = np.ascontiguousarray(self.f_tau.T)
        self.g_cost_t = np.ascontiguousarray(self.g_cost.T)
        self.g_tau_t = np.ascontiguousarray(self.g_tau.T)


def _via_jumps(space: SearchSpace, target_s: float, window_s: float) -> np.ndarray:
    """The jumps to seek arrangements through: the cheapest ones, where good arrangements
    go, and every one that alone (from the start, to the end) makes the target length."""
    cheapest = np.argsort(space.jump_cost, kind="stable")[:VIA_JUMPS]
    times = np.concatenate([[0.0], np.cumsum(space.step_s)])  # node times in the source
    alone = times[space.jump_source] + space.jump_length_s + (times[-1] - times[space.jump_land])
    direct = np.flatnonzero(np.abs(alone - target_s) <= window_s)
    return np.union1d(cheapest, direct)


def _run_passes(space: SearchSpace, horizon_s: float, bucket_s: float) -> _Passes:
    u = space.n_nodes
    delta = min(max(bucket_s, horizon_s * u / STATE_BUDGET), MAX_WIDENING * bucket_s)
    buckets = int(horizon_s / delta) + 1
    out_ptr = np.searchsorted(space.jump_source, np.arange(u + 1)).astype(np.int64)
    order = np.argsort(space.jump_land, kind="stable")
    in_ptr = np.searchsorted(space.jump_land[order], np.arange(u + 1)).astype(np.int64)
    # The two passes are independent and release the GIL: one thread each.
    with ThreadPoolExecutor(max_workers=2) as pool:
        forward = pool.submit(
            _forward,
            space.step_s,
            out_ptr,
            space.jump_target,
            space.jump_land,
            space.jump_length_s,
            space.jump_cost,
            space.start_node,
            space.start_land,
            space.start_length_s,
            space.start_cost,
            delta,
            buckets,
        )
        backward = pool.submit(
            _backward,
            space.step_s,
            in_ptr,
            space.jump_source[order],
            space.jump_target[order],
            space.jump_length_s[order],
            space.jump_cost[order],
            space.end_node,
            space.end_cost,
            delta,
            buckets,
        )
        f_cost, f_tau, *f_pointers = forward.result()
        g_cost, g_tau, *g_pointers = backward.result()
    return _Passes(
        delta=delta,
        f_cost=f_cost,
        f_tau=f_tau,
        f_pointers=(f_pointers[0], f_pointers[1], f_pointers[2]),
        g_cost=g_cost,
        g_tau=g_tau,
        g_pointers=(g_pointers[0], g_pointers[1], g_pointers[2]),
    )


def _paths_for_window(
    space: SearchSpace,
    passes: _Passes,
    target_s: float,
    window_s: float,
    error_weight: float,
    pool_size: int,
    max_cuts: int,
    via: np.ndarray,
) -> list[Path]:
    found: list[tuple[float, int, int, int]] = []  # (objective, jump or -1 - end, q, r)

    def join(part: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _join(
            passes.f_cost_t,
            passes.f_tau_t,
            passes.g_cost_t,
            passes.g_tau_t,
            space.jump_source[part],
            space.jump_land[part],
            space.jump_length_s[part],
            space.jump_cost[part],
            passes.delta,
            float(target_s),
            float(window_s),
            float(error_weight),
        )

    # Each jump is joined on its own: half of them on each of two threads.
    with ThreadPoolExecutor(max_workers=2) as pool:
        halves = list(pool.map(join, np.array_split(via, 2)))
    best, best_q, best_r = (np.concatenate([half[i] for half in halves]) for i in range(3))
    hits = np.flatnonzero(np.isfinite(best))
    found.extend((float(best[k]), int(via[k]), int(best_q[k]), int(best_r[k])) for k in hits)
    # Paths that reach an end node in the window: from the forward pass alone (the only
    # source of arrangements without a jump).
    for node, extra in zip(space.end_node.tolist(), space.end_cost.tolist(), strict=True):
        column = passes.f_cost[:, node]
        error = np.abs(passes.f_tau[:, node] - target_s)
        ok = np.flatnonzero(np.isfinite(column) & (error <= window_s))
        found.extend(
            (float(column[q]) + extra + error_weight * float(error[q]), -1 - node, int(q), -1)
            for q in ok.tolist()
        )
    found.sort()
    paths: list[Path] = []
    seen: set[tuple[tuple[int, int], ...]] = set()
    edge = space.node_edge
    for objective, which, q, r in found:
        if which >= 0:
            segments = _forward_segments(passes.f_pointers, q, int(space.jump_source[which]))
            target = int(space.jump_target[which])
            land = int(space.jump_land[which])
            segments += _backward_segments(passes.g_pointers, space.land_of, r, land, target)
        else:
            segments = _forward_segments(passes.f_pointers, q, -1 - which)
        key = tuple((int(edge[a]), int(edge[b])) for a, b in segments)
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
        Nodes, jumps, starts and ends.
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
        Distinct arrangements (segments as beat indices), cheapest first; empty when no
        window holds any.
    window_s : float
        The window they meet.
    """
    passes = _run_passes(space, target_s + windows_s[-1], bucket_s)
    via = _via_jumps(space, target_s, windows_s[-1])
    for cuts in max_cuts:
        for window in windows_s:
            paths = _paths_for_window(
                space, passes, target_s, window, error_weight, pool_size, cuts, via
            )
            if paths:
                return paths, window
    return [], windows_s[-1]
