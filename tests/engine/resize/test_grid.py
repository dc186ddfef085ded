"""Inputs of a resize: validation, and the meter read from the similarity alone."""

from __future__ import annotations

import re

import numpy as np
import pytest

from soundry.engine.resize import resize_beats
from soundry.engine.resize.grid import build_grid, infer_beats_per_bar, infer_downbeat
from soundry.errors import ParameterError

from .structures import structured_song


@pytest.mark.parametrize("meter", [3, 4])
def test_meter_is_read_from_the_similarity(meter: int) -> None:
    song = structured_song("ABCABD", section_beats=4 * meter, beats_per_bar=meter, seed=meter)
    assert infer_beats_per_bar(song.similarity) == meter


@pytest.mark.parametrize("phase", [0, 1, 2, 3])
def test_downbeat_is_where_the_harmony_changes(phase: int) -> None:
    song = structured_song("ABCD", seed=7)
    # Drop the first `phase` beats: the downbeats then sit at index (4 - phase) % 4.
    shifted = song.similarity[phase:, phase:]
    assert infer_downbeat(shifted, 4) == (4 - phase) % 4


def test_grid_edges_cover_the_track() -> None:
    song = structured_song()
    beats = song.boundaries_s + 0.25  # a lead-in before the first beat
    grid = build_grid(beats, song.similarity, song.duration_s + 0.5, beats_per_bar=4)
    assert grid.edges_s[0] == 0.0 and grid.edges_s[-1] == song.duration_s + 0.5
    assert np.array_equal(grid.edges_s[1:-1], beats[1:])
    assert grid.beat_s == pytest.approx(0.5)
    assert not grid.bars_known  # the downbeat was estimated
    assert build_grid(beats, song.similarity, 60.0, beats_per_bar=4, downbeat_index=6).bars_known
    assert (
        build_grid(beats, song.similarity, 60.0, beats_per_bar=4, downbeat_index=6).downbeat_index
        == 2
    )


def _malformed() -> list[tuple[str, dict[str, object], str]]:
    song = structured_song()
    b, s = song.boundaries_s, song.similarity
    reversed_beats = b.copy()
    reversed_beats[10] = reversed_beats[9]
    nan_matrix = s.copy()
    nan_matrix[5, 3] = np.nan
    return [
        ("non-increasing", {"boundaries_s": reversed_beats}, "increase strictly"),
        ("negative", {"boundaries_s": b - 1.0}, "cannot be negative"),
        ("nan beat", {"boundaries_s": np.where(np.arange(b.size) == 4, np.nan, b)}, "finite"),
        ("2-D beats", {"boundaries_s": b[:, None]}, "one-dimensional"),
        ("too few beats", {"boundaries_s": b[:5], "similarity": s[:5, :5]}, "at least 8"),
        ("shape", {"similarity": s[:-1, :-1]}, f"must be ({b.size}, {b.size})"),
        ("nan similarity", {"similarity": nan_matrix}, "similarity[5, 3] is nan"),
        ("out of range", {"similarity": s * 2.0}, "must lie in [0, 1]"),
        ("text", {"similarity": np.full(s.shape, "x")}, "real numbers"),
        ("duration", {"duration_s": float(b[-1])}, "must start before the end"),
        ("duration nan", {"duration_s": float("nan")}, "positive number"),
        ("target nan", {"target_s": float("nan")}, "target_s must be a positive number"),
        ("target text", {"target_s": "long"}, "target_s must be a number"),
        ("meter", {"beats_per_bar": 1}, "beats_per_bar must be 2..12"),
        ("meter type", {"beats_per_bar": 4.5}, "beats_per_bar must be an integer"),
        ("downbeat", {"downbeat_index": -1}, "downbeat_index must be >= 0"),
        ("count", {"count": 0}, "count must be 1..100"),
        ("segment", {"min_segment_beats": 60}, "leaves no room for a cut"),
        ("threshold", {"min_cut_similarity": 1.5}, "min_cut_similarity must be in [0, 1]"),
        ("tolerance", {"tolerance_s": 0.0}, "tolerance_s must be a positive number"),
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [(c, m) for _, c, m in _malformed()],
    ids=[name for name, _, _ in _malformed()],
)
def test_malformed_inputs_are_refused_with_a_clear_message(
    change: dict[str, object], message: str
) -> None:
    song = structured_song()
    args: dict[str, object] = {
        "boundaries_s": song.boundaries_s,
        "similarity": song.similarity,
        "duration_s": song.duration_s,
        "target_s": song.duration_s - 8.0,
    } | change
    with pytest.raises(ParameterError, match=re.escape(message)):
        resize_beats(**args)  # type: ignore[arg-type]
