"""Reading the book on a phone and at a glance (issue 13), in chromium at 1280 and 390 px.

- Navigation: at phone width the chapter-list and page-contents buttons open their
  drawers; at desktop width the visible sidebar button hides and shows the sidebar.
- Figures: every computational-graph figure is an SVG shown at its natural size (never
  scaled down), linked to its full-size file, with a real alt text; its text is at least
  11 px at the width it is shown, and no label box overlaps an edge, a node or another
  label (measured in the browser, on the SVG at its rendered width).
- Phone width: numbers and the punctuation after inline maths stay on their line; what
  scrolls sideways (equations, tables, figures) shows that it does; the students' check
  output wraps so that its "Likely cause" is visible.
- Small things: the exercise download in each chapter's page header, search results
  without raw TeX.

Screenshots go to ``_build/screenshots/`` (drawers, sidebar, figures, scrolled blocks).
"""
import base64
import math
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from browserkit import DESKTOP, PHONE, SHOTS, Watched, chapter_pages, open_page, shot, toc_pages

#: Smallest text in a figure as shown, CSS px (font size and height of its box).
MIN_FONT_PX = 11.0
MIN_TEXT_BOX_PX = 12.0
#: Overlaps smaller than this (CSS px) are rounding, not a collision.
TOLERANCE_PX = 0.5


# --- navigation -----------------------------------------------------------------------

def test_phone_drawers_open(browser, site_url):
    """At 390 px the chapter-list button opens the site navigation, whose links work, and
    the page-contents button opens the page's table of contents."""
    w = Watched(browser, site_url, width=PHONE)
    try:
        chapter = chapter_pages()[-1]
        page = open_page(w, site_url, chapter)
        toggle = page.locator(".bd-header-article .primary-toggle")
        assert toggle.is_visible(), "no visible chapter-list button at %d px" % PHONE
        toggle.click()
        page.wait_for_function("() => document.getElementById('pst-primary-sidebar-modal')"
                               "?.open", timeout=3000)
        links = page.locator("#pst-primary-sidebar-modal nav.bd-links a.reference.internal")
        assert links.count() >= len(toc_pages()) - 1, "the drawer lists %d pages" % links.count()
        assert links.first.is_visible()
        page.wait_for_timeout(400)                     # the drawer slides in
        shot(page, "drawer-chapters-%d" % PHONE)
        target = toc_pages()[1]
        page.locator("#pst-primary-sidebar-modal nav.bd-links a.reference.internal[href$='%s']"
                     % Path(target).name).first.click()
        page.wait_for_load_state()
        assert page.url.endswith(target), "the drawer's link led to %s" % page.url

        page = open_page(w, site_url, chapter)
        toggle = page.locator(".bd-header-article .secondary-toggle")
        assert toggle.is_visible(), "no visible page-contents button at %d px" % PHONE
        toggle.click()
        page.wait_for_function("() => document.getElementById('pst-secondary-sidebar-modal')"
                               "?.open", timeout=3000)
        toc = page.locator("#pst-secondary-sidebar-modal nav a.nav-link")
        assert toc.count() >= 2 and toc.first.is_visible(), "the contents drawer is empty"
        page.wait_for_timeout(400)
        shot(page, "drawer-contents-%d" % PHONE)
        page.keyboard.press("Escape")
        page.wait_for_function("() => !document.getElementById('pst-secondary-sidebar-modal')"
                               ".open", timeout=3000)
        assert not w.errors and not w.external and not w.failed
    finally:
        w.close()


