"""The `electra-tasks` command line: thin typer wrappers over the library.

Each command parses its options into a `RunOptions` (merged with `--config FILE`, the command line
winning) and calls one function of `training.runner` (or `pretraining`, `report`). A `UserError`
becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import inspect
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from electra_tasks.errors import UserError
from electra_tasks.options import (Option, RunOptions, check_family_options, merge_with_config, options_for,
                                   predict_inputs)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Fine-tune and continue pre-training ELECTRA encoders: `electra-tasks tasks` lists the tasks; "
         "`pretrain-continue` runs replaced-token detection.",
)
log = logging.getLogger("electra_tasks")

# --- the fine-tuning commands' flags, generated from the option declarations -----------------
Config = Annotated[Optional[Path], typer.Option(help="YAML/TOML/JSON file of options (run_config.json loads back); the command line wins.")]
BatchSize = Annotated[Optional[int], typer.Option(help="Training batch size per device (default 32).")]
Seed = Annotated[int, typer.Option(help="Random seed; fixes the result.")]
Bf16 = Annotated[Optional[bool], typer.Option("--bf16/--no-bf16", help="bf16 autocast (default: on where the GPU supports it).")]
TrustRemoteCode = Annotated[bool, typer.Option("--trust-remote-code", help="Allow model code from the hub (off by default).")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace the outputs of an earlier run in the output folder.")]


METAVARS = {str: "TEXT", int: "INTEGER", float: "FLOAT", bool: "BOOLEAN"}


def option_parameter(option: Option) -> inspect.Parameter:
    """One declared option as a typer parameter: flags, help and the default --help shows."""
    switch = option.type is bool and "/" not in option.cli_flags[0]
    shown = option.default_text or (None if option.default in (None, False, "-") or switch else option.default)
    help_text = option.help + (f"  [default: {shown}]" if shown is not None else "")
    # the value typed is all `build_options` takes, so this default is only what --help shows
    default = typer.Option(bool(option.default) if switch else option.default, *option.cli_flags,
                           help=help_text, show_default=False, metavar=None if switch else METAVARS[option.type])
    annotation = bool if switch else Optional[option.type]
    return inspect.Parameter(option.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)


def fine_tuning_command(name: str, summary: str, body: Callable[[RunOptions, dict[str, Any]], None]):
    """Register `electra-tasks NAME TASK [options]` with every option declared for NAME."""
    declared = options_for(name)

    def command(ctx: typer.Context, task: str, **values: Any) -> None:
        run_command(lambda: body(build_options(ctx, task, values, declared), values),
                    verbose=bool(values.get("verbose")))

    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
              inspect.Parameter("task", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                default=typer.Argument(None, metavar="TASK", show_default=False,
                                                       help="Task name (see `electra-tasks tasks`); may come from "
                                                            "--config run_config.json."),
                                annotation=Optional[str])]
    params += [option_parameter(option) for option in declared]
    command.__signature__ = inspect.Signature(params)
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = summary
    app.command(name)(command)


def typed_options(ctx: typer.Context, values: dict[str, Any]) -> set[str]:
    """The options the user typed (not left at their defaults); typer vendors click, so by name."""
    return {key for key in values
            if getattr(ctx.get_parameter_source(key), "name", "DEFAULT") not in ("DEFAULT", "DEFAULT_MAP")}


def resolve_task(typed: Optional[str], from_config: Optional[str], config: Optional[str]) -> str:
    """TASK from the command line or from --config FILE (run_config.json names its task)."""
    if typed and from_config and typed != from_config:
        raise UserError(f"task {typed} given, but --config {config} is a {from_config} run; drop the task "
                        f"argument to repeat that run, or pass a config of a {typed} run")
    if not (typed or from_config):
        raise UserError("missing TASK: name one (see `electra-tasks tasks`) or pass --config with a run_config.json")
    return typed or from_config


def build_options(ctx: typer.Context, task: str, values: dict[str, Any], declared: list[Option]) -> RunOptions:
    """CLI values merged over --config: only the options the user typed win; an option left
    untouched takes the file's value, else its declaration's."""
    typed = typed_options(ctx, values)
    given = {name: values[name] for name in typed}
    known = RunOptions.field_names() - {"task"}
    merged = merge_with_config(given, typed, values.get("config"), known | {"task"})
    task = resolve_task(task, merged.pop("task", None), values.get("config"))
    opts = RunOptions(task, **{k: v for k, v in merged.items() if k in known})
    from electra_tasks.registry import get_task

    check_family_options(opts, typed, get_task(task).family, task)
    return opts


def run_command(fn: Callable[[], Any], *, verbose: bool = False) -> Any:
    """Run a command body: a UserError is one line on stderr and exit status 2."""
    _setup_logging(verbose)
    try:
        return fn()
    except UserError as exc:
        typer.echo(f"electra-tasks: error: {exc}", err=True)
        raise typer.Exit(code=2)
    except KeyboardInterrupt:
        typer.echo("electra-tasks: interrupted", err=True)
        raise typer.Exit(code=130)


def _setup_logging(verbose: bool = False) -> None:
    from electra_tasks import console

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, handlers=[console.log_handler()])
    console.configure(verbose)
    console.reset()
    # huggingface_hub's HTTP clients log every request at INFO ("HTTP Request: HEAD .../config.json"):
    # dozens of lines per hub run under the root level set above
    for name in ("httpx", "httpx2", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def print_summary(title: str, metrics: dict[str, Any], out: Optional[str]) -> None:
    """The closing table a person reads: metric, value, and where the files went (rank 0 only)."""
    from electra_tasks.outputs import is_main_process

    if not is_main_process():
        return
    rows = [(k, v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    width = max([len(k) for k, _ in rows] + [6])
    typer.echo(f"\n{title}")
    typer.echo(f"  {'metric'.ljust(width)}  value")
    for key, value in rows:
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        typer.echo(f"  {key.ljust(width)}  {shown}")
    if out:
        typer.echo(f"  outputs: {out}{describe_outputs(Path(out))}")
    from electra_tasks.console import command_seconds, format_seconds, phase_times

    times = {name: seconds for name, seconds in phase_times().items() if seconds >= 0.05}
    if times:
        typer.echo("  time:    " + ", ".join(f"{name} {format_seconds(seconds)}" for name, seconds in times.items())
                   + f"; {format_seconds(command_seconds())} in all")


MODEL_FILES = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
               "special_tokens_map.json", "generation_config.json", "added_tokens.json"}


def describe_outputs(out: Path) -> str:
    """ (model, metrics.json, predictions_validation.tsv, seed-1/ ...): what the folder holds."""
    if not out.is_dir():
        return ""
    names = sorted(out.iterdir(), key=lambda p: (p.is_dir(), p.name))
    shown = ["model"] if any(p.name in MODEL_FILES for p in names) else []
    shown += [p.name + ("/" if p.is_dir() else "") for p in names
              if p.name not in MODEL_FILES and not p.name.startswith(".") and not (p.is_dir() and not any(p.iterdir()))]
    return f" ({', '.join(shown)})" if shown else ""


# --- commands -----------------------------------------------------------------------------
RELEASED_PAIRS = ("google/electra-small-discriminator + google/electra-small-generator",
                  "google/electra-base-discriminator + google/electra-base-generator",
                  "google/electra-large-discriminator + google/electra-large-generator")


def task_rows() -> list[tuple[str, str, str, str, str]]:
    """(task, head, metrics, hub dataset, data formats) of every task; metrics include the ones a
    task writes for further validation splits (MNLI's accuracy_mm)."""
    from electra_tasks.registry import all_tasks
    from electra_tasks.tasks.base import FAMILIES

    rows = []
    for task in all_tasks():
        hub = "/".join(p for p in task.hub_dataset if p) if task.hub_dataset else "-"
        suffixes = [v for k, v in task.spec.get("split_metric_suffix", {}).items() if k.startswith("validation") and v]
        metrics = list(task.metrics) + [f"{m}{suffix}" for suffix in suffixes for m in task.metrics]
        rows.append((task.name, FAMILIES[task.family].head, ",".join(metrics), hub, task.data_formats))
    return rows


@app.command("tasks")
def tasks_command(
    wide: Annotated[bool, typer.Option("--wide", help="One line per task with every column, however wide.")] = False,
) -> None:
    """List every task: name, model head, metrics, hub dataset, data formats; and pre-training's models.

    Example: electra-tasks tasks
    """
    def body():
        import shutil
        import textwrap

        header = ("task", "head", "metrics", "hub dataset", "data formats")
        rows = task_rows()
        if wide:
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
            for row in [header, *rows]:
                typer.echo("  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)))
        else:  # fit the terminal: task, head and metrics on one line, the rest wrapped below
            width = max(60, shutil.get_terminal_size((100, 24)).columns)
            indent = " " * (max(len(r[0]) for r in rows) + 2)
            for name, head, metrics, hub, formats in rows:
                details = (f"hub {hub}; " if hub != "-" else "") + formats
                for text, first in ((f"{head}: {metrics.replace(',', ', ')}", name.ljust(len(indent))),
                                    (details, indent)):
                    typer.echo(textwrap.fill(text, width, initial_indent=first, subsequent_indent=indent,
                                             break_on_hyphens=False))
        from electra_tasks.pretraining.sizes import SHAPES

        typer.echo("")
        typer.echo(textwrap.fill("pretrain-continue: --discriminator D --generator G (released pairs: "
                                 + "; ".join(RELEASED_PAIRS) + f"), or --from-scratch --size {'|'.join(SHAPES)}",
                                 width=10**6 if wide else max(60, shutil.get_terminal_size((100, 24)).columns),
                                 subsequent_indent="  ", break_on_hyphens=False))

    run_command(body)


def version_callback(value: bool) -> None:
    if value:
        from electra_tasks import __version__

        typer.echo(f"electra-tasks {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Fine-tune and continue pre-training ELECTRA encoders: `electra-tasks tasks` lists the tasks;
    `pretrain-continue` runs replaced-token detection."""


def train_body(opts: RunOptions, values: dict[str, Any]) -> None:
    from electra_tasks.training.runner import train

    metrics = train(opts)
    print_summary(f"{opts.task}: training finished", metrics, opts.output_dir)


def eval_body(opts: RunOptions, values: dict[str, Any]) -> None:
    from electra_tasks.training.runner import evaluate

    metrics = evaluate(opts)
    print_summary(f"{opts.task}: evaluation on {opts.split}", metrics, opts.output_dir)


def predict_body(opts: RunOptions, values: dict[str, Any]) -> None:
    from electra_tasks.outputs import atomic_write_jsonl, json_line
    from electra_tasks.training.runner import predict

    source, target = values.get("input") or "-", values.get("output") or "-"
    if target != "-" and Path(target).exists() and not opts.overwrite:
        raise UserError(f"--output {target}: exists; pass --overwrite to replace it")
    if source == "-":
        lines, name = sys.stdin.read().splitlines(), "<stdin>"
    else:
        from electra_tasks.data.tables import read_text

        lines, name = read_text(source).splitlines(), source
    records = predict(opts, lines, name)
    if target == "-":
        for record in records:
            typer.echo(json_line(record))
    else:
        atomic_write_jsonl(target, records)
        log.info("%d predictions written to %s", len(records), target)


fine_tuning_command("train", """Fine-tune an ELECTRA model on a task; write model, metrics.json, predictions, run_config.json.

    Example: electra-tasks train glue-sst2 --model google/electra-small-discriminator

    Example (offline): electra-tasks train glue-rte --model ./my-electra --data-dir glue/RTE --output-dir runs/rte
    """, train_body)
fine_tuning_command("eval", """Score a fine-tuned model with its task's official metric; write metrics.json and predictions.

    Example: electra-tasks eval glue-sst2 --model runs/glue-sst2 --data-dir glue/SST-2 --split validation
    """, eval_body)
fine_tuning_command("predict", "\n\n".join([
    "Run a fine-tuned model on raw inputs, one per line; write one JSON line per input.",
    "Inputs, by task family: " + "; ".join(f"{family.replace('_', ' ')}: {text}"
                                           for family, text in predict_inputs().items()) + ".",
    'Example: echo "a charming and often affecting journey" | electra-tasks predict glue-sst2 --model runs/glue-sst2',
]), predict_body)


@app.command("pretrain-continue")
def pretrain_continue_command(
    ctx: typer.Context,
    more_corpus: Annotated[Optional[list[str]], typer.Argument(metavar="[PATH...]", help="More corpus paths (--corpus a b c).")] = None,
    corpus: Annotated[Optional[list[str]], typer.Option("--corpus", help="Text files (also .gz .bz2 .xz .zst), folders, globs, jsonl/json/parquet/csv/tsv files (--text-column), or hf:DATASET[:CONFIG][@SPLIT]; a blank line ends a document.")] = None,
    output_dir: Annotated[Optional[str], typer.Option(help="Output folder: OUT/discriminator, OUT/generator, run_config.json, log_history.json.")] = None,
    discriminator: Annotated[Optional[str], typer.Option(help="Discriminator to continue: hub id or local folder.")] = None,
    generator: Annotated[Optional[str], typer.Option(help="Its generator: hub id or local folder (same vocabulary).")] = None,
    from_scratch: Annotated[bool, typer.Option("--from-scratch", help="Start from random weights (needs --size).")] = False,
    size: Annotated[Optional[str], typer.Option(help="With --from-scratch: tiny, small or base.")] = None,
    tokenizer: Annotated[Optional[str], typer.Option(help="A vocab.txt, tokenizer folder or hub id (default: the discriminator's, or a WordPiece vocabulary trained on the corpus).")] = None,
    vocab_size: Annotated[Optional[int], typer.Option(help="Size of the trained WordPiece vocabulary (default 30522; tiny 8192).")] = None,
    objective: Annotated[str, typer.Option(help="rtd (ELECTRA) or mlm (masked-LM baseline; writes OUT/mlm).")] = "rtd",
    max_seq_length: Annotated[int, typer.Option(help="Tokens per packed sequence.")] = 128,
    generator_size: Annotated[Optional[float], typer.Option(help="With --from-scratch: generator width as a fraction of the discriminator's (default 0.25).")] = None,
    mask_prob: Annotated[float, typer.Option(help="Share of tokens masked per sequence.")] = 0.15,
    discriminator_weight: Annotated[float, typer.Option(help="Weight of the discriminator loss.")] = 50.0,
    temperature: Annotated[float, typer.Option(help="Sampling temperature of the generator.")] = 1.0,
    learning_rate: Annotated[Optional[float], typer.Option(help="Peak learning rate (default: small 5e-4, base/large 2e-4).")] = None,
    batch_size: BatchSize = None,
    max_steps: Annotated[Optional[int], typer.Option(help="Optimizer steps (default: the published 1M small, 766k base).")] = None,
    warmup_steps: Annotated[Optional[int], typer.Option(help="Linear warm-up steps (default 10% of the steps, at most 10000).")] = None,
    weight_decay: Annotated[float, typer.Option(help="AdamW weight decay (none on LayerNorm and biases).")] = 0.01,
    max_grad_norm: Annotated[float, typer.Option(help="Gradient clipping.")] = 1.0,
    seed: Seed = 42,
    save_steps: Annotated[Optional[int], typer.Option(help="Checkpoint every N steps into OUT/checkpoints (for --resume).")] = None,
    logging_steps: Annotated[int, typer.Option(help="Log the RTD metrics every N steps.")] = 50,
    shuffle_buffer: Annotated[int, typer.Option(help="Packed sequences held for shuffling (memory bound).")] = 2000,
    text_column: Annotated[str, typer.Option(help="Text column of a hub dataset or jsonl/json/parquet/csv/tsv corpus file.")] = "text",
    encoding: Annotated[Optional[str], typer.Option(help="Encoding of every text file (default: UTF-8, else the one detected per file).")] = None,
    bf16: Bf16 = None,
    report_to: Annotated[Optional[str], typer.Option(help="Trainer integrations, e.g. tensorboard,wandb (default none).")] = None,
    config: Config = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint in OUT/checkpoints.")] = False,
    overwrite: Overwrite = False,
    trust_remote_code: TrustRemoteCode = False,
    verbose: Annotated[bool, typer.Option("--verbose", help="Also show what transformers, datasets and tokenizers log (hidden by default).")] = False,
) -> None:
    """Replaced-token-detection pre-training: continue a released generator/discriminator pair, or start from scratch.

    Example: electra-tasks pretrain-continue --discriminator google/electra-small-discriminator --generator google/electra-small-generator --corpus my_texts/ --output-dir runs/electra-dapt --max-steps 10000

    Example (offline): electra-tasks pretrain-continue --from-scratch --size tiny --corpus books/ --output-dir runs/tiny --max-steps 2000
    """
    values = dict(locals())
    values.pop("ctx")
    values["corpus"] = list(values.get("corpus") or []) + list(values.pop("more_corpus") or [])

    def body():
        from electra_tasks.pretraining.options import merge_config
        from electra_tasks.pretraining.run import pretrain

        typed = typed_options(ctx, values)
        if values["corpus"]:
            typed.add("corpus")
        opts = merge_config(values, typed, values.pop("config", None))
        metrics = pretrain(opts)
        print_summary("pre-training finished", metrics, opts.output_dir)

    run_command(body, verbose=verbose)


@app.command("report")
def report_command(
    run_dir: Annotated[str, typer.Argument(metavar="OUT", help="A finished run folder (train, eval, --seeds or pretrain-continue).")],
    output_dir: Annotated[Optional[str], typer.Option(help="Where to write README.md and the plots (default OUT/report).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier report in that folder.")] = False,
) -> None:
    """Plots (PNG) and a Markdown summary of a finished run, ready to paste into a model card.

    Example: electra-tasks report runs/glue-sst2
    """
    def body():
        from electra_tasks.report import report

        for path in report(run_dir, output_dir=output_dir, overwrite=overwrite):
            typer.echo(str(path))

    run_command(body)


@app.command("export")
def export_command(
    model_dir: Annotated[str, typer.Argument(metavar="OUT", help="A fine-tuned model folder (the output of `train`).")],
    quantize: Annotated[Optional[str], typer.Option(help="int8: also write model_int8.onnx (ONNX Runtime dynamic quantization).")] = None,
    opset: Annotated[Optional[int], typer.Option(help="ONNX opset (default: the exporter's).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier OUT/onnx.")] = False,
) -> None:
    """Export a fine-tuned model to ONNX for CPU serving: OUT/onnx/ with model.onnx, the tokenizer and label maps.

    Needs the onnx extra: pip install "electra-tasks[onnx]". Then `eval`/`predict --backend onnx|onnx-int8` run it.

    Example: electra-tasks export runs/glue-sst2 --quantize int8
    """
    def body():
        from electra_tasks.export import export_model

        for path in export_model(model_dir, quantize=quantize, opset=opset, overwrite=overwrite):
            typer.echo(str(path))

    run_command(body)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
