"""Run several `electra-tasks` command lines in one interpreter, one after the other.

    python tests/cli_batch.py JOBS.json RESULTS.json

JOBS.json: {"name": ["train", "glue-cola", "--model", ...], ...}. Each command line goes through
the real CLI (`electra_tasks.cli.app`, typer's CliRunner, as `conftest.invoke` does); the
environment is this process's, so the Hugging Face libraries read HF_ENDPOINT & co. once, at
import, exactly as a shell-started command does. Paying that import (torch, transformers,
datasets: seconds) once instead of per command keeps a matrix of hub runs affordable.
RESULTS.json: {"name": {"exit_code", "stdout", "stderr", "seconds"}}, written as each finishes.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from pathlib import Path


def main(jobs_path: str, results_path: str) -> None:
    from typer.testing import CliRunner

    from electra_tasks.cli import app

    jobs = json.loads(Path(jobs_path).read_text())
    results = {}
    for name, argv in jobs.items():
        # a fresh process has no logging handlers; the CLI binds its handler to the stderr CliRunner captures
        logging.root.handlers.clear()
        started = time.perf_counter()
        result = CliRunner().invoke(app, [str(a) for a in argv], catch_exceptions=True)
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(result.exception))
        results[name] = {"exit_code": result.exit_code, "stdout": result.stdout, "stderr": stderr,
                         "seconds": round(time.perf_counter() - started, 2)}
        tmp = Path(results_path).with_suffix(".tmp")
        tmp.write_text(json.dumps(results, indent=1))
        tmp.replace(results_path)


if __name__ == "__main__":
    main(*sys.argv[1:3])
