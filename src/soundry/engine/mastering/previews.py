"""Previews: up to five 30 s variants of a master from one call.

Each preview is the same span of the full master its settings would make, so what a user
auditions is what they would get.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from soundry.audio.buffer import AudioBuffer
from soundry.audio.stream import ArraySource
from soundry.dsp.loudness import short_term_loudness
from soundry.engine.mastering.master import prepare_input
from soundry.engine.mastering.report import MasterReport, snapshot
from soundry.engine.mastering.settings import MasterSettings
from soundry.engine.mastering.streamed import (
    WORKERS,
    ArraySink,
    Mastering,
    measure_reference,
)
from soundry.errors import ParameterError

__all__ = [
    "MAX_PREVIEW_VARIANTS",
    "PREVIEW_DURATION_S",
    "Preview",
    "loudest_window_start_s",
    "master_previews",
]

PREVIEW_DURATION_S = 30.0
MAX_PREVIEW_VARIANTS = 5


@dataclass(frozen=True)
class Preview:
    """One previewed variant: its settings, audio and report (``report.excerpt`` says where)."""

    settings: MasterSettings
    audio: AudioBuffer
    report: MasterReport
    start_s: float
    duration_s: float


def loudest_window_start_s(
    samples: np.ndarray, sample_rate: int, *, duration_s: float = PREVIEW_DURATION_S
) -> float:
    """Start (s) of the most energetic ``duration_s`` window, on a 100 ms grid.

    Energy is the mean K-weighted power of the 3 s short-term blocks inside the window, so a
    single drum hit does not win over a full chorus.
    """
    total_s = np.atleast_2d(samples).shape[-1] / sample_rate
    if total_s <= duration_s:
        return 0.0
    lufs = short_term_loudness(samples, sample_rate)
    power = np.where(np.isfinite(lufs), 10.0 ** (lufs / 10.0), 0.0)
    window = round((duration_s - 3.0) * 10)  # short-term blocks fully inside the window
    if power.size <= window or window < 1:
        return 0.0
    sums = np.convolve(power, np.ones(window), mode="valid")
    best = int(np.argmax(sums))  # block k covers k*0.1 .. k*0.1 + 3 s
    return float(min(best * 0.1, total_s - duration_s))


def master_previews(
    audio: AudioBuffer,
    variants: Sequence[MasterSettings],
    *,
    start_s: float | None = None,
    duration_s: float = PREVIEW_DURATION_S,
    reference: AudioBuffer | None = None,
    sample_rate: int | None = None,
    workers: int | None = None,
) -> list[Preview]:
    """Master ``audio`` once per variant and cut the same excerpt from each.

    Parameters
    ----------
    audio : AudioBuffer
        The mix.
    variants : sequence of MasterSettings
        1 to 5 settings to audition.
    start_s : float or None
        Where the excerpt starts, clamped to the track; None picks the most energetic
        window (:func:`loudest_window_start_s`).
    duration_s : float
        Excerpt length, up to 30 s (shorter tracks give the whole track).
    reference : AudioBuffer or None
        Reference track for reference mastering.
    sample_rate : int or None
        Output rate, Hz.
    workers : int or None
        Threads each variant's chunks are rendered on (the kernels release the GIL);
        default :data:`~soundry.engine.mastering.streamed.WORKERS`.

    Returns
    -------
    list of Preview, in the order of ``variants``. Each is exactly that span of the master
    :func:`~soundry.engine.mastering.master` makes with its settings, whatever ``workers``.
    """
    if not 1 <= len(variants) <= MAX_PREVIEW_VARIANTS:
        raise ParameterError(
            f"previews take 1 to {MAX_PREVIEW_VARIANTS} variants; got {len(variants)}"
        )
    if not 1.0 <= duration_s <= PREVIEW_DURATION_S:
        raise ParameterError(
            f"preview duration must be from 1 to {PREVIEW_DURATION_S:g} s; got {duration_s}"
        )
    source = prepare_input(audio, sample_rate=sample_rate)
    rate = source.sample_rate
    length_s = min(duration_s, source.duration_s)
    if start_s is None:
        start_s = loudest_window_start_s(source.samples, rate, duration_s=length_s)
    elif start_s < 0:
        raise ParameterError(f"preview start must be 0 s or later; got {start_s}")
    start_s = float(min(start_s, source.duration_s - length_s))
    first = round(start_s * rate)
    last = min(source.frames, first + round(length_s * rate))
    excerpt_before = snapshot(source.samples[:, first:last], rate)
    media_info = None if source.source is None else source.source.to_dict()
    excerpt = {"start_s": start_s, "duration_s": (last - first) / rate}
    targets = None if reference is None else measure_reference(reference)
    previews = []
    # One analysis for every variant; each renders up to its limiter over the whole track
    # (its gain is decided for the whole master) and limits only the chunks of the excerpt.
    with Mastering(ArraySource(source.samples, rate), workers=workers or WORKERS) as session:
        for settings in variants:
            staged = session.stage(session.plan(settings, reference=targets))
            sink = ArraySink(source.channels, last - first, offset=first)
            _, limiter = session.limit(staged, sink, window=(first, last))
            report = MasterReport.for_excerpt(
                staged,
                sink.samples,
                media_info=media_info,
                before=excerpt_before,
                limiter=limiter,
                excerpt=excerpt,
            )
            audio_out = source.with_samples(sink.samples)
            previews.append(Preview(settings, audio_out, report, start_s, (last - first) / rate))
    return previews
