"""The beat grid a resize works on: validated beats, similarity and bar positions.

Resize needs only what Audjust's ``/resize`` request carries (beat boundaries and the beat
self-similarity) plus the track's duration. Bars matter because a cut must keep the bar
position: when the caller does not know the meter, :func:`infer_beats_per_bar` reads it
from the similarity's periodicity and :func:`infer_downbeat` estimates where bars start.

Beat ``i`` spans ``[boundaries_s[i], boundaries_s[i + 1])``; the last beat runs to the end
of the track. The *edges* of the grid (``N + 1`` values) are where segments start and end:
edge 0 is 0 s (a segment that starts at beat 0 keeps the lead-in before the first beat),
edge ``i`` is ``boundaries_s[i]`` for ``0 < i < N``, and edge ``N`` is the track's duration.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np

from soundry.errors import ParameterError

__all__ = [
    "MAX_BEATS_PER_BAR",
    "MIN_BEATS",
    "BeatGrid",
    "build_grid",
    "infer_beats_per_bar",
    "infer_downbeat",
]

MIN_BEATS = 8
"""Fewest beats a track needs for a resize: two bars of 4."""
MAX_BEATS_PER_BAR = 12
"""Largest meter accepted from a caller, beats per bar."""

_METERS = (3, 4)  # what the periodicity can tell apart (duple meters are read as 4)
_MAX_METER_LAG = 64  # beats: 16 bars of 4 are plenty to see the bar period
_SIMILARITY_SLACK = 1e-3  # quantised or rounded similarity may stray this far past [0, 1]


@dataclass(frozen=True, eq=False)
class BeatGrid:
    """Validated beats, similarity and bar positions of one track.

    Attributes
    ----------
    boundaries_s : np.ndarray [shape=(N,), dtype=float64]
        Beat times, seconds, strictly increasing.
    edges_s : np.ndarray [shape=(N + 1,), dtype=float64]
        Segment edges, seconds: 0, ``boundaries_s[1:]``, ``duration_s``.
    similarity : np.ndarray [shape=(N, N), dtype=float32]
        Beat self-similarity in [0, 1]; only the lower triangle is read.
    duration_s : float
        Length of the track, seconds.
    beats_per_bar : int
        The meter.
    downbeat_index : int
        Index of the first beat that starts a bar, ``0 <= downbeat_index < beats_per_bar``.
    bars_known : bool
        True when the meter and the downbeat came from the caller (or an analysis), False
        when they were inferred from the similarity.
    beat_s : float
        Median beat length, seconds.
    """

    boundaries_s: np.ndarray
    edges_s: np.ndarray
    similarity: np.ndarray
    duration_s: float
    beats_per_bar: int
    downbeat_index: int
    bars_known: bool
    beat_s: float

    @property
    def n_beats(self) -> int:
        """Number of beats ``N``."""
        return int(self.boundaries_s.size)

    @property
    def bar_s(self) -> float:
        """Median bar length, seconds."""
        return self.beat_s * self.beats_per_bar

    def is_downbeat(self, index: np.ndarray | int) -> np.ndarray:
        """Whether beat (or edge) ``index`` starts a bar; edge ``N`` continues the grid."""
        return (np.asarray(index) - self.downbeat_index) % self.beats_per_bar == 0


def _check_boundaries(boundaries_s: object, duration_s: float) -> np.ndarray:
    try:
        beats = np.asarray(boundaries_s, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"boundaries_s must be a list of numbers (seconds): {exc}") from None
    if beats.ndim != 1:
        raise ParameterError(f"boundaries_s must be one-dimensional; got shape {beats.shape}")
    if beats.size < MIN_BEATS:
        raise ParameterError(
            f"boundaries_s holds {beats.size} beat(s); a resize needs at least {MIN_BEATS}"
        )
    bad = np.flatnonzero(~np.isfinite(beats))
    if bad.size:
        raise ParameterError(
            f"boundaries_s[{bad[0]}] is {beats[bad[0]]}: beat times must be finite"
        )
    if beats[0] < 0.0:
        raise ParameterError(f"boundaries_s[0] is {beats[0]:g} s: beat times cannot be negative")
    steps = np.flatnonzero(np.diff(beats) <= 0.0)
    if steps.size:
        i = int(steps[0])
        raise ParameterError(
            f"boundaries_s must increase strictly: boundaries_s[{i + 1}] = {beats[i + 1]:g} s "
            f"follows boundaries_s[{i}] = {beats[i]:g} s"
        )
    if beats[-1] >= duration_s:
        raise ParameterError(
            f"the last beat ({beats[-1]:g} s) must start before the end of the track "
            f"(duration_s = {duration_s:g} s)"
        )
    return beats


def _check_similarity(similarity: object, n_beats: int) -> np.ndarray:
    try:
        matrix = np.asarray(similarity)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"similarity must be an N x N array of numbers: {exc}") from None
    if matrix.shape != (n_beats, n_beats):
        raise ParameterError(
            f"similarity has shape {matrix.shape}; with {n_beats} beats it must be "
            f"({n_beats}, {n_beats})"
        )
    if not np.issubdtype(matrix.dtype, np.number) or np.iscomplexobj(matrix):
        raise ParameterError(f"similarity must hold real numbers; got dtype {matrix.dtype}")
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    if not np.all(np.isfinite(matrix)):
        i, j = np.argwhere(~np.isfinite(matrix))[0]
        raise ParameterError(f"similarity[{i}, {j}] is {matrix[i, j]}: values must be finite")
    low, high = float(matrix.min()), float(matrix.max())
    if low < -_SIMILARITY_SLACK or high > 1.0 + _SIMILARITY_SLACK:
        raise ParameterError(
            f"similarity values must lie in [0, 1] (1 = identical); found {low:g} to {high:g}"
        )
    if low < 0.0 or high > 1.0:
        matrix = np.clip(matrix, 0.0, 1.0)
    return matrix


def infer_beats_per_bar(similarity: np.ndarray) -> int:
    """Beats per bar from the periodicity of the beat self-similarity.

    Beats a whole number of bars apart sound more alike than their neighbours do, so the
    mean similarity at lag ``L`` (the ``L``-th diagonal) peaks at multiples of the bar.
    Each meter's salience is the mean height of those peaks over the average of the two
    neighbouring lags; the more salient of 3 and 4 wins (duple meters read as 4).

    Parameters
    ----------
    similarity : np.ndarray [shape=(N, N)]
        Beat self-similarity, symmetric, in [0, 1].

    Returns
    -------
    int
        3 or 4 (4 when the similarity cannot tell).
    """
    n = similarity.shape[0]
    max_lag = min(_MAX_METER_LAG, n // 2)
    if max_lag < 2 * max(_METERS):
        return 4
    lags = np.arange(max_lag + 2)
    profile = np.array([float(np.diagonal(similarity, -lag).mean()) for lag in lags])
    salience = profile[1:-1] - 0.5 * (profile[:-2] + profile[2:])  # index L - 1
    scores = {b: float(salience[np.arange(b, max_lag + 1, b) - 1].mean()) for b in _METERS}
    return 3 if scores[3] > scores[4] else 4


def infer_downbeat(similarity: np.ndarray, beats_per_bar: int) -> int:
    """Which beat most likely starts the first bar: harmony tends to change on downbeats.

    Parameters
    ----------
    similarity : np.ndarray [shape=(N, N)]
        Beat self-similarity in [0, 1].
    beats_per_bar : int
        The meter.

    Returns
    -------
    int
        ``0 <= index < beats_per_bar``: the phase whose beats differ most from the beat
        before them. An estimate: in 4/4 it confuses the first and third beat often.
    """
    n = similarity.shape[0]
    change = 1.0 - np.diagonal(similarity, -1).astype(np.float64)  # beat i + 1 vs beat i
    index = np.arange(1, n) % beats_per_bar
    means = [
        float(change[index == p].mean()) if np.any(index == p) else 0.0
        for p in range(beats_per_bar)
    ]
    return int(np.argmax(means))


def _as_integer(name: str, value: object) -> int:
    """``value`` as an int (ints and NumPy integers, not floats), or a ParameterError
    naming the parameter."""
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ParameterError(f"{name} must be an integer; got {value!r}") from None


def _check_meter(beats_per_bar: object, downbeat_index: object) -> tuple[int | None, int | None]:
    bpb = None
    if beats_per_bar is not None:
        bpb = _as_integer("beats_per_bar", beats_per_bar)
        if not 2 <= bpb <= MAX_BEATS_PER_BAR:
            raise ParameterError(
                f"beats_per_bar must be 2..{MAX_BEATS_PER_BAR}; got {beats_per_bar}"
            )
    down = None
    if downbeat_index is not None:
        down = _as_integer("downbeat_index", downbeat_index)
        if down < 0:
            raise ParameterError(f"downbeat_index must be >= 0; got {down}")
    return bpb, down


def build_grid(
    boundaries_s: object,
    similarity: object,
    duration_s: float,
    *,
    beats_per_bar: int | None = None,
    downbeat_index: int | None = None,
) -> BeatGrid:
    """Validate a track's beats and similarity and settle its bars.

    Parameters
    ----------
    boundaries_s : array_like [shape=(N,)]
        Beat times, seconds, strictly increasing, at least :data:`MIN_BEATS`.
    similarity : array_like [shape=(N, N)]
        Beat self-similarity in [0, 1] (1 = identical); only the lower triangle is read,
        as Audjust's compact encoding carries it.
    duration_s : float
        Length of the track, seconds, after the last beat's start.
    beats_per_bar : int, optional
        The meter (2..12). Default: inferred from the similarity (3 or 4).
    downbeat_index : int, optional
        Index of any beat that starts a bar. Default: estimated from the similarity.

    Returns
    -------
    BeatGrid

    Raises
    ------
    ParameterError
        Too few beats, non-finite, negative or non-increasing beat times, a last beat at or
        after the end, a similarity of the wrong shape, with NaN or outside [0, 1], or a
        meter that is not an integer in range.
    """
    try:
        duration = float(duration_s)
    except (TypeError, ValueError):
        raise ParameterError(
            f"duration_s must be a number of seconds; got {duration_s!r}"
        ) from None
    if not np.isfinite(duration) or duration <= 0.0:
        raise ParameterError(f"duration_s must be a positive number of seconds; got {duration_s}")
    beats = _check_boundaries(boundaries_s, duration)
    matrix = _check_similarity(similarity, beats.size)
    bpb, down = _check_meter(beats_per_bar, downbeat_index)
    bars_known = bpb is not None and down is not None
    if bpb is None:
        bpb = infer_beats_per_bar(matrix)
    down = infer_downbeat(matrix, bpb) if down is None else down % bpb
    edges = np.concatenate([[0.0], beats[1:], [duration]])
    return BeatGrid(
        boundaries_s=beats,
        edges_s=edges,
        similarity=matrix,
        duration_s=duration,
        beats_per_bar=bpb,
        downbeat_index=down,
        bars_known=bars_known,
        beat_s=float(np.median(np.diff(beats))),
    )
