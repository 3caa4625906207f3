"""`electra-tasks export OUT`: a fine-tuned model folder -> OUT/onnx/.

The exporter is `torch.onnx.export(..., dynamo=True)` (torch.export + onnxscript). Optimum's ONNX
export (`optimum-onnx` 0.1) pins transformers < 4.58 and knows neither the answerability head nor
the masked multiple-choice head; the TorchScript exporter (`dynamo=False`) traced transformers
5's attention mask wrongly here (logits off by 1e-2 on batches with padding).

The model is traced through a small module that takes the family's declared inputs positionally
and returns the family's declared outputs, on a padded batch the family's own collator makes. The
written graph is checked against PyTorch on that batch before anything is renamed into place.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from electra_tasks.errors import UserError
from electra_tasks.export import (EXPORT_FOLDER, FP32_FILE, INT8_FILE, MANIFEST, require)
from electra_tasks.outputs import atomic_write_json

log = logging.getLogger("electra_tasks")

QUANTIZE = ("int8",)
TOLERANCE = 1e-4  # fp32 graph vs PyTorch on the tracing batch
MIN_OPSET = 18  # the dynamo exporter's lowest; its down-conversion to 17 wrote Split(num_outputs), an opset-18 form


def read_model_folder(folder: str | Path):
    """(config, task, family) of a fine-tuned electra-tasks model folder, or one line saying why not."""
    from electra_tasks import modeling
    from electra_tasks.registry import get_task

    path = Path(folder)
    if not path.is_dir():
        raise UserError(f"{folder}: not found; expected the output folder of `electra-tasks train`")
    if not (path / "config.json").is_file():
        seeds = sorted(p.name for p in path.glob("seed-*") if (p / "config.json").is_file())
        if seeds:
            raise UserError(f"{folder}: a --seeds run (no model of its own); export one of its runs, e.g. "
                            f"{path / seeds[0]}")
        raise UserError(f"{folder}: not an electra-tasks model (no config.json); expected the output folder "
                        f"of `electra-tasks train`")
    config = modeling.load_config(str(path), role=str(folder))
    made_for = getattr(config, "electra_tasks", None)
    if not isinstance(made_for, dict) or not made_for.get("task") or not made_for.get("family"):
        raise UserError(f"{folder}: not an electra-tasks model (its config.json does not say which task it was "
                        f"fine-tuned for); expected the output folder of `electra-tasks train`")
    family = _families().get(made_for["family"])
    if family is None:
        raise UserError(f"{folder}: fine-tuned for an unknown task family '{made_for['family']}'; known: "
                        f"{', '.join(sorted(_families()))}")
    task = get_task(made_for["task"])
    if task.family != family.name:
        raise UserError(f"{folder}: config.json names task {task.name} (a {task.family} task) and family "
                        f"{family.name}; expected the output folder of `electra-tasks train`")
    family.check_model(task, config, str(folder))  # the head must be the family's
    return config, task, family


def _families() -> dict:
    from electra_tasks.tasks import load_families
    from electra_tasks.tasks.base import FAMILIES

    load_families()
    return FAMILIES


def export_model(folder: str | Path, *, quantize: str | None = None, opset: int | None = None,
                 overwrite: bool = False) -> list[Path]:
    """Write FOLDER/onnx/ (model.onnx, model_int8.onnx with quantize='int8', tokenizer, config.json,
    export.json); returns the files written. Nothing is written when anything fails."""
    if quantize is not None and quantize not in QUANTIZE:
        raise UserError(f"--quantize {quantize}: expected {' or '.join(QUANTIZE)}")
    if opset is not None and opset < MIN_OPSET:
        raise UserError(f"--opset {opset}: torch.onnx's exporter writes opset {MIN_OPSET} or later (its conversion "
                        f"to older opsets gave graphs ONNX Runtime refuses); pass --opset {MIN_OPSET} or more")
    require("electra-tasks export", "onnx", "onnxruntime", "onnxscript")
    config, task, family = read_model_folder(folder)
    out = Path(folder) / EXPORT_FOLDER
    if out.exists() and not (out.is_dir() and not any(out.iterdir())) and not overwrite:
        raise UserError(f"{out}: exists; pass --overwrite to replace it")

    from electra_tasks import modeling
    from electra_tasks.options import RunOptions
    from electra_tasks.tasks.base import TaskData
    from electra_tasks.training.runner import made_for

    tokenizer = modeling.load_tokenizer(str(folder))
    data = TaskData(splits={}, labels=family.labels_from_model(config), info={"model": made_for(config)})
    opts = RunOptions(task.name, model=str(folder))
    model = family.build_model(task, str(folder), data, opts, fine_tuned=True).to("cpu").eval()

    staging = Path(tempfile.mkdtemp(prefix=f".{EXPORT_FOLDER}.", dir=folder))
    try:
        manifest = _export(model, tokenizer, family, staging, opset=opset, quantize=quantize)
        manifest.update(task=task.name, family=family.name, head=family.head,
                        labels=data.labels, source=source_weights(Path(folder)))
        tokenizer.save_pretrained(staging)
        config.save_pretrained(staging)  # label maps (id2label, label2id) and what the model was made for
        atomic_write_json(staging / MANIFEST, manifest)
        os.chmod(staging, 0o777 & ~_umask())
        _replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    written = sorted(p for p in out.iterdir() if p.is_file())
    log.info("exported %s (%s) to %s: %s", task.name, family.head, out,
             ", ".join(f"{name} ({manifest['files'][name]['bytes'] / 1e6:.1f} MB)" for name in manifest["files"]))
    return written


def _export(model, tokenizer, family, staging: Path, *, opset: int | None, quantize: str | None) -> dict[str, Any]:
    import onnx
    import onnxruntime

    batch = family.collator(tokenizer)(family.onnx_example_features(tokenizer))
    inputs = [name for name in family.onnx_inputs if name in batch]
    if "input_ids" not in inputs:  # a family's declaration without the model's input is a bug, not a user error
        raise RuntimeError(f"family {family.name}: onnx_inputs lacks input_ids")
    outputs = family.onnx_outputs()
    args = tuple(batch[name] for name in inputs)
    wrapper = Positional(model, inputs, list(outputs)).eval()
    with torch.inference_mode():
        expected = [t.float().numpy() for t in wrapper(*args)]
    started = time.perf_counter()
    try:
        program = _quiet(lambda: torch.onnx.export(
            wrapper, args, None, input_names=inputs, output_names=list(outputs), opset_version=opset,
            dynamo=True, external_data=False, optimize=True,
            dynamic_shapes=(tuple(family.onnx_inputs[name] for name in inputs),)))
        fp32 = staging / FP32_FILE
        _quiet(lambda: program.save(str(fp32), external_data=False))
    except Exception as exc:  # the exporter's messages are pages long; its first line says what failed
        raise UserError(f"ONNX export of {family.head} failed"
                        f"{f' at opset {opset}' if opset else ''}: {type(exc).__name__}: "
                        f"{_first_line(exc)}") from None
    seconds = time.perf_counter() - started
    written = _opsets(fp32).get("ai.onnx")
    if opset is not None and written != opset:
        raise UserError(f"--opset {opset}: the exporter could not write it (it wrote opset {written})")
    feeds = {name: batch[name].numpy() for name in inputs}
    files = {FP32_FILE: {"bytes": fp32.stat().st_size, "max_abs_diff": _max_diff(fp32, feeds, expected)}}
    if files[FP32_FILE]["max_abs_diff"] > TOLERANCE:
        raise UserError(f"ONNX export of {family.head}: the graph's outputs differ from PyTorch's by "
                        f"{files[FP32_FILE]['max_abs_diff']:.2g} (> {TOLERANCE:g}) on the tracing batch")
    if quantize == "int8":
        int8 = staging / INT8_FILE
        quantize_int8(fp32, int8)
        files[INT8_FILE] = {"bytes": int8.stat().st_size, "max_abs_diff": _max_diff(int8, feeds, expected)}
    return {
        "exporter": f"torch.onnx.export (dynamo) {torch.__version__}",
        "versions": {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__,
                     **_version("onnxscript"), **_version("transformers")},
        "opset": written,
        "export_seconds": round(seconds, 1),
        "inputs": {name: _axes(family.onnx_inputs[name], batch[name].dim()) for name in inputs},
        "outputs": {name: _axes(axes, array.ndim) for (name, axes), array in zip(outputs.items(), expected)},
        "quantization": {"file": INT8_FILE, "method": "onnxruntime.quantization.quantize_dynamic",
                         "weights": "int8 (QInt8, per tensor)", "activations": "uint8, quantized at run time"}
        if quantize == "int8" else None,
        "files": files,
    }


class Positional(torch.nn.Module):
    """The model with the family's inputs as positional arguments, returning a tuple of its outputs."""

    def __init__(self, model, inputs: list[str], outputs: list[str]):
        super().__init__()
        self.model, self.inputs, self.outputs = model, list(inputs), list(outputs)

    def forward(self, *args):
        result = self.model(**dict(zip(self.inputs, args)))
        return tuple(result[name] for name in self.outputs)


