"""`electra-tasks report`: plots and Markdown from run folders shaped exactly as the runners write them.

The folders are written here (no training): metrics.json, run_config.json and log_history.json in the
runner's formats (HF Trainer log lines, `aggregate_seeds` for multi-seed runs, the RTD trainer's keys).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from electra_tasks.errors import UserError
from electra_tasks.runfolder import aggregate_seeds
from electra_tasks.report import fmt, load_run, metric_points, report, rtd_keys
from tests.conftest import invoke

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- fake-but-faithful run folders ----------------------------------------------------------
def trainer_log(steps: int, logging_steps: int, *, start_loss: float = 0.70, extra=None) -> list[dict]:
    """HF Trainer `state.log_history`: a line every `logging_steps` steps, then the closing summary."""
    history = []
    for step in [1, *range(logging_steps, steps + 1, logging_steps)]:
        entry = {"loss": start_loss - 0.004 * step, "grad_norm": 0.2 + 0.01 * step,
                 "learning_rate": 3e-4 * min(1.0, step / 4) * (1 - step / (steps + 1)),
                 "epoch": step / steps, "step": step}
        entry.update(extra(step) if extra else {})
        history.append(entry)
    history.append({"train_runtime": 6.6, "train_samples_per_second": 151.5, "train_steps_per_second": 4.8,
                    "total_flos": 11464088064.0, "train_loss": start_loss - 0.05, "epoch": 1.0, "step": steps})
    return history


def run_config(task: str, family: str, main: str, *, seed: int = 42, model: str = "/models/electra-small") -> dict:
    """Shaped as `runner.write_run_config` writes it."""
    options = {"task": task, "model": model, "output_dir": "runs/x", "data_dir": f"/data/{task}",
               "max_train_samples": 1000, "epochs": 3.0, "learning_rate": 3e-4, "batch_size": 32,
               "max_seq_length": 128, "seed": seed, "seeds": None, "layerwise_lr_decay": 0.8,
               "weight_decay": 0.01, "warmup_ratio": 0.1, "max_steps": None, "bf16": None}
    return {"command": "train", "options": options, "recipe": {"epochs": 3.0, "learning_rate": 3e-4},
            "task": {"name": task, "family": family, "main_metric": main}, "labels": ["0", "1"],
            "data": {"counts": {"train": 1000, "validation": 872}},
            "versions": {"electra_tasks": "0.1.0", "transformers": "5.24.0", "torch": "2.13.0+cpu"}}


def write_run(folder: Path, metrics: dict, config: dict | None, history: list | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))
    if config is not None:
        (folder / "run_config.json").write_text(json.dumps(config, indent=2))
    if history is not None:
        (folder / "log_history.json").write_text(json.dumps(history, indent=2))
    return folder


def sst2_metrics(accuracy: float = 0.8123456, runtime: float = 7.419) -> dict:
    return {"accuracy": accuracy, "num_eval_examples": 872, "num_examples": 1000, "train_runtime_s": runtime,
            "train_tokens_per_s": 1792.9, "train_loss": 0.6910501848906279}


QA_V2_METRICS = {"exact_match": 61.25, "f1": 64.875, "total": 400, "HasAns_exact": 55.5, "HasAns_f1": 63.125,
                 "HasAns_total": 200, "NoAns_exact": 67.0, "NoAns_f1": 67.0, "NoAns_total": 200,
                 "best_exact": 62.5, "best_exact_thresh": 0.4375, "best_f1": 65.75, "best_f1_thresh": 0.5,
                 "num_eval_examples": 400, "num_examples": 2000, "train_runtime_s": 30.5}


def rtd_log(step: int) -> dict:
    """The keys `pretraining.trainer.RTDTrainer.log` merges into every training log line."""
    return {"mlm_loss": 9.0 - 0.05 * step, "mlm_accuracy": 0.002 * step, "disc_loss": 0.6 - 0.005 * step,
            "disc_accuracy": 0.5 + 0.01 * step, "replaced_precision": 0.1 + 0.008 * step,
            "replaced_recall": 0.05 + 0.01 * step, "replaced_fraction": 0.13}


@pytest.fixture()
def single(tmp_path) -> Path:
    return write_run(tmp_path / "sst2", sst2_metrics(), run_config("glue-sst2", "classification", "accuracy"),
                     trainer_log(32, 5))


def check_png(path: Path) -> tuple[int, int]:
    from PIL import Image

    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert len(data) > 5_000, f"{path} is suspiciously small ({len(data)} bytes)"
    with Image.open(path) as image:
        width, height = image.size
    assert 600 <= width <= 2000 and 400 <= height <= 2000, (width, height)
    return width, height


def table_value(markdown: str, metric: str) -> list[str]:
    """The cells of the table row whose first cell names `metric` (bold main metric included)."""
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if re.fullmatch(rf"(\*\*)?{re.escape(metric)}(\*\*)?( \(main\))?", cells[0]):
            return cells[1:]
    raise AssertionError(f"no table row for {metric!r} in:\n{markdown}")


# --- fine-tuning ------------------------------------------------------------------------------
def test_single_run_plots_and_summary(single):
    written = report(single)
    out = single / "report"
    assert {p.name for p in written} == {"README.md", "loss.png", "main_metric.png"}
    assert check_png(out / "loss.png") == (960, 540)
    check_png(out / "main_metric.png")
    for absent in ("seed_spread.png", "qa_v2.png", "pretraining.png"):
        assert not (out / absent).exists()
    markdown = (out / "README.md").read_text()
    assert markdown.startswith("# glue-sst2: fine-tuned `/models/electra-small`")
    metrics = json.loads((single / "metrics.json").read_text())
    for name, value in metrics.items():
        assert table_value(markdown, name) == [fmt(value)], name
    assert "| **accuracy** (main) | 0.8123 |" in markdown
    assert "| learning_rate | 0.0003 |" in markdown and "| layerwise_lr_decay | 0.8 |" in markdown
    assert "](loss.png)" in markdown and "](main_metric.png)" in markdown
    assert "evaluated once, at the end of training" in markdown
    assert "training loss 0.6960 at step 1 → 0.5800 at step 30 (7 logged points)" in markdown


def test_main_metric_is_one_final_point_unless_evaluations_were_logged(tmp_path):
    plain = load_run(write_run(tmp_path / "a", sst2_metrics(0.75), None, trainer_log(32, 5)))
    assert metric_points(plain, "accuracy") == ([32], [0.75])
    evals = trainer_log(32, 5)
    evals[2:2] = [{"eval_accuracy": 0.61, "eval_loss": 0.66, "epoch": 0.3, "step": 10}]
    evals.insert(-1, {"eval_accuracy": 0.75, "eval_loss": 0.6, "epoch": 1.0, "step": 32})
    logged = load_run(write_run(tmp_path / "b", sst2_metrics(0.75), None, evals))
    assert metric_points(logged, "accuracy") == ([10, 32], [0.61, 0.75])


def test_logged_evaluations_are_drawn_without_the_single_point_note(tmp_path):
    history = trainer_log(32, 5)
    history[3:3] = [{"eval_accuracy": 0.6, "epoch": 0.5, "step": 16}]
    folder = write_run(tmp_path / "run", sst2_metrics(0.7), run_config("glue-sst2", "classification", "accuracy"),
                       history)
    report(folder)
    markdown = (folder / "report" / "README.md").read_text()
    assert "evaluated once" not in markdown and "accuracy at every logged evaluation" in markdown


# --- multi-seed -------------------------------------------------------------------------------
def test_multi_seed_run_has_spread_plot_and_every_seed_value(tmp_path):
    out = tmp_path / "seeds"
    per_seed = {}
    for seed, accuracy in ((1, 0.80), (2, 0.84), (3, 0.79)):
        per_seed[seed] = sst2_metrics(accuracy, runtime=7.25 + seed)
        write_run(out / f"seed-{seed}", per_seed[seed],
                  run_config("glue-sst2", "classification", "accuracy", seed=seed),
                  trainer_log(32, 5, start_loss=0.7 + 0.01 * seed))
    summary = aggregate_seeds(per_seed)  # the runner's own aggregation, so the format is the real one
    config = {"command": "train", "options": {**run_config("glue-sst2", "c", "accuracy")["options"],
                                              "seeds": [1, 2, 3]},
              "runs": {str(s): f"seed-{s}" for s in per_seed}}
    write_run(out, summary, config, None)

    written = {p.name for p in report(out)}
    assert written == {"README.md", "loss.png", "main_metric.png", "seed_spread.png"}
    width, height = check_png(out / "report" / "seed_spread.png")
    assert width > height  # four panels a row: train_loss, accuracy, runtime, tokens/s
    markdown = (out / "report" / "README.md").read_text()
    assert table_value(markdown, "accuracy") == [fmt(0.80), fmt(summary["accuracy_mean"]),
                                                 fmt(summary["accuracy_std"]), "0.8000, 0.8400, 0.7900"]
    for name in ("train_runtime_s", "train_tokens_per_s", "train_loss"):
        assert table_value(markdown, name)[0] == fmt(summary[f"{name}_median"])
    assert table_value(markdown, "num_eval_examples") == ["872", "872.00", "0", "872, 872, 872"]
    assert "| seeds | 1, 2, 3 |" in markdown
    assert "seed 3: training loss 0.7260 at step 1" in markdown
    assert "| learning_rate | 0.0003 |" in markdown


def test_multi_seed_report_notes_a_missing_seed_folder(tmp_path):
    out = tmp_path / "seeds"
    per_seed = {1: sst2_metrics(0.8), 2: sst2_metrics(0.82)}
    write_run(out / "seed-1", per_seed[1], run_config("glue-sst2", "classification", "accuracy", seed=1),
              trainer_log(32, 5))
    write_run(out, aggregate_seeds(per_seed), {"command": "train", "options": {"task": "glue-sst2"}}, None)
    report(out)
    assert "seed 2: folder missing" in (out / "report" / "README.md").read_text()
    check_png(out / "report" / "seed_spread.png")


# --- QA ---------------------------------------------------------------------------------------
def test_qa_v2_bar_chart_only_for_v2_runs(tmp_path):
    v2 = write_run(tmp_path / "v2", QA_V2_METRICS, run_config("squad-v2", "qa", "f1"), trainer_log(40, 10))
    assert "qa_v2.png" in {p.name for p in report(v2)}
    check_png(v2 / "report" / "qa_v2.png")
    markdown = (v2 / "report" / "README.md").read_text()
    assert table_value(markdown, "HasAns_f1") == ["63.12"] and table_value(markdown, "NoAns_exact") == ["67.00"]
    assert table_value(markdown, "f1") == ["64.88"] and "**f1** (main)" in markdown

    v1_metrics = {"exact_match": 70.0, "f1": 78.5, "num_examples": 2000, "train_runtime_s": 30.5}
    v1 = write_run(tmp_path / "v1", v1_metrics, run_config("squad", "qa", "f1"), trainer_log(40, 10))
    assert "qa_v2.png" not in {p.name for p in report(v1)}
    assert not (v1 / "report" / "qa_v2.png").exists()


# --- pre-training -----------------------------------------------------------------------------
def pretraining_run(folder: Path, extra=rtd_log) -> Path:
    history = trainer_log(40, 5, start_loss=40.0, extra=extra)
    last = history[-2]
    metrics = {k: last[k] for k in rtd_log(0) if k in last}
    metrics.update({"loss": last["loss"], "train_loss": 39.9, "global_step": 40, "train_runtime_s": 12.0,
                    "train_tokens": 40960, "train_tokens_per_s": 3413.3})
    config = {"command": "pretrain-continue",
              "options": {"corpus": ["books/"], "discriminator": None, "generator": None, "from_scratch": True,
                          "size": "tiny", "objective": "rtd", "max_seq_length": 128, "mask_prob": 0.15,
                          "learning_rate": None, "max_steps": 40, "seed": 42},
              "recipe": {"learning_rate": 5e-4, "batch_size": 16, "max_steps": 40, "warmup_steps": 4,
                         "generator_size": 0.25, "vocab_size": 8192},
              "corpus": ["books/a.txt"], "corpus_files": 1}
    return write_run(folder, metrics, config, history)


def test_pretraining_report_plots_rtd_curves(tmp_path):
    folder = pretraining_run(tmp_path / "pt")
    (folder / "discriminator").mkdir()
    written = {p.name for p in report(folder)}
    assert written == {"README.md", "loss.png", "pretraining.png"}
    width, height = check_png(folder / "report" / "pretraining.png")
    assert height >= 800  # two stacked panels: rates, then losses
    markdown = (folder / "report" / "README.md").read_text()
    assert markdown.startswith("# ELECTRA replaced-token-detection pre-training from scratch")
    assert table_value(markdown, "disc_accuracy") == [fmt(0.5 + 0.01 * 40)] and "**disc_accuracy** (main)" in markdown
    assert table_value(markdown, "replaced_recall") == [fmt(0.05 + 0.01 * 40)]
    assert "| learning_rate | 0.0005 |" in markdown and "| size | tiny |" in markdown
    for key in ("disc_accuracy", "replaced_precision", "replaced_recall", "mlm_loss", "disc_loss"):
        assert key in markdown.split("## Plots")[1]


def test_pretraining_keys_are_matched_by_pattern():
    renamed = [{"loss": 1.0, "step": 5, "discriminator_acc": 0.9, "rtd_precision": 0.5, "rtd_recall": 0.4,
                "grad_norm": 1.0}]
    assert rtd_keys(renamed) == {"discriminator accuracy": "discriminator_acc",
                                 "replaced-token precision": "rtd_precision", "replaced-token recall": "rtd_recall"}
    assert rtd_keys([{"loss": 1.0, "step": 5, "eval_precision": 0.3}]) == {}


# --- evaluation folders, overwrite, errors ------------------------------------------------------
@pytest.fixture()
def evaluation(tmp_path) -> Path:
    """An `electra-tasks eval` folder: metrics and settings, no log history (and so no plots: fast)."""
    config = {**run_config("glue-sst2", "classification", "accuracy"), "command": "eval"}
    return write_run(tmp_path / "eval_validation", {"accuracy": 0.5, "num_examples": 872}, config, None)


def test_eval_folder_gets_a_table_and_no_plots(evaluation):
    folder = evaluation
    assert [p.name for p in report(folder)] == ["README.md"]
    markdown = (folder / "report" / "README.md").read_text()
    assert table_value(markdown, "accuracy") == ["0.5000"] and "no training curves" in markdown


def test_existing_report_is_kept_unless_overwrite(evaluation):
    single = evaluation
    invoke("report", single)
    (single / "report" / "loss.png").write_bytes(b"stale plot of an earlier report")
    readme = single / "report" / "README.md"
    readme.write_text("edited by hand")
    result = invoke("report", str(single))
    assert result.exit_code == 2
    assert "already holds a report (README.md, loss.png)" in result.stderr and "--overwrite" in result.stderr
    assert readme.read_text() == "edited by hand"
    result = invoke("report", str(single), "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert readme.read_text().startswith("# glue-sst2") and str(readme) in result.stdout
    assert not (single / "report" / "loss.png").exists()  # a plot the new README does not link is removed


def test_output_dir_option(evaluation, tmp_path):
    result = invoke("report", str(evaluation), "--output-dir", str(tmp_path / "card"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "card" / "README.md").exists() and not (evaluation / "report").exists()


@pytest.mark.parametrize("case, expected", [
    ("missing", r"missing: no such folder; expected a finished run folder with metrics.json and log_history.json"),
    ("a-file", r"a-file: is a file; expected a finished run folder"),
    ("no-metrics", r"no-metrics: no metrics.json; expected"),
    ("no-history", r"no-history: no log_history.json \(or it is empty\); expected"),
    ("broken-json", r"broken-json/metrics.json:3: not valid JSON"),
    ("metrics-list", r"metrics-list/metrics.json: holds a JSON list; expected a JSON object"),
    ("history-dict", r"history-dict/log_history.json: holds a JSON dict; expected the Trainer's log history"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, case, expected):
    folder = tmp_path / case
    if case == "a-file":
        folder.write_text("x")
    elif case == "no-metrics":
        folder.mkdir()
        (folder / "log_history.json").write_text(json.dumps(trainer_log(10, 5)))
    elif case == "no-history":
        write_run(folder, sst2_metrics(), run_config("glue-sst2", "classification", "accuracy"), [])
    elif case == "broken-json":
        folder.mkdir()
        (folder / "metrics.json").write_text('{\n  "accuracy": 0.5,\n  "f1": ,\n}')
    elif case == "metrics-list":
        write_run(folder, {}, None, trainer_log(10, 5))
        (folder / "metrics.json").write_text("[1, 2]")
    elif case == "history-dict":
        write_run(folder, sst2_metrics(), None, None)
        (folder / "log_history.json").write_text('{"loss": 1}')
    result = invoke("report", str(folder))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.search(expected, lines[0]), result.stderr
    assert not (folder / "report").exists() if folder.is_dir() else True
    with pytest.raises(UserError):
        report(folder)


def test_help_has_an_example():
    result = invoke("report", "--help")
    assert result.exit_code == 0 and "Example: electra-tasks report" in result.stdout


def test_number_formatting():
    assert [fmt(v) for v in (0.8123456, 78.4512, 1792.9, 872, 3e-4, 1.5e-5, 0.0, None, True, [1, 0.5])] == \
        ["0.8123", "78.45", "1792.9", "872", "0.0003", "1.5e-05", "0", "n/a", "True", "1, 0.5000"]


def test_tagging_run_gets_a_per_type_chart(tmp_path):
    metrics = {"precision": 0.6, "recall": 0.7, "f1": 0.65, "accuracy": 0.93, "PER_precision": 0.8, "PER_recall": 0.9,
               "PER_f1": 0.85, "LOC_precision": 0.5, "LOC_recall": 0.4, "LOC_f1": 0.44, "num_eval_examples": 3250}
    folder = write_run(tmp_path / "ner", metrics, run_config("conll2003", "tagging", "f1"), trainer_log(40, 10))
    written = report(folder)
    assert folder / "report" / "entity_types.png" in written
    check_png(folder / "report" / "entity_types.png")
    assert "Precision, recall and F1 per entity type (LOC, PER)" in (folder / "report" / "README.md").read_text()


def test_markdown_reads_nested_counts_and_one_point(tmp_path):
    config = run_config("squad", "qa", "f1")
    config["data"]["counts"] = {"validation": {"questions": 60, "articles": 12, "unanswerable": 0}}
    folder = write_run(tmp_path / "qa", {"exact_match": 1.0, "f1": 9.0}, config, trainer_log(1, 5))
    report(folder)
    markdown = (folder / "report" / "README.md").read_text()
    assert "validation 60 questions, 12 articles, 0 unanswerable" in markdown and "{" not in markdown
    assert "(1 logged point)." in markdown


def test_axes_of_never_negative_quantities_start_at_zero():
    from electra_tasks.report.figures import from_zero, new_figure

    _, axes = new_figure()
    ax = axes[0][0]
    ax.plot([1, 2, 3], [0.0, 0.0, 0.0])  # e.g. a learning rate that stayed at 0
    from_zero(ax)
    assert ax.get_ylim() == (0.0, 1.0)
