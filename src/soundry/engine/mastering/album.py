"""Album mode: master several tracks so that they sit together.

Each track is moved toward one tonal balance common to the album, and toward one loudness
while keeping part of its own character: a ballad may stay a little quieter than the single,
by ``keep_relative`` of its original difference and at most ``max_offset_lu``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from soundry.audio.buffer import AudioBuffer
from soundry.dsp.loudness import integrated_loudness
from soundry.engine.mastering.master import prepare_input
from soundry.engine.mastering.profiles import profile_for
from soundry.engine.mastering.report import MasterReport
from soundry.engine.mastering.settings import MAX_TARGET_LUFS, MIN_TARGET_LUFS, MasterSettings
from soundry.engine.mastering.streamed import master_buffer
from soundry.engine.mastering.tonal import measure_balance_db
from soundry.errors import ParameterError

__all__ = ["AlbumResult", "master_album"]

MAX_ALBUM_TRACKS = 40


@dataclass(frozen=True)
class AlbumResult:
    """The mastered tracks, their reports, and what album mode did to each."""

    tracks: list[AudioBuffer]
    reports: list[MasterReport]
    summary: dict[str, Any]


def master_album(
    tracks: Sequence[AudioBuffer],
    settings: MasterSettings,
    *,
    keep_relative: float = 0.5,
    max_offset_lu: float = 3.0,
    sample_rate: int | None = None,
    workers: int | None = None,
) -> AlbumResult:
    """Master ``tracks`` as one album.

    Parameters
    ----------
    tracks : sequence of AudioBuffer
        2 to 40 mixes, mono or stereo.
    settings : MasterSettings
        Shared settings; ``target_lufs`` is the album's loudness (its loudest tracks land
        there or close to it).
    keep_relative : float
        Share (0-1) of each track's original loudness difference from the album mean kept.
    max_offset_lu : float
        Largest loudness offset from the album target any track keeps, LU.
    sample_rate : int or None
        Output rate for every track, Hz.
    workers : int or None
        Tracks mastered at once, in threads; default one per CPU core.

    Returns
    -------
    AlbumResult
        ``summary`` holds per-track target, gain and tonal adjustment, and the loudness and
        tonal spread across the album before and after.
    """
    if not 2 <= len(tracks) <= MAX_ALBUM_TRACKS:
        raise ParameterError(f"album mode takes 2 to {MAX_ALBUM_TRACKS} tracks; got {len(tracks)}")
    if not 0.0 <= keep_relative <= 1.0:
        raise ParameterError(f"keep_relative must be from 0 to 1; got {keep_relative}")
    sources = [prepare_input(track, sample_rate=sample_rate) for track in tracks]
    loudness = np.array([integrated_loudness(t.samples, t.sample_rate) for t in sources])
    if not np.all(np.isfinite(loudness)):
        silent = [i + 1 for i in np.flatnonzero(~np.isfinite(loudness))]
        raise ParameterError(f"album track(s) {silent} are silent; remove them and try again")
    curves = np.array([measure_balance_db(t.samples, t.sample_rate) for t in sources])
    album_curve = curves.mean(axis=0)
    profile = profile_for(settings.profile, settings.style)
    if profile is not None:
        album_curve = album_curve + settings.intensity / 100.0 * np.asarray(profile.target_curve_db)
    # Offsets are relative to the loudest tracks, so the album's loud end meets the target.
    relative = loudness - loudness.max()
    offsets = np.clip(keep_relative * relative, -max_offset_lu, 0.0)

    def one(index: int) -> tuple[MasterReport, AudioBuffer, dict[str, Any]]:
        track = sources[index]
        target = float(
            np.clip(settings.target_lufs + offsets[index], MIN_TARGET_LUFS, MAX_TARGET_LUFS)
        )
        mastered, streamed = master_buffer(
            track, replace(settings, target_lufs=target), tonal_target_db=album_curve
        )
        media_info = None if track.source is None else track.source.to_dict()
        report = MasterReport.from_streamed(streamed, media_info)
        facts = {
            "index": index,
            "loudness_before_lufs": float(loudness[index]),
            "target_lufs": target,
            "loudness_after_lufs": streamed.loudness.integrated_lufs,
            "gain_db": streamed.plan.gain_db,
            "tonal_adjustment_db": (album_curve - curves[index]).round(2).tolist(),
        }
        return report, mastered, facts

    count = min(len(sources), workers or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="soundry-album") as pool:
        results = list(pool.map(one, range(len(sources))))
    reports = [report for report, _, _ in results]
    outputs = [audio for _, audio, _ in results]
    per_track = [facts for _, _, facts in results]
    after_curves = np.array([measure_balance_db(o.samples, o.sample_rate) for o in outputs])
    after_loudness = np.array([entry["loudness_after_lufs"] for entry in per_track])
    summary = {
        "tracks": per_track,
        "album_curve_db": album_curve.round(2).tolist(),
        "loudness_spread_lu": {
            "before": float(np.ptp(loudness)),
            "after": float(np.ptp(after_loudness)),
        },
        "tonal_spread_db": {
            "before": float(curves.std(axis=0).mean()),
            "after": float(after_curves.std(axis=0).mean()),
        },
    }
    return AlbumResult(outputs, reports, summary)