def quantize_int8(source: Path, target: Path) -> None:
    """ONNX Runtime's dynamic quantization: int8 weights (MatMul, Gather), activations quantized per
    call. Its advice to pre-process first is for static quantization; the measured graph needs none."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic warns through the root logger
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    finally:
        logging.getLogger().setLevel(previous)


def _opsets(path: Path) -> dict[str, int]:
    import onnx

    return {entry.domain or "ai.onnx": entry.version
            for entry in onnx.load(str(path), load_external_data=False).opset_import}


def _max_diff(path: Path, feeds: dict[str, np.ndarray], expected: list[np.ndarray]) -> float:
    import onnxruntime

    from electra_tasks.export.runtime import session

    try:
        got = session(path, threads=1).run(None, feeds)
    except Exception as exc:  # e.g. an opset newer than this ONNX Runtime knows
        raise UserError(f"{path.name}: ONNX Runtime {onnxruntime.__version__} cannot run the exported graph "
                        f"({_first_line(exc)})") from None
    return float(max(np.abs(np.asarray(g, dtype=np.float64) - e).max() for g, e in zip(got, expected)))


def _axes(axes: dict[int, str], rank: int) -> list:
    """[axis name, or None for a fixed axis (labels, tags)] in axis order."""
    return [axes.get(i) for i in range(rank)]


def source_weights(folder: Path) -> dict[str, Any] | None:
    """The weights file the graph came from and its digest: `--backend onnx` refuses a stale export."""
    weights = folder / "model.safetensors"
    if not weights.is_file():
        return None
    return {"file": weights.name, "sha256": file_digest(weights)}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _replace(staging: Path, out: Path) -> None:
    """Rename the finished folder into place (an earlier export moves aside first, then goes)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old.{os.getpid()}")
        os.replace(out, old)
    try:
        os.replace(staging, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()


NOISY_LOGGERS = ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript", "onnx_ir", "onnxruntime")


def _quiet(fn):
    """The exporter prints its progress ([torch.onnx] ...) on stdout and every rewrite it makes
    through logging; keep the CLI's output to what the user asked for (errors still raise)."""
    import contextlib
    import io
    import warnings

    loggers = [logging.getLogger(name) for name in NOISY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else "")[:200]


def _version(module: str) -> dict[str, str]:
    try:
        from importlib.metadata import version

        return {module: version(module)}
    except Exception:
        return {}


def _umask() -> int:
    from electra_tasks.outputs import current_umask

    return current_umask()
