"""Helpers and fixtures of the browser tests (conftest.py registers the fixtures): the
built site served on 127.0.0.1, Debian's chromium driven by Playwright (never a downloaded
browser), and pages that record every request leaving the machine, every failed request
and every console error.

The site is ``_build/html`` (``BOOK_SITE=<dir>`` tests another build); screenshots go to
``_build/screenshots/``.
"""
import functools
import http.server
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import sitecheck  # noqa: E402

SITE = sitecheck.SITE
SHOTS = SITE.parent / "screenshots"          # _build/screenshots for _build/html
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
#: The two widths every reading check runs at: a desktop and a phone (CSS px).
DESKTOP, PHONE = 1280, 390
WIDTHS = (DESKTOP, PHONE)
SKIP_PAGES = {"search.html", "genindex.html"}
NOT_PAGES = {"_static", "_images", "_downloads", "_sources", "mathjax"}


def site_pages():
    """Relative paths of the site's HTML pages (search and index pages excluded)."""
    if not SITE.exists():
        return ["(no site: run `make book` first)"]
    return sorted(str(p.relative_to(SITE)) for p in SITE.rglob("*.html")
                  if p.name not in SKIP_PAGES and not NOT_PAGES & set(p.relative_to(SITE).parts))


def toc_pages():
    """The pages in _toc.yml order, as site paths such as 'book/intro.html'."""
    toc = yaml.safe_load((sitecheck.ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part.get("chapters", [])]
    return [f + ".html" for f in files]


def chapter_pages():
    """The chapter pages (book/chNN_*.html), in _toc.yml order."""
    return [p for p in toc_pages() if Path(p).name.startswith("ch")]


def shot(page, name, **kwargs):
    """Save a screenshot of the page as _build/screenshots/<name>.png; returns the path."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / (name + ".png")
    page.screenshot(path=str(path), **kwargs)
    return path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Static file handler that does not log every request."""

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url():
    """Base URL of the site served on 127.0.0.1 by a background thread."""
    if not (SITE / "index.html").exists():
        pytest.fail("no built book at %s: run `make book` first" % SITE)
    handler = functools.partial(_Quiet, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium, headless, launched by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail("%s is missing: apt-get install chromium" % CHROMIUM)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


class Watched:
    """A browser page of a given width whose requests leaving 127.0.0.1 are aborted and
    recorded, and whose failed requests (HTTP 4xx/5xx), console errors and uncaught
    exceptions are recorded."""

    def __init__(self, browser, site_url, width=DESKTOP, height=900):
        self.width = width
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.external, self.errors, self.failed = [], [], []
        host = urllib.parse.urlsplit(site_url).netloc
        self.context.route("**/*", functools.partial(self._route, host))
        self.context.on("response", lambda r: r.status >= 400 and self.failed.append(
            "HTTP %d %s" % (r.status, r.url)))
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append("uncaught: %s" % e))

    def _route(self, host, route):
        """Let requests to the local server through, abort and record the others."""
        url = route.request.url
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != host:
            self.external.append(url)
            route.abort()
        else:
            route.continue_()

    def close(self):
        self.context.close()


@pytest.fixture
def watched(browser, site_url):
    """A desktop-width Watched page."""
    w = Watched(browser, site_url)
    yield w
    w.close()


@pytest.fixture(params=WIDTHS, ids=lambda w: "%dpx" % w)
def width(request):
    """Each of the two widths, desktop and phone."""
    return request.param


@pytest.fixture
def at_width(browser, site_url, width):
    """A Watched page at the test's width (see the ``width`` fixture)."""
    w = Watched(browser, site_url, width=width)
    yield w
    w.close()


def wait_for_mathjax(page):
    """Wait until MathJax (if the page loads it) has typeset everything."""
    page.wait_for_function("() => !document.querySelector('script[src*=\"mathjax\"]')"
                           " || (window.MathJax && MathJax.startup && MathJax.startup.promise)")
    page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                  " ? MathJax.startup.promise.then(() => true) : true")


def open_page(watched, site_url, path):
    """Load a page, wait for the network, MathJax and the site's own scripts to settle."""
    page = watched.page
    response = page.goto(site_url + path, wait_until="networkidle")
    assert response is not None and response.ok, (
        "%s: HTTP %s" % (path, response and response.status))
    wait_for_mathjax(page)
    page.wait_for_timeout(300)        # site.js marks scrolling blocks after MathJax
    return page
