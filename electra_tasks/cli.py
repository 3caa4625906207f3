"""The `electra-tasks` command line: thin typer wrappers over the library.

Each command parses its options into a `RunOptions` (merged with `--config FILE`, the command line
winning) and calls one function of `training.runner` (or `pretraining`, `report`). A `UserError`
becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import typer

from electra_tasks.errors import UserError
from electra_tasks.options import RunOptions, merge_with_config

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Fine-tune and continue pre-training ELECTRA encoders (GLUE, NER, SQuAD, extractive "
         "summarization, replaced-token detection).",
)
log = logging.getLogger("electra_tasks")

# --- shared option declarations -----------------------------------------------------------
Model = Annotated[Optional[str], typer.Option("--model", "-m", help="Hub id or local save_pretrained folder.")]
OutputDir = Annotated[Optional[str], typer.Option(help="Output folder (default runs/TASK).")]
Config = Annotated[Optional[Path], typer.Option(help="YAML/TOML/JSON file of options (run_config.json loads back); the command line wins.")]
DataDir = Annotated[Optional[str], typer.Option(help="The task's standard file layout (GLUE: train.tsv/dev.tsv/test.tsv).")]
TrainFile = Annotated[Optional[str], typer.Option(help="Training file (.tsv .csv .json .jsonl .txt .conll).")]
ValidationFile = Annotated[Optional[str], typer.Option(help="Validation file.")]
TestFile = Annotated[Optional[str], typer.Option(help="Test file (labels optional).")]
TextColumn = Annotated[Optional[str], typer.Option(help="Text column name (or number with --no-header). Default sentence/sentence1.")]
TextPairColumn = Annotated[Optional[str], typer.Option(help="Second text column for pairs. Default sentence2 when present.")]
LabelColumn = Annotated[Optional[str], typer.Option(help="Label column name (or number). Default label.")]
IdColumn = Annotated[Optional[str], typer.Option(help="Column with example ids for prediction files.")]
NoHeader = Annotated[bool, typer.Option("--no-header", help="The table has no header line; name columns by number.")]
Regression = Annotated[bool, typer.Option("--regression", help="Labels are real-valued scores.")]
TagColumn = Annotated[Optional[int], typer.Option(help="Tagging: 0-based column of the tag (default: last).")]
Strict = Annotated[bool, typer.Option("--strict", help="Tagging: seqeval strict IOB2 scoring instead of conlleval's.")]
DocumentColumn = Annotated[Optional[str], typer.Option(help="Summarization: document column (default article).")]
SummaryColumn = Annotated[Optional[str], typer.Option(help="Summarization: reference summary column (default highlights).")]
MaxTrainSamples = Annotated[Optional[int], typer.Option(help="Use the first N training examples.")]
MaxEvalSamples = Annotated[Optional[int], typer.Option(help="Use the first N evaluation examples (QA: questions).")]
MaxSeqLength = Annotated[Optional[int], typer.Option(help="Maximum tokens per input (default 128; QA 384).")]
BatchSize = Annotated[Optional[int], typer.Option(help="Training batch size per device (default 32).")]
EvalBatchSize = Annotated[Optional[int], typer.Option(help="Evaluation batch size (default 4x training).")]
Seed = Annotated[int, typer.Option(help="Random seed; fixes the result.")]
DocStride = Annotated[Optional[int], typer.Option(help="QA: overlap between context windows (default 128); tagging: overlap of the windows of a long sentence, in tokens.")]
MaxQueryLength = Annotated[Optional[int], typer.Option(help="QA: question tokens kept (default 64).")]
NBestSize = Annotated[Optional[int], typer.Option(help="QA: candidate starts/ends per window (default 20).")]
MaxAnswerLength = Annotated[Optional[int], typer.Option(help="QA: longest answer in tokens (default 30).")]
SummarySentences = Annotated[Optional[int], typer.Option(help="Summarization: sentences per summary (default 3).")]
Bf16 = Annotated[Optional[bool], typer.Option("--bf16/--no-bf16", help="bf16 autocast (default: on where the GPU supports it).")]
TrustRemoteCode = Annotated[bool, typer.Option("--trust-remote-code", help="Allow model code from the hub (off by default).")]
Overwrite = Annotated[bool, typer.Option("--overwrite", help="Replace the outputs of an earlier run in the output folder.")]


def _seeds(value: Optional[str]) -> Optional[list[int]]:
    if value is None or value == "":
        return None
    try:
        return [int(s) for s in str(value).split(",") if s.strip()]
    except ValueError:
        raise UserError(f"--seeds {value}: expected comma-separated integers, e.g. 1,2,3") from None


def typed_options(ctx: typer.Context, values: dict[str, Any]) -> set[str]:
    """The options the user typed (not left at their defaults); typer vendors click, so by name."""
    return {key for key in values
            if getattr(ctx.get_parameter_source(key), "name", "DEFAULT") not in ("DEFAULT", "DEFAULT_MAP")}


def build_options(ctx: typer.Context, values: dict[str, Any]) -> RunOptions:
    """CLI values merged over --config (only options the user actually typed win)."""
    config_path = values.pop("config", None)
    merged = merge_with_config(values, typed_options(ctx, values), config_path, RunOptions.field_names())
    if isinstance(merged.get("seeds"), str) or merged.get("seeds") is None:
        merged["seeds"] = _seeds(merged.get("seeds"))
    known = RunOptions.field_names()
    return RunOptions(**{k: v for k, v in merged.items() if k in known})


def run_command(fn: Callable[[], Any]) -> Any:
    """Run a command body: a UserError is one line on stderr and exit status 2."""
    _setup_logging()
    try:
        return fn()
    except UserError as exc:
        typer.echo(f"electra-tasks: error: {exc}", err=True)
        raise typer.Exit(code=2)
    except KeyboardInterrupt:
        typer.echo("electra-tasks: interrupted", err=True)
        raise typer.Exit(code=130)


def _setup_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(format="electra-tasks: %(message)s", level=logging.INFO, stream=sys.stderr)
    # huggingface_hub's HTTP clients log every request at INFO ("HTTP Request: HEAD .../config.json"):
    # dozens of lines per hub run under the root level set above
    for name in ("httpx", "httpx2", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import warnings

    warnings.filterwarnings("ignore", message=".*TRANSFORMERS_CACHE.*")
    from transformers.utils import logging as hf_logging

    from electra_tasks.console import configure_progress

    hf_logging.set_verbosity_error()
    configure_progress()


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
        typer.echo(f"  outputs: {out}")


# --- commands -----------------------------------------------------------------------------
@app.command("tasks")
def tasks_command() -> None:
    """List every task: name, model head, data formats, metrics, hub dataset.

    Example: electra-tasks tasks
    """
    def body():
        from electra_tasks.registry import all_tasks
        from electra_tasks.tasks.base import FAMILIES

        rows = [("task", "head", "metrics", "hub dataset", "data formats")]
        for task in all_tasks():
            hub = "/".join(p for p in task.hub_dataset if p) if task.hub_dataset else "-"
            rows.append((task.name, FAMILIES[task.family].head, ",".join(task.metrics), hub, task.data_formats))
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for row in rows:
            typer.echo("  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)))

    run_command(body)


@app.command("train")
def train_command(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="Task name (see `electra-tasks tasks`).")],
    model: Model = None,
    output_dir: OutputDir = None,
    config: Config = None,
    data_dir: DataDir = None,
    train_file: TrainFile = None,
    validation_file: ValidationFile = None,
    test_file: TestFile = None,
    text_column: TextColumn = None,
    text_pair_column: TextPairColumn = None,
    label_column: LabelColumn = None,
    id_column: IdColumn = None,
    no_header: NoHeader = False,
    regression: Regression = False,
    tag_column: TagColumn = None,
    strict: Strict = False,
    document_column: DocumentColumn = None,
    summary_column: SummaryColumn = None,
    max_train_samples: MaxTrainSamples = None,
    max_eval_samples: MaxEvalSamples = None,
    epochs: Annotated[Optional[float], typer.Option(help="Training epochs (default 3; RTE/STS-B 10; SQuAD 2).")] = None,
    learning_rate: Annotated[Optional[float], typer.Option(help="Peak learning rate (default by size: small 3e-4, base 1e-4, large 5e-5).")] = None,
    batch_size: BatchSize = None,
    eval_batch_size: EvalBatchSize = None,
    max_seq_length: MaxSeqLength = None,
    seed: Seed = 42,
    seeds: Annotated[Optional[str], typer.Option(help="Several seeds, e.g. 1,2,3: one run each, metrics as median/mean/std.")] = None,
    layerwise_lr_decay: Annotated[Optional[float], typer.Option(help="Layer-wise LR decay (default 0.8; 0.9 large; 1.0 turns it off).")] = None,
    weight_decay: Annotated[Optional[float], typer.Option(help="AdamW weight decay (default 0.01; none on LayerNorm and biases).")] = None,
    warmup_ratio: Annotated[Optional[float], typer.Option(help="Share of steps for linear warm-up (default 0.1).")] = None,
    max_steps: Annotated[Optional[int], typer.Option(help="Stop after N optimizer steps (overrides epochs).")] = None,
    max_grad_norm: Annotated[Optional[float], typer.Option(help="Gradient clipping (default 1.0).")] = None,
    save_steps: Annotated[Optional[int], typer.Option(help="Checkpoint every N steps (for --resume).")] = None,
    logging_steps: Annotated[Optional[int], typer.Option(help="Log every N steps (default 50).")] = None,
    pair_swap: Annotated[bool, typer.Option("--pair-swap", help="Add each training pair swapped (MRPC, STS-B).")] = False,
    doc_stride: DocStride = None,
    max_query_length: MaxQueryLength = None,
    n_best_size: NBestSize = None,
    max_answer_length: MaxAnswerLength = None,
    summary_sentences: SummarySentences = None,
    bf16: Bf16 = None,
    torch_compile: Annotated[Optional[bool], typer.Option("--torch-compile/--no-torch-compile", help="torch.compile the model (off by default).")] = None,
    report_to: Annotated[Optional[str], typer.Option(help="Trainer integrations, e.g. tensorboard,wandb (default none).")] = None,
    push_to_hub: Annotated[bool, typer.Option("--push-to-hub", help="Push the model to the hub when done (online).")] = False,
    hub_model_id: Annotated[Optional[str], typer.Option(help="Hub repository for --push-to-hub.")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint in the output folder.")] = False,
    overwrite: Overwrite = False,
    trust_remote_code: TrustRemoteCode = False,
) -> None:
    """Fine-tune an ELECTRA model on a task; write model, metrics.json, predictions, run_config.json.

    Example: electra-tasks train glue-sst2 --model google/electra-small-discriminator

    Example (offline): electra-tasks train glue-rte --model ./my-electra --data-dir glue/RTE --output-dir runs/rte
    """
    values = dict(locals())
    values.pop("ctx")

    def body():
        from electra_tasks.training.runner import train

        opts = build_options(ctx, values)
        metrics = train(opts)
        print_summary(f"{opts.task}: training finished", metrics, opts.output_dir)

    run_command(body)


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="Task name (see `electra-tasks tasks`).")],
    model: Model = None,
    split: Annotated[str, typer.Option(help="validation or test (MNLI: validation covers matched and mismatched).")] = "validation",
    output_dir: Annotated[Optional[str], typer.Option(help="Where to write metrics and predictions (default MODEL/eval_SPLIT).")] = None,
    config: Config = None,
    data_dir: DataDir = None,
    train_file: TrainFile = None,
    validation_file: ValidationFile = None,
    test_file: TestFile = None,
    text_column: TextColumn = None,
    text_pair_column: TextPairColumn = None,
    label_column: LabelColumn = None,
    id_column: IdColumn = None,
    no_header: NoHeader = False,
    regression: Regression = False,
    tag_column: TagColumn = None,
    strict: Strict = False,
    document_column: DocumentColumn = None,
    summary_column: SummaryColumn = None,
    max_eval_samples: MaxEvalSamples = None,
    max_seq_length: MaxSeqLength = None,
    eval_batch_size: EvalBatchSize = None,
    doc_stride: DocStride = None,
    max_query_length: MaxQueryLength = None,
    n_best_size: NBestSize = None,
    max_answer_length: MaxAnswerLength = None,
    summary_sentences: SummarySentences = None,
    bf16: Bf16 = None,
    overwrite: Overwrite = False,
    trust_remote_code: TrustRemoteCode = False,
) -> None:
    """Score a fine-tuned model with its task's official metric; write metrics.json and predictions.

    Example: electra-tasks eval glue-sst2 --model runs/glue-sst2 --data-dir glue/SST-2 --split validation
    """
    values = dict(locals())
    values.pop("ctx")

    def body():
        from electra_tasks.training.runner import evaluate

        opts = build_options(ctx, values)
        metrics = evaluate(opts)
        print_summary(f"{opts.task}: evaluation on {opts.split}", metrics, opts.output_dir)

    run_command(body)


@app.command("predict")
def predict_command(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="Task name (see `electra-tasks tasks`).")],
    model: Model = None,
    input: Annotated[str, typer.Option("--input", "-i", help="Input file, or - for standard input.")] = "-",
    output: Annotated[str, typer.Option("--output", "-o", help="Output JSON lines file, or - for standard output.")] = "-",
    config: Config = None,
    max_seq_length: MaxSeqLength = None,
    eval_batch_size: EvalBatchSize = None,
    doc_stride: DocStride = None,
    max_query_length: MaxQueryLength = None,
    n_best_size: NBestSize = None,
    max_answer_length: MaxAnswerLength = None,
    summary_sentences: SummarySentences = None,
    bf16: Bf16 = None,
    overwrite: Overwrite = False,
    trust_remote_code: TrustRemoteCode = False,
) -> None:
    """Run a fine-tuned model on raw inputs, one per line; write one JSON line per input.

    Inputs: classification 'sentence' or 'sentence<TAB>pair' or {"text":..., "text_pair":...};
    tagging a whitespace-tokenized sentence; QA {"question":..., "context":...}; summarization
    {"article": ...} or {"sentences": [...]}.

    Example: echo "a charming and often affecting journey" | electra-tasks predict glue-sst2 --model runs/glue-sst2
    """
    values = dict(locals())
    values.pop("ctx")
    source, target = values.pop("input"), values.pop("output")

    def body():
        from electra_tasks.outputs import atomic_write_jsonl
        from electra_tasks.training.runner import predict

        opts = build_options(ctx, values)
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
                typer.echo(json.dumps(record, ensure_ascii=False))
        else:
            atomic_write_jsonl(target, records)
            log.info("%d predictions written to %s", len(records), target)

    run_command(body)


@app.command("pretrain-continue")
def pretrain_continue_command(
    ctx: typer.Context,
    more_corpus: Annotated[Optional[list[str]], typer.Argument(metavar="[PATH...]", help="More corpus paths (--corpus a b c).")] = None,
    corpus: Annotated[Optional[list[str]], typer.Option("--corpus", help="Text files, folders of .txt files, or hf:DATASET[:CONFIG][@SPLIT]; a blank line ends a document.")] = None,
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
    text_column: Annotated[str, typer.Option(help="Text column of a hub dataset corpus.")] = "text",
    bf16: Bf16 = None,
    report_to: Annotated[Optional[str], typer.Option(help="Trainer integrations, e.g. tensorboard,wandb (default none).")] = None,
    config: Config = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint in OUT/checkpoints.")] = False,
    overwrite: Overwrite = False,
    trust_remote_code: TrustRemoteCode = False,
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

    run_command(body)


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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
