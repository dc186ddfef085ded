"""Songs with a known structure, as beats and a similarity matrix (nothing read from disk).

Each section is a run of beats with its own random features; a section that comes back
reuses the features (plus a little noise), so the similarity of a repeat is near 1 and of
anything else near 0.5. The right cuts are then known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SECTION_BEATS = 16
BEAT_S = 0.5


@dataclass(frozen=True)
class Song:
    """Beat times, similarity and the sections' first beats."""

    boundaries_s: np.ndarray
    similarity: np.ndarray
    duration_s: float
    starts: dict[str, list[int]]  # section label -> first beat of each occurrence

    @property
    def n_beats(self) -> int:
        return int(self.boundaries_s.size)


def structured_song(
    form: str = "ABCBCD",
    *,
    section_beats: int = SECTION_BEATS,
    beat_s: float = BEAT_S,
    beats_per_bar: int = 4,
    noise: float = 0.05,
    seed: int = 1,
    tempo_wobble: float = 0.0,
) -> Song:
    """A song whose sections (one letter each) repeat where the form says.

    Each beat's 24 features are its bar's chord (random per bar of each section), the
    pattern of its position in the bar (the same in every bar, like a drum pattern) and a
    little of its own: the harmony changes on downbeats and the bar period shows in the
    similarity, as in real music.
    """
    rng = np.random.default_rng(seed)
    bars = section_beats // beats_per_bar
    chords = {label: rng.standard_normal((bars, 24)) for label in sorted(set(form))}
    own = {label: rng.standard_normal((section_beats, 24)) for label in sorted(set(form))}
    pattern = rng.standard_normal((beats_per_bar, 24))
    position = np.arange(section_beats) % beats_per_bar
    rows = []
    starts: dict[str, list[int]] = {}
    for k, label in enumerate(form):
        starts.setdefault(label, []).append(k * section_beats)
        block = (
            np.repeat(chords[label], beats_per_bar, axis=0)
            + 0.6 * pattern[position]
            + 0.4 * own[label]
            + noise * rng.standard_normal((section_beats, 24))
        )
        rows.append(block)
    features = np.concatenate(rows)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    similarity = ((features @ features.T + 1.0) / 2.0).astype(np.float32)
    np.fill_diagonal(similarity, 1.0)
    n = features.shape[0]
    lengths = beat_s * (1.0 + tempo_wobble * np.sin(np.arange(n) / 7.0))
    edges = np.concatenate([[0.0], np.cumsum(lengths)])
    return Song(
        boundaries_s=edges[:-1],
        similarity=np.clip(similarity, 0.0, 1.0),
        duration_s=float(edges[-1]),
        starts=starts,
    )
