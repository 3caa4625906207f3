"""Split a SQuAD-format file by article into train and dev files (only dev sets exist here).

    python scripts/squad_split.py ../shared/data/squad/v1.1/dev-v1.1.json DIR --train-articles 30

writes DIR/train-v1.1.json (the first 30 articles) and DIR/dev-v1.1.json (the rest), or the v2.0
names for a file with unanswerable questions, so `--data-dir DIR` of `squad`/`squad-v2` (or
`--train-file/--validation-file` of `qa`) reads them. Articles never straddle the two files.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from electra_tasks.tasks.qa.squad import read_squad
from electra_tasks.data.tables import read_text
from electra_tasks.errors import UserError
from electra_tasks.outputs import atomic_write_json


def split_by_article(source: str | Path, out_dir: str | Path, train_articles: int,
                     eval_articles: int | None = None) -> dict[str, Path]:
    """Write the first `train_articles` articles as train, the next `eval_articles` (default: all
    the rest) as dev; returns {"train": path, "validation": path}."""
    read_squad(source)  # validate first: nothing is written for a bad file
    document = json.loads(read_text(source))
    articles = document["data"]
    if not 1 <= train_articles < len(articles):
        raise UserError(f"--train-articles {train_articles}: expected 1..{len(articles) - 1} "
                        f"({source} has {len(articles)} articles)")
    rest = articles[train_articles:]
    if eval_articles is not None:
        if eval_articles < 1:
            raise UserError(f"--eval-articles {eval_articles}: expected an integer >= 1")
        rest = rest[:eval_articles]
    unanswerable = any(qa.get("is_impossible") or not qa.get("answers")
                       for article in articles for p in article["paragraphs"] for qa in p["qas"])
    version = document.get("version") or ("v2.0" if unanswerable else "1.1")
    suffix = "v2.0" if str(version).lstrip("v").startswith("2") else "v1.1"
    out = Path(out_dir)
    paths = {"train": out / f"train-{suffix}.json", "validation": out / f"dev-{suffix}.json"}
    atomic_write_json(paths["train"], {"version": version, "data": articles[:train_articles]}, indent=None)
    atomic_write_json(paths["validation"], {"version": version, "data": rest}, indent=None)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="SQuAD-format JSON file")
    parser.add_argument("out_dir", help="folder for train-vX.json and dev-vX.json")
    parser.add_argument("--train-articles", type=int, default=30)
    parser.add_argument("--eval-articles", type=int, default=None, help="default: every remaining article")
    args = parser.parse_args(argv)
    try:
        paths = split_by_article(args.source, args.out_dir, args.train_articles, args.eval_articles)
    except UserError as exc:
        print(f"electra-tasks: error: {exc}", file=sys.stderr)
        return 2
    for split, path in paths.items():
        count = len(read_squad(path).records)
        print(f"{split}: {path} ({count} questions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
