"""Late work: nbgrader's timestamp.txt against the due dates of a configuration file."""
import csv
import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from autograder.course import late
from autograder.grading.reference import ROOT, solution_path

UTC = dt.timezone.utc
CONFIG = """
[late]
timezone = "Europe/Paris"
grace_minutes = 15
penalty_percent = 10
per = "day"
max_penalty_percent = 25

[due]
ch01_gates = "2026-11-30 23:59"
"""


def policy(tmp_path, text=CONFIG, name="backprop-grader.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return late.load_policy(path)


@pytest.mark.parametrize("stamp", [
    "2026-11-30 14:03:12.123456 UTC",      # nbgrader's default timestamp_format
    "2026-11-30 15:03:12.123456 CET",
    "2026-11-30 09:03:12.123456 America/New_York",
    "2026-11-30 14:03:12 UTC",
])
def test_timestamps_read_as_nbgrader_reads_them(stamp):
    from nbgrader.utils import parse_utc
    ours, zoned = late.parse_time(stamp, UTC)
    assert zoned
    assert ours.astimezone(UTC).replace(tzinfo=None) == parse_utc(stamp)


def test_a_numeric_offset_is_hours_and_minutes():
    # nbgrader's parse_utc reads "+0100" as 100 seconds; a %z timestamp means one hour
    ours, _ = late.parse_time("2026-11-30 15:03:12.123456 +0100", UTC)
    assert ours.astimezone(UTC) == dt.datetime(2026, 11, 30, 14, 3, 12, 123456, UTC)
    assert late.parse_time("2026-11-30 15:03 +01:00", UTC)[0] == ours.replace(second=0,
                                                                           microsecond=0)


def test_a_timestamp_without_zone_is_read_in_the_course_zone():
    ours, zoned = late.parse_time("2026-11-30 15:00:00", late.zone("Europe/Paris"))
    assert not zoned and ours.astimezone(UTC).hour == 14


def submission(tmp_path, stamp):
    folder = tmp_path / "s" / "ch01_gates"
    folder.mkdir(parents=True, exist_ok=True)
    if stamp is not None:
        (folder / "timestamp.txt").write_text(stamp)
    return folder


@pytest.mark.parametrize("stamp, final, status, percent", [
    ("2026-11-30 22:00:00.000000 UTC", 10, None, 0),        # 23:00 in Paris: on time
    ("2026-11-30 23:10:00.000000 UTC", 10, None, 0),        # 11 min late: grace
    ("2026-11-30 23:30:00.000000 UTC", 9, "late", 10),      # 31 min late: 1 day started
    ("2026-12-02 22:59:00.000000 UTC", 8, "late", 20),      # 2 days late (exactly)
    ("2026-12-09 12:00:00.000000 UTC", 7.5, "late", 25),    # capped
])
def test_penalty_per_started_day_after_the_grace_period(tmp_path, stamp, final, status,
                                                        percent):
    got, record, got_status, note = late.assess(policy(tmp_path), "ch01_gates",
                                                submission(tmp_path, stamp), 10)
    assert (got, got_status, record["penalty_percent"]) == (final, status, percent)
    assert record["penalty_points"] == pytest.approx(10 - final)
    assert (status is None) == ("late" not in note)


@pytest.mark.parametrize("stamp, words", [
    (None, "no timestamp.txt"),
    ("yesterday, around noon", "cannot be read"),
    ("2026-13-45 99:00:00 UTC", "cannot be read"),
    ("2026-11-30 12:00:00 Mars/Olympus", "cannot be read"),
])
def test_missing_or_malformed_timestamp_is_reported_not_guessed(tmp_path, stamp, words):
    got, record, status, note = late.assess(policy(tmp_path), "ch01_gates",
                                            submission(tmp_path, stamp), 10)
    assert (got, record, status) == (10, None, "no timestamp") and words in note


def test_no_due_date_means_never_late_and_json_config_works(tmp_path):
    p = policy(tmp_path, json.dumps({"late": {"penalty_percent": 5, "per": "hour"},
                                     "due": {"ch02_logistic": "2026-11-01 00:00 UTC"}}),
               "c.json")
    assert late.assess(p, "ch01_gates", submission(tmp_path, None), 10)[:3] == (10, None, None)
    folder = tmp_path / "t" / "ch02_logistic"
    folder.mkdir(parents=True)
    (folder / "timestamp.txt").write_text("2026-11-01 02:30:00.0 UTC")
    assert late.assess(p, "ch02_logistic", folder, 10)[:1] == (8.5,)     # 3 hours started


@pytest.mark.parametrize("text", ['[late]\nper = "week"\n', '[due]\nch01_gates = "soon"\n',
                                  '[late]\ntimezone = "Nowhere/Land"\n', "not = toml = at all"])
def test_a_malformed_configuration_stops_with_its_name(tmp_path, text):
    with pytest.raises(late.ConfigError) as caught:
        policy(tmp_path, text)
    assert "backprop-grader.toml" in str(caught.value)


def test_the_command_applies_the_penalty_and_records_it(tmp_path):
    course = tmp_path / "course"
    nb = solution_path("ch01_gates").read_text(encoding="utf-8")
    for student, stamp in (("early", "2026-11-30 10:00:00.000000 UTC"),
                           ("late", "2026-12-01 10:00:00.000000 UTC"),
                           ("nostamp", None), ("garbled", "tomorrow")):
        folder = course / "submitted" / student / "ch01_gates"
        folder.mkdir(parents=True)
        (folder / "ch01_gates.ipynb").write_text(nb, encoding="utf-8")
        if stamp:
            (folder / "timestamp.txt").write_text(stamp)
    (course / "backprop-grader.toml").write_text(CONFIG)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "submitted", "--out",
                           "graded", "--jobs", "2"], cwd=course, capture_output=True,
                          text=True, timeout=600, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    rows = {r["student"]: r for r in csv.DictReader(open(course / "graded" / "grades.csv"))}
    most = int(rows["early"]["max_score"])
    assert rows["early"]["status"] == "graded" and int(rows["early"]["score"]) == most
    assert rows["late"]["status"] == "late" and rows["late"]["raw_score"] == str(most)
    assert float(rows["late"]["score"]) == pytest.approx(most * 0.9)
    assert float(rows["late"]["late_penalty"]) == pytest.approx(most * 0.1)
    for student in ("nostamp", "garbled"):
        assert rows[student]["status"] == "no timestamp"
        assert int(rows[student]["score"]) == most
    record = json.loads((course / "graded" / "late" / "ch01_gates" / "results.json").read_text())
    assert record["raw_score"] == most and record["late"]["penalty_percent"] == 10
    assert record["late"]["due"] == "2026-11-30T23:59:00+01:00"
    assert "1 day late" in record["output"]
    assert "1 late" in done.stderr and "2 no timestamp" in done.stderr
