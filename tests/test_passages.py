"""The batch-extraction inputs: the splitter, and every kind of input (good and bad) the reader meets."""

import io
import json
import os
import sys

import pytest

from extractor.extract.passages import MAX_PARAGRAPH_CHARS, Reader, paragraphs, sentence_spans, split_paragraph, split_text


def fits_chars(n):
    return lambda text: len(text) <= n


def test_paragraphs_are_cut_at_blank_lines_with_offsets_and_line_numbers():
    doc = "First para\ncontinues here.\n\n  \nSecond one.\r\n\r\nThird\n"
    got = list(paragraphs(doc.splitlines(keepends=True)))
    assert [(line, text.strip()) for _, line, text in got] == [
        (1, "First para\ncontinues here."), (5, "Second one."), (7, "Third")]
    for offset, _, text in got:
        assert doc[offset:offset + len(text)] == text


def test_split_text_offsets_point_into_the_document():
    doc = "Intro line.\n\nCanto IX, ll. 15-28, and p. 573 are cited. T. S. Eliot disagreed! Did he?\n\n\nEnd.  "
    spans = split_text(doc, fits_chars(45))
    assert [doc[s:e] for s, e, _ in spans] == [
        "Intro line.", "Canto IX, ll. 15-28, and p. 573 are cited.", "T. S. Eliot disagreed! Did he?", "End."]
    assert all(skip is None for _, _, skip in spans)


def test_sentences_do_not_break_after_line_page_and_initial_abbreviations():
    text = "Canto IX, ll. 15-28 is cited at p. 573 by T. S. Eliot. Cf. the note. Then? Yes!"
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == ["Canto IX, ll. 15-28 is cited at p. 573 by T. S. Eliot.", "Cf. the note.", "Then?", "Yes!"]


def test_a_long_paragraph_is_packed_into_sentences_and_an_overlong_sentence_is_skipped():
    para = "One short sentence. Two short sentence. " + "x" * 80 + ". Tail sentence here."
    out = list(split_paragraph(para, fits_chars(45)))
    texts = [(para[s:e], skip is not None) for s, e, skip in out]
    assert texts == [("One short sentence. Two short sentence.", False), ("x" * 80 + ".", True),
                     ("Tail sentence here.", False)]
    assert "does not fit" in out[1][2]
    # A paragraph that fits stays whole.
    assert [para[s:e] for s, e, _ in split_paragraph(para, fits_chars(1000))] == [para.strip()]


def test_a_paragraph_without_blank_lines_is_cut_at_a_line_end_past_the_cap():
    line = "a" * 999 + "\n"
    n = MAX_PARAGRAPH_CHARS // len(line) + 5
    got = list(paragraphs([line] * n))
    assert len(got) == 2 and sum(len(t) for _, _, t in got) == n * len(line)


def read(inputs, **kw):
    reader = Reader(kw.pop("fits", fits_chars(10_000)), **kw)
    return reader, list(reader.read([str(i) for i in inputs]))


def test_text_file_passages_have_seq_line_index_and_exact_offsets(tmp_path):
    doc = "Canto I opens.\n\nCanto II\nfollows it.\r\n\r\nCanto III.\n"
    (tmp_path / "a.txt").write_text(doc, newline="")
    _, ps = read([tmp_path / "a.txt"])
    assert [(p.seq, p.index, p.line, p.text) for p in ps] == [
        (0, 0, 1, "Canto I opens."), (1, 1, 3, "Canto II\nfollows it."), (2, 2, 6, "Canto III.")]
    for p in ps:
        assert doc[p.start:p.end] == p.text and p.skip is None


def test_jsonl_rows_field_choice_and_bad_rows_are_records_with_reasons(tmp_path):
    f = tmp_path / "rows.jsonl"
    f.write_text('{"text": "Canto IV."}\n\n{"input": "Canto V."}\n{oops\n[1, 2]\n{"body": "x"}\n'
                 '{"text": 7}\n{"text": "  "}\n')
    _, ps = read([f])
    got = [(p.line, p.text, p.skip) for p in ps]
    assert got[0] == (1, "Canto IV.", None) and got[1] == (3, "Canto V.", None)
    reasons = [p.skip for p in ps[2:]]
    assert reasons[0].startswith("line 4: not JSON") and "fix or remove" in reasons[0]
    assert reasons[1].startswith("line 5: a JSON list")
    assert reasons[2] == "line 6: no 'text' or 'input' field; pass --field NAME for another field"
    assert reasons[3] == "line 7: field 'text' is a int, not a string"
    assert reasons[4] == "line 8: empty text"
    assert [p.index for p in ps] == list(range(len(ps)))
    _, ps = read([f], field="body")
    assert [(p.line, p.text) for p in ps if not p.skip] == [(6, "x")]


