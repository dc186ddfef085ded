"""Mastering: loudness-accurate masters with tonal profiles, stereo image, previews,
reference matching and album mode."""

from soundry.engine.mastering.album import AlbumResult, master_album
from soundry.engine.mastering.chain import MasterPlan
from soundry.engine.mastering.master import master
from soundry.engine.mastering.previews import Preview, master_previews
from soundry.engine.mastering.report import MasterReport
from soundry.engine.mastering.settings import LOUDNESS_PRESETS_LUFS, MasterSettings
from soundry.engine.mastering.streamed import render_excerpt, render_master

__all__ = [
    "LOUDNESS_PRESETS_LUFS",
    "AlbumResult",
    "MasterPlan",
    "MasterReport",
    "MasterSettings",
    "Preview",
    "master",
    "master_album",
    "master_previews",
    "render_excerpt",
    "render_master",
]
