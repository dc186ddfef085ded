"""The ``soundry`` Typer application and its error boundary.

Commands live in their own modules and register themselves on :data:`app`. Every
:class:`~soundry.errors.SoundryError` becomes one line on stderr and exit status 1; usage
errors exit with 2, as click does.
"""

from __future__ import annotations

import sys

import typer

from soundry.errors import SoundryError

__all__ = ["app", "main"]

app = typer.Typer(
    name="soundry",
    help="Soundry: self-hosted mastering, mixing, analysis and resize.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_commands() -> None:
    # Imported for their side effect of adding commands to ``app``.
    from soundry.cli import analyze, demo, export, master, measure, resize  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status instead of raising."""
    _register_commands()
    try:
        # Standalone mode handles usage errors (exit 2) and --help itself.
        app(args=argv, prog_name="soundry")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except SoundryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
