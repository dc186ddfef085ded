"""One pass over the source that every mastering decision is made from.

:func:`analyse_source` reads the track a chunk at a time (so a one-hour file costs a few MB
of statistics, not gigabytes of samples) and keeps, for the DC-blocked track:

- the tonal stage's octave-band powers per analysis frame (its plan's input);
- the multiband detector's input: each band's power per ~1 ms block, louder channel;
- third-octave powers per tonal frame (to predict what the tonal plan does to each
  multiband band, so the multiband stage is planned without rendering the tonal one);
- the long-term mid and side spectra (the stereo image plan's input), from the meter that
  also gives the report's "before" figures.

Each variant of a master (profile, intensity, width) plans its stages from these figures
alone, so previews share one analysis of the audio.

Chunks overlap by a pre-roll that lets the recursive filters settle and share the absolute
grids of frames and blocks, so the statistics equal those of one whole-track pass to within
the settling error (< 1e-6 relative).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from soundry.audio.stream import PcmSource, ScratchTrack
from soundry.dsp.filters import apply_sos, highpass
from soundry.engine.mastering.image import usable_edges
from soundry.engine.mastering.meter import TrackMeter
from soundry.engine.mastering.multiband import CROSSOVER_HZ, band_block_powers, block_frames
from soundry.engine.mastering.profiles import TONAL_BAND_CENTRES_HZ
from soundry.engine.mastering.tonal import frame_band_powers, tonal_frame_frames

__all__ = [
    "DC_BLOCK_HZ",
    "SourceAnalysis",
    "analyse_source",
    "chunk_spans",
    "dc_block",
]

# Sub-sonic high-pass that removes DC: low enough to leave every musical bass untouched.
DC_BLOCK_HZ = 10.0
# Pre-roll of each analysis chunk: the DC blocker, K-filter and crossovers settle well
# within it (their slowest pole decays by e^-20 in under 0.5 s).
_ANALYSIS_PREROLL_S = 1.0
# Post-roll: a little signal past the chunk so no statistic sees an artificial end.
_ANALYSIS_POSTROLL = 64
_CHUNK_S = 30.0
# Third-octave bands from 20 Hz: fine enough that an EQ curve is flat across each.
_FINE_LOWEST_HZ = 20.0
_FINE_PER_OCTAVE = 3


def _fine_bands(rate: int, frame: int) -> tuple[np.ndarray, np.ndarray]:
    """Third-octave centres (Hz) and the band of each rfft bin (-1: none)."""
    top = rate / 2.0
    count = math.floor(_FINE_PER_OCTAVE * math.log2(top / _FINE_LOWEST_HZ))
    centres = _FINE_LOWEST_HZ * 2.0 ** ((np.arange(count) + 0.5) / _FINE_PER_OCTAVE)
    freqs = np.fft.rfftfreq(frame, 1.0 / rate)
    edges = _FINE_LOWEST_HZ * 2.0 ** (np.arange(count + 1) / _FINE_PER_OCTAVE)
    index = np.searchsorted(edges, freqs, side="right") - 1
    index[(index < 0) | (index >= count)] = -1
    return centres, index


def dc_block(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """The chain's first stage: a 10 Hz, 12 dB/octave high-pass (float32 out)."""
    return apply_sos(samples, highpass(DC_BLOCK_HZ, sample_rate, slope_db_per_octave=12))


@dataclass(frozen=True)
class SourceAnalysis:
    """What the mastering plans need to know about a track, measured once.

    Attributes
    ----------
    sample_rate, channels, frames : int
        Of the track.
    tonal_powers : np.ndarray [shape=(n_frames, n_octaves), dtype=float64]
        Octave-band power per non-overlapping frame of ``tonal_frame`` frames.
    tonal_mean_square : np.ndarray [shape=(n_frames,), dtype=float64]
        Mean square per frame.
    tonal_frame : int
        Frames per tonal analysis frame.
    fine_centres_hz : np.ndarray [shape=(n_fine,)]
        Centres of third-octave bands from 20 Hz.
    fine_powers : np.ndarray [shape=(n_frames, n_fine), dtype=float64]
        Power per tonal frame in each third-octave band.
    block : int
        Frames per block (~1 ms) of the block statistics below.
    band_powers : np.ndarray [shape=(3, n_blocks), dtype=float32]
        Mean square of each multiband band per block, on the louder channel.
    mid_side : tuple of np.ndarray or None
        ``(freqs_hz, p_mid, p_side)`` long-term spectra of the source as read; None for mono.
    dual_mono : bool
        Both channels identical throughout (or mono).
    """

    sample_rate: int
    channels: int
    frames: int
    tonal_powers: np.ndarray
    tonal_mean_square: np.ndarray
    tonal_frame: int
    fine_centres_hz: np.ndarray
    fine_powers: np.ndarray
    block: int
    band_powers: np.ndarray
    mid_side: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    dual_mono: bool

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate


def chunk_spans(frames: int, rate: int) -> Iterator[tuple[int, int]]:
    """The chunks ``(start, stop)`` a track is analysed and rendered in: about 30 s each,
    starting on the grid shared by the tonal frames and the ~1 ms blocks."""
    grid = math.lcm(tonal_frame_frames(rate), block_frames(rate))
    step = max(grid, round(_CHUNK_S * rate / grid) * grid)
    for start in range(0, max(frames, 1), step):
        yield start, min(frames, start + step)


