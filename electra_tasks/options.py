"""Every option of `train`/`eval`/`predict`, declared once.

An `Option` says everything about one option: its type, its default, its help, which commands
take it and whether it changes the features (then it is part of the feature-cache key). The
shared options are below; each task family declares its own in `tasks/<family>/options.py`. The
CLI flags, `--help` defaults, `--config FILE`, `run_config.json` and the cache key all derive from
these declarations.

A `RunOptions` holds one run's values. A recipe option (`recipe=True`) stays `None` until the
recipe resolves it (explicit option > task definition > model size > the declared default); every
other option starts at its declared default.
"""

from __future__ import annotations

import copy
import importlib
import json
import pkgutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from electra_tasks.errors import UserError
from electra_tasks.export import parse_backend
from electra_tasks.runfolder import EVAL_FOLDER

COMMANDS = ("train", "eval", "predict")
FINE_TUNING = ("train", "eval", "predict")
DATA = ("train", "eval")


@dataclass(frozen=True)
class Option:
    name: str
    type: type  # str, int, float or bool
    help: str
    default: Any = None  # the value when neither the command line, --config nor the task sets it
    commands: tuple[str, ...] = FINE_TUNING
    encoding: bool = False  # changes the tokenized features: part of the feature-cache key
    recipe: bool = False  # resolved by the recipe (a task definition may override the default)
    flags: tuple[str, ...] = ()  # default: --kebab-name (bool: a switch); "--x/--no-x" for on/off
    default_text: str | None = None  # --help's default where it is computed (by model size ...)
    parse: Callable[[Any], Any] | None = None  # text -> value (e.g. "1,2,3" -> [1, 2, 3])
    stored: bool = True  # kept in RunOptions and run_config.json (--config, --input are not)
    family: str | None = None  # the family that declared it (None: shared)

    @property
    def cli_flags(self) -> tuple[str, ...]:
        return self.flags or (f"--{self.name.replace('_', '-')}",)

    @property
    def flag(self) -> str:
        return self.cli_flags[0].split("/")[0]

    @property
    def initial(self) -> Any:
        """The value a RunOptions starts with."""
        return None if self.recipe else copy.deepcopy(self.default)


def parse_seeds(value: Any) -> list[int] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, (list, tuple)):
        return [int(v) for v in value]
    try:
        return [int(s) for s in str(value).split(",") if s.strip()]
    except ValueError:
        raise UserError(f"--seeds {value}: expected comma-separated integers, e.g. 1,2,3") from None


def parse_names(value: Any) -> list[str] | None:
    """`neg,pos` (or a list) -> ["neg", "pos"]."""
    if value is None or value == "" or value == []:
        return None
    names = [str(v).strip() for v in value] if isinstance(value, (list, tuple)) else \
        [v.strip() for v in str(value).split(",")]
    if any(not name for name in names) or len(set(names)) != len(names):
        raise UserError(f"--label-names {value}: expected distinct comma-separated names, e.g. neg,pos")
    return names


