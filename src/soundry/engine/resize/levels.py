"""Loudness either side of every beat: what a cut there does to the level.

A seam joins the outgoing side (the music before the cut at edge ``e``) to the incoming
side (the music from edge ``b`` on). With momentary loudness (BS.1770, 400 ms) ``before``
just before a cut and ``after`` just after it, the seam changes the level by
``after[b] - before'``, where ``before'`` is the 400 ms the listener hears before the cut
(the outgoing side, its last ``fade`` milliseconds crossfaded with the incoming side's),
while the song itself changes it by ``after[e] - before[e]`` at ``e`` and by
``after[b] - before[b]`` at ``b``. The seam adds a jump the song does not make unless it
agrees with one of those; by how much is its *loudness excess*::

    excess(e, b) = min(|jump - (after[e] - before[e])|, |jump - (after[b] - before[b])|)

in LU, the figure :func:`soundry.engine.export.measure_seams` measures on the rendered seam
(issue 4 passes a seam at 1.5 LU or less; with a short fade it is about
``min(|after[b] - after[e]|, |before[b] - before[e]|)``). The windows sit where the export
cuts: just before the attack near each beat
(:func:`~soundry.engine.export.seams.cut_before_onset`), not at the beat time, since a
30 ms shift across an attack after a pause moves a 400 ms window's loudness by several LU;
and the fade is the one the export chooses (short before an attack, long before sustained
material).

:func:`seam_levels` measures a song once (about 0.5 s for 5 minutes of stereo at
44.1 kHz); a resize then costs almost nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.signal

from soundry.audio.buffer import AudioBuffer
from soundry.dsp.loudness import default_channel_weights, k_weighting_sos
from soundry.engine.export.seams import SeamSettings, cut_before_onset
from soundry.engine.export.stitch import mono_of
from soundry.errors import ParameterError

__all__ = [
    "FLOOR_LUFS",
    "MAX_EXCESS_LU",
    "WINDOW_S",
    "SeamLevels",
    "loudness_excess_lu",
    "seam_levels",
]

WINDOW_S = 0.4
"""Length of the loudness window either side of a cut, seconds (BS.1770 momentary)."""
FLOOR_LUFS = -70.0
"""Windows quieter than this (silence) count as this loud, LUFS."""
MAX_EXCESS_LU = 1.5
"""Largest loudness excess of a seam that passes (issue 4), LU."""

_BLOCK_S = 0.001  # resolution of the cut positions and fades, seconds
_CHUNK_S = 10.0  # K-weighting runs over chunks of this length (bounded memory)


@dataclass(frozen=True, eq=False)
class SeamLevels:
    """K-weighted energy around the cut at every edge of a beat grid.

    Edge ``i`` is where a segment starting or ending at beat ``i`` is cut: 0 s for edge
    0, ``boundaries_s[i]`` for ``0 < i < N``, the end for edge ``N``. Energies are sums of
    the channel-weighted K-weighted mean square over 1 ms blocks (NaN where a window leaves
    the audio); divided by :data:`WINDOW_S` in ms they give the window's mean square.

    Attributes
    ----------
    cut_s : np.ndarray [shape=(N + 1,), dtype=float64]
        Where the export cuts for each edge (just before its attack), seconds.
    fade_kind : np.ndarray [shape=(N + 1,), dtype=int64]
        The fade an incoming side at this edge gets: 0 = short (an attack follows the
        cut), 1 = long (sustained material).
    fade_s : np.ndarray [shape=(2,), dtype=float64]
        The two fade lengths, seconds.
    energy_after : np.ndarray [shape=(N + 1,), dtype=float64]
        Energy of the 400 ms from the cut on.
    energy_early : np.ndarray [shape=(2, N + 1), dtype=float64]
        Energy from 400 ms before the cut to the start of each kind of fade.
    energy_fade : np.ndarray [shape=(2, N + 1), dtype=float64]
        Energy over each kind of fade, up to the cut.
    """

    cut_s: np.ndarray
    fade_kind: np.ndarray
    fade_s: np.ndarray
    energy_after: np.ndarray
    energy_early: np.ndarray
    energy_fade: np.ndarray

    @property
    def n_edges(self) -> int:
        """Number of edges, ``N + 1``."""
        return int(self.cut_s.size)

    @property
    def before_lufs(self) -> np.ndarray:
        """Momentary loudness of the 400 ms before each cut, LUFS (NaN off the audio)."""
        return _lufs(self.energy_early[0] + self.energy_fade[0])

    @property
    def after_lufs(self) -> np.ndarray:
        """Momentary loudness of the 400 ms after each cut, LUFS (NaN off the audio)."""
        return _lufs(self.energy_after)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(fade_kind, energy_after, energy_early, energy_fade)``, for compiled code."""
        return self.fade_kind, self.energy_after, self.energy_early, self.energy_fade


_WINDOW_BLOCKS = round(WINDOW_S / _BLOCK_S)


@numba.njit(cache=True, inline="always")
def _lufs_of(energy: float) -> float:
    mean = max(energy / _WINDOW_BLOCKS, 1e-30)
    return max(-0.691 + 10.0 * np.log10(mean), FLOOR_LUFS)


def _lufs(energy: np.ndarray) -> np.ndarray:
    mean = np.maximum(energy / _WINDOW_BLOCKS, 1e-30)
    return np.maximum(-0.691 + 10.0 * np.log10(mean), FLOOR_LUFS)