def test_directories_are_read_recursively_in_sorted_order_without_hidden_entries(tmp_path):
    for rel in ["b/z.txt", "b/a.txt", "a.txt", ".git/config", "c/.hidden.txt"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(f"Canto from {rel}\n")
    (tmp_path / "empty_dir").mkdir()
    reader, ps = read([tmp_path])
    assert [os.path.relpath(p.source, tmp_path) for p in ps] == ["a.txt", "b/a.txt", "b/z.txt"]
    assert sorted(os.path.relpath(h, tmp_path) for h in reader.hidden) == [".git", "c/.hidden.txt"]
    assert [p.seq for p in ps] == [0, 1, 2]
    # A directory given as an input that holds no file at all is recorded, not dropped.
    _, ps = read([tmp_path / "empty_dir"])
    assert [p.skip for p in ps] == ["empty directory (no files in it)"]


def test_bad_inputs_become_skipped_records_and_the_rest_goes_on(tmp_path):
    (tmp_path / "bin.pdf").write_bytes(b"%PDF-1.4\x00\x01\x02binary")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_text("\n  \n\n")
    (tmp_path / "ok.txt").write_text("Canto VI.")
    os.symlink(tmp_path / "gone.txt", tmp_path / "dangling.txt")
    inputs = [tmp_path / "bin.pdf", tmp_path / "empty.txt", tmp_path / "blank.txt", tmp_path / "missing.txt",
              tmp_path / "dangling.txt", tmp_path / "ok.txt"]
    _, ps = read(inputs)
    assert [p.skip for p in ps] == [
        "binary file (it holds NUL bytes); pass text or JSONL files", "empty file (no text in it)",
        "empty file (no text in it)", "unreadable: no such file (check the path)",
        "unreadable: not a regular file (pass a .txt/.jsonl file or a directory)", None]
    assert ps[-1].text == "Canto VI."


def test_a_file_that_fails_to_read_is_skipped_with_the_reason():
    # /proc/self/mem opens but cannot be read at offset 0 (EIO), whoever runs the test.
    _, ps = read(["/proc/self/mem"])
    assert [p.skip for p in ps] == ["unreadable: Input/output error"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_an_unreadable_file_is_skipped_with_the_reason(tmp_path):
    f = tmp_path / "secret.txt"
    f.write_text("Canto VII")
    f.chmod(0)
    _, ps = read([f])
    assert ps[0].skip.startswith("unreadable: Permission denied")


def test_undecodable_bytes_are_replaced_counted_and_recorded(tmp_path):
    f = tmp_path / "latin1.txt"
    f.write_bytes("Caf\u00e9 and Canto VIII.\n\nclean paragraph\n\n\u00fcber Canto X".encode("latin-1"))
    reader, ps = read([f])
    assert [p.replaced for p in ps] == [1, 0, 1]
    assert ps[0].text == "Caf\ufffd and Canto VIII." and reader.replaced_bytes == 2
    # A valid UTF-8 file that contains U+FFFD itself has nothing replaced.
    g = tmp_path / "utf8.txt"
    g.write_text("already \ufffd here", encoding="utf-8")
    reader, ps = read([g])
    assert ps[0].replaced == 0 and reader.replaced_bytes == 0


def test_stdin_is_read_as_text_or_jsonl(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Canto XI.\n\nCanto XII.")))
    _, ps = read(["-"])
    assert [(p.source, p.text) for p in ps] == [("-", "Canto XI."), ("-", "Canto XII.")]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps({"text": "Canto XIII"}).encode())))
    _, ps = read(["-"], stdin_format="jsonl")
    assert [p.text for p in ps] == ["Canto XIII"]


def test_a_binary_sniff_boundary_inside_a_line_keeps_the_line_whole(tmp_path):
    from extractor.extract.passages import BINARY_SNIFF

    first = "a" * (BINARY_SNIFF - 3) + " Canto XIV spans the sniff boundary."
    (tmp_path / "long.txt").write_text(first + "\n\nnext")
    _, ps = read([tmp_path / "long.txt"], fits=fits_chars(100_000))
    assert [p.text for p in ps] == [first, "next"] and ps[1].line == 3
