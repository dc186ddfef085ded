"""Master a track to a file a chunk at a time, so a track of any length fits in memory.

:func:`master_to_file` masters any :class:`~soundry.audio.stream.PcmSource` into any output
format without holding the track:

- a different output rate: the source is first converted span by span into a float file
  on disk (:func:`~soundry.audio.resample.resample_to_file`), so the limiter works at the
  rate that is delivered (resampling after it would make new inter-sample peaks);
- PCM out (WAV, FLAC, AIFF): the master is written block by block as it is made
  (:class:`~soundry.audio.encode.PcmStreamWriter`);
- lossy out (MP3, AAC, Ogg): the master goes to a scratch file, is encoded from it
  (:func:`~soundry.audio.encode.encode_source`), and the encoded file is decoded again
  span by span to measure its true peak. Encoders reconstruct peaks a little higher than
  the signal they were given (0.4-1 dB at -10 LUFS), so while the decoded file is over the
  ceiling the track is mastered again under a limiter ceiling lowered by the overshoot.

The output goes to a temporary file that replaces the destination only when everything
succeeded. :func:`master_file` is the same for a file libsndfile can read span by span
(:func:`can_stream`).
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from soundry.audio._atomic import atomic_path, scratch_path
from soundry.audio._lossy import decoded_blocks
from soundry.audio.buffer import SourceFormat
from soundry.audio.encode import PcmStreamWriter, encode_source
from soundry.audio.resample import resample_to_file
from soundry.audio.stream import PcmSource, ScratchTrack, SoundFileSource
from soundry.dsp.oversample import INTERPOLATOR_REACH_FRAMES, true_peak_envelope
from soundry.engine.mastering.output import OutputFormat
from soundry.engine.mastering.reference import ReferenceTargets
from soundry.engine.mastering.report import MasterReport
from soundry.engine.mastering.settings import MIN_CEILING_DBTP, MasterSettings
from soundry.engine.mastering.streamed import (
    WORKERS,
    Mastering,
    Progress,
    StreamedMaster,
    measure_reference,
)

__all__ = [
    "STREAMED_CONTAINERS",
    "FileMaster",
    "can_stream",
    "master_file",
    "master_to_file",
]

STREAMED_CONTAINERS = frozenset({"wav", "rf64", "w64", "aiff", "flac"})
"""Source containers read span by span (libsndfile seeks them exactly)."""
_PCM_OUTPUTS = frozenset({"wav", "flac", "aiff"})
_MAX_ATTEMPTS = 3
_MARGIN_DB = 0.1  # under the measured overshoot, so the next attempt lands inside
# Frames per span when measuring a decoded file, and the context around each (the
# interpolator's reach, with margin).
_MEASURE_FRAMES = 1 << 20
_PEAK_REACH = 2 * INTERPOLATOR_REACH_FRAMES


@dataclass(frozen=True)
class FileMaster:
    """A master written to a file: its report and what the file delivers.

    Attributes
    ----------
    report : MasterReport
        Of the final attempt.
    delivered_true_peak_dbtp : float
        True peak of the master as rendered (a PCM file), or of the file decoded again (a
        lossy format).
    limiter_ceiling_dbtp : float
        The limiter's ceiling in the final attempt (under the asked one when a lossy file
        overshot).
    attempts : int
        Masters made (more than one only for a lossy file that overshot).
    """

    report: MasterReport
    delivered_true_peak_dbtp: float
    limiter_ceiling_dbtp: float
    attempts: int


def can_stream(source: SourceFormat) -> bool:
    """Whether :func:`master_file` can read ``source`` span by span (else decode it)."""
    return source.container in STREAMED_CONTAINERS and source.channels <= 2


class _ScratchSink:
    """Receives a master in order into a scratch track on disk."""

    def __init__(self, track: ScratchTrack) -> None:
        self._track = track
        self._at = 0

    def start(self) -> None:
        self._at = 0

    def write(self, block: np.ndarray) -> None:
        self._track.write(self._at, block)
        self._at += block.shape[1]


def _decoded_true_peak_dbtp(encoded: Path, channels: int, rate: int) -> float:
    """True peak of a lossy file, decoded into a scratch file and measured span by span."""
    with scratch_path(".wav") as spool:
        with sf.SoundFile(str(spool), "w", rate, channels, "FLOAT", format="RF64") as out:
            for block in decoded_blocks(encoded):
                out.write(np.ascontiguousarray(block.T))
        decoded = SoundFileSource(spool)
        try:
            peak = 0.0
            for start in range(0, decoded.frames, _MEASURE_FRAMES):
                stop = min(start + _MEASURE_FRAMES, decoded.frames)
                first = max(0, start - _PEAK_REACH)
                span = decoded.read(first, min(decoded.frames, stop + _PEAK_REACH))
                envelope = true_peak_envelope(span)[:, start - first : stop - first]
                peak = max(peak, float(envelope.max(initial=0.0)))
        finally:
            decoded.close()
    return 20.0 * math.log10(peak) if peak > 0.0 else -math.inf


def _master_pcm(
    session: Mastering,
    path: Path,
    settings: MasterSettings,
    output: OutputFormat,
    reference: ReferenceTargets | None,
) -> StreamedMaster:
    writer = PcmStreamWriter(
        path,
        format=output.format,
        sample_rate=session.rate,
        channels=session.channels,
        bit_depth=output.bit_depth,
        sample_format=output.sample_format,
        frames_hint=session.frames,
    )
    try:
        return session.master(settings, writer, reference=reference)
    finally:
        writer.close()


def master_to_file(
    source: PcmSource,
    destination: Path,
    settings: MasterSettings,
    output: OutputFormat,
    *,
    media_info: dict[str, Any] | None = None,
    reference: PcmSource | None = None,
    workers: int = WORKERS,
    progress: Progress | None = None,
) -> FileMaster:
    """Master ``source`` into ``destination`` in ``output``'s format, in bounded memory.

    Parameters
    ----------
    source : PcmSource
        The mix, mono or stereo.
    destination : Path
        Replaced only when the whole master succeeded.
    settings : MasterSettings
        ``settings.ceiling_dbtp`` is held in the file as delivered (decoded, if lossy).
    output : OutputFormat
        Format, rate (None: the source's), bit depth or bitrate.
    media_info : dict or None
        The source's facts for the report.
    reference : PcmSource or None
        A reference track to move toward; measured once.
    workers : int
        Threads.
    progress : callable or None
        ``progress(step, share_done)``.

    Returns
    -------
    FileMaster
    """
    # The reference first: a bad one is refused before any long pass over the source.
    targets = None if reference is None else measure_reference(reference, workers=workers)
    with ExitStack() as stack:
        rate = output.sample_rate or source.sample_rate
        if rate != source.sample_rate:
            converted = stack.enter_context(scratch_path(".wav"))
            resample_to_file(source, rate, converted)
            source = SoundFileSource(converted)
            stack.callback(source.close)
        session = stack.enter_context(Mastering(source, workers=workers, progress=progress))
        tmp = stack.enter_context(atomic_path(destination))
        if output.format in _PCM_OUTPUTS:
            streamed = _master_pcm(session, tmp, settings, output, targets)
            delivered, attempts = streamed.loudness.true_peak_dbtp, 1
        else:
            spool = stack.enter_context(ScratchTrack(session.channels, session.frames, rate))
            attempt_settings = settings
            for attempts in range(1, _MAX_ATTEMPTS + 1):
                streamed = session.master(attempt_settings, _ScratchSink(spool), reference=targets)
                encode_source(spool, tmp, format=output.format, bitrate_kbps=output.bitrate_kbps)
                delivered = _decoded_true_peak_dbtp(tmp, session.channels, rate)
                overshoot = delivered - settings.ceiling_dbtp
                lowest = attempt_settings.ceiling_dbtp <= MIN_CEILING_DBTP
                if overshoot <= 0 or attempts == _MAX_ATTEMPTS or lowest:
                    break
                lowered = attempt_settings.ceiling_dbtp - overshoot - _MARGIN_DB
                attempt_settings = replace(
                    attempt_settings, ceiling_dbtp=max(MIN_CEILING_DBTP, lowered)
                )
            settings = attempt_settings
    return FileMaster(
        MasterReport.from_streamed(streamed, media_info),
        delivered,
        settings.ceiling_dbtp,
        attempts,
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
) -> FileMaster:
    """:func:`master_to_file` of a file libsndfile reads span by span (see
    :func:`can_stream`)."""
    source = SoundFileSource(source_path)
    try:
        return master_to_file(
            source,
            destination,
            settings,
            output,
            media_info=None if source_format is None else source_format.to_dict(),
            reference=reference,
            workers=workers,
            progress=progress,
        )
    finally:
        source.close()
