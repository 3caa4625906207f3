"""CNN/DailyMail as first published: `.story` files and abisee's url lists.

Hermann et al. (2015) released one `.story` file per article (`cnn/stories/<sha1>.story`,
`dailymail/stories/<sha1>.story`): the article's lines, then `@highlight` lines, each followed
by one highlight. See et al.'s url lists (`url_lists/all_train.txt`, `all_val.txt`,
`all_test.txt`, one article URL a line) fix the standard split: a story's file name is the SHA1
of its URL. A story is read exactly as the hub's `cnn_dailymail` 3.0.0 script reads it (a
period added to lines that end without one, article lines joined with spaces, highlights one a
line, the file name as id), so a folder of stories gives the rows the hub gives. Like that
script, stories without highlights or without article text are skipped; here they are counted.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from electra_tasks.data import repairs
from electra_tasks.data.text import decode, open_binary, read_bytes
from electra_tasks.errors import UserError

STORY = ".story"
HIGHLIGHT = "@highlight"
# the hub script's END_TOKENS: a line ending in one of these keeps its end; others get " ."
END_TOKENS = (".", "!", "?", "...", "'", "`", '"', "\u2019", "\u201d", ")")
PUBLISHERS = ("cnn", "dailymail")  # the stories' folders: cnn/stories, dailymail/stories
SKIPPED = "stories without highlights or without article text skipped (as the hub's cnn_dailymail script does)"
MISSING = "url-list entries without a story file skipped"


def parse_story(text: str) -> tuple[str, list[str]]:
    """(article, highlights) of one .story file's text."""
    article, highlights, in_highlights = [], [], False
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith(HIGHLIGHT):
            in_highlights = True
            continue
        if not line.endswith(END_TOKENS):
            line += " ."
        (highlights if in_highlights else article).append(line)
    return " ".join(article), highlights


def is_story_folder(path: Path) -> bool:
    return path.is_dir() and next(path.glob(f"*{STORY}"), None) is not None


def looks_like_url_list(path: Path) -> bool:
    """A text file whose first non-blank line is a URL (abisee's all_train.txt)."""
    with open_binary(path) as stream:
        head = stream.read(4096).decode("utf-8", errors="replace")
    first = next((line.strip() for line in head.splitlines() if line.strip()), "")
    return first.startswith(("http://", "https://"))


def url_hash(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8")).hexdigest()


def read_stories(files: list[Path], source: Path, encoding: str | None) -> list[dict]:
    """Raw rows (id, document, summary, where) of story files; skipped stories are counted."""
    rows, skipped = [], []
    for path in files:
        text, _ = decode(read_bytes(path), path, encoding)
        article, highlights = parse_story(text)
        if not article or not highlights:
            skipped.append(path.name)
            continue
        rows.append({"id": path.stem, "document": article, "summary": "\n".join(highlights),
                     "doc_where": f"{path} (field 'article')", "sum_where": f"{path} (field 'highlights')"})
    if not rows:
        raise UserError(f"{source}: no story with both article text and an @highlight "
                        f"({len(files)} .story file{'s' if len(files) != 1 else ''} read)")
    repairs.note(source, SKIPPED, len(skipped), skipped[0] if skipped else None)
    return rows


def story_files(path: Path) -> list[Path]:
    """The .story files of a folder, in name order."""
    return sorted(path.glob(f"*{STORY}"))


def url_list_files(path: Path, encoding: str | None) -> list[Path]:
    """The story files a url list names, looked up in cnn/stories and dailymail/stories beside
    the list or one folder up (the layout of the downloads next to abisee's url_lists/)."""
    text, _ = decode(read_bytes(path), path, encoding)
    urls = [line.strip() for line in text.splitlines() if line.strip()]
    folders = [base / publisher / "stories" for base in (path.parent, path.parent.parent)
               for publisher in PUBLISHERS if (base / publisher / "stories").is_dir()]
    if not folders:
        raise UserError(f"{path}: a url list, but no cnn/stories or dailymail/stories folder beside it or one "
                        f"folder up; put the extracted story archives there, or pass a folder of .story files")
    listed = [(folder, {entry.name for entry in os.scandir(folder)}) for folder in folders]
    found, missing = [], []
    for url in urls:
        name = url_hash(url) + STORY
        hit = next((folder / name for folder, names in listed if name in names), None)
        (found if hit else missing).append(hit or url)
    if not found:
        raise UserError(f"{path}: none of its {len(urls)} URLs has a story file (SHA1 of the URL + .story) in "
                        f"{', '.join(str(f) for f in folders)}")
    repairs.note(path, MISSING, len(missing), str(missing[0]) if missing else None)
    return found
