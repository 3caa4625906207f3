"""What a run prints: live bars for a person at a terminal, plain log lines for CI and files.

- `on_terminal()`: stderr is a terminal and `CI` is not set.
- `Progress`: one transient tqdm bar on stderr at a terminal (a no-op elsewhere); the caller logs
  the one summary line when the phase is done. Bars are drawn at a known size: a
  pseudo-terminal nobody sized (`script` run from a pipe, some CI runners, `docker exec`) reports
  0 columns and 0 lines; tqdm then takes the width as -1 (every bar trimmed to nothing) and the
  height as -1 (every bar "hidden"), and leaves only blank lines.
- `context("seed 2/3")`: a label put in front of every bar and log line while a run lasts.
- `quiet_libraries()`: transformers, datasets, tokenizers, huggingface_hub and their Python
  warnings say nothing unless `--verbose`; re-applied before every model load, because the HF
  Trainer (and other library code) resets transformers' verbosity when it starts.
- `phase(name)`: times the phases of a command for the closing summary (exclusive of nested ones).
- `notes`: warnings that matter, counted while a phase runs and shown once with their count.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections import Counter

log = logging.getLogger("electra_tasks")

FALLBACK_WIDTH = 80
FALLBACK_LINES = 24
LIBRARIES = ("transformers", "datasets", "tokenizers", "huggingface_hub", "accelerate", "torch")

_verbose = False
_labels: list[str] = []
_phases: dict[str, float] = {}
_phase_stack: list[list] = []  # [name, started, time spent in nested phases]
_command_started = time.perf_counter()


def on_terminal() -> bool:
    return sys.stderr.isatty() and os.environ.get("CI", "") in ("", "0", "false")


def reported_size() -> tuple[int, int]:
    """(columns, lines) stderr's terminal reports: (0, 0) when it reports none, or is no terminal."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
        return size.columns, size.lines
    except (OSError, ValueError, AttributeError):
        return 0, 0


def reported_width() -> int:
    return reported_size()[0]


def terminal_width() -> int:
    return reported_width() or int(os.environ.get("COLUMNS", "0") or 0) or FALLBACK_WIDTH


def terminal_lines() -> int:
    return reported_size()[1] or int(os.environ.get("LINES", "0") or 0) or FALLBACK_LINES


# --- labels ("seed 2/3") --------------------------------------------------------------------
@contextlib.contextmanager
def context(label: str):
    _labels.append(label)
    try:
        yield
    finally:
        _labels.pop()


def labelled(text: str) -> str:
    return " ".join([*_labels, text])


# --- bars ---------------------------------------------------------------------------------
BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar:16}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]"


