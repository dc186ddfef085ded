"""What a master should be: loudness, ceiling, tone, image, reference blend.

One frozen, validated settings object serves every door: the CLI's flags, the Tonn
``desiredLoudness``/``musicalStyle`` fields and the Dolby ``dynamic_eq``/``loudness``/
``stereo_image`` blocks all map onto :class:`MasterSettings`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from soundry.engine.mastering.profiles import PROFILES, STYLES
from soundry.errors import ParameterError

__all__ = [
    "LOUDNESS_PRESETS_LUFS",
    "MAX_TARGET_LUFS",
    "MIN_TARGET_LUFS",
    "MUSICAL_STYLES",
    "PROFILE_NAMES",
    "MasterSettings",
    "resolve_loudness",
]

MIN_TARGET_LUFS = -24.0
MAX_TARGET_LUFS = -6.0
MIN_CEILING_DBTP = -9.0
MAX_CEILING_DBTP = 0.0

# Tonn's loudness presets ("without clipping"), with the aliases its tutorials use.
LOUDNESS_PRESETS_LUFS: Mapping[str, float] = {
    "LOW": -16.0,
    "MEDIUM": -14.0,
    "HIGH": -10.0,
    "QUIET": -16.0,
    "LOUD": -10.0,
}
MUSICAL_STYLES = STYLES
PROFILE_NAMES = tuple(PROFILES)


def resolve_loudness(value: float | str) -> float:
    """A loudness target in LUFS from a number or a preset name (LOW, MEDIUM, HIGH).

    Raises
    ------
    ParameterError
        For an unknown preset or a number outside -24..-6 LUFS.
    """
    if isinstance(value, str):
        key = value.strip().upper()
        if key in LOUDNESS_PRESETS_LUFS:
            return LOUDNESS_PRESETS_LUFS[key]
        try:
            value = float(key)
        except ValueError:
            raise ParameterError(
                f"loudness must be a number of LUFS from {MIN_TARGET_LUFS:g} to "
                f"{MAX_TARGET_LUFS:g} or one of LOW, MEDIUM, HIGH; got {value!r}"
            ) from None
    target = float(value)
    if not (math.isfinite(target) and MIN_TARGET_LUFS <= target <= MAX_TARGET_LUFS):
        raise ParameterError(
            f"target loudness must be from {MIN_TARGET_LUFS:g} to {MAX_TARGET_LUFS:g} LUFS;"
            f" got {value}"
        )
    return target


@dataclass(frozen=True)
class MasterSettings:
    """Mastering settings, validated on construction.

    Attributes
    ----------
    target_lufs : float
        Integrated loudness of the master, -24 to -6 LUFS (presets: LOW -16, MEDIUM -14,
        HIGH -10).
    ceiling_dbtp : float
        Highest true peak allowed, -9 to 0 dBTP.
    profile : str or None
        Tonal profile "a".."n" (Dolby's dynamic EQ presets); None with no style = no tonal
        shaping.
    intensity : float
        How much of the tonal adjustment is applied, 0 (none) to 100 (all).
    style : str or None
        Tonn musical style (POP, ROCK_INDIE, ...); picks a profile when ``profile`` is None.
    stereo_image : bool
        Per-band stereo width balancing (off by default).
    dynamics : bool
        Gentle multiband dynamics control (on by default).
    reference_blend : float
        With a reference track, how far to move toward it, 0 to 100.
    """

    target_lufs: float = -14.0
    ceiling_dbtp: float = -1.0
    profile: str | None = None
    intensity: float = 100.0
    style: str | None = None
    stereo_image: bool = False
    dynamics: bool = True
    reference_blend: float = 100.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "target_lufs", resolve_loudness(self.target_lufs))
        ceiling = float(self.ceiling_dbtp)
        if not (math.isfinite(ceiling) and MIN_CEILING_DBTP <= ceiling <= MAX_CEILING_DBTP):
            raise ParameterError(
                f"ceiling_dbtp must be from {MIN_CEILING_DBTP:g} to {MAX_CEILING_DBTP:g} dBTP;"
                f" got {self.ceiling_dbtp}"
            )
        object.__setattr__(self, "ceiling_dbtp", ceiling)
        if self.profile is not None:
            name = str(self.profile).strip().lower()
            if name not in PROFILE_NAMES:
                raise ParameterError(f"profile must be one of a..n; got {self.profile!r}")
            object.__setattr__(self, "profile", name)
        if self.style is not None:
            style = str(self.style).strip().upper()
            if style not in MUSICAL_STYLES:
                raise ParameterError(
                    f"style must be one of {', '.join(MUSICAL_STYLES)}; got {self.style!r}"
                )
            object.__setattr__(self, "style", style)
        for name in ("intensity", "reference_blend"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and 0.0 <= value <= 100.0):
                raise ParameterError(f"{name} must be from 0 to 100; got {getattr(self, name)}")
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MasterSettings:
        """Settings from a dict such as :meth:`to_dict` gives; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ParameterError(
                f"unknown mastering setting(s): {', '.join(unknown)};"
                f" known: {', '.join(sorted(known))}"
            )
        return cls(**dict(data))
