"""Helpers for the book's executed pages: the reference solutions and figures.

Pages run with ``book/`` as their working directory, so ``import bookkit`` works there;
this module puts the repository root on ``sys.path`` to reach ``autograder``.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def reference(assignment):
    """The reference solutions of an assignment (see autograder.grading.reference)."""
    from autograder.grading.reference import load_reference
    return load_reference(assignment)


def figure(figsize=(6.4, 4.0), dpi=110):
    """A new matplotlib Figure that displays (and glues) as PNG, outside ``pyplot``.

    figsize (tuple of two floats): size in inches; dpi (int): resolution.
    Returns a bookkit.compgraph.DisplayFigure; add axes with ``fig.add_subplot()``.
    """
    from bookkit.compgraph import DisplayFigure
    return DisplayFigure(figsize=figsize, dpi=dpi)