def test_desktop_button_hides_the_sidebar(browser, site_url):
    """At 1280 px the visible sidebar button hides the sidebar, and shows it again."""
    w = Watched(browser, site_url, width=DESKTOP)
    try:
        page = open_page(w, site_url, chapter_pages()[0])
        shown = ("() => { const s = document.getElementById('pst-primary-sidebar');"
                 " const r = s.getBoundingClientRect();"
                 " return getComputedStyle(s).visibility !== 'hidden' && r.right > 10; }")
        assert page.evaluate(shown), "the sidebar is not shown at %d px" % DESKTOP
        toggle = page.locator(".bd-header-article .primary-toggle")
        assert toggle.is_visible(), "no visible sidebar button at %d px" % DESKTOP
        toggle.click()
        page.wait_for_function("() => !(%s)()" % shown, timeout=3000)
        page.wait_for_timeout(400)
        assert not page.evaluate("() => document.getElementById('pst-primary-sidebar-modal')"
                                 ".open"), "the button opened a drawer instead"
        shot(page, "sidebar-hidden-%d" % DESKTOP)
        toggle.click()
        page.wait_for_function(shown, timeout=3000)
        toc = page.locator("#pst-secondary-sidebar nav a.nav-link")
        assert toc.first.is_visible(), "the page contents are not shown at %d px" % DESKTOP
        assert not w.errors and not w.external and not w.failed
    finally:
        w.close()


# --- figures --------------------------------------------------------------------------

#: Measures an SVG document shown at a given width (CSS px): its text sizes, and every
#: collision between labels (values, gradients, arrow labels, marks, legend, title),
#: edges (sampled every pixel) and node discs.
MEASURE_SVG = """([width, tol]) => {
  const svg = document.documentElement;
  const vb = svg.viewBox.baseVal;
  svg.setAttribute('width', width + 'px');
  svg.setAttribute('height', (width * vb.height / vb.width) + 'px');
  const scale = svg.getBoundingClientRect().width / vb.width;
  const box = el => { const r = el.getBoundingClientRect();
    return {id: el.id, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; };
  const texts = Array.from(svg.querySelectorAll('text')).map(t => ({
    id: t.closest('g[id]').id, text: t.textContent,
    font: parseFloat(getComputedStyle(t).fontSize) * scale,
    height: t.getBoundingClientRect().height}));
  const sel = 'g[id^="cg-value-"], g[id^="cg-grad-"], g[id^="cg-edgelabel-"], '
            + 'g[id^="cg-mark-"][id$="-box"], g[id^="cg-legend-"], g#cg-title';
  const labels = Array.from(svg.querySelectorAll(sel)).map(box);
  const discs = Array.from(svg.querySelectorAll('g[id^="cg-node-"]'))
    .filter(g => !g.id.endsWith('-label')).map(g => { const b = box(g);
      return {id: g.id, cx: (b.x0 + b.x1) / 2, cy: (b.y0 + b.y1) / 2,
              r: (b.x1 - b.x0) / 2 - 1}; });
  const edges = Array.from(svg.querySelectorAll('g[id^="cg-edge-"]')).map(g => {
    const points = [];
    g.querySelectorAll('path').forEach(p => {
      const m = p.getScreenCTM(), n = p.getTotalLength();
      for (let l = 0; l <= n; l += 1 / scale) {
        const q = p.getPointAtLength(l);
        points.push(new DOMPoint(q.x, q.y).matrixTransform(m));
      }
    });
    return {id: g.id, points: points};
  });
  const inside = (p, b) => p.x > b.x0 + tol && p.x < b.x1 - tol && p.y > b.y0 + tol && p.y < b.y1 - tol;
  const overlap = (a, b) => Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0) > tol
                         && Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0) > tol;
  const problems = [];
  for (let i = 0; i < labels.length; i++)
    for (let j = i + 1; j < labels.length; j++)
      if (overlap(labels[i], labels[j])) problems.push(labels[i].id + ' overlaps ' + labels[j].id);
  for (const e of edges)
    for (const b of labels)
      if (e.points.some(p => inside(p, b))) problems.push(e.id + ' runs across ' + b.id);
  for (const d of discs)
    for (const b of labels) {
      const own = b.id === 'cg-mark-' + d.id.slice('cg-node-'.length) + '-box';
      const x = Math.min(Math.max(d.cx, b.x0), b.x1), y = Math.min(Math.max(d.cy, b.y0), b.y1);
      if (!own && Math.hypot(x - d.cx, y - d.cy) < d.r - tol) problems.push(b.id + ' covers ' + d.id);
    }
  return {scale: scale, texts: texts, labels: labels.length, edges: edges.length,
          discs: discs.length, problems: problems};
}"""


