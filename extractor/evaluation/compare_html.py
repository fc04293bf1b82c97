"""`extractor report compare A B --html OUT`: the comparison as one self-contained page.

Two parts, no script and no external asset: the paired tests (metric, variant, data file, A, B, the
difference with its bootstrap interval for F1, the p-value Holm-adjusted with the raw one beside it,
and the verdict), regressions first as in the terminal; then every sample whose outcome
(``report_samples.OUTCOMES``: exact, exact without a clean stop, wrong, no valid answer, error)
changed between A and B, worse ones first, with both raw outputs. Every text from the samples
(ids, inputs, outputs, variant names) is escaped; outputs are shortened to ``OUTPUT_CHARS``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from .compare import Comparison, Loaded, p_figure
from .report_samples import OUTCOMES, outcome, shorten
from .report_samples_page import BADGES

OUTPUT_CHARS = 2000
INPUT_CHARS = 300
_ORDER = {"regression": 0, "improvement": 1, "not significant": 2, "unchanged": 3}
_RANK = {k: i for i, (k, *_) in enumerate(OUTCOMES)}
_SIGNIFICANT = {"regression": "yes: regression", "improvement": "yes: improvement", "unchanged": "unchanged"}
_CSS = """
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0 auto;padding:20px 24px;color:#1d2125;max-width:1300px}
h1{font-size:22px;margin:4px 0}h2{font-size:18px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:3px}.meta{color:#5f6670;font-size:12px}
table{border-collapse:collapse;width:100%;margin:6px 0 14px;font-variant-numeric:tabular-nums}
th,td{border:1px solid #dde1e6;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f3f5f7;font-size:12px}
table.tests td.n{text-align:right;white-space:nowrap}small{color:#6b7280}
tr.regression td{background:#fdecec}tr.regression td:last-child{color:#9b1c1c;font-weight:650}
tr.improvement td{background:#e9f7ee}tr.improvement td:last-child{color:#17663a;font-weight:650}tr.unchanged td{color:#6b7280}
table.changed td.id{width:150px;overflow-wrap:anywhere;font-size:12px}table.changed td.id div{color:#5f6670}
table.changed pre{white-space:pre-wrap;word-break:break-word;margin:0;font-size:12px;background:#f6f6f6;padding:3px;max-width:520px}
tr.worse td.arrow{color:#9b1c1c;font-weight:650}tr.better td.arrow{color:#17663a;font-weight:650}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _record_of(loaded: Loaded, key) -> Mapping:
    """The record behind a sample, or what ``outcome`` needs of it when ``loaded`` has no records."""
    r = loaded.records.get(key)
    return r if r is not None else {"finish_reason": loaded.samples[key].finish_reason}


def changed_samples(a: Loaded, b: Loaded) -> list[dict]:
    """The paired samples whose outcome differs between A and B: data, variant, id, input, outcome and
    raw output on each side, and whether B is worse (a later outcome in ``OUTCOMES``); worse first,
    then by data file, variant and id."""
    out = []
    for key in sorted(set(a.samples) & set(b.samples)):
        ra, rb = _record_of(a, key), _record_of(b, key)
        oa, ob = outcome(ra, a.samples[key]), outcome(rb, b.samples[key])
        if oa == ob:
            continue
        d, v, i = key

        def raw(r):
            return r.get("raw") or r.get("error") or ""

        out.append({"data": d, "variant": v, "id": i, "input": ra.get("input") or rb.get("input") or "",
                    "a": oa, "b": ob, "raw_a": raw(ra), "raw_b": raw(rb), "worse": _RANK[ob] > _RANK[oa]})
    out.sort(key=lambda c: not c["worse"])  # stable: worse first, each part in key order
    return out


def _badge(key: str) -> str:
    i = _RANK[key]
    return f'<span class="o o{i}">{OUTCOMES[i][3]}</span> {_e(OUTCOMES[i][1])}'


def _tests(c: Comparison) -> str:
    rows = []
    for r in sorted(c.rows, key=lambda r: (_ORDER[r["verdict"]], r["data"], r["variant"], r["metric"])):
        ci = f' <small>[{r["ci"][0]:+.3f}, {r["ci"][1]:+.3f}]</small>' if r.get("ci") else ""
        raw_p = f' <small>raw {p_figure(r["p"])}</small>' if r["p_holm"] != r["p"] else ""
        significant = _SIGNIFICANT.get(r["verdict"], "no")
        rows.append(f'<tr class="{_e(r["verdict"])}"><td>{_e(r["metric"])}</td><td>{_e(r["variant"])}</td><td>{_e(r["data"])}</td>'
                    f'<td class="n">{r["a"]:.3f}</td><td class="n">{r["b"]:.3f}</td><td class="n">{r["delta"]:+.3f}{ci}</td>'
                    f'<td class="n">{p_figure(r["p_holm"])}{raw_p} <small>{_e(r["test"])}, n={r["n"]}</small></td><td>{significant}</td></tr>')
    return ('<table class="tests"><thead><tr><th>metric</th><th>variant</th><th>split</th><th>A</th><th>B</th><th>difference</th>'
            '<th>p (Holm-adjusted)</th><th>significant</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def _changed(changed: list[dict]) -> str:
    if not changed:
        return "<p>No paired sample changed outcome.</p>"
    rows = []
    for c in changed:
        way = "worse" if c["worse"] else "better"
        outputs = "".join(f"<td><pre>{_e(shorten(c[k], OUTPUT_CHARS))}</pre></td>" for k in ("raw_a", "raw_b"))
        rows.append(f'<tr class="{way}"><td class="id">{_e(c["data"] + "/" + c["id"])}'
                    f'<div>{_e(shorten(c["input"], INPUT_CHARS))}</div></td><td>{_e(c["variant"])}</td>'
                    f'<td>{_badge(c["a"])}</td><td class="arrow">{way} &rarr;</td><td>{_badge(c["b"])}</td>{outputs}</tr>')
    return ('<table class="changed"><thead><tr><th>sample (input)</th><th>variant</th><th>outcome in A</th><th></th><th>outcome in B</th>'
            '<th>output in A</th><th>output in B</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def render_html(c: Comparison, a: Loaded, b: Loaded, a_name: str, b_name: str) -> str:
    """The page: the paired tests of ``c`` (B against A) and the samples that changed outcome."""
    changed = changed_samples(a, b)
    n_reg = len(c.regressions)
    n_imp = sum(r["verdict"] == "improvement" for r in c.rows)
    summary = (f"{n_reg} significant regression(s), {n_imp} significant improvement(s), over {len(c.rows)} paired tests "
               f"(alpha {c.alpha}, Holm-adjusted); {len(changed)} sample(s) changed outcome, "
               f"{sum(x['worse'] for x in changed)} of them for the worse.")
    title = f"{b_name} (B) against {a_name} (A)"
    body = [f"<h1>{_e(title)}</h1>",
            '<p class="meta">Rows paired by (data file, variant, id). Rates: the exact McNemar test; F1: a paired '
            "bootstrap (its 95% interval beside the difference). A change is a regression only when it is worse and "
            "significant after Holm's adjustment over every test. Outputs are shortened; samples.jsonl has them whole.</p>",
            f"<p><b>{_e(summary)}</b></p>"]
    body += [f'<p class="meta">{_e(u)}</p>' for u in c.unpaired]
    body += ['<h2 id="tests">Paired tests</h2>', _tests(c),
             f'<h2 id="changed">Samples that changed outcome ({len(changed)})</h2>', _changed(changed)]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
            f"<style>{_CSS}{BADGES}</style></head><body>{''.join(body)}</body></html>\n")
