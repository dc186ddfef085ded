"""Synthetic music with known structure, for the demo, tests and benchmarks.

Nothing here is meant to sound good; it is meant to be *known*: a fixed tempo and meter,
drums on the beats, a bass line, chords and a melody, so that loudness, beat and mixing code
can be checked against what was put in.
"""

from __future__ import annotations

import numpy as np

from soundry.audio.buffer import AudioBuffer
from soundry.errors import ParameterError

__all__ = ["demo_song"]

# A I-V-vi-IV progression in A major (Hz of the chord tones), one chord per bar.
_CHORDS_HZ = (
    (220.00, 277.18, 329.63),
    (164.81, 207.65, 246.94),
    (185.00, 220.00, 277.18),
    (146.83, 185.00, 220.00),
)
_MELODY_STEPS = (0, 2, 4, 7, 9, 7, 4, 2)  # semitones above A4, one note per beat


def demo_song(
    *,
    duration_s: float = 20.0,
    sample_rate: int = 44_100,
    tempo_bpm: float = 120.0,
    beats_per_bar: int = 4,
    seed: int = 0,
) -> AudioBuffer:
    """Render a short stereo song with drums, bass, chords and a melody.

    Parameters
    ----------
    duration_s : float
        Length in seconds (0.5 to 600).
    sample_rate : int
        Sample rate in Hz.
    tempo_bpm : float
        Tempo in beats per minute; kick on every downbeat and mid-bar, snare on the
        backbeats, hi-hat on every eighth.
    beats_per_bar : int
        Meter (beats per bar).
    seed : int
        Seed for the noise in the drums: the same arguments give the same samples.

    Returns
    -------
    AudioBuffer
        Float32 stereo, shape (2, round(duration_s * sample_rate)), peaking near -6 dBFS,
        integrated loudness roughly -20 LUFS.
    """
    if not 0.5 <= duration_s <= 600:
        raise ParameterError(f"duration_s must be from 0.5 to 600 s; got {duration_s}")
    if not 30 <= tempo_bpm <= 300:
        raise ParameterError(f"tempo_bpm must be from 30 to 300; got {tempo_bpm}")
    rng = np.random.default_rng(seed)
    n = round(duration_s * sample_rate)
    t = np.arange(n) / sample_rate
    beat_s = 60.0 / tempo_bpm
    beat_index = np.floor(t / beat_s).astype(np.int64)
    since_beat = t - beat_index * beat_s
    bar_index = beat_index // beats_per_bar
    beat_in_bar = beat_index % beats_per_bar

    # Kick: a falling sine chirp on beats 1 and 3 (or every beat in odd meters).
    kick_on = (beat_in_bar % 2 == 0) if beats_per_bar % 2 == 0 else np.ones(n, dtype=bool)
    kick_phase = 2 * np.pi * (50.0 * since_beat + 60.0 * (1 - np.exp(-since_beat * 30)) / 30)
    kick = np.sin(kick_phase) * np.exp(-since_beat * 9) * kick_on

    noise = rng.standard_normal(n)
    snare_on = (beat_in_bar % 2 == 1) & (beats_per_bar % 2 == 0)
    snare = (
        (0.6 * noise + 0.4 * np.sin(2 * np.pi * 190 * since_beat))
        * np.exp(-since_beat * 18)
        * snare_on
    )
    eighth_s = beat_s / 2
    since_eighth = t % eighth_s
    hat = np.diff(noise, prepend=0.0) * 0.5 * np.exp(-since_eighth * 60)

    chord = np.array(_CHORDS_HZ)[bar_index % len(_CHORDS_HZ)]
    bass_hz = chord[:, 0] / 2
    bass = np.sin(2 * np.pi * bass_hz * t) * (0.7 + 0.3 * np.exp(-since_beat * 4))
    pad = sum(np.sin(2 * np.pi * chord[:, k] * t + k) for k in range(3)) / 3

    melody_hz = 440.0 * 2.0 ** (np.array(_MELODY_STEPS)[beat_index % len(_MELODY_STEPS)] / 12)
    melody = (np.sin(2 * np.pi * melody_hz * t) + 0.3 * np.sin(4 * np.pi * melody_hz * t)) * np.exp(
        -since_beat * 3
    )

    left = 0.55 * kick + 0.25 * snare + 0.06 * hat + 0.3 * bass + 0.12 * pad + 0.14 * melody
    right = 0.55 * kick + 0.25 * snare + 0.09 * hat + 0.3 * bass + 0.12 * pad + 0.08 * melody
    stereo = np.stack([left, right])
    # Fade the edges so the song starts and ends without clicks.
    fade = min(n // 4, int(0.01 * sample_rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        stereo[:, :fade] *= ramp
        stereo[:, n - fade :] *= ramp[::-1]
    stereo *= 0.5 / max(float(np.abs(stereo).max()), 1e-9)  # -6 dBFS sample peak
    return AudioBuffer(stereo.astype(np.float32), sample_rate)