def _svg_page(browser, svg):
    """A browser page showing an SVG document (str) by itself."""
    page = browser.new_page(viewport={"width": DESKTOP, "height": 900})
    page.goto("data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode())
    return page


def test_figure_measurement_sees_small_text_and_collisions(browser):
    """The instrument of the figure test: it passes a clean graph at its natural size,
    and flags the same graph scaled to half size, and a graph whose labels collide."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "book"))
    from bookkit.compgraph import Graph
    g = Graph()
    g.node("x", label="$x$", kind="input", pos=(0, 1.2), value=-2.0, grad=-4.0)
    g.node("y", label="$y$", kind="input", pos=(0, 0), value=5.0, grad=-4.0)
    g.node("add", label="$+$", kind="linear", pos=(1.4, 0.6), value=3.0, grad=-4.0)
    g.edge("x", "add").edge("y", "add")
    fig = g.draw(title="$q = x + y$")
    page = _svg_page(browser, fig.to_svg())
    try:
        clean = page.evaluate(MEASURE_SVG, [fig.css_width(), TOLERANCE_PX])
        assert clean["problems"] == [] and clean["edges"] == 2 and clean["discs"] == 3
        assert min(t["font"] for t in clean["texts"]) >= MIN_FONT_PX
        half = page.evaluate(MEASURE_SVG, [fig.css_width() / 2, TOLERANCE_PX])
        assert min(t["font"] for t in half["texts"]) < MIN_FONT_PX
    finally:
        page.close()
    ring = Graph()
    ring.node("c", kind="linear", pos=(0, 0), value="[1.111, 2.222, 3.333]", grad=1.0)
    for k in range(8):
        ring.node("n%d" % k, kind="input", pos=(0.75 * math.cos(k * math.pi / 4),
                                                0.75 * math.sin(k * math.pi / 4)),
                  value=float(k))
        ring.edge("n%d" % k, "c")
    crowded = ring.draw(strict=False)
    assert crowded.layout_problems
    page = _svg_page(browser, crowded.to_svg())
    try:
        m = page.evaluate(MEASURE_SVG, [crowded.css_width(), TOLERANCE_PX])
        assert any("cg-value-c" in problem for problem in m["problems"]), m["problems"]
    finally:
        page.close()


def figure_images(page):
    """The chapter's computational-graph figures: src, alt, link, sizes (CSS px)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('figure.compgraph'))
      .map(f => { const img = f.querySelector('img'); const a = img && img.closest('a');
        const r = img ? img.getBoundingClientRect() : null;
        const scroller = a || f;
        return {id: f.id, src: img && img.src, alt: img && img.getAttribute('alt'),
                href: a && a.href, natural: img && img.naturalWidth,
                shown: r && r.width, right: r && r.right,
                column: document.querySelector('article.bd-article').getBoundingClientRect().right,
                scrolls: scroller.scrollWidth > scroller.clientWidth + 1,
                cue: scroller.classList.contains('scroll-more-right')}; })""")


# Chapters whose subject is not a computational graph (an update rule), so no graph figure.
WITHOUT_GRAPH = {"book/ch08_optimizers.html"}


@pytest.mark.parametrize("chapter", [p for p in chapter_pages() if p not in WITHOUT_GRAPH])
def test_graph_figures_readable_at_width(chapter, at_width, site_url, browser):
    """Each graph figure: SVG, natural size, full-size link, alt text; text 11 px or more
    where it is shown, and no label box overlapping an edge, a node or another label."""
    page = open_page(at_width, site_url, chapter)
    figures = figure_images(page)
    where = "%s at %d px" % (chapter, at_width.width)
    assert figures, "%s: no computational-graph figure (figure.compgraph)" % where
    measure = browser.new_page(viewport={"width": at_width.width, "height": 900})
    try:
        for i, fig in enumerate(figures):
            name = "%s %s" % (where, fig["id"])
            assert fig["src"].endswith(".svg"), "%s is not an SVG: %s" % (name, fig["src"])
            alt = (fig["alt"] or "").strip()
            assert len(alt) >= 40 and "/" not in alt and not alt.endswith(
                (".svg", ".png")), "%s: no real alt text: %r" % (name, alt)
            assert fig["href"] == fig["src"], "%s does not link to its full-size SVG" % name
            assert abs(fig["shown"] - fig["natural"]) <= 1, (
                "%s is scaled: %s px shown, %s px drawn" % (name, fig["shown"], fig["natural"]))
            if at_width.width == DESKTOP:
                assert fig["right"] <= fig["column"] + 1 and not fig["scrolls"], (
                    "%s is wider than the column" % name)
            elif fig["scrolls"]:
                assert fig["cue"], "%s scrolls sideways without a cue" % name
            page.locator("figure.compgraph").nth(i).scroll_into_view_if_needed()
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.locator("figure.compgraph").nth(i).screenshot(path=str(
                SHOTS / ("figure-%s-%d-%d.png" % (Path(chapter).stem, i + 1, at_width.width))))
            measure.goto(fig["src"])
            m = measure.evaluate(MEASURE_SVG, [fig["shown"], TOLERANCE_PX])
            assert m["texts"] and m["labels"] and m["edges"], "%s: no labelled graph" % name
            small = [(t["id"], t["text"], round(t["font"], 1), round(t["height"], 1))
                     for t in m["texts"]
                     if t["font"] < MIN_FONT_PX or t["height"] < MIN_TEXT_BOX_PX]
            assert not small, "%s: text smaller than %.0f px: %s" % (name, MIN_FONT_PX, small)
            assert not m["problems"], "%s: %s" % (name, m["problems"])
    finally:
        measure.close()


# --- phone width ----------------------------------------------------------------------

BROKEN_NUMBERS = r"""() => {
  const re = /[-+\u2212]?\d+(?:\.\d+)?[eE][-+\u2212]?\d+/g;
  const root = document.querySelector('article.bd-article');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode: n =>
    n.parentElement.closest('script, style, mjx-container, pre, code')
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  let n, count = 0; const broken = [];
  while ((n = walker.nextNode())) {
    for (const m of n.data.matchAll(re)) {
      const r = document.createRange();
      r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
      const tops = Array.from(r.getClientRects()).filter(x => x.width > 0).map(x => x.top);
      count++;
      if (tops.length && Math.max(...tops) - Math.min(...tops) > 5) broken.push(m[0]);
    }
  }
  return {count: count, broken: broken};
}"""

MATH_PUNCTUATION = r"""() => {
  const after = el => {      // the first non-empty text node after el's subtree
    let node = el;
    while (node && !node.nextSibling) node = node.parentNode;
    node = node && node.nextSibling;
    while (node) {
      if (node.nodeType === 3 && node.data.length) return node;
      if (node.nodeType === 1 && node.firstChild && !node.matches('mjx-container')) {
        node = node.firstChild; continue; }
      while (node && !node.nextSibling) node = node.parentNode;
      node = node && node.nextSibling;
    }
    return null;
  };
  let count = 0; const broken = [];
  document.querySelectorAll('article.bd-article span.math').forEach(m => {
    const text = after(m);
    if (!text || !/^[.,;:!?)]/.test(text.data)) return;
    const r = document.createRange(); r.setStart(text, 0); r.setEnd(text, 1);
    const p = r.getBoundingClientRect(), q = m.getBoundingClientRect();
    count++;
    if (p.left < q.right - 3 || p.top > q.bottom) broken.push(m.textContent.slice(0, 40) + text.data[0]);
  });
  return {count: count, broken: broken};
}"""


@pytest.mark.parametrize("chapter", chapter_pages())
def test_numbers_and_punctuation_stay_on_their_line(chapter, at_width, site_url):
    """No number in scientific notation breaks across lines ("9.348077867e-" / "14"), and
    no punctuation after inline maths starts a line."""
    page = open_page(at_width, site_url, chapter)
    where = "%s at %d px" % (chapter, at_width.width)
    numbers = page.evaluate(BROKEN_NUMBERS)
    assert not numbers["broken"], "%s: numbers broken across lines: %s" % (
        where, numbers["broken"])
    punctuation = page.evaluate(MATH_PUNCTUATION)
    assert punctuation["count"] > 0, "%s: no inline maths followed by punctuation?" % where
    assert not punctuation["broken"], "%s: punctuation starting a line after: %s" % (
        where, punctuation["broken"])


SCROLLERS = """() => Array.from(document.querySelectorAll(
    'div.math mjx-container[display="true"], article.bd-article span.math, '
    + '.pst-scrollable-table-container, figure.compgraph a.image-reference'))
  .filter(el => el.scrollWidth > el.clientWidth + 3)      // more than rounding
  .map((el, i) => { el.dataset.scrollTest = i; return {
    i: i, kind: el.matches('mjx-container') ? 'equation'
              : el.matches('span.math') ? 'inline formula'
              : el.matches('a') ? 'figure' : 'table',
    overflow: getComputedStyle(el).overflowX,
    right: el.classList.contains('scroll-more-right'),
    left: el.classList.contains('scroll-more-left'),
    mask: getComputedStyle(el).maskImage || getComputedStyle(el).webkitMaskImage}; })"""


@pytest.mark.parametrize("chapter", chapter_pages())
def test_what_scrolls_sideways_shows_it(chapter, at_width, site_url):
    """Equations (display and inline), tables and figures wider than the column scroll
    (none is cut off) and fade out on the side where there is more; scrolled to the end,
    the fade moves."""
    page = open_page(at_width, site_url, chapter)
    where = "%s at %d px" % (chapter, at_width.width)
    blocks = page.evaluate(SCROLLERS)
    if at_width.width == PHONE and Path(chapter).stem == "ch04_numeric":
        assert sum(b["kind"] == "equation" for b in blocks) >= 10, (
            "%s: expected the long equations to overflow: %s" % (where, blocks))
    for b in blocks:
        what = "%s: %s #%d" % (where, b["kind"], b["i"])
        assert b["overflow"] in ("auto", "scroll"), "%s is cut off (overflow %s)" % (
            what, b["overflow"])
        assert b["right"] and not b["left"], "%s scrolls without a cue" % what
        assert b["mask"] and b["mask"] != "none", "%s: the cue is not drawn" % what
    if blocks:
        first = page.locator("[data-scroll-test='0']")
        first.scroll_into_view_if_needed()
        shot(page, "scroll-cue-%s-%d" % (Path(chapter).stem, at_width.width))
        for b in blocks:
            page.evaluate("i => { const el = document.querySelector(`[data-scroll-test='${i}']`);"
                          " el.scrollLeft = el.scrollWidth; }", b["i"])
        page.wait_for_timeout(200)
        after = page.evaluate("() => Array.from(document.querySelectorAll('[data-scroll-test]'))"
                              ".map(el => [el.classList.contains('scroll-more-left'),"
                              " el.classList.contains('scroll-more-right')])")
        assert all(left and not right for left, right in after), (
            "%s: scrolled to the end, the cues did not follow: %s" % (where, after))


def test_check_output_wraps(at_width, site_url):
    """The students page's example check output wraps: "Likely cause" is on screen."""
    page = open_page(at_width, site_url, "book/students.html")
    box = page.evaluate("""() => {
      const pre = Array.from(document.querySelectorAll('.cell_output pre'))
        .find(p => p.textContent.includes('Likely cause'));
      if (!pre) return null;
      const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
      let n; while ((n = walker.nextNode()) && !n.data.includes('Likely cause'));
      const r = document.createRange(), i = n.data.indexOf('Likely cause');
      r.setStart(n, i); r.setEnd(n, i + 'Likely cause'.length);
      const t = r.getBoundingClientRect(), c = pre.getBoundingClientRect();
      return {right: t.right, left: t.left, box: c.right, width: innerWidth,
              scrolls: pre.scrollWidth > pre.clientWidth + 1};
    }""")
    where = "book/students.html at %d px" % at_width.width
    assert box, "%s: no check output with a likely cause" % where
    assert box["right"] <= min(box["box"], box["width"]) + 1 and not box["scrolls"], (
        "%s: 'Likely cause' is off screen: %s" % (where, box))
    page.locator(".cell_output pre").first.scroll_into_view_if_needed()
    shot(page, "check-output-%d" % at_width.width)


