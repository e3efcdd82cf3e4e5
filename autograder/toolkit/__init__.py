"""The checking toolkit that is pasted into every exercise notebook.

``checks`` needs nothing but numpy and holds nothing secret: ``make exercises`` copies it,
unchanged, into each notebook's toolkit cell, and the hidden tests import the same module,
so a student's public checks and the grader agree.
"""
