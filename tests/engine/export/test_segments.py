"""Segment rules: every malformed group fails before any audio is touched, naming the segment."""

from __future__ import annotations

import numpy as np
import pytest

from soundry.audio import AudioBuffer
from soundry.engine.export import MIN_JUMP_S, SeamSettings, export, stitch_groups
from soundry.engine.export.segments import normalise_groups, plan_group
from soundry.errors import ParameterError

RATE = 8_000


@pytest.fixture(scope="module")
def audio() -> AudioBuffer:
    rng = np.random.default_rng(1)
    return AudioBuffer((0.1 * rng.standard_normal((2, 10 * RATE))).astype(np.float32), RATE)


@pytest.mark.parametrize(
    ("groups", "fragments"),
    [
        ([[[2.0, 1.0]]], ["group 0, segment 0 [2, 1]", "reversed"]),
        ([[[0.0, 1.0], [3.0, 3.0]]], ["group 0, segment 1 [3, 3]", "empty"]),
        ([[[0.0, 1.0]], [[-1.0, 2.0]]], ["group 1, segment 0 [-1, 2]", "before 0"]),
        ([[[0.0, 1.0], [9.0, 10.5]]], ["group 0, segment 1 [9, 10.5]", "out of range", "10.000 s"]),
        ([[[11.0, 12.0]]], ["group 0, segment 0 [11, 12]", "out of range"]),
        ([[[0.0, 1.0], [5.0, 5.05]]], ["group 0, segment 1 [5, 5.05]", "shorter than"]),
        (
            [[[0.0, 2.0], [1.95, 4.0]]],
            ["group 0, segment 1 [1.95, 4]", "overlaps segment 0 [0, 2]", "0.050 s", "stutter"],
        ),
        ([[[0.0, 2.0], [2.04, 4.0]]], ["group 0, segment 1 [2.04, 4]", "hiccup"]),
        ([[[0.0, float("nan")]]], ["group 0, segment 0", "finite"]),
        ([[[0.0, 1.0, 2.0]]], ["group 0, segment 0", "pair"]),
        ([[[0.0, "1"]]], ["group 0, segment 0", "numbers"]),
        ([[[0.0, 1.0]], []], ["group 1 is empty"]),
        ([], ["no groups"]),
        ("[[0, 1]]", ["list of groups"]),
    ],
)
def test_bad_segments_are_named(audio: AudioBuffer, groups: object, fragments: list[str]) -> None:
    with pytest.raises(ParameterError) as info:
        stitch_groups(audio, groups)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_a_bad_group_fails_the_call_before_any_group_renders(audio: AudioBuffer) -> None:
    with pytest.raises(ParameterError, match="group 2, segment 0"):
        export(audio, [[[0.0, 1.0]], [[2.0, 3.0]], [[5.0, 4.0]]], format="wav")


def test_unknown_format_names_the_choices(audio: AudioBuffer) -> None:
    with pytest.raises(ParameterError, match=r"mp3_320, mp3_256, mp3_128, wav, flac, aac"):
        export(audio, [[0.0, 1.0]], format="ogg")


def test_loops_and_repeats_are_not_overlaps(audio: AudioBuffer) -> None:
    # Jump back into the segment just played (a loop), and repeat a segment outright.
    groups = [[[0.0, 4.0], [2.0, 6.0]], [[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]]
    out = stitch_groups(audio, groups)
    assert len(out[0].seams) == 1 and len(out[1].seams) == 2
    assert out[0].duration_s == pytest.approx(8.0, abs=0.07)
    assert out[1].duration_s == pytest.approx(3.0, abs=0.15)


def test_contiguous_segments_merge_into_one_span() -> None:
    spans = plan_group(
        [(0.0, 1.0), (1.0, 2.0), (2.0005, 3.0), (5.0, 6.0)],
        0,
        sample_rate=RATE,
        frames=10 * RATE,
        min_length_s=0.09,
    )
    assert [(s.start, s.end, s.first, s.last) for s in spans] == [
        (0, 3 * RATE, 0, 2),
        (5 * RATE, 6 * RATE, 3, 3),
    ]


def test_min_jump_is_the_documented_one() -> None:
    plan_group(
        [(0.0, 1.0), (1.0 + MIN_JUMP_S, 2.0)],
        0,
        sample_rate=RATE,
        frames=3 * RATE,
        min_length_s=0.09,
    )
    with pytest.raises(ParameterError):
        plan_group(
            [(0.0, 1.0), (1.0 + MIN_JUMP_S * 0.9, 2.0)],
            0,
            sample_rate=RATE,
            frames=3 * RATE,
            min_length_s=0.09,
        )


def test_shapes_a_single_group_and_candidates_are_accepted() -> None:
    class Candidate:
        segments_s = ((0.0, 1.0), (2.0, 3.0))

    assert normalise_groups([[0, 1], [2, 3]]) == [[(0.0, 1.0), (2.0, 3.0)]]
    assert normalise_groups([Candidate(), Candidate()]) == [[(0.0, 1.0), (2.0, 3.0)]] * 2
    assert normalise_groups(Candidate()) == [[(0.0, 1.0), (2.0, 3.0)]]


def test_end_a_hair_past_the_end_is_clamped(audio: AudioBuffer) -> None:
    out = stitch_groups(audio, [[[8.0, 10.003]]])[0]
    assert out.duration_s == pytest.approx(2.0, abs=0.04)


@pytest.mark.parametrize(
    ("field", "value"), [("crossfade_ms", 2.0), ("lead_ms", -1.0), ("tail_ms", float("nan"))]
)
def test_seam_settings_are_checked(field: str, value: float) -> None:
    with pytest.raises(ParameterError, match=field):
        SeamSettings(**{field: value})