@numba.njit(cache=True)
def excess_of(
    fade_kind: np.ndarray,
    energy_after: np.ndarray,
    energy_early: np.ndarray,
    energy_fade: np.ndarray,
    e: int,
    b: int,
) -> float:
    """Loudness excess of a cut ``e -> b`` (LU; 0 where the windows leave the audio)."""
    k = fade_kind[b]
    heard = energy_early[k, e] + 0.5 * (energy_fade[k, e] + energy_fade[k, b])
    own_e = energy_early[0, e] + energy_fade[0, e]
    own_b = energy_early[0, b] + energy_fade[0, b]
    after_b = energy_after[b]
    if np.isnan(heard) or np.isnan(after_b):
        return 0.0
    jump = _lufs_of(after_b) - _lufs_of(heard)
    best = np.inf
    if not np.isnan(energy_after[e]) and not np.isnan(own_e):
        best = min(best, abs(jump - (_lufs_of(energy_after[e]) - _lufs_of(own_e))))
    if not np.isnan(own_b):
        best = min(best, abs(jump - (_lufs_of(after_b) - _lufs_of(own_b))))
    return 0.0 if best == np.inf else best


def loudness_excess_lu(levels: SeamLevels, e: int, b: int) -> float:
    """Loudness jump a cut ``e -> b`` adds beyond the song's own at either point, LU.

    Parameters
    ----------
    levels : SeamLevels
        From :func:`seam_levels`.
    e, b : int
        Edges: the outgoing segment ends at ``e``, the incoming one starts at ``b``.

    Returns
    -------
    float
        The predicted excess (see the module notes), LU; 0 where the windows leave the
        audio.
    """
    n = levels.n_edges
    if not (0 <= int(e) < n and 0 <= int(b) < n):
        raise ParameterError(f"edges must be 0..{n - 1}; got {e} -> {b}")
    return float(excess_of(*levels.arrays(), int(e), int(b)))


def _block_power(audio: AudioBuffer, block: int) -> np.ndarray:
    """K-weighted, channel-weighted mean square summed over blocks of ``block`` frames."""
    x = audio.samples
    rate = audio.sample_rate
    sos = k_weighting_sos(rate)
    weights = default_channel_weights(x.shape[0])
    blocks = x.shape[1] // block
    out = np.zeros(blocks, np.float64)
    chunk = max(int(_CHUNK_S * rate) // block, 1) * block
    state = np.zeros((x.shape[0], sos.shape[0], 2), np.float64)
    for start in range(0, blocks * block, chunk):
        stop = min(start + chunk, blocks * block)
        y, state = scipy.signal.sosfilt(sos, x[:, start:stop], axis=1, zi=state)
        power = np.einsum("c,cf->f", weights, y * y)
        out[start // block : stop // block] = power.reshape(-1, block).mean(axis=1)
    return out


def seam_levels(
    audio: AudioBuffer, boundaries_s: object, *, settings: SeamSettings | None = None
) -> SeamLevels:
    """Measure the loudness around the cut at every beat of a song.

    Parameters
    ----------
    audio : AudioBuffer
        The song.
    boundaries_s : array_like [shape=(N,)]
        Its beat times, seconds, increasing (``analysis.boundaries_s``).
    settings : SeamSettings, optional
        How the export cuts and fades; default :class:`SeamSettings()`.

    Returns
    -------
    SeamLevels
        ``N + 1`` edges, as the resize grid counts them.

    Raises
    ------
    ParameterError
        ``audio`` is not an AudioBuffer or the beats are not increasing times within it.
    """
    if not isinstance(audio, AudioBuffer):
        raise ParameterError(f"audio must be an AudioBuffer; got {type(audio).__name__}")
    beats = np.asarray(boundaries_s, dtype=np.float64)
    if beats.ndim != 1 or beats.size < 2 or not np.all(np.isfinite(beats)):
        raise ParameterError("boundaries_s must be at least 2 finite beat times, seconds")
    if np.any(np.diff(beats) <= 0.0) or beats[0] < 0.0 or beats[-1] >= audio.duration_s:
        raise ParameterError(
            f"boundaries_s must increase strictly within the audio (0 to {audio.duration_s:g} s)"
        )
    settings = SeamSettings() if settings is None else settings
    rate = audio.sample_rate
    mono = mono_of(audio.samples)
    nominal = np.concatenate([[0], np.round(beats[1:] * rate).astype(np.int64), [audio.frames]])
    cuts = nominal.copy()
    kind = np.zeros(nominal.size, np.int64)
    for i in range(1, nominal.size - 1):
        cuts[i], found = cut_before_onset(mono, int(nominal[i]), settings, rate)
        kind[i] = 0 if found else 1
    block = max(round(_BLOCK_S * rate), 1)
    power = _block_power(audio, block)
    blocks = power.size
    csum = np.concatenate([[0.0], np.cumsum(power)])
    at = np.round(cuts / block).astype(np.int64)

    def energy(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        ok = (lo >= 0) & (hi <= blocks)
        value = csum[np.clip(hi, 0, blocks)] - csum[np.clip(lo, 0, blocks)]
        return np.where(ok, value, np.nan)

    fades_s = np.array([settings.crossfade_ms, settings.sustained_crossfade_ms]) / 1000.0
    fades = np.minimum(np.round(fades_s / _BLOCK_S).astype(np.int64), _WINDOW_BLOCKS)
    start = at - _WINDOW_BLOCKS
    return SeamLevels(
        cut_s=cuts / rate,
        fade_kind=kind,
        fade_s=fades_s,
        energy_after=energy(at, at + _WINDOW_BLOCKS),
        energy_early=np.stack([energy(start, at - f) for f in fades]),
        energy_fade=np.stack([energy(at - f, at) for f in fades]),
    )
