"""Feedback a student can read: one self-contained HTML page per submission.

``write_feedback(folder, student, assignment, record)`` writes
``folder/<student>/<assignment>/<assignment>.html`` (nbgrader's feedback layout, so
``nbgrader release_feedback`` and the formgrader's links find it). The page gives the
total, then a section per function (the check cells of the notebook, as the gradebook
scores them): the score, each hidden test passed or failed with what was wrong and the
likely cause, and the notes and warnings; then what was skipped in the notebook and why.

Everything comes from results.json, whose texts the grader has already cleaned of hidden
inputs; every text is escaped here (a student's own words cannot add HTML), the CSS is
inline (readable without the course's style sheets) and the page prints on paper.
"""
from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from autograder.course import gradebook

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a1a1a;
       background: #fff; max-width: 52rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin: 0; }
.total { font-size: 1.2rem; margin: .3rem 0 1rem; }
.meta { color: #555; margin: 0; }
section.fn { border: 1px solid #ccc; border-radius: 6px; margin: 1rem 0; padding: .6rem .9rem;
             break-inside: avoid; }
section.fn > header { display: flex; justify-content: space-between; gap: 1rem; }
.full { border-left: 6px solid #2e7d32; } .part { border-left: 6px solid #ef6c00; }
.none { border-left: 6px solid #c62828; }
ul.tests { list-style: none; padding: 0; margin: .4rem 0 0; }
ul.tests li { margin: .35rem 0; }
.mark { font-weight: 600; display: inline-block; min-width: 4.5rem; }
.pass .mark { color: #2e7d32; } .fail .mark { color: #c62828; }
pre { white-space: pre-wrap; word-break: break-word; background: #f6f6f6; margin: .2rem 0 0;
      padding: .4rem .6rem; border-radius: 4px; font: 13px/1.4 ui-monospace, monospace; }
.notes { background: #fff8e1; }
.notebook { border: 1px solid #ccc; border-left: 6px solid #6d4c41; border-radius: 6px;
            padding: .6rem .9rem; }
footer { color: #666; font-size: .85rem; margin-top: 1.5rem; }
@media print {
  body { max-width: none; margin: 0; font-size: 11pt; }
  section.fn, .notebook { border-color: #999; }
  pre { background: none; border: 1px solid #ccc; }
  footer { display: none; }
}
"""


def _number(x: Any) -> str:
    value = float(x or 0)
    return "%d" % value if value.is_integer() else "%.2f" % value


def _split(output: str) -> tuple[str, list[str]]:
    """A test's output -> (what happened, [notes and warnings])."""
    lines = str(output or "").splitlines()
    main = [ln for ln in lines if not ln.startswith(("note: ", "warning: "))]
    notes = [ln for ln in lines if ln.startswith(("note: ", "warning: "))]
    return "\n".join(main), notes


def sections(assignment: str, record: dict[str, Any]) -> list[dict[str, Any]]:
    """[{"title", "score", "max_score", "tests": [entry, ...]}] grouped by function (check
    cell); tests that map to no cell (or an unknown assignment) come in one last group."""
    entries = [e for e in record.get("tests", []) if isinstance(e, dict)]
    groups: list[dict[str, Any]] = []
    try:
        by_test = gradebook.test_results(assignment, record)
        cells = gradebook.grade_cells(assignment)
    except (ImportError, ValueError):
        by_test, cells = {}, {}
    used: set[int] = set()
    for cell_id, tests in cells.items():
        found = [by_test[t.name] for t in tests if t.name in by_test]
        used.update(id(e) for e in found)
        title = cell_id[len("check_"):] if cell_id.startswith("check_") else cell_id
        groups.append({"title": title, "tests": found,
                       "score": sum(float(e.get("score", 0) or 0) for e in found),
                       "max_score": float(sum(t.points for t in tests))})
    rest = [e for e in entries if id(e) not in used]
    if rest:
        groups.append({"title": "other tests" if groups else "tests", "tests": rest,
                       "score": sum(float(e.get("score", 0) or 0) for e in rest),
                       "max_score": sum(float(e.get("max_score", 0) or 0) for e in rest)})
    return groups


def render(student: str, assignment: str, record: dict[str, Any]) -> str:
    """The feedback page (HTML text) of one results.json record."""
    esc = html.escape
    groups = sections(assignment, record)
    total = float(record.get("score", 0) or 0)
    most = sum(float(e.get("max_score", 0) or 0) for e in record.get("tests", [])
               if isinstance(e, dict))
    status = str(record.get("status", "graded"))
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<title>%s: feedback for %s</title>" % (esc(assignment), esc(student)),
           "<style>%s</style></head><body>" % STYLE,
           "<h1>%s</h1>" % esc(assignment),
           '<p class="meta">Feedback for <strong>%s</strong>%s</p>' % (
               esc(student), "" if status == "graded" else " (status: %s)" % esc(status)),
           '<p class="total">Score: <strong>%s / %s</strong></p>' % (_number(total),
                                                                      _number(most))]
    overall = str(record.get("output", "") or "").strip()
    if overall:
        out.append('<div class="notebook"><h2>Your notebook</h2>'
                   "<p>Something stopped part of it; the tests below say what it cost.</p>"
                   "<pre>%s</pre></div>" % esc(overall))
    for group in groups:
        score, top = group["score"], group["max_score"]
        kind = "full" if top and score >= top else ("part" if score > 0 else "none")
        out.append('<section class="fn %s"><header><h2><code>%s</code></h2>'
                   "<span>%s / %s</span></header>" % (kind, esc(group["title"]),
                                                      _number(score), _number(top)))
        out.append('<ul class="tests">')
        for entry in group["tests"]:
            passed = float(entry.get("score", 0) or 0) >= float(entry.get("max_score", 0) or 0)
            what, notes = _split(entry.get("output", ""))
            out.append('<li class="%s"><span class="mark">%s</span> %s <small>(%s / %s)</small>'
                       % ("pass" if passed else "fail", "passed" if passed else "failed",
                          esc(str(entry.get("name", ""))), _number(entry.get("score")),
                          _number(entry.get("max_score"))))
            if not passed and what.strip():
                out.append("<pre>%s</pre>" % esc(what))
            if notes:
                out.append('<pre class="notes">%s</pre>' % esc("\n".join(notes)))
            out.append("</li>")
        if not group["tests"]:
            out.append("<li>No result for these tests.</li>")
        out.append("</ul></section>")
    out.append("<footer>Hidden tests use fresh inputs, which this page never shows; run "
               "the public checks in your notebook to see the worked numbers.</footer>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def feedback_path(folder: str | Path, student: str, assignment: str,
                  notebook: str | None = None) -> Path:
    """folder/<student>/<assignment>/<notebook>.html (nbgrader's feedback layout)."""
    return Path(folder) / student / assignment / ("%s.html" % (notebook or assignment))


def write_feedback(folder: str | Path, student: str, assignment: str, record: dict[str, Any],
                   notebook: str | None = None) -> Path:
    """Write one submission's feedback page atomically; returns its path."""
    path = feedback_path(folder, student, assignment, notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render(student, assignment, record), encoding="utf-8")
    os.replace(tmp, path)
    return path
