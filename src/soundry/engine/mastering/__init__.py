"""Mastering: loudness-accurate masters with tonal profiles, stereo image, previews,
reference matching and album mode."""

from soundry.engine.mastering.album import AlbumResult, master_album
from soundry.engine.mastering.chain import MasterPlan, plan_master, render_master
from soundry.engine.mastering.level import LevelResult, reach_loudness
from soundry.engine.mastering.master import master
from soundry.engine.mastering.previews import Preview, master_previews
from soundry.engine.mastering.report import MasterReport
from soundry.engine.mastering.settings import LOUDNESS_PRESETS_LUFS, MasterSettings

__all__ = [
    "LOUDNESS_PRESETS_LUFS",
    "AlbumResult",
    "LevelResult",
    "MasterPlan",
    "MasterReport",
    "MasterSettings",
    "Preview",
    "master",
    "master_album",
    "master_previews",
    "plan_master",
    "reach_loudness",
    "render_master",
]
