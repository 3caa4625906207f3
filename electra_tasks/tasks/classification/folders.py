"""A folder of class subfolders, one document a file: the aclImdb / 20 Newsgroups layout
(scikit-learn's `load_files`).

`train/pos/0_9.txt`, `train/neg/1_1.txt`, ...: each subfolder's name is the label of the files in
it; a document is the whole text of one file (surrounding whitespace dropped), its id the file's
path inside the folder (`pos/0_9.txt`). Hidden files and files directly in the folder (aclImdb's
`urls_pos.txt`, `labeledBow.feat`) are not documents. `--label-names a,b` reads only those
subfolders (aclImdb's `train/unsup` holds unlabelled reviews). A folder without subfolders holds
unlabelled documents (a test split). Files may be compressed (`.gz` ...); each is decoded as
UTF-8 or with a detected encoding (20 Newsgroups has Latin-1 posts), counted once per folder.
"""

from __future__ import annotations

from pathlib import Path

from electra_tasks.data import repairs
from electra_tasks.data.rows import Rows, dataset_from_arrow
from electra_tasks.data.text import decode, read_bytes
from electra_tasks.errors import UserError


def _visible(entries) -> list[Path]:
    return sorted(p for p in entries if not p.name.startswith("."))


def read_class_folders(path: Path, *, label_names: list[str] | None, encoding: str | None,
                       labelled: bool) -> Rows:
    import pyarrow as pa

    classes = [p for p in _visible(path.iterdir()) if p.is_dir()]
    if label_names:
        found = {p.name: p for p in classes}
        missing = [name for name in label_names if name not in found]
        if missing:
            raise UserError(f"{path}: no subfolder {', '.join(repr(m) for m in missing)} (--label-names); "
                            f"the subfolders are: {', '.join(found) or 'none'}")
        classes = [found[name] for name in label_names]
    if classes:
        groups = [(p.name, _visible(f for f in p.iterdir() if f.is_file())) for p in classes]
    elif labelled:
        raise UserError(f"{path}: no class subfolders; expected one subfolder per label holding one document "
                        f"a file (e.g. pos/ and neg/), or a table file")
    else:
        groups = [(None, _visible(f for f in path.iterdir() if f.is_file()))]
    texts, labels, ids = [], [], []
    detected: dict[str, int] = {}
    example = None
    for label, files in groups:
        for file in files:
            text, used = decode(read_bytes(file), file, encoding, report=False)
            if used != "utf-8" and encoding is None:
                detected[used] = detected.get(used, 0) + 1
                example = example or f"{file.relative_to(path)}"
            text = text.strip()
            if not text:
                raise UserError(f"{file}: empty document; expected the text of one document")
            texts.append(text)
            labels.append(label)
            ids.append(str(file.relative_to(path)))
    if not texts:
        raise UserError(f"{path}: no documents in its subfolders")
    for used, count in detected.items():
        repairs.note(path, f"files not UTF-8; decoded as {used} (detected; --encoding chooses)", count, example)
    table = pa.table({"text": pa.array(texts, pa.string()), "label": pa.array(labels, pa.string()),
                      "index": pa.array(ids, pa.string())})
    return Rows(dataset_from_arrow(table),
                lambda row, field=None: str(path / ids[row]) + (f" (field '{field}')" if field else ""),
                source=path, info={"regression": False, **({"label_names": list(label_names)} if label_names else {})})
