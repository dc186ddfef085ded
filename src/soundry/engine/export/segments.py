"""Segment lists: parsing, validation and the rules that make a group playable.

A *group* is a list of ``[start_s, end_s]`` segments of the source, played in order and
stitched into one output. A list of groups gives one output per group. The rules, checked
here before any audio is touched, are:

- every segment is a pair of finite numbers with ``0 <= start_s < end_s <= duration``
  (an end up to :data:`END_TOLERANCE_S` past the end is taken as the end: rounded beat
  times often overshoot by a fraction of a millisecond);
- a segment lasts at least :attr:`~.seams.SeamSettings.min_segment_s` (the crossfade plus
  the onset search and the alignment on both ends): anything shorter cannot hold a seam;
- two consecutive segments are either *contiguous* (the next starts where the previous
  ends, within :data:`CONTIGUOUS_TOLERANCE_S`; they are then played as one span, with no
  seam at all) or a real *jump* of at least :data:`MIN_JUMP_S` forwards or backwards.
  Anything in between *overlaps* (replays a few milliseconds: a stutter) or leaves a sliver
  out (a hiccup): both are refused.

Jumping backwards, even into the segment just played, is a loop, not an overlap: resize's
lengthening candidates repeat a chorus that way, and so may a group repeat one segment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from soundry.errors import ParameterError

__all__ = [
    "CONTIGUOUS_TOLERANCE_S",
    "END_TOLERANCE_S",
    "MAX_GROUPS",
    "MAX_SEGMENTS",
    "MIN_JUMP_S",
    "Span",
    "normalise_groups",
    "plan_group",
]

CONTIGUOUS_TOLERANCE_S = 0.001
"""Consecutive segments this close (s) are contiguous: played as one span, no seam."""
END_TOLERANCE_S = 0.005
"""An end this far (s) past the audio's end is clamped to the end instead of refused."""
MIN_JUMP_S = 0.1
"""Shortest jump (s) between consecutive non-contiguous segments, forwards or backwards."""
MAX_GROUPS = 100
"""Most groups (outputs) one call renders."""
MAX_SEGMENTS = 1000
"""Most segments in one group."""

Group = Sequence[Sequence[float]]


@dataclass(frozen=True, slots=True)
class Span:
    """A run of source frames played without a seam inside it.

    Attributes
    ----------
    start, end : int
        Source frames ``[start, end)``, as asked (before seams refine the cut points).
    first, last : int
        Indices of the first and last user segment merged into this span.
    """

    start: int
    end: int
    first: int
    last: int


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_group(item: Any, g: int) -> list[Any]:
    segments = getattr(item, "segments_s", item)  # a resize Candidate is a group
    if isinstance(segments, str | bytes) or not isinstance(segments, Sequence):
        raise ParameterError(
            f"group {g}: expected a list of [start_s, end_s] segments; got {_show(segments)}"
        )
    return list(segments)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def normalise_groups(segments_groups: Any) -> list[list[tuple[float, float]]]:
    """Turn the caller's groups into lists of ``(start_s, end_s)`` floats; check the shape.

    Accepts a list of groups, a single group (a list of pairs: recognised by its first
    element being a pair of numbers), or objects with a ``segments_s`` attribute (resize
    candidates) in place of groups. Range checks need the audio: see :func:`plan_group`.

    Raises
    ------
    ParameterError
        Not a list; no group; an empty group; a segment that is not two finite numbers.
        The message names the group and segment index (0-based) and the value.
    """
    if hasattr(segments_groups, "segments_s"):
        segments_groups = [segments_groups]
    if isinstance(segments_groups, str | bytes) or not isinstance(segments_groups, Sequence):
        raise ParameterError(
            f"segments must be a list of groups of [start_s, end_s] pairs; "
            f"got {_show(segments_groups)}"
        )
    items = list(segments_groups)
    if not items:
        raise ParameterError("no groups of segments given: nothing to export")
    first = items[0]
    if (
        isinstance(first, Sequence)
        and not isinstance(first, str | bytes)
        and len(first) > 0
        and _is_number(first[0])
    ):
        items = [items]  # a single group
    if len(items) > MAX_GROUPS:
        raise ParameterError(f"{len(items)} groups given; at most {MAX_GROUPS} per call")
    groups = []
    for g, item in enumerate(items):
        raw = _as_group(item, g)
        if not raw:
            raise ParameterError(f"group {g} is empty: give at least one [start_s, end_s]")
        if len(raw) > MAX_SEGMENTS:
            raise ParameterError(
                f"group {g} has {len(raw)} segments; at most {MAX_SEGMENTS} per group"
            )
        group = []
        for k, segment in enumerate(raw):
            where = f"group {g}, segment {k} ({_show(segment)})"
            if (
                isinstance(segment, str | bytes)
                or not isinstance(segment, Sequence)
                or len(segment) != 2
            ):
                raise ParameterError(f"{where}: expected a pair [start_s, end_s]")
            start, end = segment
            if not (_is_number(start) and _is_number(end)):
                raise ParameterError(f"{where}: start and end must be numbers (seconds)")
            if not (math.isfinite(start) and math.isfinite(end)):
                raise ParameterError(f"{where}: start and end must be finite")
            group.append((float(start), float(end)))
        groups.append(group)
    return groups


