"""Export: groups of source segments stitched into finished files with inaudible seams.

:func:`export` returns encoded bytes per group and :func:`export_files` writes files;
:func:`stitch` and :func:`stitch_groups` render to samples and report every :class:`Seam`;
:func:`measure_seams` checks seams as the issue measures them (spectral-flux jump against
the song's own beats, clicks, loudness jumps).
"""

from soundry.engine.export.export import export, export_files
from soundry.engine.export.formats import DEFAULT_FORMAT, EXPORT_FORMATS, ExportFormat
from soundry.engine.export.quality import SeamQuality, measure_seams
from soundry.engine.export.seams import Seam, SeamSettings
from soundry.engine.export.segments import CONTIGUOUS_TOLERANCE_S, MIN_JUMP_S
from soundry.engine.export.stitch import Stitched, stitch, stitch_groups

__all__ = [
    "CONTIGUOUS_TOLERANCE_S",
    "DEFAULT_FORMAT",
    "EXPORT_FORMATS",
    "MIN_JUMP_S",
    "ExportFormat",
    "Seam",
    "SeamQuality",
    "SeamSettings",
    "Stitched",
    "export",
    "export_files",
    "measure_seams",
    "stitch",
    "stitch_groups",
]
