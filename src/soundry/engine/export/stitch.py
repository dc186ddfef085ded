"""Stitching: one group of segments rendered into one stream of samples.

Segments that touch (the next starts where the previous ends) are merged into one span
first and copied verbatim: a contiguous run is bit-identical to the source. Between spans,
:mod:`.seams` decides each seam; a group that starts after the start of the audio fades in
over a few milliseconds just before its first attack, and one that stops before the end
fades out (``end_fade_ms``) just before the next attack, instead of cutting dead.

Every sample of the output is either a verbatim source sample or lies in one of the
``mixed`` ranges that :class:`Stitched` lists (fades, seams, tails).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soundry.audio.buffer import AudioBuffer
from soundry.engine.export.seams import (
    Seam,
    SeamSettings,
    cut_before_onset,
    plan_seam,
    render_seam,
    to_frames,
)
from soundry.engine.export.segments import Span, normalise_groups, plan_group
from soundry.errors import ParameterError

__all__ = ["START_FADE_MS", "Stitched", "mono_of", "stitch", "stitch_groups"]

START_FADE_MS = 5.0
"""Fade-in (ms) of a group that starts after the start of the audio."""


@dataclass(frozen=True, eq=False)
class Stitched:
    """One rendered group.

    Attributes
    ----------
    audio : AudioBuffer
        The stitched samples, at the source's rate and channel count.
    seams : tuple of Seam
        Every seam, in order (none for a single span).
    segments_s : tuple of (float, float)
        The segments asked for, seconds.
    mixed : tuple of (int, int)
        Output frame ranges ``[start, end)`` that are not verbatim source samples (fades,
        crossfades, tails). Everything else is copied from the source unchanged.
    """

    audio: AudioBuffer
    seams: tuple[Seam, ...]
    segments_s: tuple[tuple[float, float], ...]
    mixed: tuple[tuple[int, int], ...]

    @property
    def duration_s(self) -> float:
        """Length of the output, seconds."""
        return self.audio.duration_s


def mono_of(x: np.ndarray) -> np.ndarray:
    """The mean of the channels, float32, shape ``(frames,)``."""
    return x[0] if x.shape[0] == 1 else x.mean(axis=0, dtype=np.float32)


def _ramp(n: int, *, rising: bool) -> np.ndarray:
    t = (np.arange(n) + 0.5) / max(n, 1)
    gain = 0.5 * (1.0 - np.cos(np.pi * t))
    return (gain if rising else gain[::-1]).astype(np.float32)


def _render_spans(
    x: np.ndarray,
    mono: np.ndarray,
    spans: list[Span],
    group: list[tuple[float, float]],
    settings: SeamSettings,
    sample_rate: int,
) -> tuple[list[np.ndarray], list[tuple[int, int]], list[Seam]]:
    frames = x.shape[1]
    pieces: list[np.ndarray] = []
    mixed: list[tuple[int, int]] = []
    seams: list[Seam] = []
    out_len = 0

    def add(block: np.ndarray, *, verbatim: bool) -> None:
        nonlocal out_len
        if block.shape[1] == 0:
            return
        pieces.append(block)
        if not verbatim:
            mixed.append((out_len, out_len + block.shape[1]))
        out_len += block.shape[1]

    first = spans[0]
    body_start = 0
    if first.start > 0:
        body_start, _ = cut_before_onset(mono, first.start, settings, sample_rate)
        n = min(to_frames(START_FADE_MS, sample_rate), body_start)
        add(x[:, body_start - n : body_start] * _ramp(n, rising=True), verbatim=False)

    search = to_frames(settings.onset_window_ms + settings.lead_ms, sample_rate)
    fade = to_frames(settings.crossfade_ms, sample_rate)
    end_fade = to_frames(settings.end_fade_ms, sample_rate)
    for i, span in enumerate(spans[:-1]):
        nxt = spans[i + 1]
        last = i + 1 == len(spans) - 1
        if last and nxt.end >= frames:
            in_limit = frames
        else:
            in_limit = max(nxt.end - search - (end_fade if last else fade), nxt.start)
        plan = plan_seam(
            mono,
            out_nominal=span.end,
            in_nominal=nxt.start,
            out_body_start=body_start,
            in_limit=in_limit,
            settings=settings,
            sample_rate=sample_rate,
        )
        add(x[:, body_start : plan.out_cut - plan.pre], verbatim=True)
        position = out_len + plan.pre
        add(render_seam(x, plan, settings), verbatim=False)
        seams.append(
            Seam(
                position_s=position / sample_rate,
                out_s=plan.out_cut / sample_rate,
                in_s=plan.in_cut / sample_rate,
                out_nominal_s=group[span.last][1],
                in_nominal_s=group[nxt.first][0],
                lag_ms=plan.lag * 1000.0 / sample_rate,
                correlation=plan.rho,
                crossfade_ms=(plan.pre + plan.post) * 1000.0 / sample_rate,
                tail_ms=plan.tail * 1000.0 / sample_rate,
                onsets_found=plan.onsets_found,
            )
        )
        body_start = plan.in_cut + plan.post + plan.tail

    final = spans[-1]
    if final.end >= frames:
        add(x[:, body_start:frames], verbatim=True)
    else:
        cut, _ = cut_before_onset(mono, final.end, settings, sample_rate)
        cut = max(cut, body_start)
        n = min(end_fade, cut - body_start)
        add(x[:, body_start : cut - n], verbatim=True)
        add(x[:, cut - n : cut] * _ramp(n, rising=False), verbatim=False)
    return pieces, mixed, seams


def stitch(
    audio: AudioBuffer,
    segments: object,
    *,
    settings: SeamSettings | None = None,
) -> Stitched:
    """Render one group of segments into one stream with inaudible seams.

    Parameters
    ----------
    audio : AudioBuffer
        The source.
    segments : list of [start_s, end_s], or an object with ``segments_s``
        One group: source segments in seconds, played in order (see
        :mod:`soundry.engine.export.segments` for the rules).
    settings : SeamSettings, optional
        How seams are cut and crossfaded; default :class:`SeamSettings()`.

    Returns
    -------
    Stitched

    Raises
    ------
    ParameterError
        A malformed, out-of-range, too short or overlapping segment (the message names it).
    """
    if len(normalise_groups(segments)) != 1:
        raise ParameterError(
            "stitch renders one group (a list of [start_s, end_s]); for several use stitch_groups"
        )
    return stitch_groups(audio, segments, settings=settings)[0]


def stitch_groups(
    audio: AudioBuffer,
    segments_groups: object,
    *,
    settings: SeamSettings | None = None,
) -> list[Stitched]:
    """Render several groups from one source; every group is checked before any renders.

    Parameters
    ----------
    audio : AudioBuffer
        The source.
    segments_groups : list of groups
        A list of groups (each a list of ``[start_s, end_s]``), a single group, or resize
        candidates (objects with ``segments_s``).
    settings : SeamSettings, optional

    Returns
    -------
    list of Stitched
        One per group, in order.
    """
    if not isinstance(audio, AudioBuffer):
        raise ParameterError(f"audio must be an AudioBuffer; got {type(audio).__name__}")
    settings = SeamSettings() if settings is None else settings
    if not isinstance(settings, SeamSettings):
        raise ParameterError(f"settings must be a SeamSettings; got {type(settings).__name__}")
    groups = normalise_groups(segments_groups)
    rate, frames = audio.sample_rate, audio.frames
    plans = [
        plan_group(g, i, sample_rate=rate, frames=frames, min_length_s=settings.min_segment_s)
        for i, g in enumerate(groups)
    ]
    if not np.all(np.isfinite(audio.samples)):
        raise ParameterError("the audio contains NaN or infinite samples")
    x = audio.samples
    mono = mono_of(x)
    out = []
    for group, spans in zip(groups, plans, strict=True):
        pieces, mixed, seams = _render_spans(x, mono, spans, group, settings, rate)
        samples = np.concatenate(pieces, axis=1) if len(pieces) > 1 else pieces[0].copy()
        out.append(
            Stitched(
                audio=audio.with_samples(samples),
                seams=tuple(seams),
                segments_s=tuple(group),
                mixed=tuple(mixed),
            )
        )
    return out
