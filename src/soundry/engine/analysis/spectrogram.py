"""The analysis front end: mono audio at 22 050 Hz, a semitone-band spectrogram, chroma, timbre.

Every later stage (onset novelty, tempo, beats, bars, beat features) reads the one
:class:`Spectrogram` built here, so the audio is transformed exactly once.

Why semitone bands: one band per equal-tempered pitch (MIDI 24 to 124, 32.7 Hz to 10.5 kHz)
serves both uses. A new note raises exactly its own bands, which is what the onset flux
looks for, and folding the bands by pitch class gives chroma for harmony. Below about
130 Hz a semitone is narrower than an FFT bin (10.8 Hz at 2048 points), so the lowest bands
share bins; the bass still reaches chroma through its harmonics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soxr
from scipy import fft as sp_fft
from scipy import sparse

__all__ = [
    "ANALYSIS_RATE",
    "FRAME_RATE",
    "HOP",
    "N_FFT",
    "Spectrogram",
    "compute_spectrogram",
    "to_analysis_rate",
]

ANALYSIS_RATE = 22_050
"""Sample rate (Hz) the analysis runs at; nothing musical for beats or harmony lies above 11 kHz."""
N_FFT = 2048
"""FFT length in samples: 93 ms at 22 050 Hz, fine enough to separate semitones above 130 Hz."""
HOP = 256
"""Hop in samples: 11.6 ms, a sixth of the ±70 ms beat tolerance."""
FRAME_RATE = ANALYSIS_RATE / HOP
"""Frames per second (about 86.1)."""

_LOW_MIDI = 24  # C1, 32.7 Hz
_HIGH_MIDI = 124  # E9, 10.5 kHz: the last semitone band below Nyquist
_CHROMA_LOW_MIDI = 36  # C2: lower bands are too smeared across bins to tell pitch classes
_CHROMA_HIGH_MIDI = 96  # C7: above, harmonics and noise outweigh the notes
_BASS_HIGH_MIDI = 59  # B3: the top of the bass register
_N_TIMBRE = 12
_FRAMES_PER_BATCH = 2048  # bounds the complex FFT buffer at about 8 MB


@dataclass(frozen=True)
class Spectrogram:
    """Frame-wise spectral views of one piece of audio.

    Frame ``k`` is centred at ``k * HOP / ANALYSIS_RATE`` seconds.

    Attributes
    ----------
    bands : np.ndarray [shape=(frames, 101), dtype=float32]
        Magnitude in semitone bands MIDI 24..124, scaled so that the loudest band of the
        piece is 1 (levels in the analysis are relative: gain does not change the result).
    log_bands : np.ndarray [shape=(frames, 101), dtype=float32]
        ``log1p(1000 * bands)``: roughly dB-like, so that a soft note entering under loud
        ones still moves it.
    chroma : np.ndarray [shape=(frames, 12), dtype=float32]
        Pitch-class energy (C, C#, ..., B) from the compressed bands MIDI 36..96.
    bass_chroma : np.ndarray [shape=(frames, 12), dtype=float32]
        The same from the bass register alone (MIDI 36..59, 65 to 247 Hz), where the roots
        of the chords lie and melodies seldom go.
    energy : np.ndarray [shape=(frames,), dtype=float32]
        Frame RMS of the mono signal (linear, full scale = 1).
    duration_s : float
        Length of the audio in seconds.
    """

    bands: np.ndarray
    log_bands: np.ndarray
    chroma: np.ndarray
    bass_chroma: np.ndarray
    energy: np.ndarray
    duration_s: float

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return int(self.bands.shape[0])

    def frame_times_s(self) -> np.ndarray:
        """Centre time of every frame, s, shape ``(frames,)``."""
        return np.arange(self.n_frames) / FRAME_RATE

    def timbre(self) -> np.ndarray:
        """Cepstral timbre coefficients 1..12 of the log band spectrum (MFCC-like).

        Returns
        -------
        np.ndarray [shape=(frames, 12), dtype=float32]
            DCT-II coefficients 1..12 of ``log_bands`` (coefficient 0, the overall level, is
            left out: loudness is a feature of its own).
        """
        coeffs = sp_fft.dct(self.log_bands, type=2, norm="ortho", axis=1)
        return np.ascontiguousarray(coeffs[:, 1 : 1 + _N_TIMBRE], dtype=np.float32)


def to_analysis_rate(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mix down to mono and resample to :data:`ANALYSIS_RATE`.

    Parameters
    ----------
    samples : np.ndarray [shape=(channels, frames), dtype=float32]
        Audio, full scale = 1.
    sample_rate : int
        Its rate in Hz.

    Returns
    -------
    np.ndarray [shape=(round(frames * 22050 / sample_rate),), dtype=float32]
        The mono signal at 22 050 Hz.
    """
    mono = samples[0] if samples.shape[0] == 1 else samples.mean(axis=0, dtype=np.float32)
    if sample_rate == ANALYSIS_RATE:
        return np.ascontiguousarray(mono, dtype=np.float32)
    # soxr's low-quality preset still rejects aliasing by about 96 dB, far below what onset
    # and pitch analysis can see, at a third of the cost of the high-quality one.
    out = soxr.resample(mono, sample_rate, ANALYSIS_RATE, quality="LQ")
    return np.ascontiguousarray(out, dtype=np.float32)


def _band_matrix() -> sparse.csr_matrix:
    """Triangular semitone filters over the rfft bins, shape (bins, bands)."""
    n_bins = N_FFT // 2 + 1
    bin_hz = np.arange(n_bins) * ANALYSIS_RATE / N_FFT
    midi = np.arange(_LOW_MIDI, _HIGH_MIDI + 1, dtype=np.float64)
    # Each bin's fractional pitch, clamped at DC so the log stays finite.
    bin_midi = 69.0 + 12.0 * np.log2(np.maximum(bin_hz, 1.0) / 440.0)
    weights = np.maximum(0.0, 1.0 - np.abs(bin_midi[:, None] - midi[None, :]))
    # Where a semitone is narrower than a bin no bin lands inside its triangle: give it the
    # nearest bin, so the low bands are interpolated rather than empty.
    centre_bin = 440.0 * 2.0 ** ((midi - 69.0) / 12.0) * N_FFT / ANALYSIS_RATE
    empty = weights.sum(axis=0) < 1e-6
    lower = np.floor(centre_bin).astype(np.int64)
    frac = centre_bin - lower
    cols = np.flatnonzero(empty)
    weights[lower[cols], cols] = 1.0 - frac[cols]
    weights[np.minimum(lower[cols] + 1, n_bins - 1), cols] += frac[cols]
    return sparse.csr_matrix(weights.astype(np.float32))


_BANDS = _band_matrix()
_BANDS_T = _BANDS.T.tocsr()


def _fold(log_bands: np.ndarray, low_midi: int, high_midi: int) -> np.ndarray:
    """Sum the bands from ``low_midi`` to ``high_midi`` by pitch class: (frames, 12)."""
    out = np.zeros((log_bands.shape[0], 12), dtype=np.float32)
    for midi in range(low_midi, high_midi + 1):
        out[:, midi % 12] += log_bands[:, midi - _LOW_MIDI]
    return out


def compute_spectrogram(mono: np.ndarray) -> Spectrogram:
    """Short-time spectra of mono 22 050 Hz audio in semitone bands.

    Parameters
    ----------
    mono : np.ndarray [shape=(samples,), dtype=float32]
        Audio at :data:`ANALYSIS_RATE`, full scale = 1, finite.

    Returns
    -------
    Spectrogram
        ``1 + samples // HOP`` frames, Hann-windowed, centred (the signal is zero-padded
        by half a window at both ends so that an onset at 0 s is seen as one).
    """
    padded = np.pad(mono.astype(np.float32, copy=False), (N_FFT // 2, N_FFT // 2))
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    n_frames = frames.shape[0]
    window = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann
    bands = np.empty((n_frames, _BANDS.shape[1]), dtype=np.float32)
    # In batches, reduced to bands at once: the full magnitude spectrogram of an hour
    # would take over a gigabyte.
    for first in range(0, n_frames, _FRAMES_PER_BATCH):
        batch = frames[first : first + _FRAMES_PER_BATCH] * window
        magnitude = np.abs(sp_fft.rfft(batch, axis=1, workers=-1))
        bands[first : first + batch.shape[0]] = (_BANDS_T @ magnitude.T).T
    peak = float(bands.max())
    if peak > 0.0:
        bands /= peak
    log_bands = np.log1p(1000.0 * bands)
    chroma = _fold(log_bands, _CHROMA_LOW_MIDI, _CHROMA_HIGH_MIDI)
    bass_chroma = _fold(log_bands, _CHROMA_LOW_MIDI, _BASS_HIGH_MIDI)
    energy = np.sqrt(np.mean(np.square(frames[:, N_FFT // 4 : 3 * N_FFT // 4]), axis=1))
    return Spectrogram(
        bands=bands,
        log_bands=log_bands.astype(np.float32),
        chroma=chroma,
        bass_chroma=bass_chroma,
        energy=energy.astype(np.float32),
        duration_s=mono.size / ANALYSIS_RATE,
    )
