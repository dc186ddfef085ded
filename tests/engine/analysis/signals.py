"""Generated music with known beats for the analysis tests (nothing read from disk)."""

from __future__ import annotations

import numpy as np

from soundry.audio import AudioBuffer

# Four-part chords (MIDI notes), one per beat: a I-vi-IV-V-I... progression in C with
# inversions, the kind of harmonic rhythm a chorale has.
_CHORDS = (
    (48, 55, 64, 72),
    (45, 57, 64, 72),
    (41, 57, 65, 69),
    (43, 55, 62, 71),
    (48, 52, 60, 67),
    (50, 57, 65, 69),
    (43, 59, 62, 67),
    (48, 55, 64, 72),
)


def _hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


def soft_chorale(
    *,
    tempo_bpm: float = 72.0,
    beats: int = 40,
    sample_rate: int = 22_050,
    attack_s: float = 0.08,
    seed: int = 0,
) -> tuple[AudioBuffer, np.ndarray]:
    """Sustained four-voice chords, one per beat, with slow attacks and no percussion.

    Each voice is a few harmonics with a slow attack and a legato release into the next
    chord, so the only thing marking a beat is the change of harmony.

    Returns
    -------
    audio : AudioBuffer
        Mono, peaking near -6 dBFS, one beat of silence-free tail after the last chord.
    beats_s : np.ndarray [shape=(beats,)]
        The beat times (chord onsets), seconds.
    """
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / tempo_bpm
    n = round((beats + 1) * beat_s * sample_rate)
    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    onsets = np.arange(beats) * beat_s
    for k, start in enumerate(onsets):
        chord = _CHORDS[k % len(_CHORDS)]
        first = round(start * sample_rate)
        last = min(n, round((start + beat_s * 1.05) * sample_rate))
        local = t[first:last] - start
        envelope = np.minimum(1.0, local / attack_s) * np.exp(-local * 0.4)
        release = np.clip((beat_s * 1.05 - local) / (beat_s * 0.05), 0.0, 1.0)
        for voice, note in enumerate(chord):
            phase = rng.uniform(0, 2 * np.pi)
            tone = sum(
                np.sin(2 * np.pi * _hz(note) * h * local + phase) / h**1.5 for h in (1, 2, 3, 4)
            )
            out[first:last] += 0.25 * tone * envelope * release * (1.2 if voice == 0 else 1.0)
    out *= 0.5 / np.abs(out).max()
    return AudioBuffer(out.astype(np.float32), sample_rate), onsets


def offbeat_plucks(
    *, tempo_bpm: float = 96.0, beats: int = 48, sample_rate: int = 22_050, seed: int = 1
) -> tuple[AudioBuffer, np.ndarray]:
    """:func:`soft_chorale` under loud short plucks on every off-beat (half a beat late).

    The plucks are the strongest onsets in the piece and all fall between the beats; only
    the harmony, which changes on the beats, says where the beats are.

    Returns
    -------
    audio : AudioBuffer
        Mono, peaking near -6 dBFS.
    beats_s : np.ndarray [shape=(beats,)]
        The beat times (chord changes), seconds.
    """
    chorale, onsets = soft_chorale(
        tempo_bpm=tempo_bpm, beats=beats, sample_rate=sample_rate, seed=seed
    )
    out = chorale.samples[0].astype(np.float64)
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / tempo_bpm
    length = round(0.15 * sample_rate)
    local = np.arange(length) / sample_rate
    for k, start in enumerate(onsets + beat_s / 2):
        first = round(start * sample_rate)
        if first + length > out.size:
            break
        # A bright pluck a twelfth above the chord's top note, with a noisy attack.
        top = _CHORDS[k % len(_CHORDS)][-1] + 7
        pluck = np.sin(2 * np.pi * _hz(top) * local) + 0.3 * rng.standard_normal(length)
        out[first : first + length] += 0.6 * pluck * np.exp(-local * 30.0)
    out *= 0.5 / np.abs(out).max()
    return AudioBuffer(out.astype(np.float32), sample_rate), onsets
