"""Resize: re-arrangements of a song for a target length, shorter or longer.

:func:`resize` works from an :class:`~soundry.engine.analysis.Analysis`;
:func:`resize_beats` from beat times and the similarity matrix alone (Audjust's
``/resize`` request). Given the audio (or :func:`seam_levels` of it), cuts also keep the
loudness steady. Both return :class:`Candidate` lists, best first.
"""

from soundry.engine.resize.candidate import Candidate
from soundry.engine.resize.grid import MIN_BEATS, infer_beats_per_bar
from soundry.engine.resize.levels import SeamLevels, seam_levels
from soundry.engine.resize.rearrange import (
    DEFAULT_COUNT,
    MAX_COUNT,
    MAX_STRETCH,
    resize,
    resize_beats,
)

__all__ = [
    "DEFAULT_COUNT",
    "MAX_COUNT",
    "MAX_STRETCH",
    "MIN_BEATS",
    "Candidate",
    "SeamLevels",
    "infer_beats_per_bar",
    "resize",
    "resize_beats",
    "seam_levels",
]
