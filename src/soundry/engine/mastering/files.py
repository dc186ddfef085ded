"""Master a file to a file a chunk at a time, so a track of any length fits in memory.

:func:`master_file` reads the source through libsndfile span by span
(:class:`~soundry.audio.stream.SoundFileSource`), runs
:func:`~soundry.engine.mastering.streamed.master_source` and writes the master with
:class:`~soundry.audio.encode.PcmStreamWriter` into a temporary file that replaces the
destination only when everything succeeded. :func:`can_stream` says when that path applies:
PCM in (WAV, RF64, W64, AIFF, FLAC), PCM out, no resampling, mono or stereo.
"""

from __future__ import annotations

from pathlib import Path

from soundry.audio._atomic import atomic_path
from soundry.audio.buffer import SourceFormat
from soundry.audio.encode import PcmStreamWriter
from soundry.audio.stream import PcmSource, SoundFileSource
from soundry.engine.mastering.output import OutputFormat
from soundry.engine.mastering.report import MasterReport
from soundry.engine.mastering.settings import MasterSettings
from soundry.engine.mastering.streamed import (
    WORKERS,
    Progress,
    master_source,
    measure_reference,
)

__all__ = ["STREAMED_CONTAINERS", "can_stream", "master_file"]

STREAMED_CONTAINERS = frozenset({"wav", "rf64", "w64", "aiff", "flac"})
"""Source containers read span by span (libsndfile seeks them exactly)."""
_STREAMED_OUTPUTS = frozenset({"wav", "flac", "aiff"})


def can_stream(source: SourceFormat, output: OutputFormat) -> bool:
    """Whether :func:`master_file` can master ``source`` to ``output`` in chunks."""
    return (
        source.container in STREAMED_CONTAINERS
        and source.channels <= 2
        and output.format in _STREAMED_OUTPUTS
        and (output.sample_rate is None or output.sample_rate == source.sample_rate)
    )


def master_file(
    source_path: Path,
    destination: Path,
    settings: MasterSettings,
    output: OutputFormat,
    *,
    source_format: SourceFormat | None = None,
    reference: PcmSource | None = None,
    workers: int = WORKERS,
    progress: Progress | None = None,
) -> MasterReport:
    """Master ``source_path`` into ``destination`` without holding either in memory.

    Parameters
    ----------
    source_path, destination : Path
    settings : MasterSettings
    output : OutputFormat
        A PCM format (see :func:`can_stream`).
    source_format : SourceFormat or None
        The source's facts for the report's media info.
    reference : PcmSource or None
        A reference track to move toward.
    workers : int
        Threads.
    progress : callable or None
        ``progress(step, share_done)``.
    """
    source = SoundFileSource(source_path)
    try:
        targets = None if reference is None else measure_reference(reference, workers=workers)
        with atomic_path(destination) as tmp:
            writer = PcmStreamWriter(
                tmp,
                format=output.format,
                sample_rate=source.sample_rate,
                channels=source.channels,
                bit_depth=output.bit_depth,
                sample_format=output.sample_format,
                frames_hint=source.frames,
            )
            try:
                streamed = master_source(
                    source, settings, writer, reference=targets, workers=workers, progress=progress
                )
            finally:
                writer.close()
    finally:
        source.close()
    media_info = None if source_format is None else source_format.to_dict()
    return MasterReport.from_streamed(streamed, media_info)
