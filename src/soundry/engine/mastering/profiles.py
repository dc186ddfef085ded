"""Tonal profiles a–n: target long-term spectral balances for the dynamic tonal stage.

A profile is a target *balance*, not an EQ: :mod:`soundry.engine.mastering.tonal` measures
the track's balance over time and moves it part of the way toward
``NEUTRAL_CURVE_DB + profile.target_curve_db``, so a track that already sounds like the
profile is left nearly alone and one that does not is nudged toward it.

Band layout
-----------
Ten octave bands centred on 31.25 Hz … 16 kHz (``1000 · 2**k``, ``k = -5 … 4``; the usual
nominal labels 31.5, 63, 125, 250, 500, 1k, 2k, 4k, 8k, 16k). A band spans its centre
/ √2 to its centre · √2, and its level is the energy (mean-square power) in that octave.

The neutral curve
-----------------
:data:`NEUTRAL_CURVE_DB` is the octave-band energy balance of a well-balanced modern master,
relative to its own mean level. It rests on two kinds of evidence:

* Literature: the long-term average spectrum (LTAS) of commercial popular music is stable
  within a genre and era and can serve as a target curve (Pestana et al., AES 135, 2013,
  who also found more low and high end in recent decades); Elowsson & Friberg (AES 142,
  2017) fitted the mean LTAS of a large pop set with a quadratic in log-frequency (a
  curve that is level in the bass and falls ever faster toward the top), whose slope
  depends on how loud the percussion is. A fall of about 3–6 dB per octave in band energy
  between 100 Hz and 10 kHz is the usual plausibility window.
* Measurement, with this package's own analysis: the three commercially produced tracks
  in the shared test data (a country-pop song, a hip-hop/electronic instrumental and a
  drum-and-bass track) average, relative to their weighted mean, about −1 / +10 / +10 /
  +7 / +3 / −2 / −7 / −8 / −9 / −13 dB in these ten bands.

The curve below smooths that average into the quadratic-like shape the literature
describes: level from 63 to 125 Hz, the sub octave about 7 dB under it, then about
−3.5 dB per octave from 250 Hz to 16 kHz. Those three tracks need corrections of at most a
few dB against it (see the tests), which is the calibration goal.

Profile curves are offsets from the neutral curve chosen to give each profile the
character the Dolby.io Music Mastering documentation describes (pop brightness, club low
end, hip-hop bass variants, …); the numbers are this project's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np

from soundry.errors import ParameterError

__all__ = [
    "BAND_WEIGHTS",
    "NEUTRAL_CURVE_DB",
    "PROFILES",
    "STYLES",
    "STYLE_PROFILES",
    "TONAL_BAND_CENTRES_HZ",
    "TonalProfile",
    "profile_for",
]

TONAL_BAND_CENTRES_HZ: np.ndarray = 1000.0 * 2.0 ** np.arange(-5, 5, dtype=np.float64)
"""Centres of the ten octave bands of the tonal stage, in Hz (31.25 … 16 000)."""
TONAL_BAND_CENTRES_HZ.flags.writeable = False

BAND_WEIGHTS: np.ndarray = np.array([0.25, 0.5, 1, 1, 1, 1, 1, 1, 0.5, 0.25], dtype=np.float64)
"""Weights of the bands when a balance is referred to its own mean level.

