"""Where grading results go: ``OUT/<student>/<assignment>/results.json`` and ``OUT/grades.csv``.

results.json follows Gradescope's schema; grades.csv has one row per student and
assignment (``student, assignment, score, max_score, status``) and is rebuilt from all the
results.json files under OUT, so a resumed run lists everything graded so far.
"""
import csv
import json
import os
from pathlib import Path

COLUMNS = ("student", "assignment", "score", "max_score", "status")


def results_path(out, student, assignment):
    """OUT/<student>/<assignment>/results.json as a Path."""
    return Path(out) / student / assignment / "results.json"


def write_results(out, student, assignment, results, status):
    """Write one submission's results atomically (a crash never leaves half a file)."""
    path = results_path(out, student, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = dict(results)
    record["status"] = status
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_results(path):
    """A results.json as a dict."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def grade_rows(out):
    """One row per results.json under OUT, sorted by student then assignment."""
    rows = []
    for path in sorted(Path(out).glob("*/*/results.json")):
        record = read_results(path)
        rows.append({"student": path.parent.parent.name, "assignment": path.parent.name,
                     "score": _number(record.get("score", 0)),
                     "max_score": _number(sum(t.get("max_score", 0)
                                              for t in record.get("tests", []))),
                     "status": record.get("status", "graded")})
    return rows


def _number(x):
    """Scores print as integers when whole."""
    return int(x) if float(x).is_integer() else round(float(x), 4)


def write_grades(out):
    """Rebuild OUT/grades.csv; returns its rows."""
    rows = grade_rows(out)
    with open(Path(out) / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def table(rows):
    """The grade table as aligned text."""
    header = dict(zip(COLUMNS, COLUMNS))
    widths = {c: max(len(str(r[c])) for r in rows + [header]) for c in COLUMNS}
    lines = []
    for r in [header] + rows:
        lines.append("  ".join(str(r[c]).ljust(widths[c]) for c in COLUMNS).rstrip())
    return "\n".join(lines)
