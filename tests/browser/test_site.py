"""The built book in a real browser (Debian's chromium driven by Playwright).

Serves ``_build/html`` on 127.0.0.1 and checks every page at a desktop and a phone width:
math rendered by the local MathJax, images loaded, no console error, no failed request,
no request to any other host, and no sideways scrolling of the page. Then navigation
(prev/next, sidebar), search, the exercise downloads, and full-page screenshots of the
chapters at both widths in ``_build/screenshots/``. Needs a built book (`make book`) and
``/usr/bin/chromium``; never downloads a browser. Fixtures and helpers are in browserkit.py; the
reading checks of issue 13 (drawers, figures, phone width) are in test_reading.py.
"""
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browserkit import SITE, open_page, shot, site_pages, sitecheck, toc_pages


@pytest.mark.parametrize("path", site_pages())
def test_page(path, at_width, site_url):
    """Math rendered, images loaded, no console error or failed request, nothing fetched
    from elsewhere, and the page itself never scrolls sideways."""
    page = open_page(at_width, site_url, path)
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
    math = page.evaluate("() => document.querySelectorAll('.math').length")
    rendered = page.evaluate("() => document.querySelectorAll('.math mjx-container').length")
    errors = page.evaluate("() => document.querySelectorAll('mjx-merror').length")
    broken = page.evaluate("() => Array.from(document.images)"
                           ".filter(i => i.naturalWidth === 0).map(i => i.src)")
    sideways = page.evaluate("() => document.documentElement.scrollWidth"
                             " - document.documentElement.clientWidth")
    icon = page.evaluate("() => document.querySelector('link[rel~=\"icon\"]')?.href || null")
    where = "%s at %d px" % (path, at_width.width)
    assert not at_width.external, "%s requested other hosts: %s" % (where, at_width.external)
    assert not at_width.errors, "%s: console errors: %s" % (where, at_width.errors)
    assert not at_width.failed, "%s: failed requests: %s" % (where, at_width.failed)
    if math:
        assert page.locator("mjx-container").count() > 0, "%s: math not rendered" % where
        assert rendered == math, "%s: %d of %d formulas rendered" % (where, rendered, math)
    assert errors == 0, "%s: %d formulas with TeX errors" % (where, errors)
    assert not broken, "%s: images that did not load: %s" % (where, broken)
    assert sideways <= 0, "%s: the page scrolls %d px sideways" % (where, sideways)
    assert icon, "%s has no favicon (the browser asks for /favicon.ico: a 404)" % where
    if Path(path).name.startswith("ch"):
        shot(page, "%s-%d" % (Path(path).stem, at_width.width), full_page=True)


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
