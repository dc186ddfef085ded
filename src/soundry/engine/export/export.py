"""``export``: stitch groups of segments of one source into finished files.

The source is decoded once (when given as a file or bytes) and every group is checked
before any is rendered, so a bad segment anywhere fails the call before any work or any
write. :func:`export` returns the encoded bytes; :func:`export_files` writes files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from soundry.audio._atomic import atomic_path
from soundry.audio.buffer import AudioBuffer
from soundry.audio.decode import decode
from soundry.engine.export.formats import (
    DEFAULT_FORMAT,
    ExportFormat,
    check_encodable,
    encode_export,
    format_for_path,
    resolve_format,
)
from soundry.engine.export.seams import SeamSettings
from soundry.engine.export.segments import normalise_groups
from soundry.engine.export.stitch import stitch_groups
from soundry.errors import ParameterError

__all__ = ["export", "export_files"]

Source = AudioBuffer | str | os.PathLike[str] | bytes | BinaryIO


def _audio(audio: Source) -> AudioBuffer:
    return audio if isinstance(audio, AudioBuffer) else decode(audio)


def _render(
    source: AudioBuffer,
    segments_groups: object,
    formats: Sequence[ExportFormat],
    settings: SeamSettings | None,
) -> list[bytes]:
    """Check every format against the source, stitch every group, encode group ``i`` in
    ``formats[i]``."""
    for fmt in formats:
        check_encodable(fmt, source.channels)
    rendered = stitch_groups(source, segments_groups, settings=settings)
    out = []
    for item, fmt in zip(rendered, formats, strict=True):
        data = encode_export(item.audio, fmt, mixed=item.mixed)
        assert isinstance(data, bytes)
        out.append(data)
    return out


def export(
    audio: Source,
    segments_groups: object,
    *,
    format: str = DEFAULT_FORMAT,
    settings: SeamSettings | None = None,
) -> list[bytes]:
    """Stitch each group of segments into one encoded file, with seams you cannot hear.

    Each group is a list of ``[start_s, end_s]`` source segments played in order. Seams
    are cut just before the beat's attack, the incoming side is aligned by
    cross-correlation within a few milliseconds and the two are crossfaded with a law fitted
    to their correlation; the outgoing side's tail rings on briefly under the incoming one.
    Contiguous segments (``[a, b]`` then ``[b, c]``) are played as one span, sample for
    sample. See :class:`SeamSettings` for every knob.

    Parameters
    ----------
    audio : AudioBuffer, path, bytes or binary file object
        The source; decoded once for all groups when not already an AudioBuffer.
    segments_groups : list of groups
        A list of groups, each a list of ``[start_s, end_s]`` (seconds); a single group is
        accepted too, and so are resize candidates (anything with ``segments_s``).
        Rules: ``0 <= start < end <= duration``; each segment at least
        ``settings.min_segment_s`` long (110 ms by default); consecutive segments either
        contiguous (within 1 ms) or a jump of at least 0.1 s, forwards or backwards
        (repeats and loops are fine; a smaller overlap or gap is refused as a stutter).
    format : {"mp3_320", "mp3_256", "mp3_128", "wav", "flac", "aac"}
        Output format (see :mod:`soundry.engine.export.formats`).
    settings : SeamSettings, optional
        How seams are made.

    Returns
    -------
    list of bytes
        One encoded file per group, in order.

    Raises
    ------
    ParameterError
        Unknown format; a malformed group or segment (reversed, empty, out of range, too
        short, overlapping, NaN): the message names the group, the segment and its values.
    DecodeError
        The source cannot be decoded.
    EncodeError
        The encoder failed.
    """
    fmt = resolve_format(format)
    groups = normalise_groups(segments_groups)  # shape errors before decoding anything
    return _render(_audio(audio), segments_groups, [fmt] * len(groups), settings)


def export_files(
    audio: Source,
    segments_groups: object,
    destinations: Sequence[str | os.PathLike[str]],
    *,
    format: str | None = None,
    settings: SeamSettings | None = None,
) -> list[Path]:
    """Like :func:`export`, but write group ``i`` to ``destinations[i]``.

    Every destination is checked (its folder exists, no two are the same, the format is
    known) and every group rendered and encoded before the first file is written; each
    file is then written atomically (temporary file, fsync, rename), so a failure leaves
    no partial file and an existing file either untouched or wholly replaced.

    Parameters
    ----------
    audio, segments_groups, settings
        As for :func:`export`.
    destinations : sequence of path
        One per group.
    format : str, optional
        Export format for every file; default: from each file's suffix (``.mp3`` ->
        ``mp3_320``, ``.wav``, ``.flac``, ``.m4a``/``.aac`` -> ``aac``). A format that
        contradicts a suffix is refused.

    Returns
    -------
    list of pathlib.Path
        The files written, in order.
    """
    groups = normalise_groups(segments_groups)
    if isinstance(destinations, str | bytes | os.PathLike):
        destinations = [destinations]
    paths = [Path(os.fsdecode(d)) for d in destinations]
    if len(paths) != len(groups):
        raise ParameterError(
            f"{len(groups)} group(s) of segments but {len(paths)} destination(s): "
            "give one destination per group"
        )
    formats: list[ExportFormat] = [format_for_path(p, format) for p in paths]
    seen: set[Path] = set()
    for path in paths:
        try:
            key = path.resolve()
            folder_missing = not path.parent.is_dir()
            is_folder = path.is_dir()
        except OSError as exc:  # e.g. a name too long for the filesystem
            raise ParameterError(f"{path}: not a usable file name ({exc.strerror})") from None
        if key in seen:
            raise ParameterError(f"{path}: the same destination is given twice")
        seen.add(key)
        if folder_missing:
            raise ParameterError(f"{path}: the folder {path.parent} does not exist")
        if is_folder:
            raise ParameterError(f"{path} is a folder, not a file name")
    encoded = _render(_audio(audio), segments_groups, formats, settings)
    for path, data in zip(paths, encoded, strict=True):
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    return paths
