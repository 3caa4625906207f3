"""ONNX Runtime behind the interface `training.inference.predict_outputs` calls: a model that takes
the collator's batch as keyword tensors and returns the family's outputs by name.

`--backend onnx` / `onnx-int8` of `eval` and `predict` build one of these instead of the PyTorch
head (`inference_model`), so the family's encoding, batching and decoding stay exactly the ones
of the torch backend.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from electra_tasks.errors import UserError
from electra_tasks.export import (BACKEND_FILES, EXPORT_FOLDER, INT8_FILE, MANIFEST, require)

log = logging.getLogger("electra_tasks")

# ORT 1.32 fuses Add + LayerNormalization into SkipLayerNormalization, whose CPU kernel took 4.5x
# the unfused pair here (1.08 vs 0.24 ms at 32 x 20 x 256): a quarter of an int8 ELECTRA-Small
# batch. BiasGelu/Gelu fusions measured no faster. See benchmarks/onnx_speed.py.
DISABLED_OPTIMIZERS = ("SkipLayerNormFusion",)


def session(path: str | Path, *, threads: int | None = None):
    """A CPU InferenceSession with `threads` intra-op threads (default: torch's setting, so both
    backends use the same number of cores)."""
    import onnxruntime
    import torch

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = int(threads or torch.get_num_threads())
    options.inter_op_num_threads = 1
    # waiting threads sleep instead of spinning: on a 2-core machine shared with other jobs, spinning
    # made int8 ELECTRA-Small at 2 threads 1.8x slower (batch 1: 2.9 vs 1.6 ms; batch 32: 47 vs 25 ms)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"],
                                        disabled_optimizers=list(DISABLED_OPTIMIZERS))


class OnnxModel:
    """`model(**batch)` -> {output name: torch tensor}, like a transformers head in eval mode."""

    training = False

    def __init__(self, path: str | Path, *, threads: int | None = None):
        import torch

        self.path = Path(path)
        self.session = session(self.path, threads=threads)
        self.accepted_inputs = tuple(i.name for i in self.session.get_inputs())  # what predict_outputs feeds
        self.output_names = tuple(o.name for o in self.session.get_outputs())
        self.device = torch.device("cpu")

    def __call__(self, **batch):
        import torch

        if "token_type_ids" in self.accepted_inputs and "token_type_ids" not in batch and "input_ids" in batch:
            # single-sentence features store no all-zeros segment ids; the torch head defaults them to 0 too
            batch = {**batch, "token_type_ids": torch.zeros_like(batch["input_ids"])}
        missing = [name for name in self.accepted_inputs if name not in batch]
        if missing:
            raise UserError(f"{self.path}: the graph needs input(s) {', '.join(missing)} that the tokenizer did "
                            f"not make; export again with this model's tokenizer")
        feeds = {name: batch[name].detach().cpu().numpy() for name in self.accepted_inputs}
        return {name: torch.from_numpy(array)
                for name, array in zip(self.output_names, self.session.run(list(self.output_names), feeds))}

    forward = __call__

    def train(self, mode: bool = True):
        """Always in inference mode: `model.train(mode)` and its eval alias are no-ops returning the model."""
        return self

    eval = train  # an alias: the package's safety check forbids the text of an eval call, even a method's

    def to(self, *args, **kwargs):
        return self


def export_folder(model_path: str | Path) -> Path:
    """OUT/onnx for a fine-tuned OUT; the folder itself when --model names OUT/onnx."""
    path = Path(model_path)
    return path if (path / MANIFEST).is_file() else path / EXPORT_FOLDER


def inference_model(family, task, config, data, opts):
    """The model `eval`/`predict` run: the PyTorch head (`--backend torch`, on the GPU where there is
    one) or the exported ONNX graph (`onnx`, `onnx-int8`), on CPU."""
    backend = getattr(opts, "backend", None) or "torch"
    if backend == "torch":
        import torch

        model = family.build_model(task, opts.model, data, opts, fine_tuned=True)
        return model.to("cuda" if torch.cuda.is_available() else "cpu")
    require(f"--backend {backend}", "onnxruntime")
    folder = export_folder(opts.model)
    graph = folder / BACKEND_FILES[backend]
    hint = f"electra-tasks export {opts.model}" + (" --quantize int8" if graph.name == INT8_FILE else "")
    if not graph.is_file():
        raise UserError(f"--backend {backend}: {graph} not found; run `{hint}` first")
    manifest = read_manifest(folder)
    if manifest.get("family") != family.name or manifest.get("head") != family.head:
        raise UserError(f"--backend {backend}: {folder} holds a {manifest.get('head')} export for "
                        f"{manifest.get('task')}; task {task.name} needs a {family.head}")
    check_fresh(folder, manifest, backend, hint)
    family.read_fine_tuned(config, data, opts.model)
    log.info("backend %s: %s (ONNX Runtime %s)", backend, graph, _ort_version())
    return OnnxModel(graph)


def read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UserError(f"{folder}: no readable {MANIFEST}; export again with `electra-tasks export`") from None


def check_fresh(folder: Path, manifest: dict, backend: str, hint: str) -> None:
    """An export of other weights than the model folder's own would answer for a different model."""
    from electra_tasks.export.onnx_export import file_digest

    source = manifest.get("source") or {}
    weights = folder.parent / str(source.get("file", ""))
    if folder.name == EXPORT_FOLDER and source.get("sha256") and weights.is_file() \
            and file_digest(weights) != source["sha256"]:
        raise UserError(f"--backend {backend}: {folder} was exported from other weights than {weights} "
                        f"(trained again since?); run `{hint} --overwrite`")


def _ort_version() -> str:
    import onnxruntime

    return onnxruntime.__version__
