"""Batch-extraction inputs: files, directories, JSONL rows and stdin, cut into passages.

The splitter (docs/extraction.md says the same for users):

1. A document is cut into paragraphs at blank lines (lines holding only whitespace).
2. A paragraph that does not fit the model's context is cut into sentences (after ``.``, ``!``
   or ``?`` and whitespace, but not after ``l.``, ``ll.``, ``p.``, ``pp.``, ``cf.``, initials and
   the like, so ``ll. 15-28`` stays whole), and consecutive sentences are packed into passages as
   long as they fit.
3. A sentence that does not fit on its own is not cut further: it becomes a passage with a
   ``skip`` reason, so it still appears in the output.

A document is a text file (or stdin), or the text field of one JSONL row. Offsets are character
offsets into the document as decoded, so ``document[start:end] == passage.text``. Files are read
as a stream, line by line, so memory does not grow with the size of a file (a paragraph longer
than MAX_PARAGRAPH_CHARS is cut at a line end). Undecodable bytes are replaced with U+FFFD and
counted per passage.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_PARAGRAPH_CHARS = 100_000
"""A 'paragraph' with no blank line for this long is cut at the next line end."""
BINARY_SNIFF = 8192
"""Bytes read to decide whether a file is binary (a NUL byte in them, as git and grep decide)."""
JSONL_SUFFIXES = (".jsonl", ".ndjson")
TEXT_FIELDS = ("text", "input")

Fits = Callable[[str], bool]


@dataclass
class Passage:
    """One unit of extraction, or the record of an input that could not be read."""

    seq: int
    """Position in the whole input stream (0-based); shards and `extract merge` order by it."""
    source: str
    """The file as given or found in a directory; ``-`` for stdin."""
    line: int
    """1-based line of the source where the passage begins (for JSONL: the row's line); 0 when none."""
    index: int
    """Passage number within its source (0-based)."""
    start: int
    """Character offset of the passage in its document (the text file, or the JSONL row's field)."""
    end: int
    """Offset just past the passage: ``document[start:end] == text``."""
    text: str
    skip: str | None = None
    """Why this passage or input is not extracted; the record's status is ``skipped: <skip>``."""
    replaced: int = 0
    """Undecodable byte sequences in this passage, each replaced by one U+FFFD."""


# ----------------------------------------------------------------------------- splitter
# A sentence ends at . ! or ? (plus closing quotes/brackets) followed by whitespace.
_SENTENCE_END = re.compile(r"[.!?][\"'\u2019\u201d)\]]*(?=\s)")
# Words after which a period does not end a sentence: line and page markers, Latin, titles.
_NO_BREAK_AFTER = {
    "l", "ll", "p", "pp", "cf", "e.g", "i.e", "vol", "vols", "no", "nos", "ed", "eds", "trans", "ch", "chap",
    "sec", "fig", "mr", "mrs", "ms", "dr", "st", "vs", "etc", "ibid", "op", "cit", "col", "n", "nn", "v", "vv",
}
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``text``, leading/trailing whitespace excluded."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if text[m.start()] == ".":
            word = _WORD_BEFORE.search(text, 0, m.start())
            w = word.group(1).lower() if word else ""
            if w in _NO_BREAK_AFTER or (len(w) == 1 and text[word.start()].isupper()):
                continue  # "ll. 15", "p. 573", "T. S. Eliot"
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    return [_strip(text, s, e) for s, e in spans if text[s:e].strip()]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def split_paragraph(text: str, fits: Fits) -> Iterator[tuple[int, int, str | None]]:
    """(start, end, skip reason) of the passages of one paragraph (offsets into ``text``)."""
    start, end = _strip(text, 0, len(text))
    if start == end:
        return
    if fits(text[start:end]):
        yield start, end, None
        return
    cur: tuple[int, int] | None = None
    for s, e in sentence_spans(text):
        if cur is not None and fits(text[cur[0]:e]):
            cur = (cur[0], e)
            continue
        if cur is not None:
            yield cur[0], cur[1], None
        if fits(text[s:e]):
            cur = (s, e)
        else:
            cur = None
            yield s, e, f"sentence of {e - s} characters does not fit the model's context"
    if cur is not None:
        yield cur[0], cur[1], None


def paragraphs(lines: Iterable[str]) -> Iterator[tuple[int, int, str]]:
    """(offset, first line number, text) of each paragraph of a document given as lines with ends."""
    pos, buf, buf_start, buf_line, size = 0, [], 0, 0, 0
    for number, line in enumerate(lines, 1):
        if line.strip():
            if not buf:
                buf_start, buf_line = pos, number
            buf.append(line)
            size += len(line)
        if buf and (not line.strip() or size > MAX_PARAGRAPH_CHARS):
            yield buf_start, buf_line, "".join(buf)
            buf, size = [], 0
        pos += len(line)
    if buf:
        yield buf_start, buf_line, "".join(buf)


def split_text(text: str, fits: Fits) -> list[tuple[int, int, str | None]]:
    """(start, end, skip reason) of every passage of an in-memory document."""
    out = []
    for offset, _, para in paragraphs(text.splitlines(keepends=True)):
        out.extend((offset + s, offset + e, skip) for s, e, skip in split_paragraph(para, fits))
    return out


# ----------------------------------------------------------------------------- decoding
class _Counter:
    """Counts bytes replaced by the 'extractor-replace' codec error handler."""

    replaced = 0


def _replace_and_count(err: UnicodeDecodeError):
    _Counter.replaced += err.end - err.start
    return "\ufffd", err.end


codecs.register_error("extractor-replace", _replace_and_count)


def _replaced(text: str) -> int:
    # Each undecodable byte sequence became one U+FFFD; a file that had none keeps its own U+FFFDs.
    return text.count("\ufffd") if _Counter.replaced else 0


def _decoded_lines(stream) -> Iterator[str]:
    """Lines (with their ends) of a binary stream, UTF-8 with undecodable bytes replaced and counted."""
    decoder = codecs.getincrementaldecoder("utf-8")("extractor-replace")
    first = True
    for raw in stream:
        text = decoder.decode(raw)
        if first and text.startswith("\ufeff"):
            text = text[1:]  # a byte-order mark is not text
        first = False
        if text:
            yield text
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


# ----------------------------------------------------------------------------- inputs
class _Sniffed:
    """A binary stream with its first bytes already read (stdin cannot seek back)."""

    def __init__(self, head: bytes, stream):
        self.head, self.stream = head, stream

    def __iter__(self):
        # The head may end mid-line: join it with the rest of its line, then go on with the stream.
        first = self.head + (self.stream.readline() if self.head and not self.head.endswith(b"\n") else b"")
        *whole, last = first.split(b"\n")
        yield from (part + b"\n" for part in whole)
        if last:
            yield last
        yield from self.stream


class Reader:
    """Turns INPUT arguments into a stream of passages, in a fixed order, with seq numbers."""

    def __init__(self, fits: Fits, field: str | None = None, stdin_format: str = "txt"):
        self.fits, self.field, self.stdin_format = fits, field, stdin_format
        self.seq = 0
        self.hidden: list[str] = []
        """Hidden files and directories (names starting with '.') not read inside directories."""
        self.replaced_bytes = 0
        """Undecodable bytes replaced by U+FFFD, over all inputs."""

    def _emit(self, **kw) -> Passage:
        p = Passage(seq=self.seq, **kw)
        self.seq += 1
        return p

    def _skip(self, source: str, reason: str, index: int = 0, line: int = 0) -> Passage:
        return self._emit(source=source, line=line, index=index, start=0, end=0, text="", skip=reason)

    def read(self, inputs: Iterable[str]) -> Iterator[Passage]:
        for item in inputs:
            if item == "-":
                yield from self._stream("-", sys.stdin.buffer, self.stdin_format == "jsonl")
            elif os.path.isdir(item):
                yield from self._directory(item)
            else:
                yield from self._file(item)

    def files(self, inputs: Iterable[str]) -> Iterator[str]:
        """The files that ``read`` reads, in the same order (for sizing the progress bar)."""
        for item in inputs:
            if item != "-" and os.path.isdir(item):
                yield from self._walk(item, record_hidden=False)
            else:
                yield item

    def _walk(self, root: str, record_hidden: bool = True) -> Iterator[str]:
        for dirpath, dirnames, filenames in os.walk(root, onerror=None):
            # Sorted walks make the order - and so seq numbers, shards and resume - reproducible.
            hidden = [d for d in dirnames if d.startswith(".")] + [f for f in filenames if f.startswith(".")]
            if record_hidden:
                self.hidden.extend(os.path.join(dirpath, h) for h in hidden)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(f for f in filenames if not f.startswith(".")):
                yield os.path.join(dirpath, name)

    def _directory(self, root: str) -> Iterator[Passage]:
        found = False
        for path in self._walk(root):
            found = True
            yield from self._file(path)
        if not found:
            yield self._skip(root, "empty directory (no files in it)")

    def _file(self, path: str) -> Iterator[Passage]:
        if not os.path.exists(path) and not os.path.islink(path):
            yield self._skip(path, "unreadable: no such file (check the path)")
            return
        if not os.path.isfile(path):
            yield self._skip(path, "unreadable: not a regular file (pass a .txt/.jsonl file or a directory)")
            return
        try:
            f = open(path, "rb")
        except OSError as e:
            yield self._skip(path, f"unreadable: {e.strerror or e} (check the permissions)")
            return
        with f:
            yield from self._stream(path, f, path.lower().endswith(JSONL_SUFFIXES))

    def _stream(self, source: str, stream, jsonl: bool) -> Iterator[Passage]:
        try:
            head = stream.read(BINARY_SNIFF)
        except OSError as e:
            yield self._skip(source, f"unreadable: {e.strerror or e}")
            return
        if b"\0" in head:
            yield self._skip(source, "binary file (it holds NUL bytes); pass text or JSONL files")
            return
        lines = _decoded_lines(_Sniffed(head, stream))
        count, _Counter.replaced = 0, 0
        try:
            for p in (self._jsonl(source, lines) if jsonl else self._text(source, lines)):
                count += 1
                yield p
        except OSError as e:
            yield self._skip(source, f"read error after {count} passages: {e.strerror or e}", index=count)
            return
        finally:
            self.replaced_bytes += _Counter.replaced
        if count == 0:
            yield self._skip(source, "empty file (no text in it)")

    def _text(self, source: str, lines: Iterator[str]) -> Iterator[Passage]:
        index = 0
        for offset, line, para in paragraphs(lines):
            for s, e, skip in split_paragraph(para, self.fits):
                text = para[s:e]
                yield self._emit(source=source, line=line + para.count("\n", 0, s), index=index,
                                 start=offset + s, end=offset + e, text=text, skip=skip, replaced=_replaced(text))
                index += 1

    def _jsonl(self, source: str, lines: Iterator[str]) -> Iterator[Passage]:
        index = 0
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue  # blank lines separate nothing in JSONL; they are not rows
            text, reason = self._row_text(line)
            if reason:
                yield self._skip(source, f"line {number}: {reason}", index=index, line=number)
                index += 1
                continue
            passages = split_text(text, self.fits)
            if not passages:
                yield self._skip(source, f"line {number}: empty text", index=index, line=number)
                index += 1
            for s, e, skip in passages:
                yield self._emit(source=source, line=number, index=index, start=s, end=e, text=text[s:e], skip=skip,
                                 replaced=_replaced(text[s:e]))
                index += 1

    def _row_text(self, line: str) -> tuple[str, str | None]:
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            return "", f"not JSON ({e.msg} at column {e.colno}); fix or remove the line"
        fields = (self.field,) if self.field else TEXT_FIELDS
        if not isinstance(row, dict):
            return "", f"a JSON {type(row).__name__}, not an object with a {' or '.join(map(repr, fields))} field"
        for name in fields:
            if name in row:
                if not isinstance(row[name], str):
                    return "", f"field {name!r} is a {type(row[name]).__name__}, not a string"
                return row[name], None
        hint = "" if self.field else "; pass --field NAME for another field"
        return "", f"no {' or '.join(map(repr, fields))} field{hint}"
