"""The built book in a real browser (Debian's chromium driven by Playwright).

Serves ``_build/html`` on 127.0.0.1 and checks every page: math rendered by the local
MathJax, images loaded, no console error, no request to any other host. Then navigation
(prev/next, sidebar), search, the exercise downloads, and full-page screenshots of the
chapters in ``_build/screenshots/``. Needs a built book (`make book`) and
``/usr/bin/chromium``; never downloads a browser.
"""
import functools
import http.server
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import sitecheck  # noqa: E402

SITE = sitecheck.SITE
SHOTS = sitecheck.ROOT / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
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


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Static file handler that does not log every request."""

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url():
    """Base URL of _build/html served on 127.0.0.1 by a background thread."""
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
    """A browser page whose requests leaving 127.0.0.1 are aborted and recorded,
    and whose console errors and uncaught exceptions are recorded."""

    def __init__(self, browser, site_url):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.external, self.errors = [], []
        host = urllib.parse.urlsplit(site_url).netloc
        self.context.route("**/*", functools.partial(self._route, host))
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
    w = Watched(browser, site_url)
    yield w
    w.close()


def wait_for_mathjax(page):
    """Wait until MathJax (if the page loads it) has typeset everything."""
    page.wait_for_function("() => !document.querySelector('script[src*=\"mathjax\"]')"
                           " || (window.MathJax && MathJax.startup && MathJax.startup.promise)")
    page.evaluate("() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                  " ? MathJax.startup.promise.then(() => true) : true")


@pytest.mark.parametrize("path", site_pages())
def test_page(path, watched, site_url):
    """Math rendered, images loaded, no console error, nothing fetched from elsewhere."""
    page = watched.page
    response = page.goto(site_url + path, wait_until="networkidle")
    assert response is not None and response.ok, (
        "%s: HTTP %s" % (path, response and response.status))
    wait_for_mathjax(page)
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
    math = page.evaluate("() => document.querySelectorAll('.math').length")
    rendered = page.evaluate("() => document.querySelectorAll('.math mjx-container').length")
    errors = page.evaluate("() => document.querySelectorAll('mjx-merror').length")
    broken = page.evaluate("() => Array.from(document.images)"
                           ".filter(i => i.naturalWidth === 0).map(i => i.src)")
    assert not watched.external, "%s requested other hosts: %s" % (path, watched.external)
    assert not watched.errors, "%s: console errors: %s" % (path, watched.errors)
    if math:
        assert page.locator("mjx-container").count() > 0, "%s: math not rendered" % path
        assert rendered == math, "%s: %d of %d formulas rendered" % (path, rendered, math)
    assert errors == 0, "%s: %d formulas with TeX errors" % (path, errors)
    assert not broken, "%s: images that did not load: %s" % (path, broken)
    if Path(path).name.startswith("ch"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / (Path(path).stem + ".png")), full_page=True)


def page_path(page, site_url):
    """The current page's path relative to the site root."""
    return urllib.parse.urlsplit(page.url).path[len(urllib.parse.urlsplit(site_url).path):]


def walk(page, site_url, selector, limit):
    """Click the link ``selector`` until there is none; the pages visited, in order."""
    seen = [page_path(page, site_url)]
    while page.locator(selector).count():
        page.locator(selector).first.click()
        page.wait_for_load_state()
        seen.append(page_path(page, site_url))
        assert len(seen) <= limit, "%s links loop: %s" % (selector, seen)
    return seen


def test_next_and_previous_links_follow_the_toc(watched, site_url):
    page, order = watched.page, toc_pages()
    page.goto(site_url + order[0])
    assert walk(page, site_url, "a.right-next", len(order)) == order
    assert walk(page, site_url, "a.left-prev", len(order)) == order[::-1]
    assert not watched.external and not watched.errors


def test_sidebar_links_every_page(watched, site_url):
    page, order = watched.page, toc_pages()
    page.goto(site_url + order[0])
    links = page.locator("nav.bd-links a.reference.internal")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    targets = {urllib.parse.urljoin(site_url + order[0], h).split("#")[0] for h in hrefs}
    missing = [p for p in order[1:] if site_url + p not in targets]
    assert not missing, "pages missing from the sidebar: %s" % missing
    for target in order[1:]:
        page.goto(site_url + order[0])
        page.locator("nav.bd-links a.reference.internal[href$='%s']"
                     % Path(target).name).first.click()
        page.wait_for_load_state()
        assert page_path(page, site_url) == target
        assert page.locator("main h1").count() >= 1, "%s has no title" % target
    assert not watched.external and not watched.errors


@pytest.mark.parametrize("term, chapter", [("sigmoid", "book/ch0"),
                                           ("backpropagation", "book/")])
def test_search_finds_chapters(term, chapter, watched, site_url):
    page = watched.page
    page.goto(site_url + "search.html?q=" + term)
    page.wait_for_function("() => document.querySelectorAll('#search-results ul.search li')"
                           ".length > 0 || /finished/i.test(document.querySelector("
                           "'#search-results')?.innerText || '')", timeout=15000)
    hrefs = page.eval_on_selector_all("#search-results ul.search li a",
                                      "els => els.map(e => e.getAttribute('href'))")
    assert any(h.startswith(chapter) for h in hrefs), "search for %r found %s" % (term, hrefs)
    assert not watched.external and not watched.errors


def download_links(site_url):
    """Absolute URLs of every download link on every page, with the linking page."""
    from html.parser import HTMLParser

    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found = []

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "a" and a.get("href") and (
                    "download" in (a.get("class") or "").split() or "_downloads/" in a["href"]):
                self.found.append(a["href"])

    links = []
    for path in site_pages():
        parser = Links()
        parser.feed((SITE / path).read_text(encoding="utf-8"))
        links += [(path, urllib.parse.urljoin(site_url + path, h)) for h in parser.found]
    return links


def test_chapters_link_their_exercise(site_url):
    links = download_links(site_url)
    chapters = [p for p in toc_pages() if Path(p).name.startswith("ch")]
    for chapter in chapters:
        name = Path(chapter).stem + ".ipynb"
        assert any(p == chapter and url.endswith("/" + name) for p, url in links), \
            "%s has no download link to %s" % (chapter, name)


def test_downloads_are_exercise_notebooks_without_solutions(site_url):
    links = download_links(site_url)
    assert links, "no download links in the site"
    secrets = sitecheck.solution_lines() + sitecheck.hidden_test_lines()
    for page, url in sorted(set(links)):
        with urllib.request.urlopen(url) as response:
            raw = response.read().decode("utf-8")
        nb = nbformat.reads(raw, as_version=4)
        assert nb.cells, "%s (linked from %s) is an empty notebook" % (url, page)
        text = sitecheck.squash(raw + "\n" + sitecheck.notebook_text(raw))
        leaked = [line for _, line in secrets if sitecheck.squash(line) in text]
        assert not leaked, "%s (linked from %s) contains solution code: %s" % (url, page, leaked)
        assert not any(m in raw for m in sitecheck.MARKERS), "%s has solution markers" % url
