"""MP3 (LAME) and AAC-LC (FFmpeg's native encoder) through PyAV."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np

__all__ = [
    "AAC_LAYOUTS",
    "AAC_SAMPLE_RATES",
    "MP3_ALGORITHM_QUALITY",
    "MP3_SAMPLE_RATES",
    "decoded_blocks",
    "write_aac",
    "write_mp3",
]

MP3_SAMPLE_RATES = (8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000)
AAC_SAMPLE_RATES = (
    8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 64_000, 88_200, 96_000
)  # fmt: skip
AAC_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "4.0", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}

MP3_ALGORITHM_QUALITY = 5
"""LAME's ``-q`` (0 best and slowest .. 9 fastest; LAME's own default is 3). Encoder time
dominates an MP3 export: for 3 minutes of stereo at 320 kbit/s the bundled LAME took 11 s at
q3, 8 s at q5 and 5.3 s at q7 on the 2-core development machine. LAME recommends 2 for
near-best quality, 5 for good quality and fast, 7 for ok quality and really fast."""

# Frames handed to the encoder per call: one MP3 granule pair / one AAC frame. Larger frames
# would be split again inside FFmpeg, and one frame for the whole file is far slower.
_MP3_FRAME = 1152
_AAC_FRAME = 1024
# Codec frames taken from the samples per read.
_FRAMES_PER_READ = 256


def _encode(
    path: Path,
    samples: Any,
    sample_rate: int,
    *,
    container: str,
    codec: str,
    bitrate_bps: int,
    frame_size: int,
    layout: str,
    codec_options: dict[str, str],
    container_options: dict[str, str],
) -> None:
    output: Any = av.open(str(path), mode="w", format=container, options=container_options)
    with output:
        stream = output.add_stream(codec, rate=sample_rate, layout=layout)
        ctx = stream.codec_context
        ctx.bit_rate = bitrate_bps
        ctx.format = "fltp"
        ctx.options = codec_options
        frames = samples.shape[1]
        span = frame_size * _FRAMES_PER_READ
        for first in range(0, frames, span):
            # One read per span: ``samples`` may be a view of a track on disk.
            block = np.asarray(samples[:, first : first + span], dtype=np.float32)
            for offset in range(0, block.shape[1], frame_size):
                chunk = np.ascontiguousarray(block[:, offset : offset + frame_size])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
                frame.sample_rate = sample_rate
                frame.pts = first + offset
                output.mux(stream.encode(frame))
        output.mux(stream.encode(None))


def write_mp3(path: Path, samples: np.ndarray, sample_rate: int, bitrate_kbps: int) -> None:
    """Encode ``(channels, frames)`` float32 samples to a CBR MP3 file with a LAME/Xing tag."""
    _encode(
        path,
        samples,
        sample_rate,
        container="mp3",
        codec="libmp3lame",
        bitrate_bps=bitrate_kbps * 1000,
        frame_size=_MP3_FRAME,
        layout="mono" if samples.shape[0] == 1 else "stereo",
        codec_options={"compression_level": str(MP3_ALGORITHM_QUALITY)},
        container_options={},
    )


def write_aac(path: Path, samples: np.ndarray, sample_rate: int, bitrate_kbps: int) -> None:
    """Encode ``(channels, frames)`` float32 samples to AAC-LC in an M4A (MP4) file.

    The ``moov`` box goes to the front (fast start) so that browsers can play the file
    while it downloads.
    """
    _encode(
        path,
        samples,
        sample_rate,
        container="ipod",
        codec="aac",
        bitrate_bps=bitrate_kbps * 1000,
        frame_size=_AAC_FRAME,
        layout=AAC_LAYOUTS[samples.shape[0]],
        codec_options={},
        container_options={"movflags": "+faststart"},
    )


def decoded_blocks(path: Path) -> Iterator[np.ndarray]:
    """Decode a file we encoded, frame by frame: ``(channels, n)`` float32 blocks in order.

    For checking what a lossy file delivers without holding it decoded in memory.
    """
    with av.open(str(path), mode="r") as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            block = frame.to_ndarray()
            if not frame.format.is_planar:
                block = block.reshape(-1, frame.layout.nb_channels).T
            yield np.asarray(block, dtype=np.float32)
