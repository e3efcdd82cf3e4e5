"""The built site (pages, _sources, downloads, search index) holds no solution or hidden test.

Needs a built book: run `make book` first.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sitecheck  # noqa: E402


@pytest.fixture(scope="module")
def files():
    """Every file under _build/html; fails when the book has not been built."""
    if not (sitecheck.SITE / "index.html").exists():
        pytest.fail("no built book at %s: run `make book` first" % sitecheck.SITE)
    return sitecheck.site_files()


def test_site_has_pages_and_downloads(files):
    names = {p.name for p in files}
    assert "index.html" in names and "searchindex.js" in names
    assert any(p.suffix == ".ipynb" for p in files), "no downloadable notebook in the site"


def test_no_solution_code_in_site(files):
    secrets = sitecheck.solution_lines()
    assert secrets, "found no solution lines in solutions/*/*.ipynb: is the scan broken?"
    leaks = sitecheck.find_secrets(files, secrets)
    assert not leaks, "solution code in the built site:\n" + "\n".join(leaks[:20])


def test_no_solution_markers_in_site(files):
    leaks = sitecheck.find_markers(files)
    assert not leaks, "nbgrader solution markers in the built site:\n" + "\n".join(leaks[:20])


def test_no_hidden_test_code_in_site(files):
    secrets = sitecheck.hidden_test_lines()
    leaks = sitecheck.find_secrets(files, secrets)
    assert not leaks, "hidden test code in the built site:\n" + "\n".join(leaks[:20])

