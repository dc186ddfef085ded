"""Peak memory of one benchmark function, run alone in a fresh interpreter.

``python -m benchmarks.memprobe MODULE FUNCTION`` builds a :class:`Context`, calls
``MODULE.FUNCTION(ctx)`` and prints the process's peak resident set size in MB, so that
what one run allocates is not hidden by what the parent process already holds.
"""

from __future__ import annotations

import importlib
import resource
import subprocess
import sys

from benchmarks.harness import REPO_ROOT, Context


def peak_rss_mb(module: str, function: str) -> float:
    """Run ``module.function(ctx)`` in a child interpreter; its peak RSS in MB."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.memprobe", module, function],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    module, function = sys.argv[1], sys.argv[2]
    ctx = Context(repeats=1)
    try:
        getattr(importlib.import_module(module), function)(ctx)
    finally:
        ctx.close()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)


if __name__ == "__main__":
    main()
