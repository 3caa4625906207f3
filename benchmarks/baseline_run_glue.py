"""What users run today: transformers' run_glue.py defaults, as a small script.

Every example padded to 128 (`padding="max_length"`), `AutoModelForSequenceClassification`, the
HF Trainer with its linear schedule and no warm-up, AdamW, random batch order. Prints one JSON
line with the training time and dev accuracy.
"""

import argparse
import csv
import json
import time

import numpy as np


def read_sst2(path, limit=None):
    with open(path, encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    rows = rows[:limit] if limit else rows
    return [r[0] for r in rows], [int(r[1]) for r in rows]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--max-train-samples", type=int, default=None)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    import torch
    from datasets import Dataset
    from transformers import (AutoModelForSequenceClassification, AutoTokenizer, Trainer,
                              TrainingArguments, default_data_collator)

    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForSequenceClassification.from_pretrained(args.model, num_labels=2)

    def encode(texts, labels):
        enc = tokenizer(texts, padding="max_length", max_length=128, truncation=True)
        return Dataset.from_dict({**enc, "label": labels})

    train = encode(*read_sst2(f"{args.data_dir}/train.tsv", args.max_train_samples))
    dev_texts, dev_labels = read_sst2(f"{args.data_dir}/dev.tsv")
    dev = encode(dev_texts, dev_labels)
    training_args = TrainingArguments(
        output_dir=args.output_dir, per_device_train_batch_size=args.batch_size, per_device_eval_batch_size=8,
        num_train_epochs=args.epochs, learning_rate=args.learning_rate, lr_scheduler_type="linear",
        seed=args.seed, save_strategy="no", report_to="none", logging_steps=500, disable_tqdm=True,
        dataloader_pin_memory=torch.cuda.is_available(),  # the Trainer's default where it matters
    )
    trainer = Trainer(model=model, args=training_args, train_dataset=train, data_collator=default_data_collator)
    train_started = time.perf_counter()
    result = trainer.train()
    train_time = time.perf_counter() - train_started
    peak = round(torch.cuda.max_memory_allocated() / 2 ** 30, 3) if torch.cuda.is_available() else None
    predictions = trainer.predict(dev).predictions.argmax(-1)
    print(json.dumps({"train_runtime_s": train_time, "wall_s": time.perf_counter() - started,
                      "accuracy": float((np.asarray(dev_labels) == predictions).mean()),
                      "train_loss": result.training_loss, "peak_gpu_memory_gib": peak}))


if __name__ == "__main__":
    main()
