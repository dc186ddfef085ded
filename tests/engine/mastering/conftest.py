"""Fixtures for mastering tests: real music from ../shared when present, generated otherwise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from soundry.audio import AudioBuffer, decode
from soundry.audio.synth import demo_song

MUSIC = "music/librosa-data"


@pytest.fixture(scope="session")
def song() -> AudioBuffer:
    """25 s of generated music (drums, bass, chords, melody) at about -19 LUFS."""
    return demo_song(duration_s=25.0, seed=11)


@pytest.fixture(scope="session")
def real_music(shared_data: Path) -> AudioBuffer:
    """40 s of Vibe Ace (CC-BY, ../shared/data), a real mixed recording."""
    audio = decode(shared_data / MUSIC / "Kevin_MacLeod_-_Vibe_Ace.hq.ogg")
    start = 20 * audio.sample_rate
    return audio.with_samples(audio.samples[:, start : start + 40 * audio.sample_rate])


@pytest.fixture(scope="session")
def classical(shared_data: Path) -> AudioBuffer:
    """30 s of the Hungarian Dance string orchestra (public domain), quiet and dynamic."""
    audio = decode(
        shared_data
        / MUSIC
        / "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).hq.ogg"
    )
    return audio.with_samples(audio.samples[:, : 30 * audio.sample_rate])


def relative_bands(levels_db: list[float] | np.ndarray) -> np.ndarray:
    """Band levels with their mean removed: the tonal balance, whatever the loudness."""
    levels = np.asarray(levels_db, dtype=float)
    return levels - levels.mean()
