"""Generated signals with known attacks for the export tests (nothing read from disk)."""

from __future__ import annotations

import numpy as np

from soundry.audio import AudioBuffer

RATE = 44_100


def click_track(
    *, beats: int = 40, tempo_bpm: float = 120.0, offset_s: float = 0.013, seed: int = 0
) -> tuple[AudioBuffer, np.ndarray]:
    """Decaying noise bursts over a quiet 110 Hz drone, one burst per beat.

    The attacks sit ``offset_s`` after each nominal beat time, as a beat tracker's grid
    rarely lands on the attack's first sample.

    Returns
    -------
    audio : AudioBuffer
        Stereo, float32.
    attacks_s : np.ndarray [shape=(beats,)]
        The first sample of every burst, seconds.
    """
    rng = np.random.default_rng(seed)
    beat_s = 60.0 / tempo_bpm
    n = round((beats + 1) * beat_s * RATE)
    t = np.arange(n) / RATE
    x = 0.05 * np.sin(2 * np.pi * 110.0 * t)
    attacks = np.arange(beats) * beat_s + offset_s
    for start in attacks:
        first = round(start * RATE)
        m = min(round(0.25 * RATE), n - first)
        x[first : first + m] += (
            0.15 * rng.standard_normal(m) * np.exp(-np.arange(m) / (0.04 * RATE))
        )
    stereo = np.stack([x, 0.9 * x]).astype(np.float32)
    return AudioBuffer(stereo, RATE), attacks


def sine(
    freq_hz: float, duration_s: float, *, phase: float = 0.0, level: float = 0.5
) -> np.ndarray:
    t = np.arange(round(duration_s * RATE)) / RATE
    return (level * np.sin(2 * np.pi * freq_hz * t + phase)).astype(np.float32)
