"""Streamed masters: the whole chain run a chunk at a time, on worker threads.

A master is planned from statistics (:mod:`~soundry.engine.mastering.analysis`,
:mod:`~soundry.engine.mastering.prediction`), and every stage renders any span of the track
given context around it (:func:`~soundry.engine.mastering.chain.render_excerpt`). So the
track never has to be in memory, and its chunks can be rendered side by side:

1. **Analysis**: each chunk is read once, analysed, and metered for the report's "before"
   (:class:`~soundry.engine.mastering.meter.TrackMeter`). A reference is measured the same
   way.
2. **Plan** the tonal, multiband and image stages from the analysis alone.
3. **Pre-limiter render**: each chunk (with its stages' pre-roll on both sides) through the
   DC blocker, tonal, multiband and image stages; the result goes to a scratch file on disk
   and its block statistics to the level model.
4. **Gain** from the model (:func:`~soundry.engine.mastering.prediction.decide_gain`).
5. **Limiter**: each chunk of the scratch file (with the limiter's settling time on both
   sides) at that gain; metered for the "after", and handed to the sink in order.
6. If the measured loudness misses the target by more than
   :data:`~soundry.engine.mastering.chain.CORRECT_ABOVE_LU`, the gain is corrected and step 5
   runs again.

Memory is a few chunks per worker whatever the track's length; the result matches a
whole-track render to within the stages' settling error (about 1e-5).
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from soundry.audio.stream import PcmSource, ScratchTrack
from soundry.dsp.loudness import LoudnessReport
from soundry.engine.mastering.analysis import analyse_source, chunk_spans, dc_block
from soundry.engine.mastering.chain import (
    CORRECT_ABOVE_LU,
    LIMITER_SETTLE_S,
    REACHED_WITHIN_LU,
    MasterPlan,
    plan_stages,
    render_pre_limiter,
)
from soundry.engine.mastering.level import (
    LIMITED_FLOOR_DB,
    LIMITER_LOOKAHEAD_MS,
    LIMITER_RELEASE_MS,
    apply_level,
)
from soundry.engine.mastering.meter import TrackMeter
from soundry.engine.mastering.multiband import block_frames
from soundry.engine.mastering.prediction import (
    GainDecision,
    LevelModel,
    decide_gain,
    level_statistics,
)
from soundry.engine.mastering.reference import ReferenceTargets, targets_from_measurements
from soundry.engine.mastering.settings import MasterSettings
from soundry.engine.mastering.tonal import balance_from_powers
from soundry.errors import ParameterError

__all__ = ["WORKERS", "ArraySink", "Sink", "StreamedMaster", "master_source", "measure_reference"]

WORKERS = 2
"""Worker threads of a streamed master (the numba kernels and FFTs release the GIL)."""
# Limiter passes at a corrected gain when the measured loudness misses the target.
_MAX_CORRECTIONS = 2

Progress = Callable[[str, float], None]
"""Called with a step name and the share (0-1) of that step done."""


class Sink(Protocol):
    """Where a streamed master's chunks go, in order."""

    def start(self) -> None:
        """Begin (again) from the first frame; a corrected pass restarts the output."""
        ...

    def write(self, block: np.ndarray) -> None:
        """Take the next ``(channels, n)`` float32 frames."""
        ...


class ArraySink:
    """Collects the master in memory, shape (channels, frames)."""

    def __init__(self, channels: int, frames: int) -> None:
        self.samples = np.zeros((channels, frames), dtype=np.float32)
        self._at = 0

    def start(self) -> None:
        self._at = 0

    def write(self, block: np.ndarray) -> None:
        self.samples[:, self._at : self._at + block.shape[1]] = block
        self._at += block.shape[1]


@dataclass(frozen=True)
class StreamedMaster:
    """What a streamed master did (the samples went to the sink).

    Attributes
    ----------
    plan : MasterPlan
        The decisions, with the gain actually used.
    decision : GainDecision
        The model's gain decision.
    before, after : dict
        The report's figures of the source and of the master.
    loudness : LoudnessReport
        Our meter's reading of the master.
    limiter : dict
        Gain-reduction statistics of the limiter over the track.
    multiband_stats : dict
        Gain reduction per band of the multiband stage.
    reached : bool
        Loudness within :data:`~soundry.engine.mastering.chain.REACHED_WITHIN_LU` of the
        target.
    note : str
        Why the target was not reached, or what was corrected.
    """

    plan: MasterPlan
    decision: GainDecision
    before: dict[str, Any]
    after: dict[str, Any]
    loudness: LoudnessReport
    limiter: dict[str, Any]
    multiband_stats: dict[str, Any]
    reached: bool
    note: str = field(default="")


