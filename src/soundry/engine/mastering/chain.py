"""The mastering chain: plan once on the whole track, render all of it or any excerpt.

Stages, in order::

    DC blocker -> dynamic tonal EQ -> multiband dynamics -> stereo image -> gain -> TP limiter

:func:`prepare_source` DC-blocks and analyses the track once
(:mod:`~soundry.engine.mastering.analysis`); :func:`stage_master` plans every stage from that
analysis, renders up to the limiter and decides the gain
(:func:`~soundry.engine.mastering.prediction.decide_gain`); :func:`finish_master` limits and
measures. :func:`plan_master` does all three. The decisions are a :class:`MasterPlan` (the
"settings" that the report shows) and :func:`render_master` re-applies one. Rendering an
excerpt with enough context around it (:func:`render_excerpt`) gives the same samples as the
same span of the full render, which is what makes previews honest.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from soundry.audio.buffer import AudioBuffer
from soundry.audio.stream import ArraySource
from soundry.dsp.limiter import DetectorEnvelope
from soundry.dsp.loudness import LoudnessReport, measure
from soundry.engine.mastering.analysis import (
    DC_BLOCK_HZ,
    SourceAnalysis,
    analyse_source,
    dc_block,
)
from soundry.engine.mastering.image import (
    ImagePlan,
    apply_image,
    measure_width,
    plan_image_from_spectra,
    usable_edges,
)
from soundry.engine.mastering.level import (
    LIMITER_LOOKAHEAD_MS,
    LIMITER_RELEASE_MS,
    LevelResult,
    apply_level,
    reach_loudness,
)
from soundry.engine.mastering.multiband import (
    CROSSOVER_HZ,
    MultibandPlan,
    apply_multiband,
    plan_multiband_from_powers,
)
from soundry.engine.mastering.prediction import (
    GainDecision,
    decide_gain,
    level_model,
    predict_band_powers,
    tonal_band_gains,
)
from soundry.engine.mastering.profiles import profile_for
from soundry.engine.mastering.reference import (
    ReferenceTargets,
    analyse_reference,
    blend_loudness,
    blend_width,
)
from soundry.engine.mastering.settings import MasterSettings
from soundry.engine.mastering.tonal import TonalPlan, apply_tonal, plan_tonal_from_powers
from soundry.errors import ParameterError

__all__ = [
    "CORRECT_ABOVE_LU",
    "LIMITER_SETTLE_S",
    "REACHED_WITHIN_LU",
    "MasterPlan",
    "MasterRender",
    "PreparedSource",
    "StagePlans",
    "Staged",
    "check_reference",
    "finish_master",
    "plan_master",
    "plan_stages",
    "prepare_source",
    "render_excerpt",
    "render_master",
    "render_pre_limiter",
    "stage_master",
]

# The master corrects a predicted gain that misses the target by more than this (LU) ...
CORRECT_ABOVE_LU = 0.3
# ... and calls the target reached within this.
REACHED_WITHIN_LU = 0.3
# Context for IIR states (DC blocker, limiter release) to settle before an excerpt:
# both decay by e^-20 or more within this time.
LIMITER_SETTLE_S = 2.0


@dataclass(frozen=True)
class MasterPlan:
    """Every decision of a master, fixed: re-rendering it gives the same samples.

    Attributes
    ----------
    settings : MasterSettings
        What was asked for.
    sample_rate : int
        Rate the plan was made at, Hz.
    target_lufs : float
        The loudness aimed at (the settings' target, or blended toward a reference's).
    tonal, multiband, image : plans
        The stage plans.
    gain_db : float
        Gain before the limiter, found by the loudness loop.
    reference : ReferenceTargets or None
        What was measured on the reference track, if one was given.
    """

    settings: MasterSettings
    sample_rate: int
    target_lufs: float
    tonal: TonalPlan
    multiband: MultibandPlan
    image: ImagePlan
    gain_db: float
    reference: ReferenceTargets | None = None

    @property
    def preroll_frames(self) -> int:
        """Frames of context an excerpt render needs on each side to match the full render."""
        settle = int(LIMITER_SETTLE_S * self.sample_rate)
        return settle + max(
            self.tonal.preroll_frames, self.multiband.preroll_frames, self.image.preroll_frames
        )

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready settings."""
        return {
            "settings": self.settings.to_dict(),
            "sample_rate": self.sample_rate,
            "target_lufs": self.target_lufs,
            "dc_block_hz": DC_BLOCK_HZ,
            "tonal": self.tonal.to_dict(),
            "multiband": self.multiband.to_dict(),
            "stereo_image": self.image.to_dict(),
            "gain_db": self.gain_db,
            "limiter": {
                "ceiling_dbtp": self.settings.ceiling_dbtp,
                "lookahead_ms": LIMITER_LOOKAHEAD_MS,
                "release_ms": LIMITER_RELEASE_MS,
            },
            "reference": None if self.reference is None else self.reference.to_dict(),
        }


