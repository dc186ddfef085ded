"""The report's measurements of a track that is seen a chunk at a time.

:class:`TrackMeter` gives what :func:`~soundry.engine.mastering.report.snapshot` gives for
a whole array (BS.1770 loudness, LRA, true and sample peak, 16 EQ band levels, stereo width
per band and correlation) for a track fed as chunks, so that a master streamed from and to
disk is measured without ever holding the track.

Every statistic sits on the track's absolute grid (5 ms loudness ticks, Welch segments,
mid/side segments) and each grid cell is counted in the chunk where it starts; a chunk is
handed over with context around it (:attr:`TrackMeter.preroll_frames` before, so the
K-filter has settled, and :attr:`TrackMeter.postroll_frames` after, so the cells that start
in it can finish). The result then equals the whole-array measurement to within the
K-filter's settling error (relative 1e-9) and float32 rounding.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numba
import numpy as np

from soundry.dsp._kweighting import filtered_energies, tick_bounds
from soundry.dsp.loudness import (
    LoudnessReport,
    default_channel_weights,
    report_from_ticks,
    true_peak_factor,
)
from soundry.dsp.oversample import INTERPOLATOR_REACH_FRAMES, max_true_peak
from soundry.dsp.spectrum import band_edges_hz, band_levels_from_sums, welch_window
from soundry.dsp.stereo import correlation_from_sums
from soundry.engine.mastering.image import width_from_spectra
from soundry.engine.mastering.spectra import (
    SegmentSums,
    mid_side_segment_frames,
    segment_spectra_sums,
)
from soundry.errors import ParameterError

__all__ = ["EQ_BANDS", "METER_PREROLL_S", "TrackMeter"]

EQ_BANDS = 16
"""Log-spaced EQ bands of the report, 20 Hz to 20 kHz."""
METER_PREROLL_S = 1.0
"""Context before each chunk: the K-filter's slowest pole decays by e^-20 well within it."""
# Context around a chunk for its true peak: the interpolator's reach, with margin.
_PEAK_REACH = 2 * INTERPOLATOR_REACH_FRAMES


