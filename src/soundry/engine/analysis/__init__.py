"""Music analysis: beats, tempo, meter, beat features, self-similarity and loudness.

:func:`analyze` turns an :class:`~soundry.audio.AudioBuffer` into an :class:`Analysis`,
which resize and export work from. :func:`encode_similarity` and
:func:`decode_similarity` convert the similarity matrix to and from Audjust's compact
string.
"""

from soundry.engine.analysis.analysis import (
    MAX_BEATS,
    MAX_DURATION_S,
    MIN_BEATS,
    MIN_DURATION_S,
    Analysis,
    analyze,
)
from soundry.engine.analysis.similarity import (
    DEFAULT_MAX_CODE,
    DEFAULT_MIN_CODE,
    FEATURE_NAMES,
    decode_similarity,
    encode_similarity,
)

__all__ = [
    "DEFAULT_MAX_CODE",
    "DEFAULT_MIN_CODE",
    "FEATURE_NAMES",
    "MAX_BEATS",
    "MAX_DURATION_S",
    "MIN_BEATS",
    "MIN_DURATION_S",
    "Analysis",
    "analyze",
    "decode_similarity",
    "encode_similarity",
]
