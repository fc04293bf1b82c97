"""Screenshots of a report.html in headless Chromium, for the README and docs (`make screenshots`).

    python -m extractor.evaluation.report_screens reports/baseline/report.html docs/img

writes ``report-top.png`` (the top of the page: verdict and comparison table) and
``report-compare.png`` (the per-sample view with a pair filter applied and a sample opened, set
through the page's URL hash), both 1366 px wide. Nothing is downloaded; Chromium is Debian's
``chromium`` (or ``$CHROMIUM``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

from ..core.errors import ExtractorError
from .report_samples import cells_differ

WIDTH = 1366
PAIRS = (("adapter-hf", "merged-gguf"), ("adapter-gguf", "merged-gguf"))
# Injected into a temporary copy for the comparison shot: everything between the title and the
# per-sample view is hidden, so the view is at the top of the picture (headless screenshots do
# not follow a scroll), and scrolling to the opened row is a no-op.
FOCUS = ("<style>body>:not(h1):not(#samples):not(script){display:none!important}</style>"
         "<script>Element.prototype.scrollIntoView=function(){}</script>")


def find_chromium() -> str | None:
    return (os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
            or shutil.which("google-chrome"))


def chromium_args(chromium: str, width: int, height: int) -> list[str]:
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
            "--no-first-run", "--disable-extensions", f"--window-size={width},{height}", "--virtual-time-budget=5000"]


def shoot(url: str, png: Path, height: int, chromium: str | None = None) -> None:
    chromium = chromium or find_chromium()
    if not chromium:
        raise ExtractorError("no chromium binary: install Debian's chromium (apt-get install chromium) or set $CHROMIUM")
    png.parent.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(chromium_args(chromium, WIDTH, height) + [f"--screenshot={png.resolve()}", url],
                       capture_output=True, text=True, timeout=180)
    if r.returncode != 0 or not png.is_file():
        raise ExtractorError(f"chromium could not take {png}: {r.stderr.strip()[-400:]}")


def page_data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="samples-data">(.*?)</script>', page, re.S)
    if not m:
        raise ExtractorError("this report.html predates the per-sample view; rewrite it from its samples.jsonl with "
                             "`extractor report rescore DIR` (or `make report`)")
    return json.loads(m.group(1))


def compare_hash(data: dict) -> str:
    """A view worth showing: the test file (else the first), a pair of artefacts, the first row where
    they differ opened."""
    variants = data["variants"]
    pair = next((p for p in PAIRS if all(v in variants for v in p)), None)
    if pair is None:
        models = [v for v in variants if not v.startswith("rules")]
        pair = tuple(models[:2]) if len(models) >= 2 else tuple(variants[:2])
    d = "test" if "test" in data["data"] else data["data"][0]
    parts = [f"data={quote(d)}"]
    rows = [r for r in data["rows"] if data["data"][r[0]] == d]
    if len(pair) == 2:
        a, b = variants.index(pair[0]), variants.index(pair[1])
        parts.append(f"pair={quote(pair[0])},{quote(pair[1])}")
        rows = [r for r in rows if cells_differ(r[5][a], r[5][b])]
    if rows:
        parts.append(f"open={quote(d + '/' + rows[0][1])}")
    return "#" + "&".join(parts)


def screenshots(report_html: Path, out_dir: Path) -> list[Path]:
    report_html = Path(report_html)
    if not report_html.is_file():
        raise ExtractorError(f"{report_html}: not found; write it with `make report` (or `extractor report rescore DIR`)")
    page = report_html.read_text(encoding="utf-8")
    view = compare_hash(page_data(page))
    top, compare = out_dir / "report-top.png", out_dir / "report-compare.png"
    shoot(report_html.resolve().as_uri(), top, 1100)
    with tempfile.TemporaryDirectory() as tmp:
        focused = Path(tmp) / "report.html"
        focused.write_text(page.replace("</head>", FOCUS + "</head>", 1), encoding="utf-8")
        shoot(focused.as_uri() + view, compare, 1100)
    return [top, compare]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        for p in screenshots(Path(args[0]), Path(args[1])):
            print(f"wrote {p}")
    except ExtractorError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
