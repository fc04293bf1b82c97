"""Evaluation: suites, the generation loop, scoring, the verdict, and every rendering of a report
(terminal, report.md, report.html, `report compare`)."""