def _cells(grid_start: int, step: int, count: int, lo: int, hi: int) -> range:
    """Indices ``j < count`` of cells starting at ``grid_start + j * step`` within [lo, hi)."""
    first = max(0, -(-(lo - grid_start) // step))
    last = min(count, -(-(hi - grid_start) // step))
    return range(first, max(first, last))


@numba.njit(cache=True, nogil=True)
def _products_and_peak(core: np.ndarray) -> tuple[np.ndarray, float]:
    """``[Σ L², Σ R², Σ L·R]`` (float64; zeros for mono) and the largest |sample|, in one
    pass (no temporaries, and no BLAS threads beside the chunk workers)."""
    channels, frames = core.shape
    sums = np.zeros(3)
    peak = 0.0
    for i in range(frames):
        left = np.float64(core[0, i])
        right = np.float64(core[channels - 1, i])
        peak = max(peak, abs(left), abs(right))
        if channels == 2:
            sums[0] += left * left
            sums[1] += right * right
            sums[2] += left * right
    return sums, peak


def _fold(
    totals: tuple[SegmentSums, np.ndarray], part: SegmentSums | None, products: np.ndarray
) -> None:
    """Add one chunk's sums to running ``totals``."""
    if part is not None:
        totals[0].add(part)
    totals[1][:] += products


class TrackMeter:
    """Measure a track of known length fed as chunks, in any order, from several threads.

    Parameters
    ----------
    sample_rate, channels, frames : int
        Of the whole track.
    """

    def __init__(self, sample_rate: int, channels: int, frames: int) -> None:
        if channels not in (1, 2) or frames < 1:
            raise ParameterError(
                f"the meter takes 1 or 2 channels and at least one frame; got {channels}"
                f" channels, {frames} frames"
            )
        self.sample_rate, self.channels, self.frames = sample_rate, channels, frames
        self._weights = default_channel_weights(channels).astype(np.float64)
        self._ticks = tick_bounds(frames, sample_rate)
        self._tick_energy = np.zeros(self._ticks.size - 1)
        self._edges = band_edges_hz(EQ_BANDS)
        # One grid of segments serves the EQ levels and the mid/side spectra: each segment's
        # left and right spectra give both, so the track is transformed once per channel.
        self._seg_frames, self._seg_hop = mid_side_segment_frames(sample_rate, frames)
        self._window = welch_window(self._seg_frames)
        self._seg_count = max(1, (frames - self._seg_frames) // self._seg_hop + 1)
        # Sums per chunk, added up in the track's order (the figures do not depend on which
        # worker finished first): a chunk waits in _pending until the chunks before it are
        # in, then joins the running totals, so an hour-long track keeps a few chunks' sums.
        bins = self._seg_frames // 2 + 1
        self._totals = (SegmentSums(np.zeros(bins), np.zeros(bins), np.zeros(bins)), np.zeros(3))
        self._folded_to = 0  # the totals hold every chunk before this frame
        self._pending: dict[int, tuple[int, SegmentSums | None, np.ndarray]] = {}
        self._sample_peak = 0.0
        self._true_peak = 0.0
        self._finite = True
        self._lock = threading.Lock()

    @property
    def preroll_frames(self) -> int:
        """Frames of context each chunk needs before it."""
        return round(METER_PREROLL_S * self.sample_rate)

    @property
    def postroll_frames(self) -> int:
        """Frames of context each chunk needs after it."""
        return self._seg_frames + _PEAK_REACH

    def add(self, span: np.ndarray, span_start: int, core_start: int, core_stop: int) -> None:
        """Measure frames ``core_start:core_stop`` of the track.

        Parameters
        ----------
        span : np.ndarray [shape=(channels, n), dtype=float32]
            Frames ``span_start:span_start + n`` of the track, reaching at least
            :attr:`preroll_frames` before the core (or to the track's start) and
            :attr:`postroll_frames` after it (or to its end).
        span_start, core_start, core_stop : int
            Absolute frames.
        """
        span = np.ascontiguousarray(span, dtype=np.float32)
        span_stop = span_start + span.shape[1]
        need_lo = max(0, core_start - self.preroll_frames)
        need_hi = min(self.frames, core_stop + self.postroll_frames)
        if span_start > need_lo or span_stop < need_hi or span.shape[0] != self.channels:
            raise ParameterError(
                f"the meter needs frames {need_lo}..{need_hi} of {self.channels} channel(s)"
                f" around {core_start}..{core_stop}; got {span_start}..{span_stop} of"
                f" {span.shape[0]}"
            )
        core = span[:, core_start - span_start : core_stop - span_start]
        tick_energy, finite = self._loudness(span, span_start, core_start, core_stop)
        peak_lo = max(0, core_start - _PEAK_REACH) - span_start
        peak_hi = min(self.frames, core_stop + _PEAK_REACH) - span_start
        true_peak = max_true_peak(
            span[:, peak_lo:peak_hi], factor=true_peak_factor(self.sample_rate)
        )
        spectra = self._spectra(span, span_start, core_start, core_stop)
        sums, sample_peak = _products_and_peak(core)
        with self._lock:
            first, energies = tick_energy
            self._tick_energy[first : first + energies.size] = energies
            self._finite = self._finite and finite
            self._true_peak = max(self._true_peak, true_peak)
            self._sample_peak = max(self._sample_peak, sample_peak)
            self._pending[core_start] = (core_stop, spectra, sums)
            while self._folded_to in self._pending:
                stop, part, products = self._pending.pop(self._folded_to)
                _fold(self._totals, part, products)
                self._folded_to = stop

    def _loudness(
        self, span: np.ndarray, span_start: int, core_start: int, core_stop: int
    ) -> tuple[tuple[int, np.ndarray], bool]:
        ticks = self._ticks
        first = int(np.searchsorted(ticks[:-1], core_start, side="left"))
        last = int(np.searchsorted(ticks[:-1], core_stop, side="left"))
        if last <= first:
            return (first, np.zeros(0)), True
        # bounds[0] is the span's start: the first "tick" is the pre-roll, thrown away.
        bounds = np.concatenate([[0], ticks[first : last + 1] - span_start])
        energies, _, finite = filtered_energies(span, self.sample_rate, bounds)
        return (first, self._weights @ energies[:, 1 : 1 + last - first]), finite

    def _spectra(
        self, span: np.ndarray, span_start: int, core_start: int, core_stop: int
    ) -> SegmentSums | None:
        size, hop = self._seg_frames, self._seg_hop
        cells = _cells(0, hop, self._seg_count, core_start, core_stop)
        if not cells:
            return None
        x = span[:, cells.start * hop - span_start :]
        if x.shape[1] < size:  # a track shorter than one segment: one zero-padded segment
            x = np.pad(x, ((0, 0), (0, size - x.shape[1])))
        rows = [
            np.lib.stride_tricks.sliding_window_view(row, size)[::hop][: len(cells)] for row in x
        ]
        return segment_spectra_sums(rows, self._window)

    def loudness(self) -> LoudnessReport:
        """BS.1770 figures of everything added."""
        if not self._finite:
            raise ParameterError("the audio contains non-finite samples (NaN or infinity)")
        return report_from_ticks(
            self._tick_energy,
            sample_peak=self._sample_peak,
            true_peak=self._true_peak,
            frames=self.frames,
            sample_rate=self.sample_rate,
            channels=self.channels,
        )

    def _summed(self) -> tuple[SegmentSums, np.ndarray]:
        with self._lock:
            totals, products = self._totals
            total = SegmentSums(totals.power.copy(), totals.mid.copy(), totals.side.copy())
            summed = (total, products.copy())
            for key in sorted(self._pending):
                _, part, more = self._pending[key]
                _fold(summed, part, more)
        return summed

    def eq_levels_db(self) -> np.ndarray:
        """The 16 EQ band levels, dB."""
        total, _ = self._summed()
        return band_levels_from_sums(
            total.power,
            self._seg_count * self.channels,
            self._window,
            self.sample_rate,
            self._edges,
        )

    def width(self) -> dict[str, float] | None:
        """Stereo width per band and correlation; None for mono."""
        if self.channels != 2:
            return None
        total, sums = self._summed()
        ll, rr, lr = (float(v) for v in sums)
        rho = correlation_from_sums(ll, rr, lr, self.frames)
        return width_from_spectra(
            self.frequencies_hz(), total.mid, total.side, self.sample_rate, rho
        )

    def mid_side(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(freqs_hz, p_mid, p_side)``: the long-term spectra the width is measured from
        (what :func:`~soundry.engine.mastering.spectra.mid_side_spectra` gives); None for mono."""
        if self.channels != 2:
            return None
        total, _ = self._summed()
        return self.frequencies_hz(), total.mid, total.side

    def frequencies_hz(self) -> np.ndarray:
        """Centre frequency of each bin of the segment spectra."""
        return np.fft.rfftfreq(self._seg_frames, 1.0 / self.sample_rate)

    def snapshot(self, loudness: LoudnessReport | None = None) -> dict[str, Any]:
        """The report's ``before``/``after`` block (see :func:`~soundry.engine.mastering
        .report.snapshot`)."""
        figures = (loudness or self.loudness()).to_dict()

        def number(value: Any) -> Any:
            return value if value is None or math.isfinite(value) else None

        return {
            "loudness": {
                key: number(figures[key])
                for key in (
                    "integrated_lufs",
                    "lra_lu",
                    "true_peak_dbtp",
                    "sample_peak_dbfs",
                    "short_term_max_lufs",
                )
            },
            "eq_levels_db": [float(v) for v in self.eq_levels_db()],
            "stereo_width": self.width(),
        }
