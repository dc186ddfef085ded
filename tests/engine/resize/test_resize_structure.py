"""Resize on songs whose structure is known: the right cuts are known exactly.

The default song is ``A B C B C D``, 16 beats (4 bars of 4) per section, 0.5 s per beat:
the passage ``B C`` at beats 16-47 comes back at beats 48-79, 32 beats (16 s) later.
Cutting 16 s out, or adding 16 s, has exactly one clean solution: jump by 32 beats from
inside the first ``B C`` to the same place in the second (or back).
"""

from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import pytest

from soundry.engine.resize import MAX_STRETCH, Candidate, resize, resize_beats
from soundry.engine.resize.cuts import cut_cost
from soundry.engine.resize.diversity import edits, near_copies
from soundry.errors import ParameterError

from .structures import BEAT_S, Song, structured_song

BAR = 4
KNOWN_BARS = {"beats_per_bar": BAR, "downbeat_index": 0}


@pytest.fixture(scope="module")
def song() -> Song:
    return structured_song()


def _resize(song: Song, target_s: float, **options: object) -> list[Candidate]:
    return resize_beats(song.boundaries_s, song.similarity, song.duration_s, target_s, **options)  # type: ignore[arg-type]


def _check_well_formed(song: Song, candidates: list[Candidate], *, keep: bool = True) -> None:
    n = song.n_beats
    edges = np.concatenate([[0.0], song.boundaries_s[1:], [song.duration_s]])
    assert candidates, "no candidates"
    scores = [c.blended_score for c in candidates]
    assert scores == sorted(scores, reverse=True)
    for c in candidates:
        assert c.blended_score <= 0.0 and c.dissimilarity >= 0.0
        assert len(c.segments_beats) == len(c.segments_s) == c.cut_count + 1
        for (start, end), (start_s, end_s) in zip(c.segments_beats, c.segments_s, strict=True):
            assert 0 <= start < end <= n
            assert end - start >= 2 * BAR  # two bars by default
            assert (start_s, end_s) == (edges[start], edges[end])
        assert c.duration_s == pytest.approx(sum(e - s for s, e in c.segments_s), abs=1e-9)
        if keep:
            assert c.segments_beats[0][0] == 0 and c.segments_beats[-1][1] == n
        for e, b in c.cuts:
            assert (b - e) % BAR == 0 and e % BAR == 0, "cuts go from bar line to bar line"
        costs = [cut_cost(song.similarity, e, b) for e, b in c.cuts]
        assert c.dissimilarity == pytest.approx(sum(costs))
        assert c.cut_similarities == pytest.approx([1.0 - x for x in costs])


@pytest.mark.parametrize(
    ("change_s", "jump", "first_e", "last_e"),
    [(-16.0, 32, 17, 47), (16.0, -32, 49, 79)],
    ids=["shortening cuts exactly at the repeat", "lengthening repeats the passage"],
)
def test_one_repeat_more_or_less_cuts_exactly_at_it(
    song: Song, change_s: float, jump: int, first_e: int, last_e: int
) -> None:
    target = song.duration_s + change_s
    candidates = _resize(song, target, **KNOWN_BARS)
    _check_well_formed(song, candidates)
    best = candidates[0]
    assert best.cut_count == 1
    (e, b) = best.cuts[0]
    assert b - e == jump and first_e <= e <= last_e, f"cut {e} -> {b} is not inside the repeat"
    assert best.dissimilarity < 0.02
    assert best.duration_s == pytest.approx(target, abs=1e-9)
    # Every candidate is within a beat of the target.
    assert all(abs(c.duration_error_s) <= BEAT_S for c in candidates)


def test_beats_and_similarity_alone_find_the_same_cut(song: Song) -> None:
    # What Audjust's /resize request carries: no meter, no downbeats.
    candidates = _resize(song, song.duration_s - 16.0)
    best = candidates[0]
    (e, b) = best.cuts[0]
    assert b - e == 32 and 17 <= e <= 47
    assert e % BAR == 0, "the inferred bar lines are the real ones"
    assert best.dissimilarity < 0.02


def test_large_changes_take_several_cuts_and_stay_on_target(song: Song) -> None:
    for target in (song.duration_s * 3.0, 16.0):
        candidates = _resize(song, target, **KNOWN_BARS)
        _check_well_formed(song, candidates)
        assert all(abs(c.duration_error_s) <= BEAT_S for c in candidates)
        if target > song.duration_s:
            # Each jump back adds at most the song minus its kept ends.
            assert min(c.cut_count for c in candidates) >= 2


def test_candidates_are_diverse(song: Song) -> None:
    candidates = _resize(song, song.duration_s - 12.0, **KNOWN_BARS)
    assert len(candidates) >= 10
    lists = [edits(c, song.n_beats) for c in candidates]
    assert len({tuple(x) for x in lists}) == len(lists), "two candidates make the same cuts"
    for a, b in combinations(lists, 2):
        assert not near_copies(a, b, BAR), f"{a} and {b} differ by at most a bar"


