"""Terminal or not: progress bars for a person at a terminal, plain log lines for CI and files."""

from __future__ import annotations

import os
import sys


def on_terminal() -> bool:
    return sys.stderr.isatty() and os.environ.get("CI", "") in ("", "0", "false")


def configure_progress() -> None:
    """Off a terminal, turn off the carriage-return progress bars of datasets and transformers."""
    if on_terminal():
        return
    from datasets.utils import logging as datasets_logging
    from transformers.utils import logging as hf_logging

    datasets_logging.disable_progress_bar()
    hf_logging.disable_progress_bar()
