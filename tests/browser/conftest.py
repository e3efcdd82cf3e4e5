"""Registers the browser tests' fixtures, which live in browserkit.py (a module with a name
of its own, so that the tests can import its helpers too)."""
from browserkit import at_width, browser, site_url, watched, width  # noqa: F401