@dataclass(frozen=True)
class MasterRender:
    """The full render made while planning, with what each stage reported.

    Attributes
    ----------
    samples : np.ndarray [shape=(channels, frames), dtype=float32]
        The master.
    level : LevelResult
        The loudness loop's result (gain, measured loudness and true peak, limiter stats).
    multiband_stats : dict
        Gain reduction per band of the multiband stage.
    plan : MasterPlan
        The plan rendered (its gain is the one used).
    loudness : LoudnessReport or None
        Our meter's reading of ``samples``, when the render measured all of it.
    """

    samples: np.ndarray
    level: LevelResult
    multiband_stats: dict[str, Any]
    plan: MasterPlan
    loudness: LoudnessReport | None = None


@dataclass(frozen=True)
class PreparedSource:
    """A track ready to be mastered any number of ways: DC-blocked, and analysed once.

    Attributes
    ----------
    samples : np.ndarray [shape=(channels, frames), dtype=float32]
        The track after the DC blocker (the chain's first stage).
    analysis : SourceAnalysis
        What every plan is made from.
    """

    samples: np.ndarray
    analysis: SourceAnalysis


def prepare_source(audio: AudioBuffer) -> PreparedSource:
    """DC-block and analyse ``audio`` (the part of a master every variant shares)."""
    x = dc_block(audio.samples, audio.sample_rate)
    return PreparedSource(x, analyse_source(ArraySource(x, audio.sample_rate), dc_blocked=True))


@dataclass(frozen=True)
class Staged:
    """A planned master before its limiter: the plan and the signal that enters the limiter."""

    plan: MasterPlan
    pre_limiter: np.ndarray
    decision: GainDecision
    multiband_stats: dict[str, Any]
    envelope: DetectorEnvelope | None = None


@dataclass(frozen=True)
class StagePlans:
    """The stages before the limiter, planned from the analysis, and the loudness target."""

    tonal: TonalPlan
    multiband: MultibandPlan
    image: ImagePlan
    target_lufs: float


def plan_stages(
    analysis: SourceAnalysis,
    settings: MasterSettings,
    *,
    reference: ReferenceTargets | None = None,
    own_width: dict[str, float] | None = None,
    tonal_target_db: np.ndarray | None = None,
) -> StagePlans:
    """Plan the tonal, multiband and image stages of one variant from the analysis alone.

    Parameters
    ----------
    analysis : SourceAnalysis
        Of the DC-blocked track.
    settings : MasterSettings
    reference : ReferenceTargets or None
        What to move toward, by ``settings.reference_blend`` percent.
    own_width : dict or None
        The track's :func:`~soundry.engine.mastering.image.measure_width` (needed with a
        stereo reference).
    tonal_target_db : np.ndarray [shape=(n_tonal_bands,)] or None
        A balance to move toward instead of the profile's (album mode); ignored with a
        reference.
    """
    rate = analysis.sample_rate
    profile = profile_for(settings.profile, settings.style)
    target_lufs = settings.target_lufs
    curve = tonal_target_db
    strength = 1.0
    width_target = None
    if reference is not None:
        blend = settings.reference_blend
        # The tonal stage blends by strength: 0 leaves the track exactly as it is.
        curve = reference.tonal_curve_db
        strength = blend / 100.0
        target_lufs = blend_loudness(settings.target_lufs, reference, blend)
        width_target = blend_width(own_width, reference, blend)
    tonal = plan_tonal_from_powers(
        analysis.tonal_powers,
        analysis.tonal_mean_square,
        analysis.tonal_frame,
        analysis.frames,
        rate,
        profile=profile,
        intensity=settings.intensity if reference is None else 100.0,
        target_curve_db=curve,
        strength=strength,
    )
    character = profile.dynamics if profile is not None else "balanced"
    edges = usable_edges(CROSSOVER_HZ, rate)
    predicted = predict_band_powers(analysis, tonal_band_gains(analysis, tonal, edges))
    multiband = plan_multiband_from_powers(
        predicted, rate, character=character, enabled=settings.dynamics
    )
    image = plan_image_from_spectra(
        None if analysis.dual_mono else analysis.mid_side,
        rate,
        enabled=settings.stereo_image or width_target is not None,
        target=width_target,
    )
    return StagePlans(tonal, multiband, image, target_lufs)


