"""Where grading results go: ``OUT/<student>/<assignment>/results.json`` and ``OUT/grades.csv``.

results.json follows Gradescope's schema; grades.csv has one row per student and
assignment (``student, assignment, score, max_score, status, raw_score, late_penalty,
note``) and is rebuilt from all the results.json files under OUT, so a resumed run lists
everything graded so far. ``score`` is the final score (after a late penalty), ``raw_score``
the score the tests gave.
"""
import csv
import io
import json
import os
from pathlib import Path

COLUMNS = ("student", "assignment", "score", "max_score", "status", "raw_score",
           "late_penalty", "note")
TABLE = ("student", "assignment", "score", "max_score", "status")


def results_path(out, student, assignment):
    """OUT/<student>/<assignment>/results.json as a Path."""
    return Path(out) / student / assignment / "results.json"


def write_results(out, student, assignment, results, status):
    """Write one submission's results atomically (a crash never leaves half a file)."""
    path = results_path(out, student, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = dict(results)
    record["status"] = status
    _write_atomically(path, json.dumps(record, indent=1) + "\n")
    return path


def _write_atomically(path, text):
    """Write a file through a temporary one in the same folder (never half a file)."""
    tmp = path.with_name(".%s.%d.tmp" % (path.name, os.getpid()))
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    os.replace(tmp, path)


def read_results(path):
    """A results.json as a dict."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def grade_rows(out):
    """One row per results.json under OUT, sorted by student then assignment."""
    rows = []
    for path in sorted(Path(out).glob("*/*/results.json")):
        record = read_results(path)
        late = record.get("late") or {}
        rows.append({"student": path.parent.parent.name, "assignment": path.parent.name,
                     "score": _number(record.get("score", 0)),
                     "max_score": _number(sum(t.get("max_score", 0)
                                              for t in record.get("tests", []))),
                     "status": record.get("status", "graded"),
                     "raw_score": _number(record.get("raw_score", record.get("score", 0))),
                     "late_penalty": _number(late.get("penalty_points", 0)),
                     "note": record.get("note", "")})
    return rows


def _number(x):
    """Scores print as integers when whole."""
    return int(x) if float(x).is_integer() else round(float(x), 4)


def write_grades(out):
    """Rebuild OUT/grades.csv; returns its rows."""
    rows = grade_rows(out)
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    _write_atomically(Path(out) / "grades.csv", text.getvalue())
    return rows


def table(rows):
    """The grade table as aligned text."""
    header = dict(zip(TABLE, TABLE))
    widths = {c: max(len(str(r[c])) for r in rows + [header]) for c in TABLE}
    lines = []
    for r in [header] + rows:
        lines.append("  ".join(str(r[c]).ljust(widths[c]) for c in TABLE).rstrip())
    return "\n".join(lines)


def merge(parts, out):
    """Copy the results.json files of several output folders (shards) into OUT.

    Returns the list of conflicts: "student/assignment" graded in more than one part with
    different results (the part given last wins). Rebuild grades.csv afterwards.
    """
    seen, conflicts = {}, []
    for part in parts:
        for path in sorted(Path(part).glob("*/*/results.json")):
            key = "%s/%s" % (path.parent.parent.name, path.parent.name)
            text = path.read_text(encoding="utf-8")
            if key in seen and seen[key] != text:
                conflicts.append(key)
            seen[key] = text
            target = Path(out) / path.parent.parent.name / path.parent.name / "results.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(target, text)
    return conflicts
