"""Signals and measurements shared by the audio tests. Everything is generated, nothing read."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

SUBTYPE_BITS = {"PCM_16": 16, "PCM_24": 24, "PCM_32": 32}


def tones(
    sample_rate: int,
    channels: int,
    duration_s: float,
    *,
    amplitude: float = 0.25,
    noise: float = 0.0,
    seed: int = 0,
    lfe: int | None = None,
    noise_cutoff_hz: float | None = None,
) -> np.ndarray:
    """A few harmonically unrelated tones per channel, faded at both ends: ``(channels, n)``.

    Every channel gets different frequencies so that a channel swap cannot pass a test.
    Channel ``lfe``, if given, holds only bass (40 and 60 Hz): codecs low-pass a 5.1 LFE channel.
    ``noise`` adds Gaussian noise of that RMS relative to the tones, low-passed at
    ``noise_cutoff_hz`` if given (perceptual codecs do not keep the waveform of white noise).
    """
    n = round(duration_s * sample_rate)
    t = np.arange(n) / sample_rate
    rng = np.random.default_rng(seed)
    nyquist = sample_rate / 2
    out = np.empty((channels, n))
    for ch in range(channels):
        if ch == lfe:
            freqs = [40.0, 60.0]
        else:
            freqs = [f * (1 + 0.07 * ch) for f in (220.0, 587.0, 1330.0, 3100.0)]
        freqs = [f for f in freqs if f < 0.4 * nyquist]
        out[ch] = sum(np.sin(2 * np.pi * f * t + ch) for f in freqs) / len(freqs)
        if noise:
            hiss = rng.standard_normal(n)
            if noise_cutoff_hz is not None:
                sos = signal.butter(4, noise_cutoff_hz, fs=sample_rate, output="sos")
                hiss = signal.sosfilt(sos, hiss)
            out[ch] += noise * np.std(out[ch]) / np.std(hiss) * hiss
    fade = min(n // 10, round(0.02 * sample_rate))
    if fade:
        ramp = np.sin(np.linspace(0, np.pi / 2, fade)) ** 2
        out[:, :fade] *= ramp
        out[:, -fade:] *= ramp[::-1]
    return (amplitude * out / np.abs(out).max()).astype(np.float32)


def int_codes(x: np.ndarray, bits: int) -> np.ndarray:
    """Integer sample codes of ``bits`` bits for float samples ``x`` (rounded, clipped)."""
    scale = 2.0 ** (bits - 1)
    return np.clip(np.rint(x.astype(np.float64) * scale), -scale, scale - 1).astype(np.int64)


def write_pcm(
    path: Path | io.BytesIO,
    codes: np.ndarray,
    sample_rate: int,
    subtype: str,
    *,
    format: str = "WAV",
) -> None:
    """Write integer codes ``(channels, n)`` exactly with libsndfile (independent of Soundry)."""
    bits = SUBTYPE_BITS[subtype]
    # libsndfile takes 24-bit data left-aligned in int32.
    data = codes.T.astype(np.int16) if bits == 16 else (codes.T << (32 - bits)).astype(np.int32)
    sf.write(path, data, sample_rate, subtype=subtype, format=format)


def align(reference: np.ndarray, decoded: np.ndarray, max_lag: int = 4096) -> np.ndarray:
    """``decoded`` (1-D) shifted to line up with ``reference`` and cut to its length."""
    n = min(reference.size, decoded.size)
    corr = signal.correlate(decoded[:n], reference[:n], mode="full", method="fft")
    lags = signal.correlation_lags(n, n, mode="full")
    window = np.abs(lags) <= max_lag
    lag = int(lags[window][np.argmax(corr[window])])
    shifted = decoded[lag:] if lag >= 0 else np.concatenate([np.zeros(-lag), decoded])
    out = np.zeros(reference.size)
    m = min(reference.size, shifted.size)
    out[:m] = shifted[:m]
    return out


def lossy_match(reference: np.ndarray, decoded: np.ndarray) -> tuple[float, float]:
    """``(correlation, |level difference| in dB)``, the worst over all channels.

    The encoder delay is removed by cross-correlation; the edges (fades and codec
    priming) are left out of the measurement.
    """
    worst_corr, worst_db = 1.0, 0.0
    for ref, dec in zip(reference.astype(np.float64), decoded.astype(np.float64), strict=True):
        shifted = align(ref, dec)
        edge = ref.size // 10
        r, d = ref[edge:-edge], shifted[edge:-edge]
        corr = float(np.corrcoef(r, d)[0, 1])
        level_db = float(20 * np.log10(np.sqrt(np.mean(d**2)) / np.sqrt(np.mean(r**2))))
        worst_corr = min(worst_corr, corr)
        worst_db = max(worst_db, abs(level_db))
    return worst_corr, worst_db


def rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64)))))