The outer octaves vary most between tracks (sub-bass, air), so they count less toward
"the overall level" a balance is measured against; they are still corrected."""
BAND_WEIGHTS.flags.writeable = False

NEUTRAL_CURVE_DB: np.ndarray = np.array(
    [2.0, 9.5, 9.5, 7.0, 3.0, -1.5, -5.5, -8.0, -10.0, -14.0], dtype=np.float64
)
"""Octave-band energy balance of a well-balanced modern master, in dB (see module notes)."""
NEUTRAL_CURVE_DB.flags.writeable = False

Dynamics = Literal["tight", "balanced", "wide"]
LowEndWidth = Literal["mono", "wide"]


def _curve(values: tuple[float, ...]) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    if arr.shape != TONAL_BAND_CENTRES_HZ.shape:
        raise ValueError(f"a profile curve needs {TONAL_BAND_CENTRES_HZ.size} values")
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class TonalProfile:
    """One mastering profile: a target tonal balance plus hints for the other stages.

    Attributes
    ----------
    name : str
        "a" … "n".
    description : str
        The character of the profile, in one sentence.
    suggested_use : str
        Genres it suits.
    target_curve_db : np.ndarray [shape=(10,), dtype=float64]
        Offsets in dB from :data:`NEUTRAL_CURVE_DB` at :data:`TONAL_BAND_CENTRES_HZ`; only
        their shape matters (a constant offset changes nothing).
    dynamics : {"tight", "balanced", "wide"}
        How firmly the multiband stage should hold the dynamics.
    low_end_width : {"mono", "wide"}
        Whether the stereo stage keeps the lows mono or lets them stay wide.
    max_boost_db, max_cut_db : float
        Largest boost and cut (positive dB) the tonal stage may make to pull the track's
        own balance toward the neutral curve; the profile's character is added on top.
    """

    name: str
    description: str
    suggested_use: str
    target_curve_db: np.ndarray = field(repr=False, compare=False)
    dynamics: Dynamics
    low_end_width: LowEndWidth
    max_boost_db: float
    max_cut_db: float

    def to_dict(self) -> dict[str, object]:
        """JSON-able summary (the curve as a list of floats)."""
        return {
            "name": self.name,
            "description": self.description,
            "suggested_use": self.suggested_use,
            "target_curve_db": [float(v) for v in self.target_curve_db],
            "dynamics": self.dynamics,
            "low_end_width": self.low_end_width,
            "max_boost_db": self.max_boost_db,
            "max_cut_db": self.max_cut_db,
        }


def _profile(
    name: str,
    description: str,
    suggested_use: str,
    curve: tuple[float, ...],
    dynamics: Dynamics,
    low_end_width: LowEndWidth = "mono",
    max_boost_db: float = 6.0,
    max_cut_db: float = 6.0,
) -> TonalProfile:
    return TonalProfile(
        name=name,
        description=description,
        suggested_use=suggested_use,
        target_curve_db=_curve(curve),
        dynamics=dynamics,
        low_end_width=low_end_width,
        max_boost_db=max_boost_db,
        max_cut_db=max_cut_db,
    )


# Bands:           31    63   125   250   500    1k    2k    4k    8k   16k
_PROFILE_LIST = (
    _profile(
        "a",
        "Tight dynamics and plenty of brightness in the upper frequencies.",
        "Pop",
        (0.0, 0.0, 0.0, -0.5, -0.5, 0.0, 0.5, 1.5, 3.0, 4.0),
        "tight",
    ),
    _profile(
        "b",
        "Tight dynamics, a solid low end and mid-frequency clarity for the vocal.",
        "Club, EDM",
        (1.5, 3.0, 1.5, -1.0, -1.0, 0.5, 2.0, 1.5, 0.0, 0.0),
        "tight",
    ),
    _profile(
        "c",
        "Big bass presence and tight dynamics.",
        "Hip hop",
        (2.0, 3.5, 2.5, 0.0, -0.5, -0.5, 0.0, 0.0, 0.0, 0.0),
        "tight",
    ),
    _profile(
        "d",
        "Heavy bass and sub-bass presence.",
        "Hip hop",
        (5.0, 4.0, 2.0, 0.0, -0.5, -0.5, -0.5, 0.0, 0.0, 0.0),
        "tight",
        max_boost_db=7.0,
    ),
    _profile(
        "e",
        "Big bass and sub-bass with extra openness in the mids and highs.",
        "Hip hop, trap",
        (4.0, 3.5, 1.5, -1.0, 0.0, 1.0, 1.5, 2.0, 2.5, 2.5),
        "tight",
        max_boost_db=7.0,
    ),
    _profile(
        "f",
        "Wide low-end processing with a light, ethereal tone (lifted highs).",
        "Lighter electronic, EDM",
        (0.5, 1.0, 0.0, -1.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0),
        "balanced",
        low_end_width="wide",
    ),
    _profile(
        "g",
        "Wide low-end processing with a dark, moody tone (tamed highs).",
        "Darker electronic, EDM",
        (1.5, 2.0, 1.0, 0.5, 0.0, -0.5, -1.5, -2.5, -3.5, -4.0),
        "balanced",
        low_end_width="wide",
    ),
    _profile(
        "h",
        "Wide dynamics and open mids and highs for a wide spectrum of sound.",
        "Electronic, EDM",
        (0.0, 0.0, -0.5, -1.0, 0.0, 1.0, 2.0, 2.0, 2.0, 2.0),
        "wide",
    ),
    _profile(
        "i",
        "Tight dynamics and a well-rounded, balanced tone (the neutral curve itself).",
        "Pop, rock, country",
        (0.0,) * 10,
        "tight",
    ),
    _profile(
        "j",
        "Smooth, tight dynamics with a light lift in the upper frequencies.",
        "Rock, country",
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.5, 0.5, 1.5, 2.0),
        "tight",
    ),
    _profile(
        "k",
        "Wide dynamics with a solid low and low-mid boost.",
        "Pop",
        (1.0, 2.5, 2.5, 2.0, 0.5, 0.0, -0.5, -0.5, 0.0, 0.0),
        "wide",
    ),
    _profile(
        "l",
        "Emphasis on the mid frequencies to bring vocals forward.",
        "Vocal",
        (-1.5, -1.5, -1.0, 0.0, 1.5, 2.5, 2.5, 1.0, -0.5, -1.0),
        "balanced",
    ),
    _profile(
        "m",
        "A light touch with mid-frequency clarity so acoustic instruments shine.",
        "Folk, acoustic",
        (-1.0, -1.0, -0.5, -0.5, 0.5, 1.5, 1.5, 0.5, 0.0, 0.0),
        "balanced",
        max_boost_db=3.0,
        max_cut_db=3.0,
    ),
    _profile(
        "n",
        "Wide dynamics and warm, full tones for orchestral instruments.",
        "Classical",
        # Orchestral recordings carry far less sub-bass than a pop master: the sub octaves
        # sit under neutral so the warmth comes from the low mids, not from rumble.
        (-3.0, -1.5, 0.5, 2.0, 1.5, 0.0, -0.5, -1.0, -1.5, -2.0),
        "wide",
        max_boost_db=4.0,
        max_cut_db=4.0,
    ),
)

PROFILES: Mapping[str, TonalProfile] = MappingProxyType({p.name: p for p in _PROFILE_LIST})
"""The fourteen profiles, keyed "a" … "n"."""

STYLES = (
    "POP",
    "ROCK_INDIE",
    "ACOUSTIC",
    "HIPHOP_GRIME",
    "ELECTRONIC",
    "REGGAE_DUB",
    "ORCHESTRAL",
    "METAL",
    "OTHER",
)
"""RoEx Tonn's musical styles."""

