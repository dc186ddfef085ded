"""``soundry analyze``: beats, tempo, meter, similarity and loudness of one file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from soundry.cli.app import app

InputArgument = Annotated[Path, typer.Argument(help="The music to analyse.")]
Features = Annotated[
    bool, typer.Option("--features", help="Include the 13-value embedding of every beat.")
]
JsonPath = Annotated[
    Path | None,
    typer.Option("--json", help="Write the analysis as JSON (Audjust's result keys) here."),
]


@app.command("analyze")
def analyze_command(
    input_path: InputArgument, features: Features = False, json_path: JsonPath = None
) -> None:
    """Find beats, tempo, meter and downbeats, beat self-similarity and loudness.

    Prints a summary; with --json also writes the full result (duration, tempo,
    boundaries, downbeats, similarity {data, min, max}, and features with --features).
    """
    from soundry.audio import decode
    from soundry.engine.analysis import analyze
    from soundry.errors import ParameterError

    if json_path is not None and not json_path.parent.is_dir():
        raise ParameterError(f"{json_path}: the folder {json_path.parent} does not exist")
    audio = decode(input_path)
    result = analyze(audio, raw_features=features)
    if json_path is not None:
        _write_json(json_path, result.to_dict(include_features=features))
    _print_summary(input_path, result, json_path)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from soundry.audio._atomic import atomic_path

    with atomic_path(path) as tmp:
        # Compact: the similarity string alone is N (N + 1) / 2 characters.
        tmp.write_text(json.dumps(data, separators=(",", ":")))


def _print_summary(path: Path, result: Any, json_path: Path | None) -> None:
    loudness = result.loudness
    console = Console(soft_wrap=True)  # one fact per line, never broken mid-line
    console.print(f"[bold]{path.name}[/bold]: {result.duration_s:.2f} s, {result.n_beats} beats")
    console.print(
        f"tempo {result.tempo_bpm:.1f} bpm ({result.tempo_alternative} time "
        f"{result.tempo_alternative_bpm:.1f} bpm: support {result.tempo_alternative_score:.2f})"
    )
    console.print(f"meter {result.beats_per_bar} beats per bar, {result.downbeats_s.size} bars")
    first = ", ".join(f"{t:.2f}" for t in result.boundaries_s[:8].tolist())
    more = ", ..." if result.n_beats > 8 else ""
    console.print(f"beats (s): {first}{more}")
    console.print(
        f"loudness {_number(loudness.integrated_lufs)} LUFS, LRA {_number(loudness.lra_lu)} LU,"
        f" true peak {_number(loudness.true_peak_dbtp)} dBTP"
    )
    if json_path is not None:
        console.print(f"wrote {json_path}")


def _number(value: float) -> str:
    return "-inf" if not math.isfinite(value) else f"{value:.2f}"
