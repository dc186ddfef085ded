"""``soundry demo``: master a generated song and print what changed.

This is what ``make run`` runs until the HTTP service exists: it proves the install works end
to end (synthesis, filters, dynamics, limiter, meter, encoder) without any input file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from soundry.cli.app import app

_DEFAULT_OUT = Path(os.environ.get("SOUNDRY_HOME", Path.home() / ".soundry")) / "demo"


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the WAV files.")
    ] = _DEFAULT_OUT,
    target_lufs: Annotated[float, typer.Option(help="Loudness target, LUFS.")] = -14.0,
    ceiling_dbtp: Annotated[float, typer.Option(help="True-peak ceiling, dBTP.")] = -1.0,
    duration_s: Annotated[float, typer.Option(help="Length of the song, seconds.")] = 20.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Generate a 20 s song, master it (soundry.master) to -14 LUFS / -1 dBTP, print the report."""
    from soundry.audio import encode
    from soundry.audio.synth import demo_song
    from soundry.engine.mastering import master

    song = demo_song(duration_s=duration_s)
    mastered, result = master(song, target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp)
    out_dir.mkdir(parents=True, exist_ok=True)
    source_path = out_dir / "demo-source.wav"
    master_path = out_dir / "demo-master.wav"
    encode(song, source_path, bit_depth=24)
    encode(mastered, master_path, bit_depth=24)
    report = result.to_dict()
    report["files"] = {"source": str(source_path), "master": str(master_path)}
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    console = Console()
    table = Table(title="Soundry demo: mastering a generated song")
    table.add_column("measure")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    for key in report["after"]["loudness"]:
        before, after = report["before"]["loudness"][key], report["after"]["loudness"][key]
        table.add_row(key, _fmt(before), _fmt(after))
    console.print(table)
    target = report["target"]
    console.print(
        f"target {target_lufs:g} LUFS / {ceiling_dbtp:g} dBTP:"
        f" {'reached' if target['reached'] else 'not reached'}. {target['note']}"
    )
    console.print(f"wrote {source_path} and {master_path}")


def _fmt(value: object) -> str:
    return "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)
