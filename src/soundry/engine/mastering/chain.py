"""The mastering chain: what a master decides, and the stages before its limiter.

Stages, in order::

    DC blocker -> dynamic tonal EQ -> multiband dynamics -> stereo image -> gain -> TP limiter

:func:`plan_stages` plans the tonal, multiband and image stages of one variant from the
track's analysis (:mod:`~soundry.engine.mastering.analysis`) alone;
:func:`render_pre_limiter` renders them on any span of the DC-blocked track, given the
plan's pre-roll around it. The decisions, with the gain, are a :class:`MasterPlan` (the
"settings" the report shows). :mod:`~soundry.engine.mastering.streamed` runs the chain over
a whole track, an excerpt, or a plan to re-apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from soundry.engine.mastering.analysis import (
    DC_BLOCK_HZ,
    SourceAnalysis,
)
from soundry.engine.mastering.image import (
    ImagePlan,
    apply_image,
    plan_image_from_spectra,
    usable_edges,
)
from soundry.engine.mastering.level import (
    LIMITER_LOOKAHEAD_MS,
    LIMITER_RELEASE_MS,
)
from soundry.engine.mastering.multiband import (
    CROSSOVER_HZ,
    MultibandPlan,
    apply_multiband,
    plan_multiband_from_powers,
)
from soundry.engine.mastering.prediction import (
    predict_band_powers,
    tonal_band_gains,
)
from soundry.engine.mastering.profiles import profile_for
from soundry.engine.mastering.reference import (
    ReferenceTargets,
    blend_loudness,
    blend_width,
)
from soundry.engine.mastering.settings import MasterSettings
from soundry.engine.mastering.tonal import TonalPlan, apply_tonal, plan_tonal_from_powers

__all__ = [
    "MasterPlan",
    "StagePlans",
    "plan_stages",
    "render_pre_limiter",
]


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
        """Frames of context a span of the pre-limiter stages needs before it to match the
        full render (they are causal: none after)."""
        return max(
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
    samples: np.ndarray,
    stages: StagePlans | MasterPlan,
    rate: int,
    *,
    start_frame: int = 0,
    stats_from_frame: int | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Tonal, multiband and image stages on DC-blocked ``samples`` starting at ``start_frame``
    of the track; also the multiband stage's gain-reduction statistics (of the frames from
    ``stats_from_frame`` on, when given: a chunk's pre-roll is not its own)."""
    y = apply_tonal(samples, rate, stages.tonal, start_frame=start_frame)
    y, stats = apply_multiband(
        y,
        rate,
        stages.multiband,
        start_frame=start_frame,
        return_stats=True,
        stats_from_frame=stats_from_frame,
    )
    y = apply_image(y, rate, stages.image, start_frame=start_frame)
    return y, stats
