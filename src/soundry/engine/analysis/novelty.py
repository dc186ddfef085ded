"""Onset novelty: how much new sound starts in each frame.

Two cues are combined, because each misses what the other sees:

* **Log-spectral flux** (the rise of the semitone-band log spectrum over two frames,
  compared with the largest of the three neighbouring bands a moment earlier so that
  vibrato does not count as a new note). It marks attacks sharply in time: drums, piano,
  plucked strings.
* **Harmonic change** (the cosine distance between the chroma of the 93 ms before and the
  93 ms after a frame). Music without drums, such as a chorale sung or played by winds,
  often starts notes too softly for the flux to stand out, but the chord changes on the
  beat; this cue peaks there however soft the attack.

Each cue has its local mean (over half a second) removed, is half-wave rectified and
scaled to unit standard deviation before the two are added, so neither dominates by level.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from soundry.engine.analysis.spectrogram import FRAME_RATE, Spectrogram

__all__ = ["bass_flux", "beat_novelty", "harmonic_change", "onset_novelty", "spectral_flux"]

_FLUX_LAG = 2  # frames (23 ms): a soft attack rises over more than one hop
_VIBRATO_BANDS = 3  # max filter across bands on the reference frame
_CHANGE_HALF_WINDOW = 8  # frames (93 ms) on each side of the harmonic-change point
_LOCAL_MEAN_S = 0.5
_BASS_BANDS = 24  # semitone bands MIDI 24..47 (33 to 123 Hz): bass notes and kick drums


def spectral_flux(log_bands: np.ndarray, *, from_silence: bool = False) -> np.ndarray:
    """Positive log-spectral flux with vibrato suppression.

    Parameters
    ----------
    log_bands : np.ndarray [shape=(frames, bands), dtype=float32]
        Log-compressed band magnitudes (:attr:`Spectrogram.log_bands`).
    from_silence : bool
        Count sound in the first two frames as rising from silence (an onset at 0 s, as
        when a file is cut to start on its first beat). Off, they are 0: a file cut in the
        middle of a note would otherwise show an onset that is not in the music.

    Returns
    -------
    np.ndarray [shape=(frames,), dtype=float32]
        Sum over bands of the rise since two frames earlier, in log-magnitude units.
    """
    reference = maximum_filter1d(log_bands, _VIBRATO_BANDS, axis=1)
    flux = np.zeros(log_bands.shape[0], dtype=np.float32)
    rise = log_bands[_FLUX_LAG:] - reference[:-_FLUX_LAG]
    flux[_FLUX_LAG:] = np.maximum(rise, 0.0).sum(axis=1)
    if from_silence and flux.size > _FLUX_LAG:
        # Rising from silence, the whole spectrum counts, far more than any onset within
        # the music: hold it to the strongest onsets of the rest of the piece.
        head = log_bands[:_FLUX_LAG].sum(axis=1)
        flux[:_FLUX_LAG] = np.minimum(head, np.percentile(flux[_FLUX_LAG:], 99))
    return flux


def bass_flux(log_bands: np.ndarray) -> np.ndarray:
    """:func:`spectral_flux` of the bass bands alone (MIDI 24..47, 33 to 123 Hz).

    Parameters
    ----------
    log_bands : np.ndarray [shape=(frames, bands), dtype=float32]
        Log-compressed band magnitudes (:attr:`Spectrogram.log_bands`).

    Returns
    -------
    np.ndarray [shape=(frames,), dtype=float32]
        Sum over the bass bands of the rise since two frames earlier.
    """
    return spectral_flux(log_bands[:, :_BASS_BANDS], from_silence=True)


def harmonic_change(
    chroma: np.ndarray, energy: np.ndarray, half_window: int = _CHANGE_HALF_WINDOW
) -> np.ndarray:
    """Cosine distance between the chroma just before and just after each frame.

    Parameters
    ----------
    chroma : np.ndarray [shape=(frames, 12), dtype=float32]
        Frame chroma (:attr:`Spectrogram.chroma`).
    energy : np.ndarray [shape=(frames,), dtype=float32]
        Frame RMS, used to mute changes in and out of near-silence, where chroma is noise.
    half_window : int
        Frames on each side of the change point (default 8, 93 ms).

    Returns
    -------
    np.ndarray [shape=(frames,), dtype=float32]
        Distance in [0, 1]; 0 within half a window of either end.
    """
    n = chroma.shape[0]
    w = max(1, int(half_window))
    out = np.zeros(n, dtype=np.float32)
    if n <= 2 * w:
        return out
    cumulative = np.concatenate([np.zeros((1, 12)), np.cumsum(chroma, axis=0, dtype=np.float64)])
    t = np.arange(w, n - w)
    after = cumulative[t + w] - cumulative[t]
    before = cumulative[t] - cumulative[t - w]
    dot = np.einsum("ij,ij->i", after, before)
    norms = np.linalg.norm(after, axis=1) * np.linalg.norm(before, axis=1)
    distance = 1.0 - dot / np.maximum(norms, 1e-12)
    # Weigh by how loud the quieter side is relative to the piece's typical level: a
    # change between a chord and silence is the flux's business, not harmony's.
    level = uniform_filter1d(energy.astype(np.float64), w)
    typical = float(np.percentile(energy, 75)) + 1e-12
    quieter = np.minimum(level[np.maximum(t - w // 2, 0)], level[np.minimum(t + w // 2, n - 1)])
    weight = np.clip(quieter / typical, 0.0, 1.0)
    out[t] = (np.clip(distance, 0.0, 1.0) * weight).astype(np.float32)
    return out


def _normalise(x: np.ndarray) -> np.ndarray:
    size = max(3, round(_LOCAL_MEAN_S * FRAME_RATE) | 1)
    local = uniform_filter1d(x.astype(np.float64), size, mode="nearest")
    y = np.maximum(x - local, 0.0)
    std = float(y.std())
    return (y / std if std > 0 else y).astype(np.float32)


def onset_novelty(spec: Spectrogram) -> np.ndarray:
    """The combined onset novelty the tempo and beat trackers follow.

    Parameters
    ----------
    spec : Spectrogram
        The analysed audio.

    Returns
    -------
    np.ndarray [shape=(frames,), dtype=float32]
        Non-negative novelty, one value per frame, in units of each cue's standard
        deviation (so about 2 on a typical piece).
    """
    flux = _normalise(spectral_flux(spec.log_bands))
    change = _normalise(harmonic_change(spec.chroma, spec.energy))
    return flux + change


def beat_novelty(spec: Spectrogram, period_frames: float) -> np.ndarray:
    """Novelty for placing beats once the tempo is known: onsets, bass and harmony.

    Beats and the off-beats between them can carry equally many onsets (a ragtime left
    hand, a polonaise rhythm); what marks the beat is where the bass enters and where the
    harmony moves. So the onset novelty gains two cues here: the bass flux
    (:func:`bass_flux`) and the harmonic change between the half beat before and the half
    beat after each frame.

    Parameters
    ----------
    spec : Spectrogram
        The analysed audio.
    period_frames : float
        Beat period in frames (from the tempo estimate).

    Returns
    -------
    np.ndarray [shape=(frames,), dtype=float32]
        Non-negative novelty, one value per frame.
    """
    half_beat = max(2, round(period_frames / 2))
    return (
        _normalise(spectral_flux(spec.log_bands, from_silence=True))
        + _normalise(harmonic_change(spec.chroma, spec.energy))
        + _normalise(bass_flux(spec.log_bands))
        + _normalise(harmonic_change(spec.chroma, spec.energy, half_beat))
    )
