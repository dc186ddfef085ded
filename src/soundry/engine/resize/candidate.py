"""``Candidate``: one re-arrangement of a song, in beats and in seconds, with its scores."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["Candidate"]

_DECIMALS_S = 3  # milliseconds: finer than any beat time an analysis gives


@dataclass(frozen=True)
class Candidate:
    """A re-arrangement: segments of the source, played in order.

    Segments follow Audjust's ``segmentsBeats`` semantics: ``(start, end)`` indexes into
    the beat boundaries, ``start`` inclusive and ``end`` exclusive, so a segment plays
    from ``boundaries[start]`` up to ``boundaries[end]``. ``end`` may be ``N`` (the number
    of beats), meaning the end of the track, and a segment starting at beat 0 starts at
    0 s so that any lead-in before the first beat plays.

    Attributes
    ----------
    segments_beats : tuple of (int, int)
        Beat index pairs ``(start, end)``, end exclusive.
    segments_s : tuple of (float, float)
        The same segments in source seconds ``(start_s, end_s)``; what an export plays.
    duration_s : float
        Length of the arrangement, seconds (the sum of the segment lengths).
    target_s : float
        The length that was asked for, seconds.
    dissimilarity : float
        Sum of the cut costs, ``>= 0``: ``1 -`` each cut's similarity, plus (when the
        song's levels were given) a cost per LU of loudness jump the seam adds; 0 = every
        seam joins identical-sounding beats. Lower is better.
    blended_score : float
        ``<= 0``, closer to 0 is better: minus the sum of the dissimilarity, a penalty
        per cut, per trimmed start or end, and for the length
        error (see :mod:`soundry.engine.resize.rearrange`). Candidates are sorted by it.
    cut_similarities : tuple of float
        Similarity (``1 -`` :func:`~soundry.engine.resize.cuts.cut_cost`, in [0, 1]) of
        every cut, in playing order.
    seam_loudness_lu : tuple of float
        Predicted loudness excess of every cut, LU: how far the seam's loudness jump is
        from the song's own at the two source points (issue 4 passes 1.5 LU); empty when
        the resize had no levels (no audio).
    """

    segments_beats: tuple[tuple[int, int], ...]
    segments_s: tuple[tuple[float, float], ...]
    duration_s: float
    target_s: float
    dissimilarity: float
    blended_score: float
    cut_similarities: tuple[float, ...]
    seam_loudness_lu: tuple[float, ...] = ()

    @property
    def cut_count(self) -> int:
        """Number of cuts (seams): one fewer than the segments."""
        return len(self.segments_beats) - 1

    @property
    def duration_error_s(self) -> float:
        """``duration_s - target_s``, seconds (negative = shorter than asked)."""
        return self.duration_s - self.target_s

    @property
    def cuts(self) -> tuple[tuple[int, int], ...]:
        """Every cut as ``(e, b)``: the segment before ends at beat ``e`` (exclusive) and
        the next starts at beat ``b``."""
        segments = self.segments_beats
        return tuple((segments[k][1], segments[k + 1][0]) for k in range(len(segments) - 1))

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """The candidate as Audjust sends it in a ``/resize`` result.

        Returns
        -------
        dict
            ``dissimilarity``, ``blendedScore``, ``segmentsBeats`` (lists of two ints),
            ``segmentsSeconds`` (lists of two floats, ms precision) and
            ``durationSeconds``.
        """
        return {
            "dissimilarity": self.dissimilarity,
            "blendedScore": self.blended_score,
            "segmentsBeats": [[start, end] for start, end in self.segments_beats],
            "segmentsSeconds": [
                [round(start, _DECIMALS_S), round(end, _DECIMALS_S)]
                for start, end in self.segments_s
            ],
            "durationSeconds": round(self.duration_s, _DECIMALS_S),
        }