def _map_in_order(
    pool: ThreadPoolExecutor, work: Callable[[int, int], Any], spans: list[tuple[int, int]]
) -> Iterator[Any]:
    """Results of ``work`` over ``spans`` in order, with only a few chunks in flight."""
    ahead = (pool._max_workers or 1) + 1
    pending: deque[Future[Any]] = deque()
    spans_left = iter(spans)
    for span in spans_left:
        pending.append(pool.submit(work, *span))
        if len(pending) >= ahead:
            break
    while pending:
        result = pending.popleft().result()
        for span in spans_left:
            pending.append(pool.submit(work, *span))
            break
        yield result


def measure_reference(source: PcmSource, *, workers: int = WORKERS) -> ReferenceTargets:
    """Measure a reference track read a chunk at a time (tonal balance, loudness, width)."""
    if source.frames < source.sample_rate * 3:
        raise ParameterError(
            f"the reference track is {source.frames / source.sample_rate:.1f} s long;"
            " it needs at least 3 s"
        )
    if source.channels > 2:
        raise ParameterError(
            f"the reference has {source.channels} channels; give a mono or stereo track"
        )
    meter = TrackMeter(source.sample_rate, source.channels, source.frames)
    analysis = analyse_source(source, meter=meter, workers=workers)
    loudness = meter.loudness()
    return targets_from_measurements(
        balance_db=balance_from_powers(
            analysis.tonal_powers,
            analysis.tonal_mean_square,
            analysis.tonal_frame,
            source.sample_rate,
        ),
        integrated_lufs=loudness.integrated_lufs,
        true_peak_dbtp=loudness.true_peak_dbtp,
        width=meter.width(),
        sample_rate=source.sample_rate,
        channels=source.channels,
        frames=source.frames,
    )


class _Run:
    """One streamed master: the source, its plan so far and the worker pool."""

    def __init__(self, source: PcmSource, pool: ThreadPoolExecutor, progress: Progress) -> None:
        self.source, self.pool, self.progress = source, pool, progress
        self.rate, self.channels, self.frames = source.sample_rate, source.channels, source.frames
        self.spans: list[tuple[int, int]] = []

    def pre_limiter(
        self, plan: MasterPlan, scratch: ScratchTrack
    ) -> tuple[LevelModel, dict[str, Any]]:
        rate, frames = self.rate, self.frames
        context = plan.preroll_frames

        def work(start: int, stop: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any], int]:
            first, last = max(0, start - context), min(frames, stop + context)
            x = dc_block(self.source.read(first, last), rate)
            y, stats = render_pre_limiter(x, plan, rate, start_frame=first)
            scratch.write(start, y[:, start - first : stop - first])
            energy, peak = level_statistics(y, rate, first, start, stop)
            return energy, peak, stats, stop - start

        energies, peaks = [], []
        stats_weighted: dict[str, dict[str, float]] = {}
        for k, (energy, peak, stats, length) in enumerate(
            _map_in_order(self.pool, work, self.spans)
        ):
            energies.append(energy)
            peaks.append(peak)
            for band, figures in stats.items():
                merged = stats_weighted.setdefault(band, {"max_gr_db": 0.0, "mean_gr_db": 0.0})
                merged["max_gr_db"] = max(merged["max_gr_db"], figures["max_gr_db"])
                merged["mean_gr_db"] += figures["mean_gr_db"] * length / frames
            self.progress("render", (k + 1) / len(self.spans))
        model = LevelModel(
            np.concatenate(energies), np.concatenate(peaks), block_frames(rate), rate
        )
        stats_out = {
            band: {key: round(value, 3) for key, value in figures.items()}
            for band, figures in stats_weighted.items()
        }
        return model, stats_out

    def limit(
        self, plan: MasterPlan, scratch: ScratchTrack, sink: Sink
    ) -> tuple[TrackMeter, dict[str, Any]]:
        rate, frames = self.rate, self.frames
        context = int(LIMITER_SETTLE_S * rate) + 64
        after = TrackMeter(rate, self.channels, frames)
        ceiling = plan.settings.ceiling_dbtp

        def work(start: int, stop: int) -> tuple[np.ndarray, float, float, int, int]:
            first, last = max(0, start - context), min(frames, stop + context)
            out, report = apply_level(
                scratch.read(first, last),
                sample_rate=rate,
                gain_db=plan.gain_db,
                ceiling_dbtp=ceiling,
            )
            after.add(out, first, start, stop)
            reduction = np.atleast_2d(report.gain_reduction_db)[:, start - first : stop - first]
            limited = reduction.max(axis=0) if reduction.size else np.zeros(0)
            over = limited[limited > LIMITED_FLOOR_DB]
            return (
                out[:, start - first : stop - first],
                float(limited.max(initial=0.0)),
                float(over.sum()),
                int(over.size),
                report.correction_passes,
            )

        sink.start()
        largest = total = 0.0
        count = passes = 0
        for k, (core, peak_gr, sum_gr, n_limited, n_passes) in enumerate(
            _map_in_order(self.pool, work, self.spans)
        ):
            sink.write(core)
            largest, total = max(largest, peak_gr), total + sum_gr
            count, passes = count + n_limited, passes + n_passes
            self.progress("limit", (k + 1) / len(self.spans))
        stats = {
            "max_gain_reduction_db": largest,
            "mean_gain_reduction_db": total / count if count else 0.0,
            "limited_percent": 100.0 * count / max(frames, 1),
            "latency_frames": max(10, round(LIMITER_LOOKAHEAD_MS / 1000.0 * rate)),
            "correction_passes": passes,
            "ceiling_dbtp": ceiling,
        }
        return after, stats


