"""Mastering: bring a stereo mix to a loudness target under a true-peak ceiling."""

from soundry.engine.mastering.level import LevelResult, reach_loudness

__all__ = ["LevelResult", "reach_loudness"]