STYLE_PROFILES: Mapping[str, str] = MappingProxyType(
    {
        "POP": "a",  # bright, tight pop
        "ROCK_INDIE": "j",  # tight with a light top lift, without pop's brightness
        "ACOUSTIC": "m",  # light touch, mid clarity
        "HIPHOP_GRIME": "c",  # big bass without d's sub push, which grime rarely wants
        # Most electronic music Tonn sees is dance music: b's solid low end and tight
        # dynamics suit it better than f's lifted, airy top.
        "ELECTRONIC": "b",
        "REGGAE_DUB": "d",  # dub lives in the sub-bass
        "ORCHESTRAL": "n",
        # Metal is already dense and bright; more top would be harsh, so stay neutral.
        "METAL": "i",
        "OTHER": "i",
    }
)
"""Tonn musical style → profile name."""


def profile_for(profile: str | None, style: str | None = None) -> TonalProfile | None:
    """Resolve a profile name or a Tonn style to a :class:`TonalProfile`.

    Parameters
    ----------
    profile : str or None
        "a" … "n", any case. Wins over ``style`` when both are given.
    style : str or None
        One of :data:`STYLES`, any case.

    Returns
    -------
    TonalProfile or None
        None when neither is given (no tonal processing).

    Raises
    ------
    ParameterError
        For an unknown profile or style; the message lists the allowed values.
    """
    if profile is not None:
        key = str(profile).strip().lower()
        if key not in PROFILES:
            raise ParameterError(
                f"unknown profile {profile!r}; allowed: {', '.join(PROFILES)} (or none)"
            )
        return PROFILES[key]
    if style is not None:
        key = str(style).strip().upper()
        if key not in STYLE_PROFILES:
            raise ParameterError(f"unknown style {style!r}; allowed: {', '.join(STYLES)} (or none)")
        return PROFILES[STYLE_PROFILES[key]]
    return None
