"""Is our masked-LM objective at fault when a tiny model learns slowly? Cross-check it against plain HF.

Trains the same tiny ElectraForMaskedLM (same initial weights, same batches, same seed) twice:
  ours   `pretrain-continue --objective mlm`'s model (ElectraRTD: fused vocabulary head on the masked
         positions only, the uniform-mask dropout), built by the product's own `pretraining.build`
  plain  transformers' ElectraForMaskedLM forward over every position, `F.cross_entropy` on the
         masked ones, stock `nn.Dropout`
Both use ELECTRA's masking (`mask_tokens`), pre-training's AdamW (`recipe.adamw`, eps 1e-6, weight
decay 0.01 except biases and LayerNorm), 10% warm-up, linear decay and clipping at 1.0. Prints MLM loss and accuracy every `--report` steps beside the
unigram floor (the entropy and top-1 share of the corpus's tokens: what a model that ignores
context reaches) and each model's top guesses for a few probe sentences.

    python benchmarks/mlm_crosscheck.py --steps 600
"""

from __future__ import annotations

import argparse
import collections
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table  # noqa: E402
from pretraining import corpus_vocabulary, write_sst2_sentences  # noqa: E402

PROBES = ["the movie was very [MASK] .", "one of the best films of the [MASK] .", "it 's a waste of [MASK] ."]


def unigram_floor(tokenizer, corpus: Path) -> tuple[float, float]:
    """(entropy in nats, share of the most frequent token) of the corpus's token distribution."""
    counts = collections.Counter()
    with open(corpus, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip()]
    for ids in tokenizer(lines, add_special_tokens=False)["input_ids"]:
        counts.update(ids)
    total = sum(counts.values())
    entropy = -sum(n / total * math.log(n / total) for n in counts.values())
    return entropy, counts.most_common(1)[0][1] / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--vocab-size", type=int, default=8192)
    parser.add_argument("--report", type=int, default=100, help="average and print every N steps")
    parser.add_argument("--work-dir", type=Path, default=None)
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F
    from transformers import ElectraForMaskedLM, get_linear_schedule_with_warmup

    from electra_tasks.pretraining.build import build
    from electra_tasks.pretraining.corpus import PackedCorpus, PadCollator, resolve_corpus
    from electra_tasks.pretraining.masking import mask_tokens
    from electra_tasks.pretraining.options import PretrainOptions
    from electra_tasks.pretraining.vocab import load_tokenizer_option
    from electra_tasks.training.recipe import adamw, weight_decay_groups

    torch.set_num_threads(1)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="mlm-crosscheck-"))
    corpus = write_sst2_sentences(work / "corpus")
    vocab = corpus_vocabulary(work / "vocab", [corpus], args.vocab_size)
    tokenizer = load_tokenizer_option(str(vocab))
    opts = PretrainOptions(corpus=[str(corpus)], from_scratch=True, size="tiny", tokenizer=str(vocab), objective="mlm",
                           max_seq_length=args.max_seq_length)
    ours = build(opts, tokenizer).model
    plain = ElectraForMaskedLM(ours.generator.config)
    plain.load_state_dict(ours.generator.state_dict())  # the same initial weights, stock nn.Dropout

    data = torch.utils.data.DataLoader(PackedCorpus(resolve_corpus([str(corpus)]), tokenizer, args.max_seq_length,
                                                    seed=42), batch_size=args.batch_size,
                                       collate_fn=PadCollator(tokenizer.pad_token_id))
    batches = []
    while len(batches) < args.steps:
        for batch in data:
            batches.append(batch)
            if len(batches) == args.steps:
                break

    def plain_step(batch):
        masked = mask_tokens(batch["input_ids"], batch["attention_mask"], mask_token_id=ours.mask_token_id,
                             excluded_ids=ours.excluded_ids, mask_prob=ours.mask_prob,
                             max_seq_length=ours.max_seq_length)
        logits = plain(input_ids=masked.input_ids, attention_mask=batch["attention_mask"],
                       token_type_ids=batch["token_type_ids"]).logits[masked.positions]
        targets = batch["input_ids"][masked.positions]
        return F.cross_entropy(logits, targets), (logits.argmax(-1) == targets).sum(), masked.positions.sum()

    def ours_step(batch):
        out = ours(**batch)
        return out["loss"], out["stats"]["mlm_correct"], out["stats"]["masked"]

    curves = {}
    for name, model, step in (("ours", ours, ours_step), ("plain", plain, plain_step)):
        torch.manual_seed(0)  # same seed; masks diverge once the two dropouts have drawn differently
        optimizer = adamw(weight_decay_groups(model, 0.01), args.learning_rate)  # what pretrain-continue uses
        schedule = get_linear_schedule_with_warmup(optimizer, args.steps // 10, args.steps)
        model.train()
        losses, correct, masked = [], [], []
        for batch in batches:
            loss, right, count = step(batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
            correct.append(int(right))
            masked.append(int(count))
        curves[name] = (losses, correct, masked)

    entropy, top1 = unigram_floor(tokenizer, corpus)
    rows = []
    for end in range(args.report, args.steps + 1, args.report):
        row = [end]
        for name in ("ours", "plain"):
            losses, correct, masked = (c[end - args.report:end] for c in curves[name])
            row += [f"{sum(losses) / len(losses):.3f}", f"{sum(correct) / max(sum(masked), 1):.3f}"]
        rows.append(row)
    print(f"\nunigram floor: entropy {entropy:.3f} nats, top-1 token share {top1:.3f}")
    print_table(f"tiny MLM on SST-2 sentences, batch {args.batch_size} x {args.max_seq_length}, lr {args.learning_rate}, "
                f"mean over the last {args.report} steps",
                ["step", "ours loss", "ours acc", "plain loss", "plain acc"], rows)
    generator = ours.generator
    for name, model in (("ours", generator), ("plain", plain)):
        model.eval()
        for probe in PROBES:
            encoded = tokenizer(probe, return_tensors="pt")
            with torch.no_grad():
                logits = model(**encoded).logits[0]
            position = int((encoded["input_ids"][0] == tokenizer.mask_token_id).nonzero()[0, 0])
            guesses = tokenizer.convert_ids_to_tokens(logits[position].topk(5).indices.tolist())
            print(f"{name}: {probe!r} -> {' '.join(guesses)}")


if __name__ == "__main__":
    main()
