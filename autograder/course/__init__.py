"""Course tools for instructors and authors.

``release`` makes ``exercises/`` from ``solutions/`` with nbgrader; ``samples`` makes sample
submissions to try the grader on; ``submissions`` finds the notebooks to grade and names bad
input; ``late`` applies due dates and penalties; ``gradebook`` writes scores into nbgrader's
gradebook; ``feedback`` writes a feedback page per submission; ``gradescope`` builds the
Gradescope autograder zip.
"""
