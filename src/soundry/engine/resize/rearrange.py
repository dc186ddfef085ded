"""``resize``: about twenty re-arrangements of a song that play for a target length.

The recipe (details in each module):

1. :mod:`.grid`: validate the beats and similarity; take the meter from the analysis, or
   infer it from the similarity's periodicity when only beats and similarity are known
   (as in Audjust's ``/resize`` request).
2. :mod:`.cuts`: the cost of every jump from bar line to bar line; keep the cheapest out
   of every bar line, and the cheapest places for a jump of every length, among those
   alike enough (by default the song's best-matched 20 % of pairs of bar lines). Given the
   audio (or its :class:`~.levels.SeamLevels`), a jump also pays for the loudness jump its
   seam would add beyond the song's own, so cuts between sides of unlike loudness are
   taken only where nothing else fits, and rank below those that pass issue 4's 1.5 LU.
3. :mod:`.search`: a forward and a backward dynamic programme over (elapsed time, bar
   line), joined at each jump: the cheapest arrangement of the target length through
   every jump. Jumps forward shorten, jumps back repeat; any number of either.
4. :mod:`.score`: measure each arrangement exactly and score it (:class:`Candidate`).
5. :mod:`.diversity`: pick the best ones that are not near-copies of each other; sort by
   ``blended_score``.

Length
------
Cuts keep the bar position, so in a steady song the reachable lengths lie about a bar
apart. Every candidate is within ``tolerance_s`` (default one beat) of the target whenever
an arrangement with at most ``max_cuts`` cuts is; otherwise all are within the smallest
of one, two or four bars that holds any, and their ``duration_s`` says how close they
came.

Range
-----
The target must be at least one bar and at least what the kept parts take (the first
``min_segment_beats`` beats with ``keep_start``, the last ones with ``keep_end``), and at
most :data:`MAX_STRETCH` times the track: beyond that an arrangement is a loop, not a
longer version of the song.
"""

from __future__ import annotations

import math

import numpy as np

from soundry.audio.buffer import AudioBuffer
from soundry.engine.analysis.analysis import Analysis
from soundry.engine.resize import search as _search
from soundry.engine.resize.candidate import Candidate
from soundry.engine.resize.cuts import ALIKE_QUANTILE, alike_threshold, build_jumps
from soundry.engine.resize.diversity import select_diverse
from soundry.engine.resize.grid import BeatGrid, _as_integer, build_grid
from soundry.engine.resize.levels import SeamLevels, seam_levels
from soundry.engine.resize.score import (
    CUT_PENALTY,
    ERROR_PENALTY_PER_BEAT,
    TRIM_PENALTY,
    make_candidate,
)
from soundry.errors import ParameterError

__all__ = [
    "DEFAULT_COUNT",
    "MAX_COUNT",
    "MAX_STRETCH",
    "resize",
    "resize_beats",
    "target_range_s",
]

DEFAULT_COUNT = 20
"""Candidates returned by default (as Audjust does)."""
MAX_COUNT = 100
"""Most candidates one call returns."""
MAX_STRETCH = 4.0
"""Longest target, as a multiple of the track's duration."""

_JUMPS_TOWARD = 12  # cheapest jumps kept per bar line in the direction the length must go
_JUMPS_AWAY = 4  # and in the other direction (a skip and a repeat can combine)
_JUMPS_PER_LAG = 3  # cheapest places for a jump of each length
_POOL = 200  # arrangements scored before choosing the diverse few
_BUCKETS_PER_BEAT = 1  # time resolution of the search (lengths stay exact)
_EXTRA_CUTS = 2  # cuts allowed beyond what the length change needs, by default


def _check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    number = _as_integer(name, value)
    if number < low or (high is not None and number > high):
        allowed = f">= {low}" if high is None else f"{low}..{high}"
        raise ParameterError(f"{name} must be {allowed}; got {number}")
    return number


