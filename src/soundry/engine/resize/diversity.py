"""Choosing a diverse set of candidates: best first, but not twenty near-copies.

An arrangement is described by its *edits*: every cut ``e -> b``, plus ``0 -> s`` when it
starts at a later beat ``s`` and ``e -> N`` when it ends early at edge ``e``; and by its
*beat usage*: how many times it plays each beat. Two arrangements are **near-copies**
when

* they have the same number of edits and every edit of one lies within one bar (at both
  of its ends) of the matching edit of the other: the same edits moved by a bar or less;
  or
* their beat usages differ by at most two bars' worth of beats in all (the same music,
  perhaps in another order, or with one cut moved by a bar).

Near-copies are never both chosen.

Beyond that, selection is greedy maximal marginal relevance: the next candidate is the
one with the lowest objective plus ``REDUNDANCY_WEIGHT`` times the largest fraction of
its edits that some already chosen candidate shares (within a bar).
"""

from __future__ import annotations

import numpy as np

from soundry.engine.resize.candidate import Candidate

__all__ = ["REDUNDANCY_WEIGHT", "edits", "near_copies", "select_diverse"]

REDUNDANCY_WEIGHT = 0.1
"""Objective added for a candidate whose edits all repeat a chosen one's."""

_FAR = 1 << 40  # padding: never within a bar of anything


def edits(candidate: Candidate, n_beats: int) -> list[tuple[int, int]]:
    """The edits of an arrangement, in playing order.

    Parameters
    ----------
    candidate : Candidate
        The arrangement.
    n_beats : int
        Number of beats ``N`` of the track.

    Returns
    -------
    list of (int, int)
        ``(from, to)`` pairs: a late start ``(0, s)``, each cut ``(e, b)``, an early end
        ``(e, N)``.
    """
    segments = candidate.segments_beats
    out = [(0, segments[0][0])] if segments[0][0] != 0 else []
    out.extend(candidate.cuts)
    if segments[-1][1] != n_beats:
        out.append((segments[-1][1], n_beats))
    return out


def _usage(candidates: list[Candidate], n_beats: int) -> np.ndarray:
    """How many times each candidate plays each beat: (P, N) counts."""
    steps = np.zeros((len(candidates), n_beats + 1), dtype=np.int32)
    for p, candidate in enumerate(candidates):
        for start, end in candidate.segments_beats:
            steps[p, start] += 1
            steps[p, end] -= 1
    return np.cumsum(steps[:, :-1], axis=1)


def near_copies(a: list[tuple[int, int]], b: list[tuple[int, int]], bar: int) -> bool:
    """Whether two edit lists are near-copies (same length, each edit within a bar)."""
    if len(a) != len(b):
        return False
    pairs = zip(a, b, strict=True)
    return all(abs(x0 - y0) <= bar and abs(x1 - y1) <= bar for (x0, x1), (y0, y1) in pairs)


def select_diverse(
    candidates: list[Candidate], objectives: np.ndarray, *, count: int, n_beats: int, bar: int
) -> list[Candidate]:
    """Pick up to ``count`` candidates, good and unlike each other.

    Parameters
    ----------
    candidates : list of Candidate
        The pool.
    objectives : np.ndarray [shape=(P,)]
        Their objective (``-blended_score``), lower is better.
    count : int
        How many to choose.
    n_beats : int
        Number of beats of the track.
    bar : int
        Beats per bar: the distance under which two edits count as the same.

    Returns
    -------
    list of Candidate
        In the order chosen (best first, by objective with the redundancy term).
    """
    pool = len(candidates)
    if pool == 0:
        return []
    lists = [edits(c, n_beats) for c in candidates]
    width = max(1, max(len(x) for x in lists))
    table = np.full((pool, width, 2), _FAR, dtype=np.int64)
    for p, x in enumerate(lists):
        if x:
            table[p, : len(x)] = x
    sizes = np.array([len(x) for x in lists], dtype=np.int64)
    valid = np.arange(width)[None, :] < sizes[:, None]  # (P, K)
    usage = _usage(candidates, n_beats)
    redundancy = np.zeros(pool)
    available = np.ones(pool, dtype=bool)
    chosen: list[int] = []
    while len(chosen) < count and available.any():
        score = np.where(available, objectives + REDUNDANCY_WEIGHT * redundancy, np.inf)
        pick = int(np.argmin(score))
        chosen.append(pick)
        available[pick] = False
        mine = table[pick, : sizes[pick]]  # (k, 2)
        # Edits of every pool member within a bar of some edit of the pick.
        close = np.all(np.abs(table[:, :, None, :] - mine[None, None, :, :]) <= bar, axis=-1)
        shared = close.any(axis=2) & valid  # (P, K)
        fraction = shared.sum(axis=1) / np.maximum(sizes, 1)
        redundancy = np.maximum(redundancy, np.where(sizes > 0, fraction, 1.0))
        # Near-copies: same number of edits, each within a bar of its counterpart.
        same = sizes == sizes[pick]
        if sizes[pick]:
            aligned = np.all(np.abs(table[:, : sizes[pick]] - mine[None]) <= bar, axis=(1, 2))
            same &= aligned
        same |= np.abs(usage - usage[pick]).sum(axis=1) <= 2 * bar
        available &= ~same
    return [candidates[p] for p in chosen]