# --- small things ---------------------------------------------------------------------

@pytest.mark.parametrize("chapter", chapter_pages())
def test_exercise_download_in_page_header(chapter, at_width, site_url):
    """Each chapter's header has the exercise download, on the buttons' row, on screen,
    pointing at the same notebook as the link in the page, and the notebook loads."""
    page = open_page(at_width, site_url, chapter)
    where = "%s at %d px" % (chapter, at_width.width)
    button = page.locator(".bd-header-article a.btn-exercise-download")
    assert button.count() == 1 and button.is_visible(), "%s: no exercise button" % where
    name = Path(chapter).stem + ".ipynb"
    href = urllib.parse.urljoin(page.url, button.get_attribute("href"))
    in_page = [urllib.parse.urljoin(page.url, h) for h in page.eval_on_selector_all(
        "article.bd-article a.download", "els => els.map(e => e.getAttribute('href'))")]
    assert href.endswith("/" + name) and href in in_page, (
        "%s: the header links %s, the page %s" % (where, href, in_page))
    b = button.bounding_box()
    t = page.locator(".bd-header-article .primary-toggle").bounding_box()
    assert 0 <= b["x"] and b["x"] + b["width"] <= at_width.width, "%s: off screen" % where
    assert abs((b["y"] + b["height"] / 2) - (t["y"] + t["height"] / 2)) < 8, (
        "%s: the button is not on the header's row: %s vs %s" % (where, b, t))
    with urllib.request.urlopen(href) as response:
        assert response.status == 200 and b'"cells"' in response.read()
    if chapter == chapter_pages()[0]:
        shot(page, "header-%d" % at_width.width, clip={"x": 0, "y": 0,
                                                      "width": at_width.width, "height": 120})


def test_search_results_without_tex(at_width, site_url):
    """Search results (titles and snippets) show maths as text, not as TeX source."""
    page = at_width.page
    page.goto(site_url + "search.html?q=circuit")
    page.wait_for_function("() => document.querySelectorAll('#search-results ul.search li "
                           "p.context').length > 0", timeout=15000)
    page.wait_for_timeout(500)
    texts = page.eval_on_selector_all("#search-results ul.search li",
                                      "els => els.map(e => e.textContent)")
    where = "search at %d px" % at_width.width
    assert any("L = (x + y) z" in t for t in texts), "%s: %s" % (where, texts)
    tex = [t for t in texts if "\\(" in t or "\\)" in t or "\\," in t
           or any("\\" + cmd in t for cmd in ("sigma", "mathbf", "frac", "top", "partial"))]
    assert not tex, "%s shows TeX: %s" % (where, tex)
    shot(page, "search-%d" % at_width.width)
    assert not at_width.errors and not at_width.external