SHARED: tuple[Option, ...] = (
    # where things are
    Option("model", str, "Hub id or local save_pretrained folder.", flags=("--model", "-m")),
    Option("output_dir", str, "Output folder.", commands=DATA,
           default_text="train: runs/TASK; eval: MODEL/" + EVAL_FOLDER.format(task="TASK", split="SPLIT")),
    Option("config", str, "YAML/TOML/JSON file of options (run_config.json loads back); the command line wins.",
           stored=False),
    Option("input", str, "Input file, or - for standard input.", default="-", flags=("--input", "-i"),
           commands=("predict",), stored=False),
    Option("output", str, "Output JSON lines file, or - for standard output.", default="-",
           flags=("--output", "-o"), commands=("predict",), stored=False),
    Option("split", str, "validation or test (MNLI: validation covers matched and mismatched).",
           default="validation", commands=("eval",)),
    # data
    Option("data_dir", str, "A folder in the task's standard file layout (`electra-tasks tasks` lists them).",
           commands=DATA),
    Option("train_file", str, "Training file (the format follows the extension); FILE[a:b] takes data rows a..b-1.",
           commands=DATA),
    Option("validation_file", str, "Validation file.", commands=DATA),
    Option("test_file", str, "Test file (labels optional).", commands=DATA),
    Option("label_column", str, "Label column name (or number with --no-header).", default_text="label",
           commands=DATA),
    Option("id_column", str, "Column with example ids for prediction files.", commands=DATA),
    Option("no_header", bool, "The table has no header line; name columns by number.", default=False,
           commands=DATA),
    Option("delimiter", str, "Field separator of csv/tsv files, e.g. ';' for spreadsheet exports.",
           default_text="',' for .csv, tab for .tsv", commands=DATA),
    Option("encoding", str, "Text encoding of every input file, e.g. latin-1.",
           default_text="UTF-8, else detected (logged)", commands=DATA),
    Option("label_names", str, "Names of integer label (tag) ids, comma-separated in id order; a folder of class "
           "subfolders reads only these subfolders.", default_text="a ClassLabel's names where the data has one",
           commands=DATA, parse=parse_names),
    Option("max_train_samples", int, "Use the first N training examples.", commands=("train",)),
    Option("max_eval_samples", int, "Use the first N evaluation examples.", commands=DATA),
    # encoding
    Option("max_seq_length", int, "Maximum tokens per input.", default=128, recipe=True, encoding=True),
    Option("doc_stride", int, "Overlap, in tokens, between the windows of an input longer than --max-seq-length.",
           default_text="the task's", encoding=True),
    # the recipe
    Option("epochs", float, "Training epochs.", default=3.0, recipe=True, commands=("train",)),
    Option("learning_rate", float, "Peak learning rate.", recipe=True, commands=("train",),
           default_text="by model size: small 3e-4, base 1e-4, large 5e-5"),
    Option("batch_size", int, "Training batch size per device.", default=32, recipe=True, commands=("train",)),
    Option("eval_batch_size", int, "Evaluation batch size.", recipe=True, default_text="4x training, at least 64"),
    Option("seed", int, "Random seed; fixes the result.", default=42, commands=("train",)),
    Option("seeds", str, "Several seeds, e.g. 1,2,3: one run each, metrics as median/mean/std.",
           commands=("train",), parse=parse_seeds),
    Option("layerwise_lr_decay", float, "Layer-wise learning-rate decay (1.0 turns it off).", recipe=True,
           commands=("train",), default_text="by model size: 0.8, large 0.9"),
    Option("weight_decay", float, "AdamW weight decay (none on LayerNorm and biases).", default=0.01,
           recipe=True, commands=("train",)),
    Option("warmup_ratio", float, "Share of steps for linear warm-up.", default=0.1, recipe=True,
           commands=("train",)),
    Option("max_steps", int, "Stop after N optimizer steps (overrides epochs).", recipe=True, commands=("train",)),
    Option("max_grad_norm", float, "Gradient clipping.", default=1.0, recipe=True, commands=("train",)),
    Option("save_steps", int, "Checkpoint every N steps (for --resume).", recipe=True, commands=("train",)),
    Option("logging_steps", int, "Log every N steps.", default=50, recipe=True, commands=("train",)),
    Option("bf16", bool, "bf16 autocast.", flags=("--bf16/--no-bf16",), default_text="on where the GPU supports it"),
    Option("torch_compile", bool, "torch.compile the model.", flags=("--torch-compile/--no-torch-compile",),
           default_text="off", commands=("train",)),
    Option("report_to", str, "Trainer integrations, e.g. tensorboard,wandb.", default_text="none",
           commands=("train",)),
    Option("push_to_hub", bool, "Push the model to the hub when done (online).", default=False, commands=("train",)),
    Option("hub_model_id", str, "Hub repository for --push-to-hub.", default_text="the output folder's name",
           commands=("train",)),
    Option("resume", bool, "Continue from the newest checkpoint in the output folder.", default=False,
           commands=("train",)),
    Option("backend", str, "torch, onnx or onnx-int8 (the ONNX graphs of `electra-tasks export MODEL`, run "
           "by ONNX Runtime on CPU).", default="torch", commands=("eval", "predict"), parse=parse_backend),
    Option("overwrite", bool, "Replace the outputs of an earlier run in the output folder.", default=False),
    Option("trust_remote_code", bool, "Allow model code from the hub.", default=False),
    Option("verbose", bool, "Also show what transformers, datasets and tokenizers log (hidden by default).",
           default=False, stored=False),
)

