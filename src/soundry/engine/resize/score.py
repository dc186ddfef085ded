"""The objective a resize minimises, and turning a found path into a :class:`Candidate`.

For an arrangement with cuts ``k`` (each of cost ``c_k``, see :mod:`.cuts`)::

    J = sum_k c_k                              the dissimilarity D
        + FAILING_SEAM_PENALTY * sum_k risk_k  seams predicted to jump in loudness
        + CUT_PENALTY * cuts                   fewer seams are safer
        + TRIM_PENALTY * trimmed ends          start later or end earlier than the track
        + ERROR_PENALTY_PER_BEAT * |length - target| / beat

``blendedScore = -J``: at most 0, and 0 only for the untouched song at its own length.
The length term is small on purpose: every candidate is already within the tolerance,
so the seams decide and the error breaks ties.

A cut's cost ``c_k`` is its :func:`~.cuts.cut_cost` (how unlike the two sides sound) plus,
when the song's levels are known, its :func:`~.cuts.loudness_cost`; ``risk_k`` (0..1) is
how likely its loudness jump fails issue 4's 1.5 LU (:func:`~.cuts.seam_risk`).
"""

from __future__ import annotations

from soundry.engine.resize.candidate import Candidate
from soundry.engine.resize.cuts import FAILING_SEAM_PENALTY, cut_cost, loudness_cost, seam_risk
from soundry.engine.resize.grid import BeatGrid
from soundry.engine.resize.levels import SeamLevels, loudness_excess_lu

__all__ = [
    "CUT_PENALTY",
    "ERROR_PENALTY_PER_BEAT",
    "TRIM_PENALTY",
    "make_candidate",
]

CUT_PENALTY = 0.05
"""Objective per cut: between two equally clean arrangements, the one with fewer seams."""
TRIM_PENALTY = 0.25
"""Objective per trimmed start or end (only possible with keep_start/keep_end off)."""
ERROR_PENALTY_PER_BEAT = 0.1
"""Objective per beat of length error."""


def make_candidate(
    grid: BeatGrid,
    segments: tuple[tuple[int, int], ...],
    target_s: float,
    levels: SeamLevels | None = None,
) -> Candidate:
    """Measure an arrangement exactly and score it.

    Parameters
    ----------
    grid : BeatGrid
        The track.
    segments : tuple of (int, int)
        ``(start, end)`` beat pairs, end exclusive, in playing order.
    target_s : float
        The length asked for, seconds.
    levels : SeamLevels, optional
        The song's loudness around every edge; without it seams are judged by their
        similarity alone.

    Returns
    -------
    Candidate
    """
    edges = grid.edges_s
    segments_s = tuple((float(edges[s]), float(edges[e])) for s, e in segments)
    duration_s = float(sum(end - start for start, end in segments_s))
    cuts = [(segments[k][1], segments[k + 1][0]) for k in range(len(segments) - 1)]
    costs = [cut_cost(grid.similarity, e, b) for e, b in cuts]
    loudness = [loudness_cost(levels, e, b) for e, b in cuts]
    risk = sum(seam_risk(levels, e, b) for e, b in cuts)
    dissimilarity = float(sum(costs) + sum(loudness))
    objective = dissimilarity + FAILING_SEAM_PENALTY * risk + CUT_PENALTY * len(costs)
    trims = int(segments[0][0] != 0) + int(segments[-1][1] != grid.n_beats)
    objective += TRIM_PENALTY * trims
    objective += ERROR_PENALTY_PER_BEAT * abs(duration_s - target_s) / grid.beat_s
    return Candidate(
        segments_beats=tuple((int(s), int(e)) for s, e in segments),
        segments_s=segments_s,
        duration_s=duration_s,
        target_s=float(target_s),
        dissimilarity=dissimilarity,
        blended_score=-objective if objective > 0.0 else 0.0,
        cut_similarities=tuple(1.0 - c for c in costs),
        seam_loudness_lu=(
            () if levels is None else tuple(loudness_excess_lu(levels, e, b) for e, b in cuts)
        ),
    )