@dataclass
class _ChunkStats:
    powers: np.ndarray
    mean_square: np.ndarray
    blocks: tuple[int, int, np.ndarray]
    dual_mono: bool


class _Chunker:
    """Everything one chunk of :func:`analyse_source` needs, shared by the worker threads."""

    def __init__(
        self,
        source: PcmSource,
        dc_blocked: bool,
        meter: TrackMeter,
        blocked_out: ScratchTrack | None,
        multiband: bool,
    ) -> None:
        rate = source.sample_rate
        self.source, self.dc_blocked, self.meter = source, dc_blocked, meter
        self.blocked_out, self.multiband = blocked_out, multiband
        self.rate, self.frames = rate, source.frames
        self.frame = tonal_frame_frames(rate)
        self.block = block_frames(rate)
        self.fine_centres, self.fine_labels = _fine_bands(rate, self.frame)
        self.edges = usable_edges(CROSSOVER_HZ, rate)
        self.preroll = round(_ANALYSIS_PREROLL_S * rate)

    def __call__(self, start: int, stop: int) -> _ChunkStats:
        rate, frames, block = self.rate, self.frames, self.block
        first = max(0, start - self.preroll)
        last = min(frames, stop + _ANALYSIS_POSTROLL)
        read_first, read_last = first, last
        read_first = min(first, max(0, start - self.meter.preroll_frames))
        read_last = max(last, min(frames, stop + self.meter.postroll_frames))
        whole = self.source.read(read_first, read_last)
        self.meter.add(whole, read_first, start, stop)
        raw = whole[:, first - read_first : last - read_first]
        x = raw if self.dc_blocked else dc_block(raw, rate)
        core = x[:, start - first : stop - first]
        if self.blocked_out is not None:
            self.blocked_out.write(start, core)
        powers, mean_square, _ = frame_band_powers(core, rate, self.fine_labels)
        lo, hi = start // block, -(-stop // block)
        # Block statistics run from the first block boundary at or after ``first``, so
        # that they sit on the track's absolute block grid.
        head = -first % block
        skip = (first + head) // block
        if self.multiband:
            got = band_block_powers(x[:, head:], rate, self.edges, first + head)
            blocks = (lo, hi, got[:, lo - skip : hi - skip])
        else:
            blocks = (lo, lo, np.zeros((3, 0)))
        stereo = raw.shape[0] == 2
        return _ChunkStats(
            powers, mean_square, blocks, (not stereo) or bool(np.array_equal(raw[0], raw[1]))
        )


def analyse_source(
    source: PcmSource,
    *,
    dc_blocked: bool = False,
    meter: TrackMeter | None = None,
    blocked_out: ScratchTrack | None = None,
    multiband: bool = True,
    workers: int = 1,
) -> SourceAnalysis:
    """Measure ``source`` once for the plans of :mod:`~soundry.engine.mastering.chain`.

    Parameters
    ----------
    source : PcmSource
        The track (mono or stereo), any supported rate, read a chunk at a time.
    dc_blocked : bool
        The source already went through :func:`dc_block` (skip it here).
    meter : TrackMeter or None
        Fed every chunk (of the source as read, before the DC blocker), so the report's
        "before" figures come from the same single read of the track; its mid/side spectra
        are the analysis's. Made here when not given.
    blocked_out : ScratchTrack or None
        Also receives the DC-blocked track (the chain's first stage), so that rendering
        reads it back instead of decoding and filtering the source again.
    multiband : bool
        Measure the multiband detector's input (a master needs it, a reference does not;
        without it ``band_powers`` is all zero).
    workers : int
        Threads the chunks are spread over (the kernels release the GIL).

    Returns
    -------
    SourceAnalysis
    """
    rate, channels, frames = source.sample_rate, source.channels, source.frames
    meter = meter or TrackMeter(rate, channels, frames)
    chunker = _Chunker(source, dc_blocked, meter, blocked_out, multiband)
    spans = list(chunk_spans(frames, rate))
    # float32: one value per ~1 ms block is the largest statistic kept (an hour: 43 MB).
    band_powers = np.zeros((3, -(-frames // chunker.block)), dtype=np.float32)
    powers, mean_squares, dual_mono = [], [], True
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        # In order as they finish: each chunk's block statistics go straight into place.
        for stats in pool.map(lambda span: chunker(*span), spans):
            lo, hi, values = stats.blocks
            band_powers[:, lo:hi] = values
            powers.append(stats.powers)
            mean_squares.append(stats.mean_square)
            dual_mono = dual_mono and stats.dual_mono
    n_octaves = TONAL_BAND_CENTRES_HZ.size
    n_fine = chunker.fine_centres.size
    every = np.concatenate(powers) if powers else np.zeros((0, n_octaves + n_fine))
    return SourceAnalysis(
        sample_rate=rate,
        channels=channels,
        frames=frames,
        tonal_powers=every[:, :n_octaves],
        tonal_mean_square=np.concatenate(mean_squares) if mean_squares else np.zeros(0),
        tonal_frame=chunker.frame,
        fine_centres_hz=chunker.fine_centres,
        fine_powers=every[:, n_octaves : n_octaves + n_fine],
        block=chunker.block,
        band_powers=band_powers,
        mid_side=meter.mid_side(),
        dual_mono=dual_mono,
    )
