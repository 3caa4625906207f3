"""Bytes and text of a user's file: transparent decompression and careful decoding.

Every text reader (tables, column files, JSON documents, folders of documents, `predict --input`;
a corpus reader may call `read_text`, `decode` or `open_binary` too) gets its text here:

- `.gz .bz2 .xz .zst` files are decompressed on the fly (`data.tsv.gz` is read as a `.tsv`);
- UTF-8 first (a byte-order mark is dropped); a file that is not valid UTF-8 is decoded with a
  detected encoding (a UTF-16/32 byte-order mark, else charset-normalizer on its non-ASCII
  lines), logged with the file's name and the encoding chosen and counted as a repair;
  `--encoding ENC` forces one encoding for every file;
- a binary file (NUL bytes) or one no encoding fits is one error naming the file, the line and
  the byte.
"""

from __future__ import annotations

import codecs
import lzma
import re
from pathlib import Path

from electra_tasks.data import repairs
from electra_tasks.errors import UserError, reason, where

COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd", ".zstd": "zstd"}
UTF8 = ("utf-8", "utf8", "utf-8-sig", "utf_8", "u8")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_NON_ASCII_LINES = re.compile(rb"[^\n]*[\x80-\xff][^\n]*\n?")
_CONTROL = re.compile("[\x01-\x08\x0e-\x1f\x7f-\x9f]")  # no text has these; binary data does
SAMPLE_BYTES = 256 * 1024  # non-ASCII lines given to the detector (it is slow on big inputs)
PREFERRED = ("cp1252", "iso8859-1", "iso8859-15")  # Windows-1252 first, as browsers treat Latin-1
CHAOS_MARGIN = 0.01  # a guess this close to the cleanest counts as tied
MIN_EVIDENCE = 16  # non-ASCII bytes below which a detector's guess is noise
_HIGH_BYTES = re.compile(rb"[\x80-\xff]")


def compression_of(path: str | Path) -> str | None:
    """'gzip', 'bz2', 'xz', 'zstd' or None, from the file name."""
    return COMPRESSIONS.get(Path(path).suffix.lower())


def format_suffix(path: str | Path) -> str:
    """The format's extension with any compression suffix taken off: `a.tsv.gz` -> `.tsv`."""
    path = Path(path)
    if compression_of(path):
        path = path.with_suffix("")
    return path.suffix.lower()


def check_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: file not found")
    if not path.is_file():
        raise UserError(f"{path}: expected a file, found a directory")
    return path


def open_binary(path: str | Path):
    """A binary file object reading the decompressed bytes (pyarrow's codecs; xz: lzma)."""
    path = check_file(path)
    compression = compression_of(path)
    if compression is None:
        return open(path, "rb")
    if compression == "xz":
        return lzma.open(path, "rb")
    import pyarrow as pa

    return pa.input_stream(str(path), compression=compression)


def read_bytes(path: str | Path) -> bytes:
    """The whole (decompressed) content of a file; a corrupt archive is one clear error."""
    path = check_file(path)
    try:
        with open_binary(path) as handle:
            data = handle.read()
    except (OSError, EOFError, lzma.LZMAError) as exc:
        if compression_of(path) is None:
            raise UserError(f"{path}: cannot read the file ({exc})") from None
        raise UserError(f"{path}: not a valid {compression_of(path)} file ({reason(exc, None)})") from None
    return bytes(data)


def check_encoding(encoding: str | None) -> str | None:
    """`--encoding ENC` -> Python's codec name; an unknown name is a one-line error."""
    if encoding is None or str(encoding).strip() == "":
        return None
    try:
        return codecs.lookup(str(encoding)).name
    except LookupError:
        raise UserError(f"--encoding {encoding}: unknown encoding; expected e.g. utf-8, latin-1, cp1252") from None


