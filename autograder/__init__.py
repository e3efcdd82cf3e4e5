"""Backprop by hand: the autograder.

``python -m autograder grade PATH --out DIR`` grades nbgrader submissions in a sandbox.
Modules: ``checks`` (numerical checks shared with the notebooks), ``cells`` (which code of a
notebook runs), ``reference`` (reference solutions from ``solutions/``), ``testkit``
(points and seeded inputs for hidden tests), ``release`` (``exercises/`` from
``solutions/``), ``wire`` (values across the sandbox boundary), ``sandbox``, ``seccomp`` and ``worker``
(bubblewrap, its process filter and the process inside it), ``proxy`` (the student's
functions as seen by a hidden test), ``runner`` (one submission), ``results``
(results.json, grades.csv), ``samples`` (sample submissions), ``cli``.
"""