def master_source(
    source: PcmSource,
    settings: MasterSettings,
    sink: Sink,
    *,
    reference: ReferenceTargets | None = None,
    tonal_target_db: np.ndarray | None = None,
    workers: int = WORKERS,
    progress: Progress | None = None,
) -> StreamedMaster:
    """Master ``source`` a chunk at a time into ``sink``.

    Parameters
    ----------
    source : PcmSource
        The mix, mono or stereo, at the output rate.
    settings : MasterSettings
    sink : Sink
        Receives the master in order (and again from the start if the gain is corrected).
    reference : ReferenceTargets or None
        From :func:`measure_reference`.
    tonal_target_db : np.ndarray or None
        A balance to move toward instead of the profile's (album mode).
    workers : int
        Threads.
    progress : callable or None
        ``progress(step, share_done)``.

    Returns
    -------
    StreamedMaster
    """
    report_progress: Progress = progress or (lambda _step, _share: None)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        run = _Run(source, pool, report_progress)
        before = TrackMeter(source.sample_rate, source.channels, source.frames)
        analysis = analyse_source(source, meter=before, workers=workers)
        report_progress("analyse", 1.0)
        run.spans = list(chunk_spans(source.frames, source.sample_rate))
        own_width = before.width() if reference is not None else None
        stages = plan_stages(
            analysis,
            settings,
            reference=reference,
            own_width=own_width,
            tonal_target_db=tonal_target_db,
        )
        plan = MasterPlan(
            settings=settings,
            sample_rate=source.sample_rate,
            target_lufs=stages.target_lufs,
            tonal=stages.tonal,
            multiband=stages.multiband,
            image=stages.image,
            gain_db=0.0,
            reference=reference,
        )
        scratch = ScratchTrack(source.channels, source.frames, source.sample_rate)
        try:
            model, multiband_stats = run.pre_limiter(plan, scratch)
            decision = decide_gain(
                model,
                target_lufs=plan.target_lufs,
                ceiling_dbtp=settings.ceiling_dbtp,
                lookahead_ms=LIMITER_LOOKAHEAD_MS,
                release_ms=LIMITER_RELEASE_MS,
            )
            plan = _with_gain(plan, decision.gain_db)
            note = decision.note
            after, limiter = run.limit(plan, scratch, sink)
            loudness = after.loudness()
            tried: list[tuple[float, float]] = []
            for _ in range(_MAX_CORRECTIONS):
                error = loudness.integrated_lufs - plan.target_lufs
                if not math.isfinite(error) or abs(error) <= CORRECT_ABOVE_LU or decision.note:
                    break
                tried.append((plan.gain_db, loudness.integrated_lufs))
                plan = _with_gain(plan, _corrected_gain(tried, plan.target_lufs))
                after, limiter = run.limit(plan, scratch, sink)
                loudness = after.loudness()
                note = (
                    f"the predicted gain missed by {error:+.2f} LU; corrected by"
                    f" {plan.gain_db - decision.gain_db:+.2f} dB (previews used the prediction)"
                )
        finally:
            scratch.close()
    measured = loudness.integrated_lufs
    reached = math.isfinite(measured) and abs(measured - plan.target_lufs) <= REACHED_WITHIN_LU
    if not reached and not note and math.isfinite(measured):
        note = f"reached {measured:.2f} LUFS, not {plan.target_lufs:.2f}"
    if not math.isfinite(measured) and not note:
        note = decision.note or "the input is silent: nothing to level"
    return StreamedMaster(
        plan=plan,
        decision=decision,
        before=before.snapshot(),
        after=after.snapshot(loudness),
        loudness=loudness,
        limiter=limiter,
        multiband_stats=multiband_stats,
        reached=reached,
        note=note,
    )


def _with_gain(plan: MasterPlan, gain_db: float) -> MasterPlan:
    return dataclasses.replace(plan, gain_db=round(gain_db, 4))


def _corrected_gain(tried: list[tuple[float, float]], target_lufs: float) -> float:
    """Next gain from the (gain, loudness) pairs tried: a secant step, slope in [0.05, 1]."""
    gain, lufs = tried[-1]
    slope = 1.0
    if len(tried) > 1:
        (g0, l0), (g1, l1) = tried[-2], tried[-1]
        if abs(g1 - g0) > 1e-6:
            slope = min(max((l1 - l0) / (g1 - g0), 0.05), 1.0)
    return gain + (target_lufs - lufs) / slope