def plan_group(
    group: list[tuple[float, float]],
    g: int,
    *,
    sample_rate: int,
    frames: int,
    min_length_s: float,
) -> list[Span]:
    """Check one group against the audio and merge contiguous segments into spans.

    Parameters
    ----------
    group : list of (float, float)
        Segments ``(start_s, end_s)`` from :func:`normalise_groups`.
    g : int
        The group's index, for messages.
    sample_rate, frames : int
        The source audio's rate (Hz) and length (frames).
    min_length_s : float
        Shortest segment allowed, seconds.

    Returns
    -------
    list of Span
        Consecutive contiguous segments merged; every boundary between two spans is a seam.

    Raises
    ------
    ParameterError
        Reversed, empty, too short or out-of-range segments; consecutive segments that
        overlap or leave a gap shorter than :data:`MIN_JUMP_S`. The message names the group,
        the segment index and its values.
    """
    duration_s = frames / sample_rate
    spans: list[Span] = []
    prev_end_s = 0.0
    for k, (start_s, end_s) in enumerate(group):
        where = f"group {g}, segment {k} [{start_s:g}, {end_s:g}]"
        if end_s < start_s:
            raise ParameterError(f"{where} is reversed: the end comes before the start")
        if end_s == start_s:
            raise ParameterError(f"{where} is empty (start equals end)")
        if start_s < 0:
            raise ParameterError(f"{where} starts before 0 s")
        if end_s > duration_s + END_TOLERANCE_S or start_s >= duration_s:
            raise ParameterError(f"{where} is out of range: the audio lasts {duration_s:.3f} s")
        end_s = min(end_s, duration_s)
        if end_s - start_s < min_length_s - 1e-9:
            raise ParameterError(
                f"{where} lasts {end_s - start_s:.3f} s, shorter than the "
                f"{min_length_s:.3f} s a seam needs (crossfade plus onset search)"
            )
        start = round(start_s * sample_rate)
        end = min(round(end_s * sample_rate), frames)
        if spans:
            gap_s = start_s - prev_end_s
            if abs(gap_s) <= CONTIGUOUS_TOLERANCE_S:
                last = spans[-1]
                spans[-1] = Span(last.start, end, last.first, k)
                prev_end_s = end_s
                continue
            if abs(gap_s) < MIN_JUMP_S:
                prev = f"segment {k - 1} [{group[k - 1][0]:g}, {group[k - 1][1]:g}]"
                what = (
                    f"overlaps {prev} by {-gap_s:.3f} s (it would replay a stutter)"
                    if gap_s < 0
                    else f"starts {gap_s:.3f} s after {prev} ends (a hiccup)"
                )
                raise ParameterError(
                    f"{where} {what}: make it start exactly at {prev_end_s:g} s "
                    f"(contiguous), or jump at least {MIN_JUMP_S:g} s"
                )
        spans.append(Span(start, end, k, k))
        prev_end_s = end_s
    return spans
