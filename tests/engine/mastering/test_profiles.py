"""Profiles a–n, Tonn styles and the neutral curve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soundry.audio import decode
from soundry.engine.mastering.profiles import (
    NEUTRAL_CURVE_DB,
    PROFILES,
    STYLE_PROFILES,
    STYLES,
    TONAL_BAND_CENTRES_HZ,
    TonalProfile,
    profile_for,
)
from soundry.engine.mastering.tonal import plan_tonal
from soundry.errors import ParameterError

TONN_STYLES = {
    "POP",
    "ROCK_INDIE",
    "ACOUSTIC",
    "HIPHOP_GRIME",
    "ELECTRONIC",
    "REGGAE_DUB",
    "ORCHESTRAL",
    "METAL",
    "OTHER",
}


def _at(curve: np.ndarray, *freqs_hz: float) -> float:
    """Mean of a band curve at the given band centres."""
    idx = [int(np.flatnonzero(np.isclose(TONAL_BAND_CENTRES_HZ, f))[0]) for f in freqs_hz]
    return float(np.mean(curve[idx]))


def test_fourteen_profiles_named_a_to_n() -> None:
    assert list(PROFILES) == [chr(c) for c in range(ord("a"), ord("n") + 1)]
    for key, prof in PROFILES.items():
        assert isinstance(prof, TonalProfile)
        assert prof.name == key
        assert prof.description and prof.suggested_use
        assert prof.target_curve_db.shape == TONAL_BAND_CENTRES_HZ.shape
        assert np.isfinite(prof.target_curve_db).all()
        assert prof.dynamics in {"tight", "balanced", "wide"}
        assert prof.low_end_width in {"mono", "wide"}
        assert 0 < prof.max_boost_db <= 12 and 0 < prof.max_cut_db <= 12
        assert not prof.target_curve_db.flags.writeable
        assert prof.to_dict()["name"] == key


def test_band_layout_is_octaves_from_31_hz_to_16_khz() -> None:
    assert TONAL_BAND_CENTRES_HZ.size == 10
    np.testing.assert_allclose(TONAL_BAND_CENTRES_HZ[0], 31.25)
    np.testing.assert_allclose(TONAL_BAND_CENTRES_HZ[-1], 16_000.0)
    np.testing.assert_allclose(np.diff(np.log2(TONAL_BAND_CENTRES_HZ)), 1.0)


def test_neutral_curve_tilt_is_in_the_literature_window() -> None:
    # Spectral tilt: slope of band energy against log2(f) from 100 Hz to 10 kHz; commercial
    # music falls about 3 to 6 dB per octave.
    inside = (TONAL_BAND_CENTRES_HZ >= 100) & (TONAL_BAND_CENTRES_HZ <= 10_000)
    slope = np.polyfit(np.log2(TONAL_BAND_CENTRES_HZ[inside]), NEUTRAL_CURVE_DB[inside], 1)[0]
    assert -6.0 <= slope <= -3.0
    # The sub octave sits under the bass octave.
    assert NEUTRAL_CURVE_DB[0] < NEUTRAL_CURVE_DB[1]


COMMERCIAL = [
    "Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg",
    "Kevin_MacLeod_-_Vibe_Ace.hq.ogg",
    "admiralbob77_-_Choice_-_Drum-bass.hq.ogg",
]
OTHER_RECORDINGS = [
    "147793__setuniman__sweet-waltz-0i-22mi.hq.ogg",
    "442789__lena-orsa__happy-music-pistachio-ice-cream-ragtime.hq.ogg",
    "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).hq.ogg",
    "sorohanro_-_solo-trumpet-06.hq.ogg",
]


def _mean_correction_db(shared_data: Path, name: str) -> float:
    """Mean over bands of |time-averaged correction| that the balanced profile plans."""
    audio = decode(shared_data / "music" / "librosa-data" / name)
    x = audio.samples[:, : 60 * audio.sample_rate]
    gains = plan_tonal(x, audio.sample_rate, profile=PROFILES["i"]).gains_db
    return float(np.abs(gains.mean(axis=0)).mean())


def test_neutral_curve_fits_commercial_masters(shared_data: Path) -> None:
    # Calibration: commercially produced tracks need little correction toward neutral,
    # less than solo, orchestral and home recordings do.
    commercial = [_mean_correction_db(shared_data, n) for n in COMMERCIAL]
    other = [_mean_correction_db(shared_data, n) for n in OTHER_RECORDINGS]
    assert max(commercial) <= 2.5, commercial
    assert np.mean(commercial) < np.mean(other) - 0.5, (commercial, other)


def test_profile_curves_have_their_documented_character() -> None:
    p = {k: v.target_curve_db for k, v in PROFILES.items()}
    assert _at(p["a"], 8000, 16000) - _at(p["a"], 500, 1000) >= 3.0  # bright top
    assert _at(p["b"], 62.5) > _at(p["b"], 500) and _at(p["b"], 2000) > _at(p["b"], 500)
    assert _at(p["c"], 62.5) - _at(p["c"], 1000) >= 3.0  # big bass
    assert _at(p["d"], 31.25) > _at(p["c"], 31.25) + 2.0  # sub-bass beyond c
    assert _at(p["e"], 31.25) >= 3.0 and _at(p["e"], 4000, 8000) > _at(p["e"], 250)
    assert _at(p["f"], 8000, 16000) - _at(p["g"], 8000, 16000) >= 5.0  # light vs dark
    assert PROFILES["f"].low_end_width == PROFILES["g"].low_end_width == "wide"
    assert _at(p["h"], 2000, 4000) > _at(p["h"], 250)
    assert PROFILES["h"].dynamics == PROFILES["k"].dynamics == PROFILES["n"].dynamics == "wide"
    assert not np.any(p["i"])  # balanced = the neutral curve itself
    assert _at(p["j"], 8000, 16000) > _at(p["j"], 1000)
    assert _at(p["k"], 62.5, 125, 250) > _at(p["k"], 2000, 4000) + 2.0
    assert _at(p["l"], 1000, 2000) > _at(p["l"], 62.5) + 3.0
    assert _at(p["l"], 1000, 2000) > _at(p["l"], 16000) + 3.0
    assert _at(p["m"], 1000, 2000) > _at(p["m"], 62.5)
    assert PROFILES["m"].max_boost_db < PROFILES["a"].max_boost_db  # light touch
    assert _at(p["n"], 250, 500) > _at(p["n"], 2000) and _at(p["n"], 8000, 16000) < 0
    for name in "abcdeijk":
        assert PROFILES[name].low_end_width == "mono"
    for name in "abcdij":
        assert PROFILES[name].dynamics == "tight"


def test_styles_cover_tonn_and_map_to_profiles() -> None:
    assert set(STYLE_PROFILES) == TONN_STYLES == set(STYLES)
    assert all(v in PROFILES for v in STYLE_PROFILES.values())
    assert STYLE_PROFILES["POP"] == "a"
    assert STYLE_PROFILES["ORCHESTRAL"] == "n"
    assert STYLE_PROFILES["ACOUSTIC"] == "m"


@pytest.mark.parametrize(
    ("profile", "style", "expected"),
    [
        ("a", None, "a"),
        ("N", None, "n"),
        (" c ", None, "c"),
        (None, "pop", "a"),
        (None, "HipHop_Grime", "c"),
        ("g", "POP", "g"),  # the profile wins
        (None, None, None),
    ],
)
def test_profile_for_resolves(profile: str | None, style: str | None, expected: str | None) -> None:
    got = profile_for(profile, style)
    assert (got.name if got is not None else None) == expected


def test_profile_for_rejects_unknown_profile_listing_allowed() -> None:
    with pytest.raises(ParameterError, match=r"'z'.*a, b, c, d, e, f, g, h, i, j, k, l, m, n"):
        profile_for("z", None)


def test_profile_for_rejects_unknown_style_listing_allowed() -> None:
    with pytest.raises(ParameterError, match=r"'JAZZ'.*POP.*ROCK_INDIE.*OTHER"):
        profile_for(None, "JAZZ")