def test_to_dict_has_audjusts_keys(song: Song) -> None:
    best = _resize(song, song.duration_s - 16.0, **KNOWN_BARS)[0]
    data = json.loads(json.dumps(best.to_dict()))
    assert set(data) == {
        "dissimilarity",
        "blendedScore",
        "segmentsBeats",
        "segmentsSeconds",
        "durationSeconds",
    }
    assert data["segmentsBeats"] == [list(s) for s in best.segments_beats]
    assert data["segmentsSeconds"] == [[round(a, 3), round(b, 3)] for a, b in best.segments_s]
    assert data["blendedScore"] == best.blended_score <= 0
    assert data["durationSeconds"] == pytest.approx(best.duration_s, abs=5e-4)
    assert json.loads(best.to_json()) == data


def test_the_same_length_gives_the_song_untouched(song: Song) -> None:
    best = _resize(song, song.duration_s, **KNOWN_BARS)[0]
    assert best.segments_beats == ((0, song.n_beats),)
    assert best.dissimilarity == 0.0 and best.blended_score == 0.0


def test_free_start_and_end_allow_excerpts(song: Song) -> None:
    kept = _resize(song, 24.0, **KNOWN_BARS)
    free = _resize(song, 8.0, keep_start=False, keep_end=False, **KNOWN_BARS)
    _check_well_formed(song, free, keep=False)
    assert all(c.segments_beats[0][0] == 0 and c.segments_beats[-1][1] == 96 for c in kept)
    excerpts = [c for c in free if c.cut_count == 0]
    assert excerpts, "an excerpt needs no cut"
    for c in excerpts:
        (start, end) = c.segments_beats[0]
        assert start % BAR == 0 and (end % BAR == 0 or end == song.n_beats)
        assert (start, end) != (0, song.n_beats)
        assert c.blended_score < 0  # trimming costs a little


@pytest.mark.parametrize(
    ("target_s", "options", "message"),
    [
        (4.0, {}, "keeping the start and end takes 8.00 s"),
        (MAX_STRETCH * 48.0 + 1.0, {}, f"at most {MAX_STRETCH:g} times the track"),
        (1.0, {"keep_start": False, "keep_end": False}, "one segment of 8 beats: 4.00 s"),
        (-5.0, {}, "must be a positive number"),
    ],
    ids=["shorter than the kept ends", "longer than 4x", "shorter than a bar", "negative"],
)
def test_impossible_targets_say_what_is_allowed(
    song: Song, target_s: float, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ParameterError, match=message) as info:
        _resize(song, target_s, **KNOWN_BARS, **options)
    if target_s > 0:
        assert "allowed" in str(info.value) and "for this 48.00 s track" in str(info.value)


def test_limits_on_cuts_and_similarity_hold(song: Song) -> None:
    one_cut = _resize(song, song.duration_s - 16.0, max_cuts=1, **KNOWN_BARS)
    assert all(c.cut_count <= 1 for c in one_cut)
    strict = _resize(song, song.duration_s - 16.0, min_cut_similarity=0.95, **KNOWN_BARS)
    assert all(min(c.cut_similarities) >= 0.95 for c in strict)
    with pytest.raises(ParameterError, match="relax them or try another target"):
        _resize(song, song.duration_s - 16.0, min_cut_similarity=0.9999, **KNOWN_BARS)
    with pytest.raises(ParameterError, match="min_cut_similarity must be a number"):
        _resize(song, song.duration_s - 16.0, min_cut_similarity="high", **KNOWN_BARS)


def test_a_song_without_repeats_still_gets_its_best_cuts() -> None:
    rng = np.random.default_rng(3)
    n = 64
    features = rng.standard_normal((n, 24))
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    similarity = ((features @ features.T + 1) / 2).astype(np.float32)
    np.fill_diagonal(similarity, 1.0)
    beats = np.arange(n) * 0.5
    candidates = resize_beats(beats, similarity, 32.0, 20.0, **KNOWN_BARS)
    assert candidates
    for c in candidates:
        assert all((b - e) % BAR == 0 for e, b in c.cuts)
        assert abs(c.duration_error_s) <= 0.5


def test_lengths_are_exact_under_a_changing_tempo() -> None:
    song = structured_song(tempo_wobble=0.08)
    for target in (song.duration_s - 13.0, song.duration_s + 21.0):
        candidates = _resize(song, target, **KNOWN_BARS)
        beat_s = float(np.median(np.diff(song.boundaries_s)))
        assert all(abs(c.duration_error_s) <= beat_s for c in candidates)
        _check_well_formed(song, candidates)


def test_a_wider_tolerance_is_honoured_and_resize_wants_an_analysis(song: Song) -> None:
    # 14 s off a 48 s song: bar-aligned cuts reach 34 s exactly only with more cuts.
    wide = _resize(song, song.duration_s - 14.0, tolerance_s=2.0, **KNOWN_BARS)
    assert all(abs(c.duration_error_s) <= 2.0 for c in wide)
    with pytest.raises(ParameterError, match="analysis must be an Analysis"):
        resize(song, 30.0)  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        wide[0].duration_s = 1.0  # type: ignore[misc]
