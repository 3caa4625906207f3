"""Evaluation/predict throughput: ours (length-sorted, large batches, inference_mode) vs run_glue.py's.

The baseline is what `run_glue.py` does at evaluation: every example padded to 128, batch 8, the
Trainer's `predict`. Both score the same SST-2 sentences with the same fine-tuned model and must
agree on every prediction.

    python benchmarks/inference_speed.py --model runs/sst2 [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, print_table, require_shared  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a glue-sst2 model folder (electra-tasks train output)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data_dir = require_shared(SHARED / "glue" / "SST-2")
    with open(data_dir / "test.tsv", encoding="utf-8") as handle:
        texts = [r[1] for r in list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]]
    with open(data_dir / "dev.tsv", encoding="utf-8") as handle:
        texts += [r[0] for r in list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]]

    import torch
    from datasets import Dataset
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments,
                              default_data_collator)

    from electra_tasks.training.collate import PadCollator
    from electra_tasks.training.inference import predict_outputs

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForSequenceClassification.from_pretrained(args.model)
    padded = Dataset.from_dict(dict(tokenizer(texts, padding="max_length", max_length=128, truncation=True)))
    dynamic = Dataset.from_dict(dict(tokenizer(texts, truncation=True, max_length=128)))
    dynamic = dynamic.add_column("length", [len(ids) for ids in dynamic["input_ids"]])
    trainer = Trainer(model=model, args=TrainingArguments("/tmp/inference-bench", per_device_eval_batch_size=8,
                                                          report_to="none", disable_tqdm=True, use_cpu=True,
                                                          dataloader_pin_memory=False),
                      data_collator=default_data_collator)
    timings = {"run_glue.py (pad 128, batch 8, Trainer.predict)": [], "electra-tasks (sorted, batch 128)": []}
    for _ in range(args.repeat):
        start = time.perf_counter()
        base = trainer.predict(padded).predictions.argmax(-1)
        timings["run_glue.py (pad 128, batch 8, Trainer.predict)"].append(time.perf_counter() - start)
        start = time.perf_counter()
        ours = np.stack(predict_outputs(model, dynamic, PadCollator(tokenizer.pad_token_id), output_names=["logits"],
                                        batch_size=128, progress=False)[0]).argmax(-1)
        timings["electra-tasks (sorted, batch 128)"].append(time.perf_counter() - start)
    assert (base == ours).all(), "the two paths must predict the same labels"
    best = {name: min(values) for name, values in timings.items()}
    reference = best["run_glue.py (pad 128, batch 8, Trainer.predict)"]
    rows = [[name, f"{seconds:.2f}", f"{len(texts) / seconds:,.0f}", f"{reference / seconds:.1f}x"]
            for name, seconds in best.items()]
    print_table(f"SST-2 test + dev, {len(texts)} sentences, best of {args.repeat}, torch threads "
                f"{torch.get_num_threads()}", ["path", "seconds", "examples/s", "speed-up"], rows)


if __name__ == "__main__":
    main()