_ALL: dict[str, Option] | None = None


def family_option_modules() -> dict[str, Any]:
    """family name -> its `tasks/<family>/options.py` module (light: no model code is imported)."""
    import electra_tasks.tasks as tasks_package

    modules = {}
    for info in sorted(pkgutil.iter_modules(tasks_package.__path__), key=lambda m: m.name):
        if info.ispkg:
            try:
                modules[info.name] = importlib.import_module(f"{tasks_package.__name__}.{info.name}.options")
            except ModuleNotFoundError as exc:
                if exc.name != f"{tasks_package.__name__}.{info.name}.options":
                    raise
    return modules


def all_options() -> dict[str, Option]:
    """Every declared option by name: the shared ones, then each family's (names are unique)."""
    global _ALL
    if _ALL is None:
        table = {option.name: option for option in SHARED}
        for family, module in family_option_modules().items():
            for option in getattr(module, "OPTIONS", ()):
                if option.name in table:
                    raise ValueError(f"option {option.name!r} of family {family} is declared twice")
                table[option.name] = replace(option, family=family)
        _ALL = table
    return _ALL


def predict_inputs() -> dict[str, str]:
    """family -> what one line of `predict` input looks like (its options module's PREDICT_INPUT)."""
    return {family: module.PREDICT_INPUT for family, module in family_option_modules().items()
            if hasattr(module, "PREDICT_INPUT")}


def declared_default(name: str) -> Any:
    return all_options()[name].default


def options_for(command: str) -> list[Option]:
    return [option for option in all_options().values() if command in option.commands]


def encoding_options() -> list[str]:
    """The options that change tokenized features (the feature cache is keyed by them)."""
    return [option.name for option in all_options().values() if option.encoding]


class RunOptions:
    """The values of one run: one attribute per stored option, plus `task`."""

    def __init__(self, task: str, **values: Any):
        table = {name: option for name, option in all_options().items() if option.stored}
        unknown = sorted(set(values) - set(table))
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(unknown)}")
        self.task = task
        for name, option in table.items():
            value = values[name] if name in values else option.initial
            if option.parse is not None and value is not None:
                value = option.parse(value)
            setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, **{name: copy.deepcopy(getattr(self, name))
                                      for name, option in all_options().items() if option.stored}}

    @classmethod
    def field_names(cls) -> set[str]:
        return {"task"} | {name for name, option in all_options().items() if option.stored}

    def __repr__(self) -> str:
        return f"RunOptions({self.to_dict()})"


def check_family_options(opts: RunOptions, typed: set[str], family: str, task: str) -> None:
    """A family's option given for a task of another family is a mistake, not something to ignore."""
    table = all_options()
    for name in sorted(typed):
        option = table.get(name)
        if option is not None and option.family is not None and option.family != family:
            raise UserError(f"{option.flag}: an option of {option.family} tasks; task {task} is a "
                            f"{family} task")


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Options from a YAML, TOML or JSON file (`run_config.json` of an earlier run loads back)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: config file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # the parsers' own messages name line and column
        raise UserError(f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of option names to values")
    # run_config.json nests the options under "options"
    if isinstance(data.get("options"), dict):
        data = data["options"]
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def merge_with_config(values: dict[str, Any], typed: set[str], config_path: str | Path | None,
                      known: set[str]) -> dict[str, Any]:
    """Command-line values over `--config FILE`: a file value fills every option not typed."""
    merged = dict(values)
    if config_path is not None:
        for key, value in load_config_file(config_path).items():
            if key not in known:
                raise UserError(f"{config_path}: unknown option '{key}'")
            if key not in typed:
                merged[key] = value
    return merged
