"""ONNX export of fine-tuned models and an ONNX Runtime backend for `eval`/`predict`.

`electra-tasks export OUT [--quantize int8]` writes `OUT/onnx/`: `model.onnx` (fp32), with
`--quantize int8` also `model_int8.onnx` (ONNX Runtime dynamic quantization), the tokenizer,
`config.json` (label maps) and `export.json` (inputs, outputs, axes, versions). The graph's inputs
and outputs are what the task family declares (`TaskFamily.onnx_inputs`, `onnx_outputs`), so the
family's own decoding (`score`) runs unchanged on ONNX Runtime's outputs (`--backend onnx`).

Nothing here imports onnx or onnxruntime at module level: they are an extra
(`pip install "electra-tasks[onnx]"`).
"""

from __future__ import annotations

import importlib.util

from electra_tasks.errors import UserError

EXPORT_FOLDER = "onnx"
MANIFEST = "export.json"
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
BACKENDS = ("torch", "onnx", "onnx-int8")
BACKEND_FILES = {"onnx": FP32_FILE, "onnx-int8": INT8_FILE}

INSTALL_HINT = 'pip install "electra-tasks[onnx]"'


def require(what: str, *modules: str) -> None:
    """One line naming what to install when an optional module is missing."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise UserError(f"{what} needs {', '.join(modules)} (missing: {', '.join(missing)}); {INSTALL_HINT}")


def parse_backend(value) -> str:
    text = str(value).strip().lower()
    if text not in BACKENDS:
        raise UserError(f"--backend {value}: expected one of {', '.join(BACKENDS)}")
    return text


def export_model(*args, **kwargs):
    from electra_tasks.export.onnx_export import export_model as run

    return run(*args, **kwargs)
