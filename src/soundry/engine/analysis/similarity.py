"""Beat-synchronous features, the beat self-similarity matrix and its compact text form.

Features
--------
Each beat spans from its boundary to the next one (the last beat to one median beat
later, or the end of the audio). Over that span the frame values are averaged into:

* **chroma** (12 values): pitch-class energy C..B, scaled so that the beat's strongest
  class is 1;
* **loudness** (1 value): the beat's RMS level relative to the loudest beat, mapped
  linearly from -60..0 dB onto 0..1;
* **timbre** (12 values, used for similarity only): cepstral coefficients of the
  semitone-band log spectrum, an MFCC-like description of the spectral envelope.

The 13 values chroma + loudness are the per-beat embedding a caller can ask for
(``raw_features``); all 25 go into the similarity.

Similarity
----------
``S = 0.5 * chroma + 0.4 * timbre + 0.1 * loudness`` where the chroma term is the cosine
similarity of the chroma vectors (non-negative, so in [0, 1]), the timbre term a Gaussian
of the Euclidean distance between standardised timbre vectors (bandwidth: the median
distance between beats of the piece, so the scale adapts to how varied the piece is), and
the loudness term ``exp(-|difference in dB| / 6)``. Harmony weighs most because that is
what makes a cut between two beats audible or not; timbre catches a change of
instrumentation over the same chords. 1 means identical; the diagonal is exactly 1.

Compact encoding
----------------
As Audjust sends it: the lower triangle (diagonal included) packed row by row, element
``(i, j)`` with ``i >= j`` at index ``(i + 1) * i // 2 + j``, one character per value
whose code is ``min_code + round(value * (max_code - min_code))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soundry.engine.analysis.spectrogram import FRAME_RATE, Spectrogram
from soundry.errors import ParameterError

__all__ = [
    "DEFAULT_MAX_CODE",
    "DEFAULT_MIN_CODE",
    "FEATURE_NAMES",
    "BeatFeatures",
    "beat_features",
    "beat_means",
    "decode_similarity",
    "encode_similarity",
    "self_similarity",
]

DEFAULT_MIN_CODE = 32
"""Character code for similarity 0 (a space)."""
DEFAULT_MAX_CODE = 126
"""Character code for similarity 1 (a tilde)."""
FEATURE_NAMES = (
    "C",
    "C#",
    "D",
    "D#",
    "E",
    "F",
    "F#",
    "G",
    "G#",
    "A",
    "A#",
    "B",
    "loudness",
)
"""What the columns of :attr:`BeatFeatures.embedding` mean."""

_FLOOR_DB = -60.0
_WEIGHTS = (0.5, 0.4, 0.1)  # chroma, timbre, loudness
_LOUDNESS_SCALE_DB = 6.0


@dataclass(frozen=True, eq=False)
class BeatFeatures:
    """Per-beat averages of the frame features.

    Attributes
    ----------
    chroma : np.ndarray [shape=(beats, 12), dtype=float32]
        Pitch-class energy, strongest class of each beat = 1 (all 0 for a silent beat).
    timbre : np.ndarray [shape=(beats, 12), dtype=float32]
        Mean cepstral coefficients 1..12.
    level_db : np.ndarray [shape=(beats,), dtype=float32]
        RMS level of each beat in dB relative to the loudest beat (0 for the loudest,
        at least -60).
    """

    chroma: np.ndarray
    timbre: np.ndarray
    level_db: np.ndarray

    @property
    def embedding(self) -> np.ndarray:
        """The 13-value embedding per beat: chroma, then loudness in 0..1.

        Returns
        -------
        np.ndarray [shape=(beats, 13), dtype=float32]
            Columns named by :data:`FEATURE_NAMES`, every value in [0, 1].
        """
        loudness = (self.level_db - _FLOOR_DB) / -_FLOOR_DB
        return np.column_stack([self.chroma, loudness]).astype(np.float32)


def _segment_frames(boundaries_s: np.ndarray, n_frames: int) -> np.ndarray:
    """First frame of every beat span plus one past the last span's end."""
    if boundaries_s.size > 1:
        last_end = boundaries_s[-1] + float(np.median(np.diff(boundaries_s)))
    else:
        last_end = n_frames / FRAME_RATE
    edges = np.append(boundaries_s, last_end)
    frames = np.clip(np.round(edges * FRAME_RATE).astype(np.int64), 0, n_frames)
    # Every span gets at least one frame, even where two boundaries round to the same one.
    frames[:-1] = np.minimum(frames[:-1], n_frames - 1)
    frames[1:] = np.maximum(frames[1:], frames[:-1] + 1)
    return np.minimum(frames, n_frames)


