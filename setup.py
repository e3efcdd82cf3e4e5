"""Packaging hook: an installed grader carries the reference solutions inside itself.

``pip install .`` copies ``solutions/<chapter>/<chapter>.ipynb`` into the wheel as
``autograder/solutions/`` (``autograder.grading.reference`` looks there first). The sandbox
covers the whole ``autograder`` package with an empty folder, so students never see it.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithSolutions(build_py):
    """build_py, plus the solution notebooks copied into the built package."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "autograder" / "solutions"
        for notebook in sorted((ROOT / "solutions").glob("*/*.ipynb")):
            if notebook.stem == notebook.parent.name:
                dest = target / notebook.parent.name / notebook.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(notebook, dest)


setup(cmdclass={"build_py": BuildWithSolutions})
