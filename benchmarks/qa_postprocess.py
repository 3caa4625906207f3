"""Post-processing time for a whole SQuAD dev set, from saved logits: vectorized vs a plain loop.

    python benchmarks/qa_postprocess.py --model runs/squad --data ../shared/data/squad/v1.1/dev-v1.1.json

The first run predicts every window once and saves the logits (--logits, default
$TMPDIR/electra_tasks_bench/<data>-<hash>.npz); later runs load them. Both post-processors apply the same
rules (top n-best allowed starts/ends per window, start <= end, at most max-answer-length
tokens, inside the context, starts only in their max-context window, best over all windows);
the loop does it per window and per start/end pair, as run_qa.py's `postprocess_qa_predictions`
does. The script checks that both pick the same answers and prints a markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from electra_tasks import modeling
from electra_tasks.tasks.qa import postprocess as qa_postprocess  # noqa: E402
from electra_tasks.tasks.qa.squad import read_squad  # noqa: E402
from electra_tasks.tasks.qa import metrics as squad_metrics  # noqa: E402
from electra_tasks.options import RunOptions  # noqa: E402
from electra_tasks.tasks.base import TaskData  # noqa: E402
from electra_tasks.tasks.qa.family import FAMILY, column_array, column_list, ragged_pairs, to_dataset  # noqa: E402


def features_and_logits(args):
    squad = read_squad(args.data)
    raw = to_dataset(squad.records)
    opts = RunOptions(task="squad", max_seq_length=args.max_seq_length, doc_stride=args.doc_stride)
    tokenizer = modeling.load_tokenizer(args.model)
    data = TaskData(splits={"validation": raw}, info={"version2": False})
    features = raw.map(lambda b: FAMILY.encode(b, tokenizer, data, opts, for_training=False), batched=True,
                       remove_columns=raw.column_names, desc="Tokenizing")
    key = hashlib.sha256(f"{Path(args.data).resolve()}|{Path(args.model).resolve()}|{args.max_seq_length}|"
                         f"{args.doc_stride}".encode()).hexdigest()[:12]
    cache = Path(args.logits or Path(tempfile.gettempdir()) / "electra_tasks_bench" / f"{Path(args.data).stem}-{key}.npz")
    if cache.exists():
        saved = np.load(cache)
        splits = saved["splits"]
        starts = np.split(saved["start"], splits[1:-1])
        ends = np.split(saved["end"], splits[1:-1])
    else:
        import torch
        from transformers import DataCollatorWithPadding

        from electra_tasks.tasks.qa.model import ElectraForQuestionAnsweringWithAnswerability
        from electra_tasks.training.inference import predict_outputs

        model = modeling.load_model(ElectraForQuestionAnsweringWithAnswerability, args.model)
        model.to("cuda" if torch.cuda.is_available() else "cpu")
        starts, ends = predict_outputs(model, features, DataCollatorWithPadding(tokenizer),
                                       output_names=("start_logits", "end_logits"),
                                       sequence_outputs=("start_logits", "end_logits"), batch_size=128)
        cache.parent.mkdir(parents=True, exist_ok=True)
        splits = np.concatenate([[0], np.cumsum([len(s) for s in starts])])
        np.savez(cache, start=np.concatenate(starts), end=np.concatenate(ends), splits=splits)
    return squad, raw, features, starts, ends, cache


def vectorized(raw, features, starts, ends, n_best, max_len):
    spans = qa_postprocess.best_spans(starts, ends, ragged_pairs(features, "offset_mapping"),
                                      ragged_pairs(features, "max_context"),
                                      column_array(features, "example_index"), len(raw),
                                      n_best=n_best, max_answer_length=max_len)
    return dict(zip(column_list(raw, "id"), qa_postprocess.answer_texts(spans, column_list(raw, "context"))))


def loop_inputs(features):
    """The loop's inputs as per-window numpy arrays (prepared outside the timing)."""
    return ([np.asarray(o) for o in features["offset_mapping"]], [np.asarray(f) for f in features["max_context"]],
            list(features["example_index"]))


def loop(raw, inputs, starts, ends, n_best, max_len):
    """The straightforward version: per window, per start, per end."""
    offsets_all, flags_all, example_of = inputs
    best: dict[int, tuple[float, int, int]] = {}
    for f in range(len(offsets_all)):
        start, end, offsets, flags = starts[f], ends[f], offsets_all[f], flags_all[f]
        context = offsets[:, 0] >= 0
        start_order = np.argsort(-np.where(context & (flags > 0), start, -np.inf), kind="stable")[:n_best]
        end_order = np.argsort(-np.where(context, end, -np.inf), kind="stable")[:n_best]
        example = example_of[f]
        for s in start_order:
            for e in end_order:
                if not (context[s] and flags[s] and context[e]) or e < s or e - s + 1 > max_len:
                    continue
                score = float(start[s]) + float(end[e])
                if example not in best or score > best[example][0]:
                    best[example] = (score, offsets[s][0], offsets[e][1])
    contexts = column_list(raw, "context")
    return {qid: (contexts[i][best[i][1]:best[i][2]] if i in best else "") for i, qid in enumerate(column_list(raw, "id"))}


def timed(fn, *args, repeat=3):
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a fine-tuned QA model folder (e.g. OUT of `train squad`)")
    parser.add_argument("--data", required=True, help="SQuAD-format dev file")
    parser.add_argument("--logits", help="saved logits (.npz); written on the first run")
    parser.add_argument("--max-seq-length", type=int, default=384)
    parser.add_argument("--doc-stride", type=int, default=128)
    parser.add_argument("--n-best", type=int, default=20)
    parser.add_argument("--max-answer-length", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    squad, raw, features, starts, ends, cache = features_and_logits(args)
    fast_s, fast = timed(vectorized, raw, features, starts, ends, args.n_best, args.max_answer_length,
                         repeat=args.repeat)
    slow_s, slow = timed(loop, raw, loop_inputs(features), starts, ends, args.n_best, args.max_answer_length,
                         repeat=1)
    gold = {r["id"]: r["answers"]["text"] for r in squad.records}
    same = sum(fast[q] == slow[q] for q in fast)
    print(f"{len(raw)} questions, {len(features)} windows, logits from {cache}")
    print(f"| post-processing | seconds (vectorized: best of {args.repeat}; loop: one run) | exact_match | f1 |")
    print("|---|---|---|---|")
    for name, seconds, predictions in (("vectorized (qa_postprocess.best_spans)", fast_s, fast),
                                       ("per-window loop", slow_s, slow)):
        scores = squad_metrics.squad_v1(predictions, gold)
        print(f"| {name} | {seconds:.2f} | {scores['exact_match']:.2f} | {scores['f1']:.2f} |")
    print(f"speed-up {slow_s / fast_s:.1f}x; identical answers for {same}/{len(fast)} questions")


if __name__ == "__main__":
    main()
