"""A generated song whose loud and quiet sections play the same music (nothing read from disk).

Sections alternate loud and quiet (10 dB apart) over the same four-bar phrase: a chord
per bar, struck on every beat with a short noise attack. The similarity is built the way
a chroma-led analysis hears the song, from the chord and the beat's place in the bar, so
it cannot tell a loud section from a quiet one: a resize that reads only the similarity
cuts between them freely, and only the audio's levels show which cuts jump in loudness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soundry.audio import AudioBuffer

RATE = 44_100
BEAT_S = 0.5
SECTION_BEATS = 16  # one four-bar phrase
QUIET_DB = -10.0
_ROOTS_HZ = (220.0, 174.61, 261.63, 196.0)  # one chord per bar


@dataclass(frozen=True, eq=False)
class LoudQuietSong:
    """The audio, its exact beats and the similarity a chroma-led analysis would give."""

    audio: AudioBuffer
    boundaries_s: np.ndarray
    similarity: np.ndarray

    @property
    def duration_s(self) -> float:
        return self.audio.duration_s


def loud_quiet_song(form: str = "LQLQLQLQ", *, seed: int = 3) -> LoudQuietSong:
    """Sections of one phrase each, ``L`` at full level and ``Q`` at :data:`QUIET_DB`."""
    rng = np.random.default_rng(seed)
    n = len(form) * SECTION_BEATS
    boundaries_s = np.arange(n) * BEAT_S
    x = np.zeros(round((n * BEAT_S + 1.0) * RATE))
    ring = round(0.45 * RATE)
    t = np.arange(ring) / RATE
    for i in range(n):
        gain = 10.0 ** ((QUIET_DB if form[i // SECTION_BEATS] == "Q" else 0.0) / 20.0)
        root = _ROOTS_HZ[(i // 4) % 4]
        tone = sum(
            np.sin(2 * np.pi * root * k * t + rng.uniform(0.0, 2 * np.pi)) / k for k in range(1, 5)
        )
        attack = rng.standard_normal(ring) * np.exp(-t / 0.008)
        start = round(boundaries_s[i] * RATE)
        x[start : start + ring] += gain * (0.2 * tone * np.exp(-t / 0.15) + 0.3 * attack)
    audio = AudioBuffer(np.stack([x, 0.95 * x]).astype(np.float32), RATE)
    chords = rng.standard_normal((4, 24))
    pattern = rng.standard_normal((4, 24))
    beats = np.arange(n)
    features = chords[(beats // 4) % 4] + 0.6 * pattern[beats % 4]
    features += 0.05 * rng.standard_normal(features.shape)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    similarity = np.clip((features @ features.T + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)
    np.fill_diagonal(similarity, 1.0)
    return LoudQuietSong(audio=audio, boundaries_s=boundaries_s, similarity=similarity)
