"""The beat self-similarity matrix and Audjust's compact encoding of it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soundry.engine.analysis import decode_similarity, encode_similarity
from soundry.engine.analysis.similarity import BeatFeatures, self_similarity
from soundry.errors import ParameterError


def _random_similarity(n: int, seed: int) -> np.ndarray:
    values = np.random.default_rng(seed).uniform(0.0, 1.0, (n, n)).astype(np.float32)
    matrix = (values + values.T) / 2
    np.fill_diagonal(matrix, 1.0)
    return matrix


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 60), seed=st.integers(0, 2**32 - 1))
def test_round_trip_is_within_half_a_step(n: int, seed: int) -> None:
    matrix = _random_similarity(n, seed)
    data = encode_similarity(matrix)
    assert len(data) == n * (n + 1) // 2
    decoded = decode_similarity(data, n)
    assert decoded.shape == (n, n)
    assert decoded.dtype == np.float32
    step = 1.0 / (126 - 32)
    assert np.all(np.abs(decoded - matrix) <= step / 2 + 1e-6)
    assert np.array_equal(decoded, decoded.T)


def test_packing_follows_the_audjust_index_and_codes() -> None:
    n = 7
    matrix = np.zeros((n, n), dtype=np.float32)
    matrix[5, 2] = matrix[2, 5] = 1.0
    matrix[6, 6] = 0.5
    data = encode_similarity(matrix)
    assert data[(5 + 1) * 5 // 2 + 2] == "~"  # code 126 is similarity 1
    assert data[(6 + 1) * 6 // 2 + 6] == chr(32 + 47)  # 0.5 -> 32 + round(0.5 * 94)
    assert set(data) <= {" ", "~", chr(79)}
    # Only the lower triangle is read: the upper one may hold anything.
    upper = matrix.copy()
    upper[2, 5] = 0.0
    assert encode_similarity(upper) == data


def test_every_character_is_printable_and_survives_json() -> None:
    matrix = _random_similarity(40, 3)
    data = encode_similarity(matrix)
    assert all(32 <= ord(c) <= 126 for c in data)
    assert json.loads(json.dumps({"data": data}))["data"] == data


def test_other_code_ranges_round_trip() -> None:
    matrix = _random_similarity(12, 5)
    data = encode_similarity(matrix, min_code=48, max_code=57)
    assert set(data) <= {chr(c) for c in range(48, 58)}
    decoded = decode_similarity(data, 12, min_code=48, max_code=57)
    assert np.abs(decoded - matrix).max() <= 0.5 / 9 + 1e-6


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: encode_similarity(np.ones((3, 4))), "square"),
        (lambda: encode_similarity(np.full((3, 3), 1.5)), "within"),
        (lambda: encode_similarity(np.full((3, 3), np.nan)), "finite"),
        (lambda: encode_similarity(np.eye(3), min_code=20), "printable"),
        (lambda: encode_similarity(np.eye(3), min_code=90, max_code=90), "min_code < max_code"),
        (lambda: decode_similarity("~~~", 3), "must have 6 characters"),
        (lambda: decode_similarity("~~~~~\x7f", 3), "outside"),
        (lambda: decode_similarity("~~~~~é", 3), "ASCII"),
        (lambda: decode_similarity("~", -1), "non-negative"),
    ],
)
def test_bad_input_is_refused_with_a_reason(call, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        call()


def _features(chroma: np.ndarray, timbre: np.ndarray, level_db: np.ndarray) -> BeatFeatures:
    return BeatFeatures(
        chroma=chroma.astype(np.float32),
        timbre=timbre.astype(np.float32),
        level_db=level_db.astype(np.float32),
    )


def test_self_similarity_is_symmetric_bounded_with_ones_on_the_diagonal(
    rng: np.random.Generator,
) -> None:
    n = 50
    features = _features(
        rng.uniform(0, 1, (n, 12)), rng.normal(0, 1, (n, 12)), rng.uniform(-30, 0, n)
    )
    matrix = self_similarity(features)
    assert matrix.shape == (n, n) and matrix.dtype == np.float32
    assert np.allclose(matrix, matrix.T, atol=1e-6)
    assert np.all(np.diag(matrix) == 1.0)
    assert matrix.min() >= 0.0 and matrix.max() <= 1.0


def test_repeated_beats_are_more_alike_than_different_ones(rng: np.random.Generator) -> None:
    # Beats 0-9 and 20-29 are the same section (same chords, timbre, level); 10-19 differ.
    section_a = rng.uniform(0, 1, (10, 12)), rng.normal(0, 1, (10, 12))
    section_b = rng.uniform(0, 1, (10, 12)), rng.normal(3, 1, (10, 12))
    chroma = np.concatenate([section_a[0], section_b[0], section_a[0]])
    timbre = np.concatenate([section_a[1], section_b[1], section_a[1]])
    level = np.concatenate([np.zeros(10), np.full(10, -12.0), np.zeros(10)])
    matrix = self_similarity(_features(chroma, timbre, level))
    repeats = np.diag(matrix[20:30, 0:10])
    across = matrix[10:20, 0:10]
    assert np.allclose(repeats, 1.0, atol=1e-5)
    assert repeats.min() > across.max()
