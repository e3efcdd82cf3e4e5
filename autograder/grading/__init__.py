"""The trusted grader: runs the hidden tests in its own process against a sandboxed student.

``reference`` loads the reference solutions from the solution notebooks, ``testkit`` gives
hidden tests their points and seeded inputs, ``proxy`` is the student's functions as a
hidden test calls them, ``runner`` grades one notebook and ``results`` writes results.json
files and grades.csv.
"""
