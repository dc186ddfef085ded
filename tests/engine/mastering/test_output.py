"""The output format follows the source unless asked otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundry.audio import SourceFormat
from soundry.engine.mastering.output import choose_output_format
from soundry.errors import ParameterError


def source(
    codec: str, container: str, rate: int, depth: int | None, kind: str | None
) -> SourceFormat:
    return SourceFormat(container, codec, rate, 2, 60.0, bit_depth=depth, sample_format=kind)


def test_defaults_follow_the_source() -> None:
    fmt = choose_output_format(source("flac", "flac", 96_000, 16, "int"), None)
    assert (fmt.format, fmt.sample_rate, fmt.bit_depth) == ("flac", 96_000, 16)
    fmt = choose_output_format(source("pcm_f32le", "wav", 48_000, 32, "float"), None)
    assert (fmt.format, fmt.bit_depth, fmt.sample_format) == ("wav", 32, "float")
    fmt = choose_output_format(source("aac", "mp4", 44_100, None, None), None)
    assert (fmt.format, fmt.bitrate_kbps) == ("aac", 256)


def test_file_name_then_arguments() -> None:
    src = source("pcm_s24le", "wav", 44_100, 24, "int")
    assert choose_output_format(src, Path("out.mp3")).format == "mp3"
    fmt = choose_output_format(src, Path("out.flac"), sample_rate=48_000, bit_depth=16)
    assert (fmt.format, fmt.sample_rate, fmt.bit_depth) == ("flac", 48_000, 16)


def test_mp3_gets_a_rate_it_can_hold() -> None:
    fmt = choose_output_format(source("pcm_s24le", "wav", 96_000, 24, "int"), Path("x.mp3"))
    assert fmt.sample_rate == 48_000
    with pytest.raises(ParameterError, match="MP3"):
        choose_output_format(None, Path("x.mp3"), sample_rate=96_000)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"format": "wma"}, "one of"),
        ({"format": "flac", "destination": Path("x.wav")}, "does not match"),
        ({"format": "mp3", "bit_depth": 24}, "lossy"),
        ({"format": "wav", "bit_depth": 12}, "16 or 24"),
    ],
)
def test_bad_choices(kwargs: dict[str, object], match: str) -> None:
    destination = kwargs.pop("destination", None)
    with pytest.raises(ParameterError, match=match):
        choose_output_format(None, destination, **kwargs)  # type: ignore[arg-type]
