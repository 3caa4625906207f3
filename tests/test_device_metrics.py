"""Peak GPU memory in metrics.json: the CUDA branch, with torch.cuda's counters stood in for."""

import pytest
import torch
from transformers import TrainerControl, TrainerState, TrainingArguments

from electra_tasks.training import trainer as training


def test_no_cuda_no_memory_metric():
    if torch.cuda.is_available():
        pytest.skip("a CUDA machine: the metric is there by design")
    assert training.peak_gpu_memory_metrics() == {}


def test_peak_memory_is_reset_when_training_begins_and_read_in_gib(monkeypatch, tmp_path):
    calls = {"reset": 0}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda *a: calls.__setitem__("reset", calls["reset"] + 1))
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda *a: 3 * 2 ** 30 + 2 ** 29)
    clock = training.TrainingClock()
    clock.on_train_begin(TrainingArguments(output_dir=str(tmp_path), use_cpu=True), TrainerState(), TrainerControl())
    assert calls["reset"] == 1
    assert training.peak_gpu_memory_metrics() == {"train_peak_gpu_memory_gib": 3.5}