def _span_means(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    cumulative = np.concatenate(
        [np.zeros((1, values.shape[1])), np.cumsum(values, axis=0, dtype=np.float64)]
    )
    counts = np.maximum(ends - starts, 1)[:, None]
    return (cumulative[ends] - cumulative[starts]) / counts


def beat_means(values: np.ndarray, boundaries_s: np.ndarray) -> np.ndarray:
    """Average frame values over every beat span.

    Parameters
    ----------
    values : np.ndarray [shape=(frames, k)]
        Any frame-wise values at :data:`FRAME_RATE`.
    boundaries_s : np.ndarray [shape=(beats,)]
        Beat times in seconds, increasing, at least one.

    Returns
    -------
    np.ndarray [shape=(beats, k), dtype=float64]
        The mean over each beat's frames (at least one frame per beat).
    """
    edges = _segment_frames(np.asarray(boundaries_s, dtype=np.float64), values.shape[0])
    return _span_means(values, edges[:-1], edges[1:])


def beat_features(spec: Spectrogram, boundaries_s: np.ndarray) -> BeatFeatures:
    """Average the frame features over every beat.

    Parameters
    ----------
    spec : Spectrogram
        The analysed audio.
    boundaries_s : np.ndarray [shape=(beats,)]
        Beat times in seconds, increasing, at least one.

    Returns
    -------
    BeatFeatures
        One row per beat.
    """
    edges = _segment_frames(np.asarray(boundaries_s, dtype=np.float64), spec.n_frames)
    starts, ends = edges[:-1], edges[1:]
    chroma = _span_means(spec.chroma, starts, ends)
    peak = chroma.max(axis=1, keepdims=True)
    chroma = np.divide(chroma, peak, out=np.zeros_like(chroma), where=peak > 0)
    timbre = _span_means(spec.timbre(), starts, ends)
    power = _span_means(np.square(spec.energy, dtype=np.float64)[:, None], starts, ends)[:, 0]
    level = 10.0 * np.log10(np.maximum(power, 1e-20))
    level_db = np.maximum(level - level.max(), _FLOOR_DB)
    return BeatFeatures(
        chroma=chroma.astype(np.float32),
        timbre=timbre.astype(np.float32),
        level_db=level_db.astype(np.float32),
    )


def self_similarity(features: BeatFeatures) -> np.ndarray:
    """How alike every pair of beats is.

    Parameters
    ----------
    features : BeatFeatures
        Per-beat features of ``N`` beats.

    Returns
    -------
    np.ndarray [shape=(N, N), dtype=float32]
        Symmetric, values in [0, 1], exactly 1 on the diagonal (1 = identical).
    """
    chroma = features.chroma.astype(np.float32)
    norms = np.linalg.norm(chroma, axis=1, keepdims=True)
    unit = np.divide(chroma, norms, out=np.zeros_like(chroma), where=norms > 0)
    similarity = unit @ unit.T
    np.clip(similarity, 0.0, 1.0, out=similarity)
    similarity *= np.float32(_WEIGHTS[0])

    timbre = features.timbre.astype(np.float64)
    timbre = (timbre - timbre.mean(axis=0)) / np.maximum(timbre.std(axis=0), 1e-9)
    timbre = timbre.astype(np.float32)
    squared = np.einsum("ij,ij->i", timbre, timbre)
    # In place, one N x N buffer at a time: at the largest N the matrix is 256 MB.
    distance2 = timbre @ timbre.T
    distance2 *= np.float32(-2.0)
    distance2 += squared[:, None]
    distance2 += squared[None, :]
    np.maximum(distance2, 0.0, out=distance2)
    n = distance2.shape[0]
    # The median over off-diagonal pairs sets the scale; a sample of rows is plenty.
    sample = distance2[:: max(1, n // 256)]
    off_diagonal = sample[sample > 0]
    scale = float(np.median(off_diagonal)) if off_diagonal.size else 1.0
    del sample  # a view: it would keep the buffer alive past the del below
    distance2 *= np.float32(-0.5 / max(scale, 1e-9))
    np.exp(distance2, out=distance2)
    distance2 *= np.float32(_WEIGHTS[1])
    similarity += distance2
    del distance2

    level = features.level_db.astype(np.float32)
    loudness = np.subtract.outer(level, level)
    np.abs(loudness, out=loudness)
    loudness *= np.float32(-1.0 / _LOUDNESS_SCALE_DB)
    np.exp(loudness, out=loudness)
    loudness *= np.float32(_WEIGHTS[2])
    similarity += loudness

    # Rounding can leave the sum a hair off the ends; the diagonal is identity by definition.
    np.clip(similarity, 0.0, 1.0, out=similarity)
    np.fill_diagonal(similarity, 1.0)
    return similarity


def _check_codes(min_code: int, max_code: int) -> tuple[int, int]:
    low, high = int(min_code), int(max_code)
    if low != min_code or high != max_code or not DEFAULT_MIN_CODE <= low < high <= 126:
        raise ParameterError(
            "min_code and max_code must be integers with 32 <= min_code < max_code <= 126 "
            f"(printable ASCII); got {min_code!r} and {max_code!r}"
        )
    return low, high


def encode_similarity(
    matrix: np.ndarray, min_code: int = DEFAULT_MIN_CODE, max_code: int = DEFAULT_MAX_CODE
) -> str:
    """Pack a similarity matrix into Audjust's compact string.

    Parameters
    ----------
    matrix : np.ndarray [shape=(N, N)]
        Similarity in [0, 1]; only the lower triangle (diagonal included) is read.
    min_code, max_code : int
        Character codes for 0 and 1 (printable ASCII, 32..126).

    Returns
    -------
    str
        ``N * (N + 1) // 2`` characters; element ``(i, j)``, ``i >= j``, at index
        ``(i + 1) * i // 2 + j``, quantised to ``max_code - min_code`` steps.

    Raises
    ------
    ParameterError
        The matrix is not square, holds NaN, or has values outside [0, 1]; the codes are
        out of range.
    """
    low, high = _check_codes(min_code, max_code)
    values = np.asarray(matrix)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise ParameterError(f"similarity matrix must be square (N, N); got {values.shape}")
    n = values.shape[0]
    lower = values[np.tri(n, dtype=bool)]  # row-major order: exactly the packed order
    if lower.size and not (np.all(np.isfinite(lower)) and lower.min() >= 0 and lower.max() <= 1):
        raise ParameterError("similarity values must be finite and within [0, 1]")
    codes = (low + np.rint(lower.astype(np.float64) * (high - low))).astype(np.uint8)
    return codes.tobytes().decode("ascii")


def decode_similarity(
    data: str, n: int, min_code: int = DEFAULT_MIN_CODE, max_code: int = DEFAULT_MAX_CODE
) -> np.ndarray:
    """Unpack Audjust's compact string into the full symmetric matrix.

    Parameters
    ----------
    data : str
        The packed lower triangle (:func:`encode_similarity`).
    n : int
        Number of beats ``N`` (the length of the boundaries list).
    min_code, max_code : int
        Character codes for 0 and 1, as sent alongside the data.

    Returns
    -------
    np.ndarray [shape=(N, N), dtype=float32]
        Symmetric, values in [0, 1], within half a quantisation step
        ``0.5 / (max_code - min_code)`` of what was encoded.

    Raises
    ------
    ParameterError
        The length is not ``N * (N + 1) / 2``, or a character lies outside
        ``[min_code, max_code]``.
    """
    low, high = _check_codes(min_code, max_code)
    count = int(n)
    if count != n or count < 0:
        raise ParameterError(f"n must be a non-negative integer; got {n!r}")
    expected = count * (count + 1) // 2
    if len(data) != expected:
        raise ParameterError(
            f"similarity data for {count} beats must have {expected} characters; got {len(data)}"
        )
    try:
        codes = np.frombuffer(data.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError:
        raise ParameterError("similarity data must be ASCII characters") from None
    if codes.size and (codes.min() < low or codes.max() > high):
        raise ParameterError(
            f"similarity data has character codes outside {low}..{high} "
            f"(found {int(codes.min())}..{int(codes.max())})"
        )
    matrix = np.zeros((count, count), dtype=np.float32)
    matrix[np.tri(count, dtype=bool)] = (codes.astype(np.float32) - low) / np.float32(high - low)
    return np.maximum(matrix, matrix.T)
