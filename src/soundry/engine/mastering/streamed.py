"""Masters rendered a chunk at a time, on worker threads: the one way a master is made.

A master is planned from statistics (:mod:`~soundry.engine.mastering.analysis`,
:mod:`~soundry.engine.mastering.prediction`), and every stage renders any span of the track
given context around it. So the track never has to be in memory, and its chunks can be
rendered side by side. A :class:`Mastering` session over one track does:

1. **Analysis** (once per track): each chunk is read once, analysed, metered for the
   report's "before" (:class:`~soundry.engine.mastering.meter.TrackMeter`), and its
   DC-blocked samples (the chain's first stage) go to a scratch file on disk.
2. **Plan** (per variant) the tonal, multiband and image stages from the analysis alone.
3. **Pre-limiter render**: each chunk of the DC-blocked track, with the stages' pre-roll on
   both sides, through tonal, multiband and image; the result goes to a second scratch file
   and its block statistics to the level model.
4. **Gain** from the model (:func:`~soundry.engine.mastering.prediction.decide_gain`).
5. **Limiter**: each chunk of the scratch file, with the limiter's settling time on both
   sides, at that gain; metered for the "after" and handed to a sink in order. An excerpt
   limits only the chunks it touches, so a preview is exactly that span of the master.
6. If the measured loudness misses the target by more than :data:`CORRECT_ABOVE_LU`, the gain
   is corrected by a secant step and step 5 runs again.

Memory is a few chunks per worker whatever the track's length; the chunk grid and every
context are fixed, so the same settings give the same samples bit for bit.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from soundry.audio.buffer import AudioBuffer
from soundry.audio.stream import ArraySource, PcmSource, ScratchTrack
from soundry.dsp._limiter_parts import _EDGE_PAD
from soundry.dsp.limiter import DetectorEnvelope
from soundry.dsp.loudness import LoudnessReport
from soundry.engine.mastering.analysis import SourceAnalysis, analyse_source, chunk_spans
from soundry.engine.mastering.chain import MasterPlan, plan_stages, render_pre_limiter
from soundry.engine.mastering.level import (
    INTERPOLATOR_CONTEXT,
    LIMITED_FLOOR_DB,
    LIMITER_LOOKAHEAD_MS,
    LIMITER_RELEASE_MS,
    LIMITER_SETTLE_S,
    apply_level,
    limiter_context_after,
)
from soundry.engine.mastering.meter import TrackMeter
from soundry.engine.mastering.multiband import block_frames
from soundry.engine.mastering.prediction import (
    LEVEL_POSTROLL,
    LEVEL_PREROLL_S,
    GainDecision,
    LevelModel,
    decide_gain,
    level_statistics,
)
from soundry.engine.mastering.reference import ReferenceTargets, measure_reference_source
from soundry.engine.mastering.settings import MasterSettings
from soundry.errors import ParameterError

__all__ = [
    "CORRECT_ABOVE_LU",
    "MAX_CHANNELS",
    "MIN_DURATION_S",
    "REACHED_WITHIN_LU",
    "WORKERS",
    "ArraySink",
    "Mastering",
    "Sink",
    "Staged",
    "StreamedMaster",
    "check_masterable",
    "master_buffer",
    "master_source",
    "measure_reference",
    "render_excerpt",
    "render_master",
]

WORKERS = 2
"""Worker threads of a master (the numba kernels and FFTs release the GIL)."""
CORRECT_ABOVE_LU = 0.3
"""A predicted gain whose master misses the target by more than this (LU) is corrected ..."""
REACHED_WITHIN_LU = 0.3
"""... and the target counts as reached within this."""
# Limiter passes at a corrected gain when the measured loudness misses the target.
_MAX_CORRECTIONS = 2

Progress = Callable[[str, float], None]
"""Called with a step name and the share (0-1) of that step done."""


class Sink(Protocol):
    """Where a master's chunks go, in order."""

    def start(self) -> None:
        """Begin (again) from the first frame; a corrected pass restarts the output."""
        ...

    def write(self, block: np.ndarray) -> None:
        """Take the next ``(channels, n)`` float32 frames."""
        ...


