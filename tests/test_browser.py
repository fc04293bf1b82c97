"""report.html in a real browser: headless Chromium renders it with no console errors, and the
comparison table and the bar charts are laid out and visible. `make browser-test` installs
Debian's chromium and runs this; without a chromium binary it is skipped, saying so."""

import json
import re
import shutil
import subprocess

import pytest

from extractor import evaluate, report

from test_report import Scripted, suite  # noqa: F401 - the scripted eval fixture

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

# Injected first in <head> of a copy: records errors and console.error calls (from the page's own
# script too, which runs later), and after load writes what is visible into the DOM we dump.
PROBE = """<script>window.__errs=[];addEventListener('error',function(e){__errs.push(String(e.message))});
var _ce=console.error;console.error=function(){__errs.push([].join.call(arguments,' '));_ce.apply(console,arguments)};
addEventListener('load',function(){function vis(el){var r=el.getBoundingClientRect(),s=getComputedStyle(el);
return r.width>0&&r.height>0&&s.visibility!=='hidden'&&s.display!=='none'}
var o=document.createElement('pre');o.id='probe';o.textContent=JSON.stringify({errors:__errs,
tables:[].filter.call(document.querySelectorAll('table.comparison'),vis).length,
charts:[].filter.call(document.querySelectorAll('svg.chart'),vis).length,
bars:[].filter.call(document.querySelectorAll('svg.chart rect'),vis).length});document.body.appendChild(o)});</script>"""


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary; `make browser-test` installs Debian's chromium")
def test_report_html_renders_in_headless_chromium(suite, tmp_path):  # noqa: F811
    out = tmp_path / "out"
    evaluate.run_eval(suite, {}, out, progress=False)
    rep = report.write_reports(out)
    page = out / "report.html"
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("<head>", "<head>" + PROBE, 1))
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                        "--window-size=1280,2000", "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout)
    assert m, f"the page did not finish loading:\n{r.stderr[-2000:]}"
    seen = json.loads(m.group(1).replace("&quot;", '"'))
    console_errors = [line for line in r.stderr.splitlines() if "CONSOLE" in line and ("Uncaught" in line or "rror" in line)]
    assert seen["errors"] == [] and console_errors == []
    n_data = len(rep["metrics"])
    assert seen["tables"] == n_data
    assert seen["charts"] == n_data * len(report.HEADLINE)
    assert seen["bars"] > 0
