"""`extractor eval` and `extractor report`: generate, score, show and compare."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import Group, console, parse_endpoints, parse_runs, task_of_runs, task_option, warn_if_busy


@click.command("eval")
@click.option("--suite", "suite_path", default=None, type=click.Path(dir_okay=False),
              help="Evaluation definition (data files, variants, generation settings, thresholds). "
                   "Default: the task's own suite.")
@click.option("--run", "run_dirs", multiple=True, metavar="[LABEL=]DIR",
              help="Training run (after `extractor export`). Repeat as LABEL=DIR for variants KIND@LABEL.")
@click.option("--endpoint", "endpoints", multiple=True, metavar="[LABEL=]URL",
              help="An OpenAI-compatible server for variants served:MODEL (repeat as LABEL=URL for served:MODEL@LABEL).")
@click.option("--served-api", type=click.Choice(["completions", "chat"]), default=None,
              help="served variants: the completions endpoint with the run's exact prompt (the suite's default), "
                   "or the chat endpoint (the server applies its own template).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Where samples and reports go.")
@click.option("--data", "data_files", multiple=True, type=click.Path(dir_okay=False),
              help="Evaluate these JSONL files instead of the suite's (labelled by file stem).")
@click.option("--variants", help="Comma-separated variants instead of the suite's, e.g. merged-gguf,rules.")
@click.option("--limit", type=int, default=0, help="Only the first N rows of each data file (a quick look).")
@click.option("--resume", is_flag=True, help="Continue OUT/samples.jsonl: skip samples already recorded.")
@click.option("--check", is_flag=True, help="Exit 1 if a threshold of the suite is breached or a row was not evaluated.")
@click.option("--retry-budget", type=click.IntRange(0), default=None, metavar="SECONDS",
              help="How long a failing server request or runtime call is retried before the run stops "
                   "(exit 4). Default: the suite's [generation] retry_budget, 120.")
@click.option("--timeout", type=click.IntRange(1), default=None, metavar="SECONDS",
              help="served variants: seconds a request may take before it counts as a fault and is retried "
                   "(default: the suite's, 120).")
@click.option("--reference", default="adapter-hf", show_default=True, metavar="VARIANT",
              help="The artefact the likelihood view compares the others with (the adapter as trained).")
@click.option("--no-likelihood", "no_likelihood", is_flag=True,
              help="Skip the likelihood view (each artefact scoring the gold answers, teacher-forced).")
@click.option("--job-summary", is_flag=True,
              help="Also report the install, training and export times the runs recorded (`make report`'s job).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@task_option("The task (default: the runs' own). Another task than the suite's drops its thresholds.")
def eval_cmd(suite_path, run_dirs, endpoints, served_api, out_dir, data_files, variants, limit, resume, check,
             retry_budget, timeout, reference, no_likelihood, job_summary, quiet, task_name):
    """Generate with every variant, score, and write OUT/report.{json,md,html}.

    Every sample is appended to OUT/samples.jsonl as it is produced; kill the run at any time
    and continue it with --resume. Variants: base-gguf, adapter-hf, adapter-gguf, merged-hf,
    merged-gguf, rules, and served:MODEL (a model behind --endpoint); add +grammar for
    JSON-Schema-constrained decoding and @LABEL to use the run given as --run LABEL=DIR. Without
    --suite, the task's own suite: its decision split (test, a split the package ships, so it
    runs from any directory); --data and --variants replace its files and variants. Each artefact
    also scores the gold answers (the likelihood view: its parity with --reference, the stop
    diagnosis, the causes; --no-likelihood skips it).

    A fault of the infrastructure (a server refusing or dropping the connection, a timeout, a
    5xx or 429, a runtime error) is never recorded as the model's answer: it is retried with
    backoff for up to --retry-budget seconds, then the run stops, writing nothing for the rows
    not done; --resume does them. A served variant's server is checked before anything runs.

    Exit status: 0 done; 1 a threshold breached or a row not evaluated (--check), or an error
    to fix (the message says how); 4 stopped by an outage (nothing recorded for the rows not
    done, no report written: run again with --resume).

    \b
    Examples:
      extractor eval --run runs/cantos-smollm2 --out reports/latest
      extractor eval --run runs/cantos-smollm2 --out reports/latest --resume --check
      extractor eval --run runs/cantos-smollm2 --data datasets/cantos/valid.jsonl --out reports/valid
      extractor eval --variants rules,base-gguf --data datasets/cantos/test.jsonl --out reports/quick
      extractor eval --run runs/a --run bug=runs/b --variants adapter-gguf,adapter-gguf@bug --out reports/ab
      extractor eval --run ~/runs/copy --variants merged-gguf --data my-rows.jsonl --out out
      extractor eval --run runs/cantos-smollm2 --endpoint http://127.0.0.1:8000/v1 \\
          --variants served:cantos,served:cantos+grammar,merged-gguf --out reports/served
    """
    from ..evaluation.evaluate import run_eval
    from ..evaluation.report import write_reports
    from ..evaluation.report_text import print_table
    from ..evaluation.suite import default_suite, load_suite
    from ..runtimes.variant import parse_name
    from ..runtimes.variants import Sources

    runs = parse_runs(run_dirs)
    task = task_of_runs(runs, task_name)
    suite = load_suite(suite_path, task) if suite_path else default_suite(task)
    if data_files:
        suite.use_data([Path(f) for f in data_files])
    if variants:
        suite.use_variants([v for v in variants.split(",") if v.strip()])
    if limit:
        suite.limit = limit
    if served_api:
        suite.settings.served_api = served_api
    if retry_budget is not None:
        suite.settings.retry_budget = retry_budget
    if timeout is not None:
        suite.settings.timeout = timeout
    warn_if_busy()
    sources = Sources(runs, parse_endpoints(endpoints), suite.base_model)
    run_eval(suite, sources, Path(out_dir), resume=resume, progress=not quiet, log=lambda m: click.echo(m, err=True),
             job_summary=job_summary, likelihood=not no_likelihood, reference=str(parse_name(reference)))
    report = write_reports(Path(out_dir), task)
    print_table(report, task, console)
    click.echo(f"wrote {out_dir}/report.json, report.md, report.html")
    if check and (report.not_evaluated or any(not c.passed for c in report.checks)):
        sys.exit(1)


@click.group(cls=Group)
def report():
    """Re-score, show and compare evaluation reports (no model is run).

    \b
    Examples:
      extractor report rescore reports/latest
      extractor report show reports/baseline
      extractor report compare reports/baseline reports/latest
    """


@report.command("rescore")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
def report_rescore(out_dir):
    """Score OUT/samples.jsonl again and rewrite report.json, report.md and report.html.

    \b
    Example:
      extractor report rescore reports/latest
    """
    from ..evaluation.records import read_eval
    from ..evaluation.report import task_of, write_reports
    from ..evaluation.report_text import print_table

    task = task_of(read_eval(Path(out_dir)))
    print_table(write_reports(Path(out_dir), task, rescore=True), task, console)


@report.command("show")
@click.argument("path", type=click.Path(exists=True))
def report_show(path):
    """Print a report's table in the terminal.

    \b
    Example:
      extractor report show reports/baseline
    """
    from ..evaluation.report import load_report, task_of
    from ..evaluation.report_text import print_table

    found = load_report(path)
    print_table(found, task_of(found), console)


@report.command("compare")
@click.argument("a", type=click.Path())
@click.argument("b", type=click.Path())
@click.option("--all", "show_all", is_flag=True, help="Show every tested figure (unchanged ones too) and the speed figures.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True,
              help="Significance level, after Holm's adjustment over all the tests.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False), default=None, metavar="OUT",
              help="Also write the comparison as one self-contained page: the paired tests and the samples "
                   "that changed outcome, with both outputs.")
def report_compare(a, b, show_all, alpha, html_out):
    """Compare report B with report A on the same samples; exit 1 only on a significant regression.

    A and B are report directories holding samples.jsonl (what `extractor eval --out DIR` writes),
    both of the same task. Rows are paired by (data file, variant, id). Schema-valid, exact match,
    clean stop and runaway are tested with the exact McNemar test; the task's F1 figures (Cantos:
    canto and line F1; file tasks: field F1) with a paired bootstrap (fixed seed, so every run gives
    the same p-values); where both evaluations scored the gold answers (the likelihood view), the
    gold NLL per token with the sign test over rows (a change under 1% is within tolerance).
    p-values are Holm-adjusted over all the tests. A figure
    is a REGRESSION only when it is worse and significant; a worse figure that is not significant
    is reported as such and does not fail. Speed is shown (--all), never gated.

    Exit status: 0 no significant regression, 1 at least one, 2 bad input (a missing samples.jsonl,
    reports of two different tasks).

    \b
    Examples:
      extractor report compare reports/baseline reports/latest
      extractor report compare reports/baseline reports/latest --all
      extractor report compare reports/baseline reports/latest --alpha 0.01 || echo "regressed"
      extractor report compare reports/baseline reports/latest --html compare.html
    \b
    Output lines look like:
      test / merged-gguf: exact_match 0.730 -> 0.700 (-0.030, 291 rows), McNemar p=0.27: not significant
      test / merged-gguf: exact_match 0.730 -> 0.550 (-0.180, 291 rows), McNemar p<0.001: REGRESSION
    """
    from ..evaluation.compare import compare, load, render, same_task

    la, lb = load(a), load(b)
    result = compare(la.samples, lb.samples, same_task(la, lb, a, b), alpha=alpha,
                     likelihood=(la.likelihood, lb.likelihood) if la.likelihood and lb.likelihood else None)
    for line in render(result, a, b, show_all):
        click.echo(line)
    if html_out:
        from ..evaluation.compare_html import render_html

        out = Path(html_out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_html(result, la, lb, a, b), encoding="utf-8")
        click.echo(f"wrote {out}")
    sys.exit(1 if result.regressions else 0)