def _check_seconds(name: str, value: object) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number of seconds; got {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 0.0:
        raise ParameterError(f"{name} must be a positive number of seconds; got {value}")
    return seconds


def _min_segment(grid: BeatGrid, min_segment_beats: int | None) -> int:
    """Shortest segment in beats, a whole number of bars (cuts fall on bar lines)."""
    bar = grid.beats_per_bar
    most = grid.n_beats // 2
    if min_segment_beats is None:
        # Two bars, or one on a track too short to hold two segments of two bars.
        return 2 * bar if 4 * bar <= most else bar
    m = _check_int("min_segment_beats", min_segment_beats, 1)
    m = -(-m // bar) * bar
    if m > most:
        raise ParameterError(
            f"min_segment_beats = {min_segment_beats} ({m} beats in whole bars) leaves no "
            f"room for a cut in {grid.n_beats} beats; at most {most}"
        )
    return m


def _needed_cuts(grid: BeatGrid, target_s: float, tolerance_s: float, m: int) -> int:
    """Fewest cuts the length change takes: one to shorten, one per pass over the
    repeatable middle of the song to lengthen."""
    change = target_s - grid.duration_s
    if abs(change) <= tolerance_s:
        return 0
    if change < 0:
        return 1
    middle = float(grid.edges_s[grid.n_beats - m] - grid.edges_s[m])
    return max(1, math.ceil(change / max(middle, grid.bar_s)))


def target_range_s(
    grid: BeatGrid, *, keep_start: bool, keep_end: bool, min_segment_beats: int
) -> tuple[float, float]:
    """Shortest and longest target a resize of this track accepts, seconds.

    Parameters
    ----------
    grid : BeatGrid
        The track.
    keep_start, keep_end : bool
        Whether the arrangement must open with the track's start / close with its end.
    min_segment_beats : int
        Shortest segment, beats.

    Returns
    -------
    (float, float)
        At least one bar and what the kept parts take; at most :data:`MAX_STRETCH` times
        the track's duration.
    """
    m = min_segment_beats
    n = grid.n_beats
    edges = grid.edges_s
    lines = np.flatnonzero(grid.is_downbeat(np.arange(n + 1)))
    kept = 0.0
    if keep_start:  # up to the first bar line at least m beats in
        kept += float(edges[lines[lines >= m][0]]) if np.any(lines >= m) else grid.duration_s
    if keep_end:  # from the last bar line at least m beats before the end
        last = lines[(lines <= n - m) & (lines > 0)]
        kept += grid.duration_s - float(edges[last[-1]]) if last.size else grid.duration_s
    if not (keep_start or keep_end):  # the shortest excerpt: m beats from a bar line
        starts = np.union1d([0], lines[lines <= n - m])
        kept = float(np.min(edges[starts + m] - edges[starts]))
    return max(grid.bar_s, min(kept, grid.duration_s)), MAX_STRETCH * grid.duration_s


def _range_error(
    grid: BeatGrid,
    target_s: float,
    low: float,
    high: float,
    keep_start: bool,
    keep_end: bool,
    m: int,
) -> ParameterError:
    allowed = f"allowed {low:.2f} to {high:.2f} s for this {grid.duration_s:.2f} s track"
    if target_s > high:
        why = f"at most {MAX_STRETCH:g} times the track"
    elif keep_start or keep_end:
        kept = " and ".join(part for part, on in (("start", keep_start), ("end", keep_end)) if on)
        why = (
            f"keeping the {kept} takes {low:.2f} s: free the start or end (keep_start=False, "
            "keep_end=False) or lower min_segment_beats for shorter results"
        )
    else:
        why = f"at least one bar and one segment of {m} beats: {low:.2f} s"
    return ParameterError(f"target_s = {target_s:g} s is out of range: {allowed} ({why})")


def _space(
    grid: BeatGrid,
    target_s: float,
    m: int,
    max_cost: float,
    keep_start: bool,
    keep_end: bool,
    levels: SeamLevels | None,
) -> _search.SearchSpace:
    n = grid.n_beats
    edges = grid.edges_s
    beats = np.arange(n + 1)
    node_edge = beats[(beats == 0) | (beats == n) | grid.is_downbeat(beats)]
    node_of = np.full(n + 1 + m, -1, dtype=np.int64)  # -1 past the end too
    node_of[node_edge] = np.arange(node_edge.size)
    longer = target_s > grid.duration_s
    jumps = build_jumps(
        grid,
        min_segment_beats=m,
        max_cost=max_cost,
        keep_forward=_JUMPS_AWAY if longer else _JUMPS_TOWARD,
        keep_back=_JUMPS_TOWARD if longer else _JUMPS_AWAY,
        keep_per_lag=_JUMPS_PER_LAG,
        levels=levels,
    )
    land_of = node_of[node_edge + m]
    # The track's start lands on the first node at least m beats in.
    first_land = int(np.searchsorted(node_edge, m))
    land_of[0] = first_land
    starts = node_edge[:1] if keep_start else node_edge[(node_edge <= n - m)]
    start_land = land_of[node_of[starts]]
    start_edge = node_edge[start_land]
    ends = node_edge[-1:] if keep_end else node_edge[node_edge >= m]
    return _search.SearchSpace(
        node_edge=node_edge,
        step_s=np.diff(edges[node_edge]),
        jump_source=node_of[jumps.source],
        jump_target=node_of[jumps.target],
        jump_land=node_of[jumps.target + m],
        jump_length_s=edges[jumps.target + m] - edges[jumps.target],
        jump_cost=jumps.cost + CUT_PENALTY,
        land_of=land_of,
        start_node=node_of[starts],
        start_land=start_land,
        start_length_s=edges[start_edge] - edges[starts],
        start_cost=np.where(starts > 0, TRIM_PENALTY, 0.0),
        end_node=node_of[ends],
        end_cost=np.where(ends < n, TRIM_PENALTY, 0.0),
    )


def _resize_grid(
    grid: BeatGrid,
    target_s: object,
    *,
    count: object,
    keep_start: bool,
    keep_end: bool,
    min_segment_beats: int | None,
    min_cut_similarity: float | None,
    tolerance_s: float | None,
    max_cuts: int | None,
    levels: SeamLevels | None,
) -> list[Candidate]:
    target = _check_seconds("target_s", target_s)
    if levels is not None:
        if not isinstance(levels, SeamLevels):
            raise ParameterError(
                f"levels must be a SeamLevels from seam_levels; got {type(levels).__name__}"
            )
        if levels.n_edges != grid.n_beats + 1:
            raise ParameterError(
                f"levels cover {levels.n_edges - 1} beats; the track has {grid.n_beats}: "
                "measure them with seam_levels(audio, boundaries_s) of the same analysis"
            )
    wanted = _check_int("count", count, 1, MAX_COUNT)
    m = _min_segment(grid, min_segment_beats)
    tolerance = grid.beat_s if tolerance_s is None else _check_seconds("tolerance_s", tolerance_s)
    low, high = target_range_s(grid, keep_start=keep_start, keep_end=keep_end, min_segment_beats=m)
    if not low - tolerance <= target <= high:
        raise _range_error(grid, target, low, high, keep_start, keep_end, m)
    if min_cut_similarity is None:
        thresholds = [alike_threshold(grid, m, ALIKE_QUANTILE), 1.0]
    else:
        try:
            similarity = float(min_cut_similarity)
        except (TypeError, ValueError):
            raise ParameterError(
                f"min_cut_similarity must be a number in [0, 1]; got {min_cut_similarity!r}"
            ) from None
        if not 0.0 <= similarity <= 1.0:
            raise ParameterError(f"min_cut_similarity must be in [0, 1]; got {min_cut_similarity}")
        thresholds = [1.0 - similarity]
    if max_cuts is None:
        needed = _needed_cuts(grid, target, tolerance, m)
        cut_limits: tuple[int, ...] = (needed + _EXTRA_CUTS, 1 << 30)
    else:
        cut_limits = (_check_int("max_cuts", max_cuts, 0),)
    bar = grid.bar_s
    windows = (tolerance, *(w for w in (bar, 2 * bar, 4 * bar) if w > tolerance))
    paths: list[_search.Path] = []
    for max_cost in thresholds:
        space = _space(grid, target, m, max_cost, bool(keep_start), bool(keep_end), levels)
        paths, _ = _search.search(
            space,
            target,
            windows_s=windows,
            bucket_s=grid.beat_s / _BUCKETS_PER_BEAT,
            error_weight=ERROR_PENALTY_PER_BEAT / grid.beat_s,
            pool_size=_POOL,
            max_cuts=cut_limits,
        )
        if paths:
            break
    if not paths:
        limits = [f"cuts at least {similarity:g} alike"] if min_cut_similarity is not None else []
        limits += [f"at most {max_cuts} cut(s)"] if max_cuts is not None else []
        raise ParameterError(
            f"no arrangement of this track comes within {windows[-1]:.2f} s of {target:g} s"
            + (f" with {' and '.join(limits)}; relax them or" if limits else ";")
            + " try another target"
        )
    candidates = [make_candidate(grid, path.segments, target, levels) for path in paths]
    objectives = np.array([-c.blended_score for c in candidates])
    chosen = select_diverse(
        candidates, objectives, count=wanted, n_beats=grid.n_beats, bar=grid.beats_per_bar
    )
    return sorted(chosen, key=lambda c: -c.blended_score)


def resize_beats(
    boundaries_s: object,
    similarity: object,
    duration_s: float,
    target_s: float,
    *,
    beats_per_bar: int | None = None,
    downbeat_index: int | None = None,
    count: int = DEFAULT_COUNT,
    keep_start: bool = True,
    keep_end: bool = True,
    min_segment_beats: int | None = None,
    min_cut_similarity: float | None = None,
    tolerance_s: float | None = None,
    max_cuts: int | None = None,
    levels: SeamLevels | None = None,
) -> list[Candidate]:
    """Re-arrangements of a track for a target length, from its beats and similarity alone.

    What Audjust's ``/resize`` request carries: no audio and no bars. Without
    ``beats_per_bar`` the meter is inferred from the similarity's periodicity, without
    ``downbeat_index`` the bar phase is estimated from where the harmony changes. Cuts
    fall on bar lines either way.

    Parameters
    ----------
    boundaries_s : array_like [shape=(N,)]
        Beat times, seconds, strictly increasing (Audjust's ``boundaries``).
    similarity : array_like [shape=(N, N)]
        Beat self-similarity in [0, 1], 1 = identical; the lower triangle is read (decode
        Audjust's compact string with
        :func:`~soundry.engine.analysis.decode_similarity`).
    duration_s : float
        Length of the track, seconds (after the last beat's start).
    target_s : float
        Wanted length, seconds.
    beats_per_bar : int, optional
        The meter, 2..12. Default: inferred (3 or 4).
    downbeat_index : int, optional
        Index of a beat that starts a bar. Default: estimated.
    count : int
        Most candidates to return, 1..100.
    keep_start, keep_end : bool
        Open with the track's start / close with its end. When off, an arrangement may
        start or end on any bar line (at a small cost in the score).
    min_segment_beats : int, optional
        Shortest segment, beats, rounded up to whole bars. Default: two bars (one on a
        track shorter than eight bars).
    min_cut_similarity : float, optional
        Cuts need at least this similarity (``1 -`` cut cost, in [0, 1]). Default: the
        song's own 80th percentile over bar-aligned beat pairs (relaxed only if no
        arrangement exists at all).
    tolerance_s : float, optional
        How close to the target every candidate must be when the song allows it (with
        at most ``max_cuts`` cuts). Default: one beat (the median beat length).
    max_cuts : int, optional
        Most cuts per candidate. Default: two more than the length change needs (one
        cut to shorten; to lengthen, one per pass over the song between its kept start
        and end), lifted only if no arrangement exists under it.
    levels : SeamLevels, optional
        The track's loudness around every beat (:func:`~.levels.seam_levels` of the audio
        and these ``boundaries_s``): cuts then also pay for the loudness jump they would
        add, and candidates with a seam likely to jump rank below those without.

    Returns
    -------
    list of Candidate
        Up to ``count``, best (highest ``blended_score``) first, no two near-copies.

    Raises
    ------
    ParameterError
        Malformed beats or similarity (see :func:`~soundry.engine.resize.grid.build_grid`),
        a target outside :func:`target_range_s` (the message gives the range), a bad
        count, segment length or threshold, or no arrangement near the target.
    """
    grid = build_grid(
        boundaries_s,
        similarity,
        duration_s,
        beats_per_bar=beats_per_bar,
        downbeat_index=downbeat_index,
    )
    return _resize_grid(
        grid,
        target_s,
        count=count,
        keep_start=keep_start,
        keep_end=keep_end,
        min_segment_beats=min_segment_beats,
        min_cut_similarity=min_cut_similarity,
        tolerance_s=tolerance_s,
        max_cuts=max_cuts,
        levels=levels,
    )


def resize(
    analysis: Analysis,
    target_s: float,
    *,
    count: int = DEFAULT_COUNT,
    keep_start: bool = True,
    keep_end: bool = True,
    min_segment_beats: int | None = None,
    min_cut_similarity: float | None = None,
    tolerance_s: float | None = None,
    max_cuts: int | None = None,
    audio: AudioBuffer | None = None,
    levels: SeamLevels | None = None,
) -> list[Candidate]:
    """Re-arrangements of an analysed song that play for ``target_s`` seconds.

    Shortens by skipping passages and lengthens by repeating them, cutting only between
    beats at the same bar position that sound alike, and (by default) keeping the intro
    and the ending.

    Parameters
    ----------
    analysis : Analysis
        From :func:`soundry.analyze`: beats, meter, downbeats, similarity, duration.
    target_s : float
        Wanted length, seconds: from one bar (or what the kept start and end take) to
        :data:`MAX_STRETCH` times the song.
    count : int
        Most candidates to return, 1..100.
    keep_start, keep_end : bool
        Open with the song's start / close with its end.
    min_segment_beats : int, optional
        Shortest segment, beats (whole bars). Default: two bars.
    min_cut_similarity : float, optional
        Cuts need at least this similarity; default adapts to the song.
    tolerance_s : float, optional
        Default one beat; see :func:`resize_beats`.
    max_cuts : int, optional
        Most cuts per candidate; see :func:`resize_beats`.
    audio : AudioBuffer, optional
        The analysed audio: its loudness around every beat is measured
        (:func:`~.levels.seam_levels`, about 0.5 s for 5 minutes) so that seams keep the
        level steady (issue 4: at most 1.5 LU beyond the song's own jump). Without it (or
        ``levels``) cuts are judged by similarity alone.
    levels : SeamLevels, optional
        Those levels, measured beforehand (to resize one song many times); wins over
        ``audio``.

    Returns
    -------
    list of Candidate
        Best first; see :func:`resize_beats`.

    Raises
    ------
    ParameterError
        ``analysis`` is not an Analysis, or as :func:`resize_beats`.
    """
    if not isinstance(analysis, Analysis):
        raise ParameterError(
            f"analysis must be an Analysis from soundry.analyze; got {type(analysis).__name__}"
        )
    downbeats = np.flatnonzero(analysis.bar_positions == 0)
    if levels is None and audio is not None:
        levels = seam_levels(audio, analysis.boundaries_s)
    return resize_beats(
        analysis.boundaries_s,
        analysis.similarity,
        analysis.duration_s,
        target_s,
        beats_per_bar=analysis.beats_per_bar,
        downbeat_index=int(downbeats[0]) if downbeats.size else None,
        count=count,
        keep_start=keep_start,
        keep_end=keep_end,
        min_segment_beats=min_segment_beats,
        min_cut_similarity=min_cut_similarity,
        tolerance_s=tolerance_s,
        max_cuts=max_cuts,
        levels=levels,
    )
