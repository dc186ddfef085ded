"""The mastering report: what the source was, what changed, and the settings that did it.

It carries the Dolby preview metrics (media info, loudness, 16 EQ band levels, stereo image)
and more (LRA and peaks before and after, gain reduction, whether the target was reached).
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from soundry.dsp.loudness import LoudnessReport
from soundry.dsp.spectrum import band_edges_hz
from soundry.engine.mastering.chain import MasterPlan
from soundry.engine.mastering.meter import EQ_BANDS, TrackMeter
from soundry.engine.mastering.streamed import REACHED_WITHIN_LU, Staged, StreamedMaster

__all__ = ["EQ_BANDS", "MasterReport", "snapshot"]


def _json_safe(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, np.ndarray):
        return [_json_safe(item) for item in value.tolist()]
    if isinstance(value, np.integer):
        return int(value)
    return value


def _target(plan: MasterPlan, measured: float, *, reached: bool, note: str) -> dict[str, Any]:
    """The report's ``target`` block: what was asked and what the master measures."""
    out: dict[str, Any] = _json_safe(
        {
            "target_lufs": plan.target_lufs,
            "ceiling_dbtp": plan.settings.ceiling_dbtp,
            "reached": reached,
            "integrated_lufs": measured,
            "loudness_error_lu": measured - plan.target_lufs,
            "note": note,
        }
    )
    return out


def band_centres_hz() -> list[float]:
    """Geometric centres of the report's 16 log-spaced EQ bands (20 Hz to 20 kHz)."""
    edges = band_edges_hz(EQ_BANDS)
    return [float(np.sqrt(lo * hi)) for lo, hi in itertools.pairwise(edges)]


def snapshot(
    samples: np.ndarray, sample_rate: int, *, loudness: LoudnessReport | None = None
) -> dict[str, Any]:
    """Loudness, EQ band levels and stereo width of ``samples`` as a JSON-ready dict: what
    a :class:`~soundry.engine.mastering.meter.TrackMeter` fed the whole array reads.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames)]
    sample_rate : int
        Hz.
    loudness : LoudnessReport or None
        :func:`~soundry.dsp.loudness.measure` of ``samples``, if already made.
    """
    data = np.ascontiguousarray(np.atleast_2d(samples), dtype=np.float32)
    meter = TrackMeter(sample_rate, data.shape[0], data.shape[1])
    meter.add(data, 0, 0, data.shape[1])
    out: dict[str, Any] = _json_safe(meter.snapshot(loudness))
    return out


@dataclass(frozen=True)
class MasterReport:
    """Everything a user or a vendor dialect needs to know about one master.

    Use :meth:`to_dict` (JSON-ready) or :meth:`to_json`.
    """

    media_info: dict[str, Any] | None
    before: dict[str, Any]
    after: dict[str, Any]
    gain_reduction: dict[str, Any]
    settings: dict[str, Any]
    target: dict[str, Any]
    excerpt: dict[str, Any] | None = field(default=None)

    @classmethod
    def for_excerpt(
        cls,
        staged: Staged,
        clip: np.ndarray,
        *,
        media_info: dict[str, Any] | None,
        before: dict[str, Any],
        limiter: dict[str, Any],
        excerpt: dict[str, Any],
    ) -> MasterReport:
        """The report of a preview: ``clip`` is the master's span ``excerpt`` and ``before``
        the same span of the source. The target is the whole track's: the gain was decided
        for it, and the loudness it predicted is reported."""
        plan, decision = staged.plan, staged.decision
        predicted = decision.predicted_lufs
        return cls(
            media_info=media_info,
            before=before,
            after=snapshot(clip, plan.sample_rate),
            gain_reduction=_json_safe({"limiter": limiter, "multiband": staged.multiband_stats}),
            settings=_json_safe(plan.to_dict()),
            target=_target(
                plan,
                predicted,
                reached=abs(predicted - plan.target_lufs) <= REACHED_WITHIN_LU,
                note=decision.note,
            ),
            excerpt=excerpt,
        )

    @classmethod
    def from_streamed(
        cls, streamed: StreamedMaster, media_info: dict[str, Any] | None
    ) -> MasterReport:
        """The report of a master made by
        :func:`~soundry.engine.mastering.streamed.master_source`."""
        plan = streamed.plan
        measured = streamed.loudness.integrated_lufs
        return cls(
            media_info=media_info,
            before=_json_safe(streamed.before),
            after=_json_safe(streamed.after),
            gain_reduction=_json_safe(
                {"limiter": streamed.limiter, "multiband": streamed.multiband_stats}
            ),
            settings=_json_safe(plan.to_dict()),
            target=_target(plan, measured, reached=streamed.reached, note=streamed.note),
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict."""
        return {
            "media_info": self.media_info,
            "eq_band_centres_hz": band_centres_hz(),
            "before": self.before,
            "after": self.after,
            "gain_reduction": self.gain_reduction,
            "settings": self.settings,
            "target": self.target,
            "excerpt": self.excerpt,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent)