def render_pre_limiter(
    samples: np.ndarray, stages: StagePlans | MasterPlan, rate: int, *, start_frame: int = 0
) -> tuple[np.ndarray, dict[str, Any]]:
    """Tonal, multiband and image stages on DC-blocked ``samples`` starting at ``start_frame``
    of the track; also the multiband stage's gain-reduction statistics."""
    y = apply_tonal(samples, rate, stages.tonal, start_frame=start_frame)
    y, stats = apply_multiband(
        y, rate, stages.multiband, start_frame=start_frame, return_stats=True
    )
    y = apply_image(y, rate, stages.image, start_frame=start_frame)
    return y, stats


def check_reference(reference: AudioBuffer) -> ReferenceTargets:
    """Measure a reference track given in memory."""
    if reference.frames < reference.sample_rate * 3:
        raise ParameterError(
            f"the reference track is {reference.duration_s:.1f} s long; it needs at least 3 s"
        )
    return analyse_reference(reference.samples, reference.sample_rate)


def stage_master(
    prepared: PreparedSource,
    settings: MasterSettings,
    *,
    reference: AudioBuffer | None = None,
    tonal_target_db: np.ndarray | None = None,
) -> Staged:
    """Plan every stage from the analysis, render up to the limiter, choose the gain.

    The gain comes from :func:`~soundry.engine.mastering.prediction.decide_gain` on the
    block statistics of the signal entering the limiter: the master and its previews share
    it, so a preview is the same span of the master.
    """
    analysis = prepared.analysis
    rate = analysis.sample_rate
    x = prepared.samples
    reference_targets = None if reference is None else check_reference(reference)
    own_width = None
    if reference_targets is not None and analysis.channels == 2:
        own_width = measure_width(x, rate)
    stages = plan_stages(
        analysis,
        settings,
        reference=reference_targets,
        own_width=own_width,
        tonal_target_db=tonal_target_db,
    )
    y, multiband_stats = render_pre_limiter(x, stages, rate)
    model = level_model(y, rate)
    decision = decide_gain(
        model,
        target_lufs=stages.target_lufs,
        ceiling_dbtp=settings.ceiling_dbtp,
        lookahead_ms=LIMITER_LOOKAHEAD_MS,
        release_ms=LIMITER_RELEASE_MS,
    )
    plan = MasterPlan(
        settings=settings,
        sample_rate=rate,
        target_lufs=stages.target_lufs,
        tonal=stages.tonal,
        multiband=stages.multiband,
        image=stages.image,
        gain_db=decision.gain_db,
        reference=reference_targets,
    )
    return Staged(plan, y, decision, multiband_stats, model.envelope)


