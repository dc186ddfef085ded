"""Peak memory of one benchmark function, run alone in a fresh interpreter.

``python -m benchmarks.memprobe MODULE FUNCTION`` builds a :class:`Context` and its input
files, resets the process's peak resident set size, imports ``MODULE``, calls
``MODULE.FUNCTION(ctx)`` and prints the peak in MB. What one run allocates is not hidden by
what the parent process holds, and building the shared input files (which neither peer
does) is not counted; each peer's own imports are.
"""

from __future__ import annotations

import gc
import importlib
import math
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
        ctx.track_path  # noqa: B018  (the input files exist before measuring starts)
        ctx.reference_path  # noqa: B018
        gc.collect()
        reset = _reset_peak()
        getattr(importlib.import_module(module), function)(ctx)
    finally:
        ctx.close()
    print(_peak_mb() if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)


def _reset_peak() -> bool:
    """Reset the peak RSS to the current RSS (Linux: ``/proc/self/clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _peak_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return math.nan


if __name__ == "__main__":
    main()
