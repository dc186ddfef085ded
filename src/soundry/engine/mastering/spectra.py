"""Long-term spectra of a track: of each channel, of mid and of side.

One FFT per channel and segment gives all three (``|L|²``, ``|R|²`` and ``Re(L·R*)`` summed
over the segments), so the report's EQ levels, its stereo width and the stereo-image plan
read the same segments of the track once. :func:`mid_side_segment_frames` fixes the grid,
so a track measured a chunk at a time (:class:`~soundry.engine.mastering.meter.TrackMeter`)
sums exactly the segments a whole-array measurement does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
from scipy import fft as sp_fft

from soundry.dsp.spectrum import welch_window

__all__ = [
    "SegmentSums",
    "mid_side_segment_frames",
    "mid_side_spectra",
    "segment_spectra_sums",
]

_NO_OVERLAP_SEGMENTS = 32
# Frames transformed per batch of segments (bounds the temporary spectra to a few MB).
_FFT_BATCH_FRAMES = 1 << 18
# Bin width of the mid/side (and EQ) segments: four bins across the report's narrowest EQ
# band (20-31 Hz), well under what the 250 Hz crossover needs.
_SEGMENT_BIN_HZ = 2.7


def mid_side_segment_frames(sample_rate: int, frames: int) -> tuple[int, int]:
    """Segment length and hop of :func:`mid_side_spectra` for a track of ``frames``.

    Bins of at most :data:`_SEGMENT_BIN_HZ` (the report's EQ levels come from the same
    segments); half-overlapping segments on short audio, none from 32 segments on (the
    estimate stays unbiased, twice as fast, and the variance is negligible over that many
    segments). Audio shorter than a segment is one zero-padded segment.
    """
    nperseg = 1 << math.ceil(math.log2(sample_rate / _SEGMENT_BIN_HZ))
    if frames < nperseg:
        return max(frames, 2), max(frames, 2)
    return nperseg, nperseg if frames >= _NO_OVERLAP_SEGMENTS * nperseg else nperseg // 2


@dataclass
class SegmentSums:
    """Periodograms summed over segments: of every channel (``power``), of mid and of side.

    Arrays of shape ``(nperseg // 2 + 1,)``, float64; ``mid`` and ``side`` are zero for mono.
    """

    power: np.ndarray
    mid: np.ndarray
    side: np.ndarray

    def add(self, other: SegmentSums) -> None:
        """Add ``other``'s sums to these."""
        self.power += other.power
        self.mid += other.mid
        self.side += other.side


@numba.njit(cache=True, nogil=True)
def _accumulate_powers(left: np.ndarray, right: np.ndarray, sums: np.ndarray) -> None:
    """Add ``Σ |L|²``, ``Σ |R|²`` and ``Σ Re(L·R*)`` over the rows of two (segments, bins)
    complex spectra to ``sums`` (3, bins), float64, without temporaries."""
    for s in range(left.shape[0]):
        for f in range(left.shape[1]):
            lr, li = np.float64(left[s, f].real), np.float64(left[s, f].imag)
            rr, ri = np.float64(right[s, f].real), np.float64(right[s, f].imag)
            sums[0, f] += lr * lr + li * li
            sums[1, f] += rr * rr + ri * ri
            sums[2, f] += lr * rr + li * ri


def segment_spectra_sums(rows: Sequence[np.ndarray], window: np.ndarray) -> SegmentSums:
    """Summed periodograms of one or two channels' matching segments, and of their mid and
    side, from one FFT per channel and segment.

    Parameters
    ----------
    rows : sequence of np.ndarray [shape=(n_segments, nperseg), dtype=float32]
        The segments of each channel (mono or left and right); may be strided views.
    window : np.ndarray [shape=(nperseg,), dtype=float32]

    Returns
    -------
    SegmentSums
        With ``L``, ``R`` the spectra: ``power = Σ |L|² + |R|²``, ``mid = Σ |L + R|² / 4``
        and ``side = Σ |L - R|² / 4``.
    """
    bins = window.size // 2 + 1
    sums = np.zeros((3, bins))  # Σ|L|², Σ|R|², Σ Re(L·R*)
    batch = max(1, _FFT_BATCH_FRAMES // window.size)
    for first in range(0, rows[0].shape[0], batch):
        spectra = [sp_fft.rfft(row[first : first + batch] * window, axis=-1) for row in rows]
        # Mono passes its one channel as both: sums[0] is then its power.
        _accumulate_powers(spectra[0], spectra[-1], sums)
    if len(rows) == 1:
        return SegmentSums(sums[0], np.zeros(bins), np.zeros(bins))
    both = sums[0] + sums[1]
    return SegmentSums(both, (both + 2.0 * sums[2]) * 0.25, (both - 2.0 * sums[2]) * 0.25)


def mid_side_spectra(
    stereo: np.ndarray, sample_rate: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Long-term power spectra of mid and side (Welch, Hann, ~5 Hz bins).

    Only ratios between bins and between the two spectra matter, so they are plain sums of
    periodograms over the segments of :func:`mid_side_segment_frames`.

    Parameters
    ----------
    stereo : np.ndarray [shape=(2, frames)]
    sample_rate : int

    Returns
    -------
    freqs_hz : np.ndarray [shape=(n_bins,)]
    p_mid, p_side : np.ndarray [shape=(n_bins,), dtype=float64]
    """
    x = np.asarray(stereo, dtype=np.float32)
    frames = x.shape[1]
    nperseg, hop = mid_side_segment_frames(sample_rate, frames)
    if frames < nperseg:
        x = np.pad(x, ((0, 0), (0, nperseg - frames)))
    window = welch_window(nperseg)
    rows = [np.lib.stride_tricks.sliding_window_view(row, nperseg)[::hop] for row in x[:2]]
    sums = segment_spectra_sums(rows, window)
    return sp_fft.rfftfreq(nperseg, 1.0 / sample_rate), sums.mid, sums.side