def finish_master(staged: Staged) -> MasterRender:
    """Limit the staged signal at the chosen gain and measure the result.

    If the measured loudness misses the target by more than :data:`CORRECT_ABOVE_LU`
    (the prediction was off, and no limit on limiting stopped it on purpose), the closed loop
    of :func:`~soundry.engine.mastering.level.reach_loudness` corrects the gain; the report
    says so, since previews made with the predicted gain then differ by that much.
    """
    plan, y = staged.plan, staged.pre_limiter
    rate = plan.sample_rate
    settings = plan.settings
    decision = staged.decision
    if not math.isfinite(decision.predicted_lufs):
        level = reach_loudness(
            y, sample_rate=rate, target_lufs=plan.target_lufs, ceiling_dbtp=settings.ceiling_dbtp
        )
        return MasterRender(level.samples, level, staged.multiband_stats, plan)
    out, report = apply_level(
        y,
        sample_rate=rate,
        gain_db=plan.gain_db,
        ceiling_dbtp=settings.ceiling_dbtp,
        envelope=staged.envelope,
    )
    loudness = measure(out, rate)
    measured = loudness.integrated_lufs
    error = measured - plan.target_lufs
    if abs(error) > CORRECT_ABOVE_LU and not decision.note:
        level = reach_loudness(
            y, sample_rate=rate, target_lufs=plan.target_lufs, ceiling_dbtp=settings.ceiling_dbtp
        )
        corrected = dataclasses.replace(plan, gain_db=level.gain_db)
        note = (
            f"the predicted gain missed by {error:+.2f} LU; corrected by"
            f" {level.gain_db - plan.gain_db:+.2f} dB (previews used the prediction)"
        )
        level = dataclasses.replace(level, note=(level.note + "; " + note).strip("; "))
        return MasterRender(level.samples, level, staged.multiband_stats, corrected)
    reached = abs(error) <= REACHED_WITHIN_LU
    note = decision.note
    if not reached and not note:
        note = f"reached {measured:.2f} LUFS, not {plan.target_lufs:.2f}"
    level = LevelResult(
        out,
        plan.gain_db,
        measured,
        loudness.true_peak_dbtp,
        1,
        reached,
        note,
        report,
    )
    return MasterRender(out, level, staged.multiband_stats, plan, loudness)


def plan_master(
    audio: AudioBuffer,
    settings: MasterSettings,
    *,
    reference: AudioBuffer | None = None,
    tonal_target_db: np.ndarray | None = None,
) -> tuple[MasterPlan, MasterRender]:
    """Analyse ``audio``, decide every stage of its master and render it.

    Parameters
    ----------
    audio : AudioBuffer
        The mix, shape (channels, frames), any supported rate.
    settings : MasterSettings
        Loudness, ceiling, profile/style, intensity, stereo image, dynamics, reference blend.
    reference : AudioBuffer or None
        A finished master to move toward (tonal balance, loudness and width), by
        ``settings.reference_blend`` percent.
    tonal_target_db : np.ndarray [shape=(n_tonal_bands,)] or None
        A tonal balance to move toward instead of the profile's (album mode passes the
        album's common balance); ignored when ``reference`` is given.

    Returns
    -------
    plan : MasterPlan
        The decisions (with the gain actually used).
    render : MasterRender
        The master itself, with statistics.
    """
    staged = stage_master(
        prepare_source(audio), settings, reference=reference, tonal_target_db=tonal_target_db
    )
    render = finish_master(staged)
    return render.plan, render


def render_master(samples: np.ndarray, plan: MasterPlan, *, start_frame: int = 0) -> np.ndarray:
    """Apply ``plan`` to ``samples`` (the whole track, or a span starting at ``start_frame``).

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames)]
        Audio at ``plan.sample_rate``.
    plan : MasterPlan
        From :func:`plan_master`.
    start_frame : int
        Absolute frame of the track at which ``samples`` begins.

    Returns
    -------
    np.ndarray [shape=(channels, frames), dtype=float32]
    """
    rate = plan.sample_rate
    y, _ = render_pre_limiter(dc_block(samples, rate), plan, rate, start_frame=start_frame)
    out, _ = apply_level(
        y, sample_rate=rate, gain_db=plan.gain_db, ceiling_dbtp=plan.settings.ceiling_dbtp
    )
    return out


def render_excerpt(
    samples: np.ndarray, plan: MasterPlan, *, start_frame: int, stop_frame: int
) -> np.ndarray:
    """Render frames ``start_frame:stop_frame`` of the master without rendering the rest.

    Context of ``plan.preroll_frames`` on each side (where the track has it) lets every
    stage settle, so the result matches the same span of the full render.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames)]
        The whole track at ``plan.sample_rate``.
    plan : MasterPlan
    start_frame, stop_frame : int
        The span, in frames of the track.

    Returns
    -------
    np.ndarray [shape=(channels, stop_frame - start_frame), dtype=float32]
    """
    total = samples.shape[-1]
    if not 0 <= start_frame < stop_frame <= total:
        raise ParameterError(
            f"excerpt {start_frame}..{stop_frame} is not inside the track's {total} frames"
        )
    context = plan.preroll_frames
    first = max(0, start_frame - context)
    last = min(total, stop_frame + context)
    rendered = render_master(samples[:, first:last], plan, start_frame=first)
    return rendered[:, start_frame - first : stop_frame - first]
