"""``soundry measure`` and ``soundry info``: loudness and format facts of one file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from soundry.cli.app import app

FileArgument = Annotated[
    Path, typer.Argument(help="An audio file (WAV, FLAC, MP3, AIFF, M4A, OGG).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

_UNITS = {
    "integrated_lufs": "LUFS",
    "lra_lu": "LU",
    "true_peak_dbtp": "dBTP",
    "sample_peak_dbfs": "dBFS",
    "momentary_max_lufs": "LUFS",
    "short_term_max_lufs": "LUFS",
    "duration_s": "s",
    "sample_rate": "Hz",
    "channels": "",
    "bit_depth": "bit",
    "bitrate_bps": "bit/s",
    "size_bytes": "bytes",
}


@app.command()
def measure(file: FileArgument, as_json: JsonOption = False) -> None:
    """Measure loudness (BS.1770-4 / EBU R128): integrated, LRA, true peak, peaks, maxima."""
    from soundry.audio import decode
    from soundry.dsp.loudness import measure as measure_loudness

    audio = decode(file)
    facts = measure_loudness(audio.samples, audio.sample_rate).to_dict()
    _print(facts, as_json, title=f"Loudness of {file.name}")


@app.command()
def info(file: FileArgument, as_json: JsonOption = False) -> None:
    """Show the format facts: container, codec, rate, bit depth, channels, duration, bitrate."""
    from soundry.audio import probe

    facts = probe(file).to_dict()
    _print(facts, as_json, title=f"Format of {file.name}")


def _print(facts: dict[str, object], as_json: bool, *, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(facts, indent=2))
        return
    table = Table(title=title, show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for key, value in facts.items():
        table.add_row(key, _format_value(value), _UNITS.get(key, ""))
    Console().print(table)


def _format_value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "-inf" if math.isinf(value) and value < 0 else f"{value:.2f}"
    return str(value)