def detect_encoding(data: bytes) -> str | None:
    """The encoding of bytes that are not UTF-8, or None for binary data / no fit."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    if b"\x00" in data:
        return None
    from charset_normalizer import from_bytes

    sample, size = [], 0
    for match in _NON_ASCII_LINES.finditer(data):
        sample.append(match.group())
        size += len(sample[-1])
        if size >= SAMPLE_BYTES:
            break
    sample = b"".join(sample)
    evidence = len(_HIGH_BYTES.findall(sample))
    guesses = [g for g in from_bytes(sample) if codecs.lookup(g.encoding).name != "utf-8"] \
        if evidence >= MIN_EVIDENCE else []
    if not guesses:  # too few non-ASCII bytes to tell (the detector guesses Big5 for "K\xf6ln"), or it gave
        # up: Windows-1252, the common legacy encoding of English-language data, if it reads as text
        try:
            text = data.decode(PREFERRED[0])
        except UnicodeDecodeError:
            return None
        return PREFERRED[0] if not _CONTROL.search(text) else None
    # the detector often ties Western code pages on short or English text (cp1250 vs cp1252:
    # "Cæsar" vs "Ćsar"), or lists one of several that read the bytes alike: among guesses as
    # clean as the best, prefer the common Western ones (also when one reads the sample the same)
    clean = min(g.chaos for g in guesses) + CHAOS_MARGIN
    tied = [codecs.lookup(g.encoding).name for g in guesses if g.chaos <= clean]
    names = [codecs.lookup(g.encoding).name for g in guesses]
    ranked = []
    for name in PREFERRED:
        if name in tied or any(_reads_alike(sample, name, other) for other in tied):
            ranked.append(name)
    for name in dict.fromkeys(ranked + tied + names):
        try:
            data.decode(name)
        except UnicodeDecodeError:
            continue
        return name
    return None


def _reads_alike(sample: bytes, a: str, b: str) -> bool:
    try:
        return sample.decode(a) == sample.decode(b)
    except UnicodeDecodeError:
        return False


def decode(data: bytes, source, encoding: str | None = None, *, report: bool = True) -> tuple[str, str]:
    """(text, encoding used): forced `encoding`, else UTF-8, else a detected one (logged and
    counted, unless `report` is off: a reader of many small files counts them itself)."""
    forced = check_encoding(encoding)
    if forced is not None and forced not in ("utf-8",):
        try:
            return data.decode(forced), forced
        except UnicodeDecodeError as exc:
            raise _undecodable(data, source, exc, f"{forced} text (--encoding)") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        if forced is not None:
            raise _undecodable(data, source, exc, "UTF-8 text (--encoding)") from None
        failure = exc
    detected = detect_encoding(data)
    if detected is None:
        raise _undecodable(data, source, failure, "UTF-8 text (or pass --encoding)") from None
    text = data.decode(detected)
    if text.startswith("\ufeff"):
        text = text[1:]
    line = data[: failure.start].count(b"\n") + 1
    if report:
        repairs.note(source, f"not UTF-8; decoded as {detected} (detected; --encoding chooses)", 1,
                     f"line {line}: byte 0x{data[failure.start]:02x} is {text_at(data, failure.start, detected)!r}")
    return text, detected


def text_at(data: bytes, offset: int, encoding: str) -> str:
    try:
        return data[offset:offset + 1].decode(encoding)
    except UnicodeDecodeError:
        return "?"


def _undecodable(data: bytes, source, exc: UnicodeDecodeError, expected: str) -> UserError:
    line = data[: exc.start].count(b"\n") + 1
    return UserError(f"{where(source, line)}: undecodable byte 0x{data[exc.start]:02x}; expected {expected}")


def read_text(path: str | Path, encoding: str | None = None) -> str:
    """A file's text (decompressed, decoded as above); a clear error for missing/binary/empty."""
    path = check_file(path)
    text, _ = decode(read_bytes(path), path, encoding)
    if not text.strip():
        raise UserError(f"{path}: the file is empty")
    return text