class ArraySink:
    """Collects frames ``offset:offset + frames`` of the master in memory."""

    def __init__(self, channels: int, frames: int, *, offset: int = 0) -> None:
        self.samples = np.zeros((channels, frames), dtype=np.float32)
        self._offset = offset
        self._at = 0

    def start(self) -> None:
        self._at = 0

    def write(self, block: np.ndarray) -> None:
        self.samples[:, self._at : self._at + block.shape[1]] = block
        self._at += block.shape[1]

    def place(self, start: int, block: np.ndarray) -> None:
        """Store ``block`` (which begins at frame ``start`` of the track) where it overlaps."""
        lo = max(start, self._offset)
        hi = min(start + block.shape[1], self._offset + self.samples.shape[1])
        if hi > lo:
            part = block[:, lo - start : hi - start]
            self.samples[:, lo - self._offset : hi - self._offset] = part


@dataclass(frozen=True)
class StreamedMaster:
    """What a master did (the samples went to the sink).

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
        Loudness within :data:`REACHED_WITHIN_LU` of the target.
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


@dataclass(frozen=True)
class Staged:
    """A variant rendered up to its limiter: the plan (with the decided gain), the signal
    entering the limiter and its detector envelope (on disk), and the multiband stage's
    statistics."""

    plan: MasterPlan
    decision: GainDecision
    pre_limiter: ScratchTrack
    envelope: ScratchTrack
    multiband_stats: dict[str, Any]

    def detector(self, first: int, last: int) -> DetectorEnvelope:
        """The limiter's detector envelope of frames ``first:last`` (as
        :func:`~soundry.dsp.limiter.detector_envelope` pads it, but with the track's own
        neighbours in the padding)."""
        rows, frames = self.envelope.channels, self.envelope.frames
        values = np.zeros((rows, last - first + 2 * _EDGE_PAD), dtype=np.float32)
        lo, hi = max(0, first - _EDGE_PAD), min(frames, last + _EDGE_PAD)
        values[:, lo - first + _EDGE_PAD : hi - first + _EDGE_PAD] = self.envelope.read(lo, hi)
        channels = self.pre_limiter.channels
        return DetectorEnvelope(
            values,
            float(values.max()),
            last - first,
            channels,
            self.plan.sample_rate,
            channels > 1,
        )


def _map_in_order(
    pool: ThreadPoolExecutor,
    work: Callable[[int, int], Any],
    spans: list[tuple[int, int]],
    ahead: int,
) -> Iterator[Any]:
    """Results of ``work`` over ``spans`` in order, with at most ``ahead`` chunks in flight."""
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


MAX_CHANNELS = 2
MIN_DURATION_S = 1.0


def check_masterable(channels: int, frames: int, sample_rate: int) -> None:
    """Raise :class:`ParameterError` unless a track of this shape can be mastered."""
    if channels > MAX_CHANNELS:
        raise ParameterError(
            f"mastering takes mono or stereo audio; this has {channels} channels"
            " (mix it down to stereo first)"
        )
    if frames < MIN_DURATION_S * sample_rate:
        raise ParameterError(
            f"the audio is {frames / sample_rate:.2f} s long; mastering needs at least"
            f" {MIN_DURATION_S:g} s"
        )


def _as_source(audio: PcmSource | AudioBuffer) -> PcmSource:
    if isinstance(audio, AudioBuffer):
        return ArraySource(audio.samples, audio.sample_rate)
    return audio


def measure_reference(
    reference: PcmSource | AudioBuffer, *, workers: int = WORKERS
) -> ReferenceTargets:
    """Measure a reference track a chunk at a time (tonal balance, loudness, width)."""
    source = _as_source(reference)
    if source.frames < source.sample_rate * 3:
        raise ParameterError(
            f"the reference track is {source.frames / source.sample_rate:.1f} s long;"
            " it needs at least 3 s"
        )
    if source.channels > 2:
        raise ParameterError(
            f"the reference has {source.channels} channels; give a mono or stereo track"
        )
    return measure_reference_source(source, workers=workers)


class Mastering:
    """One track, analysed once, then mastered, previewed or re-rendered any number of ways.

    Use as a context manager: the worker threads and the scratch files live until it closes.

    Parameters
    ----------
    source : PcmSource
        The mix, mono or stereo, at the output rate.
    workers : int
        Threads.
    progress : callable or None
        ``progress(step, share_done)``.
    """

    def __init__(
        self, source: PcmSource, *, workers: int = WORKERS, progress: Progress | None = None
    ) -> None:
        check_masterable(source.channels, source.frames, source.sample_rate)
        self.source = source
        self.rate, self.channels, self.frames = source.sample_rate, source.channels, source.frames
        self.workers = max(1, workers)
        self.progress: Progress = progress or (lambda _step, _share: None)
        self.spans = list(chunk_spans(source.frames, source.sample_rate))
        self._stack = ExitStack()

    def __enter__(self) -> Mastering:
        try:
            self.pool = self._stack.enter_context(ThreadPoolExecutor(max_workers=self.workers))
            self.blocked = self._scratch()
            self.before = TrackMeter(self.rate, self.channels, self.frames)
            self.analysis: SourceAnalysis = analyse_source(
                self.source, meter=self.before, blocked_out=self.blocked, workers=self.workers
            )
        except BaseException:
            self._stack.close()
            raise
        self.progress("analyse", 1.0)
        return self

    def __exit__(self, *_: object) -> None:
        self._stack.close()

    def _scratch(self) -> ScratchTrack:
        return self._stack.enter_context(ScratchTrack(self.channels, self.frames, self.rate))

    def _map(self, work: Callable[[int, int], Any], spans: list[tuple[int, int]]) -> Iterator[Any]:
        return _map_in_order(self.pool, work, spans, self.workers + 1)

    def plan(
        self,
        settings: MasterSettings,
        *,
        reference: ReferenceTargets | None = None,
        tonal_target_db: np.ndarray | None = None,
    ) -> MasterPlan:
        """Plan the stages of one variant (gain 0 until :meth:`stage` decides it)."""
        stages = plan_stages(
            self.analysis,
            settings,
            reference=reference,
            own_width=self.before.width() if reference is not None else None,
            tonal_target_db=tonal_target_db,
        )
        return MasterPlan(
            settings=settings,
            sample_rate=self.rate,
            target_lufs=stages.target_lufs,
            tonal=stages.tonal,
            multiband=stages.multiband,
            image=stages.image,
            gain_db=0.0,
            reference=reference,
        )

    def stage(self, plan: MasterPlan, *, decide: bool = True) -> Staged:
        """Render ``plan`` up to the limiter and (with ``decide``) choose its gain."""
        rate, frames = self.rate, self.frames
        # The stages are causal: context before each chunk only (the level statistics
        # read a few frames past it).
        before = max(plan.preroll_frames, round(LEVEL_PREROLL_S * rate))
        pre_limiter = self._scratch()
        envelope = self._stack.enter_context(ScratchTrack(1, frames, rate))

        def work(start: int, stop: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any], int]:
            first, last = max(0, start - before), min(frames, stop + LEVEL_POSTROLL)
            y, stats = render_pre_limiter(
                self.blocked.read(first, last),
                plan,
                rate,
                start_frame=first,
                stats_from_frame=start,
            )
            pre_limiter.write(start, y[:, start - first : stop - first])
            energy, peak, detector = level_statistics(y, rate, first, start, stop)
            envelope.write(start, detector)
            return energy, peak, stats, stop - start

        energies, peaks = [], []
        weighted: dict[str, dict[str, float]] = {}
        for k, (energy, peak, stats, length) in enumerate(self._map(work, self.spans)):
            energies.append(energy)
            peaks.append(peak)
            for band, figures in stats.items():
                merged = weighted.setdefault(band, {"max_gr_db": 0.0, "mean_gr_db": 0.0})
                merged["max_gr_db"] = max(merged["max_gr_db"], figures["max_gr_db"])
                merged["mean_gr_db"] += figures["mean_gr_db"] * length / frames
            self.progress("render", (k + 1) / len(self.spans))
        multiband_stats = {
            band: {key: round(value, 3) for key, value in figures.items()}
            for band, figures in weighted.items()
        }
        decision = GainDecision(plan.gain_db, math.nan, 0.0, 0.0)
        if decide:
            model = LevelModel(
                np.concatenate(energies), np.concatenate(peaks), block_frames(rate), rate
            )
            decision = decide_gain(
                model,
                target_lufs=plan.target_lufs,
                ceiling_dbtp=plan.settings.ceiling_dbtp,
                lookahead_ms=LIMITER_LOOKAHEAD_MS,
                release_ms=LIMITER_RELEASE_MS,
            )
            plan = _with_gain(plan, decision.gain_db)
        return Staged(plan, decision, pre_limiter, envelope, multiband_stats)

    def limit(
        self,
        staged: Staged,
        sink: Sink | ArraySink,
        *,
        window: tuple[int, int] | None = None,
        plan: MasterPlan | None = None,
    ) -> tuple[TrackMeter | None, dict[str, Any]]:
        """Limit the staged signal at ``plan``'s gain (default the staged plan's).

        Without ``window`` every chunk goes to ``sink`` in order and is metered (the meter is
        returned). With ``window = (first, last)`` only the chunks touching it are limited,
        exactly as in the whole master, and placed into ``sink`` (an :class:`ArraySink` over
        that window); the limiter statistics are then those of the window.
        """
        plan = plan or staged.plan
        rate, frames = self.rate, self.frames
        settle = int(LIMITER_SETTLE_S * rate) + INTERPOLATOR_CONTEXT
        meter = TrackMeter(rate, self.channels, frames)
        after = meter if window is None else None
        # After a chunk: what the limiter looks ahead to and what the meter's cells need;
        # the same for a window, so that each chunk is limited exactly as in the master.
        reach = max(limiter_context_after(rate), meter.postroll_frames)
        lo, hi = window if window is not None else (0, frames)
        spans = [(a, b) for a, b in self.spans if b > lo and a < hi]

        def work(start: int, stop: int) -> tuple[int, np.ndarray, float, float, int, int, int]:
            first, last = max(0, start - settle), min(frames, stop + reach)
            out, report = apply_level(
                staged.pre_limiter.read(first, last),
                sample_rate=rate,
                gain_db=plan.gain_db,
                ceiling_dbtp=plan.settings.ceiling_dbtp,
                envelope=staged.detector(first, last),
            )
            if after is not None:
                after.add(out, first, start, stop)
            a, b = max(start, lo), min(stop, hi)  # the frames these statistics are of
            reduction = np.atleast_2d(report.gain_reduction_db)[:, a - first : b - first]
            limited = reduction.max(axis=0) if reduction.size else np.zeros(0)
            over = limited[limited > LIMITED_FLOOR_DB]
            return (
                start,
                out[:, start - first : stop - first],
                float(limited.max(initial=0.0)),
                float(over.sum()),
                int(over.size),
                report.correction_passes,
                report.latency_frames,
            )

        sink.start()
        largest = total = 0.0
        count = passes = latency = 0
        for k, (start, core, peak_gr, sum_gr, n_limited, n_passes, chunk_latency) in enumerate(
            self._map(work, spans)
        ):
            if window is None:
                sink.write(core)
            else:
                assert isinstance(sink, ArraySink)
                sink.place(start, core)
            largest, total = max(largest, peak_gr), total + sum_gr
            count, passes, latency = count + n_limited, passes + n_passes, chunk_latency
            self.progress("limit", (k + 1) / len(spans))
        stats = {
            "max_gain_reduction_db": largest,
            "mean_gain_reduction_db": total / count if count else 0.0,
            "limited_percent": 100.0 * count / max(hi - lo, 1),
            "latency_frames": latency,
            "correction_passes": passes,
            "ceiling_dbtp": plan.settings.ceiling_dbtp,
        }
        return after, stats

    def master(
        self,
        settings: MasterSettings,
        sink: Sink,
        *,
        reference: ReferenceTargets | None = None,
        tonal_target_db: np.ndarray | None = None,
    ) -> StreamedMaster:
        """Master the track with ``settings`` into ``sink``."""
        staged = self.stage(
            self.plan(settings, reference=reference, tonal_target_db=tonal_target_db)
        )
        decision, plan = staged.decision, staged.plan
        note = decision.note
        after, limiter = self.limit(staged, sink)
        assert after is not None
        loudness = after.loudness()
        tried: list[tuple[float, float]] = []
        for _ in range(_MAX_CORRECTIONS):
            error = loudness.integrated_lufs - plan.target_lufs
            if not math.isfinite(error) or abs(error) <= CORRECT_ABOVE_LU or decision.note:
                break
            tried.append((plan.gain_db, loudness.integrated_lufs))
            plan = _with_gain(plan, _corrected_gain(tried, plan.target_lufs))
            after, limiter = self.limit(staged, sink, plan=plan)
            assert after is not None
            loudness = after.loudness()
            note = (
                f"the predicted gain missed by {error:+.2f} LU; corrected by"
                f" {plan.gain_db - decision.gain_db:+.2f} dB (previews used the prediction)"
            )
        measured = loudness.integrated_lufs
        reached = math.isfinite(measured) and abs(measured - plan.target_lufs) <= REACHED_WITHIN_LU
        if not reached and not note:
            note = (
                f"reached {measured:.2f} LUFS, not {plan.target_lufs:.2f}"
                if math.isfinite(measured)
                else "the input is silent: nothing to level"
            )
        return StreamedMaster(
            plan=plan,
            decision=decision,
            before=self.before.snapshot(),
            after=after.snapshot(loudness),
            loudness=loudness,
            limiter=limiter,
            multiband_stats=staged.multiband_stats,
            reached=reached,
            note=note,
        )


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
    with Mastering(source, workers=workers, progress=progress) as session:
        return session.master(settings, sink, reference=reference, tonal_target_db=tonal_target_db)


def master_buffer(
    audio: AudioBuffer,
    settings: MasterSettings,
    *,
    reference: ReferenceTargets | None = None,
    tonal_target_db: np.ndarray | None = None,
    workers: int = WORKERS,
) -> tuple[AudioBuffer, StreamedMaster]:
    """:func:`master_source` over samples in memory, collecting the master in memory.

    Returns
    -------
    master : AudioBuffer
        ``audio`` with the mastered samples (its source facts kept).
    streamed : StreamedMaster
    """
    sink = ArraySink(audio.channels, audio.frames)
    streamed = master_source(
        _as_source(audio),
        settings,
        sink,
        reference=reference,
        tonal_target_db=tonal_target_db,
        workers=workers,
    )
    return audio.with_samples(sink.samples), streamed


def render_master(samples: np.ndarray, plan: MasterPlan) -> np.ndarray:
    """Apply ``plan`` (with its gain) to the whole track: the master, bit for bit.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames)]
        The track at ``plan.sample_rate``.
    plan : MasterPlan
        From a master's report settings or :attr:`StreamedMaster.plan`.

    Returns
    -------
    np.ndarray [shape=(channels, frames), dtype=float32]
    """
    source = ArraySource(samples, plan.sample_rate)
    with Mastering(source) as session:
        sink = ArraySink(source.channels, source.frames)
        session.limit(session.stage(plan, decide=False), sink)
    return sink.samples


def render_excerpt(
    samples: np.ndarray, plan: MasterPlan, *, start_frame: int, stop_frame: int
) -> np.ndarray:
    """Frames ``start_frame:stop_frame`` of :func:`render_master`, limiting only that span.

    Returns
    -------
    np.ndarray [shape=(channels, stop_frame - start_frame), dtype=float32]
    """
    source = ArraySource(samples, plan.sample_rate)
    if not 0 <= start_frame < stop_frame <= source.frames:
        raise ParameterError(
            f"excerpt {start_frame}..{stop_frame} is not inside the track's {source.frames} frames"
        )
    with Mastering(source) as session:
        sink = ArraySink(source.channels, stop_frame - start_frame, offset=start_frame)
        session.limit(session.stage(plan, decide=False), sink, window=(start_frame, stop_frame))
    return sink.samples


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
