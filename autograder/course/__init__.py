"""Course tools for instructors and authors: ``release`` makes ``exercises/`` from
``solutions/`` with nbgrader; ``samples`` makes sample submissions to try the grader on."""