class Progress:
    """A live bar on a terminal, nothing elsewhere; `close()` removes it (leave=False).

    `delay`: seconds before the bar shows (a phase over in a moment draws none). The bar itself
    has a fixed width, so at 80 columns the numbers after it still fit.
    """

    def __init__(self, desc: str, *, total: float | None = None, unit: str = "it", initial: int = 0,
                 enabled: bool = True, delay: float = 0.5, bar_format: str = BAR_FORMAT):
        self.bar = None
        if enabled and on_terminal():
            from tqdm.auto import tqdm

            sized = reported_width() > 0  # a sized terminal may be resized: follow it
            self.bar = tqdm(total=total, desc=labelled(desc), unit=unit, initial=initial, leave=False,
                            file=sys.stderr, mininterval=0.5, delay=delay, bar_format=bar_format,
                            dynamic_ncols=sized, ncols=None if sized else terminal_width(),
                            nrows=None if sized else terminal_lines())

    def update(self, n: float = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def postfix(self, text: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)

    @property
    def rate(self) -> float | None:
        """Units per second so far (None before any)."""
        if self.bar is None or not self.bar.n:
            return None
        elapsed = self.bar.format_dict["elapsed"]
        return (self.bar.n - self.bar.initial) / elapsed if elapsed > 0 else None

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class BarSafeHandler(logging.StreamHandler):
    """Log lines written above the live bars (tqdm.write clears them, writes, redraws)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=self.stream)
        except Exception:
            self.handleError(record)


class LabelledFormatter(logging.Formatter):
    """`electra-tasks: seed 2/3 <message>`: the run's labels (see `context`) before every line."""

    def format(self, record: logging.LogRecord) -> str:
        return "electra-tasks: " + labelled(super().format(record))


def log_handler() -> logging.Handler:
    handler = BarSafeHandler(sys.stderr) if on_terminal() else logging.StreamHandler(sys.stderr)
    handler.setFormatter(LabelledFormatter("%(message)s"))
    return handler


# --- the libraries ------------------------------------------------------------------------
def configure(verbose: bool = False) -> None:
    """Once per command: what the libraries may print (see `quiet_libraries`)."""
    global _verbose
    _verbose = bool(verbose)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if on_terminal() and reported_width() == 0:
        # library bars we keep (hub downloads) read their default size from here
        os.environ.setdefault("TQDM_NCOLS", str(terminal_width()))
        os.environ.setdefault("TQDM_NROWS", str(terminal_lines()))
    import warnings

    warnings.filterwarnings("ignore", message=".*TRANSFORMERS_CACHE.*")
    if not _verbose:
        for name in LIBRARIES:
            warnings.filterwarnings("ignore", module=rf"{name}(\.|$)")
    quiet_libraries()


def quiet_libraries() -> None:
    """Library logging at error level (warning with --verbose); their bars off, ours drawn instead.

    Hub download bars stay on at a terminal: a download can take minutes.
    """
    from datasets.utils import logging as datasets_logging
    from transformers.utils import logging as hf_logging

    level = logging.WARNING if _verbose else logging.ERROR
    hf_logging.set_verbosity(level)
    datasets_logging.set_verbosity(level)
    hf_logging.disable_progress_bar()  # "Loading weights", "Writing model shards"
    datasets_logging.disable_progress_bar()  # `map`: features.encode_cached draws its own bar
    import huggingface_hub.utils as hub_utils
    from huggingface_hub.utils import logging as hub_logging

    # the hub client logs each retry of an unreachable host ("Retrying in 8s [Retry 5/5]") through
    # its own stderr handler and again through ours: quiet like the others, and (--verbose) printed
    # once, by ours, above the bars
    hub_logging.set_verbosity(level)
    hub_root = logging.getLogger("huggingface_hub")
    for handler in list(hub_root.handlers):
        if type(handler) is logging.StreamHandler:
            hub_root.removeHandler(handler)
    if on_terminal():
        hub_utils.enable_progress_bars()
    else:
        hub_utils.disable_progress_bars()


def verbose() -> bool:
    return _verbose


# --- phase timings ------------------------------------------------------------------------
def reset() -> None:
    """A new command: no phase timed, no warning shown yet."""
    global _command_started
    _command_started = time.perf_counter()
    _phases.clear()
    _phase_stack.clear()
    notes.counts.clear()
    notes.shown.clear()


@contextlib.contextmanager
def phase(name: str):
    """Time a phase; time spent in a phase nested inside goes to that one only."""
    entry = [name, time.perf_counter(), 0.0]
    _phase_stack.append(entry)
    try:
        yield
    finally:
        _phase_stack.pop()
        elapsed = time.perf_counter() - entry[1]
        _phases[name] = _phases.get(name, 0.0) + elapsed - entry[2]
        if _phase_stack:
            _phase_stack[-1][2] += elapsed


def phase_times() -> dict[str, float]:
    return dict(_phases)


def command_seconds() -> float:
    """Wall time since the command started (imports, set-up and all phases)."""
    return time.perf_counter() - _command_started


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


# --- warnings that matter, once, with a count ---------------------------------------------
class Notes:
    """`add("inputs longer than 128 tokens were cut", 3)` while a phase runs; `flush(where)` logs
    each message once with its total ("glue-sst2 train: 3 inputs longer than ..."). A message
    already shown with the same count (the same file read again for the next seed) is not repeated.
    """

    def __init__(self):
        self.counts: Counter = Counter()
        self.shown: set[str] = set()

    def add(self, message: str, count: int = 1) -> None:
        if count:
            self.counts[message] += int(count)

    def flush(self, where: str) -> None:
        for message, count in self.counts.items():
            line = f"{where}: {count:,} {message}"
            if line not in self.shown:
                self.shown.add(line)
                log.warning("%s", line)
        self.counts.clear()

    def once(self, line: str) -> None:
        """A warning line shown once per command, however often it is reached."""
        if line not in self.shown:
            self.shown.add(line)
            log.warning("%s", line)


notes = Notes()
