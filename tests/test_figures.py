"""The computational-graph figures of book/bookkit/compgraph.py (issue 13).

A figure is drawn for the size at which the book shows it: SVG at most MAX_WIDTH inches
wide, shown at its natural size, text in points no smaller than MIN_FONT_PT. Its layout
never lets a label cross an edge, cover a node or overlap another label; the drawn figure
is checked here independently of the layout code, with matplotlib's own renderer. The
same checks on the built site, in a browser at 1280 and 390 px, are in
tests/browser/test_reading.py.
"""
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book"))
from bookkit import compgraph  # noqa: E402
from bookkit.compgraph import Graph, GraphFigure, LayoutError  # noqa: E402

LABELS = ("cg-value-", "cg-grad-", "cg-edgelabel-", "cg-legend-", "cg-title")


def collisions(fig):
    """Every label box crossing an edge, covering a disc or overlapping another label in a
    drawn figure, measured on the rendered artists (display units = points at 72 dpi).

    Returns a list of str, empty when the figure is clean.
    """
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels, discs, edges = [], [], []
    for artist in list(ax.texts) + list(ax.patches):
        gid = artist.get_gid() or ""
        if isinstance(artist, FancyArrowPatch) and gid.startswith("cg-edge-"):
            path = ax.transData.transform_path(artist.get_path())
            edges.append((gid, _sample(path.to_polygons(closed_only=False))))
        elif isinstance(artist, Circle) and gid.startswith("cg-node-"):
            bbox = artist.get_window_extent(renderer)
            discs.append((gid, ((bbox.x0 + bbox.x1) / 2, (bbox.y0 + bbox.y1) / 2),
                          bbox.width / 2))
        elif gid.startswith(LABELS) or (isinstance(artist, FancyBboxPatch)
                                        and gid.startswith("cg-mark-")):
            labels.append((gid, artist.get_window_extent(renderer)))
    found = []
    tol = 0.4
    for i, (a, box_a) in enumerate(labels):
        for b, box_b in labels[i + 1:]:
            if (min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0) > tol
                    and min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0) > tol):
                found.append("%s overlaps %s" % (a, b))
        for e, points in edges:
            if np.any((points[:, 0] > box_a.x0 + tol) & (points[:, 0] < box_a.x1 - tol)
                      & (points[:, 1] > box_a.y0 + tol) & (points[:, 1] < box_a.y1 - tol)):
                found.append("%s runs across %s" % (e, a))
        for d, (cx, cy), r in discs:
            own = a == d.replace("cg-node-", "cg-mark-") + "-box"
            x = min(max(cx, box_a.x0), box_a.x1)
            y = min(max(cy, box_a.y0), box_a.y1)
            if not own and np.hypot(x - cx, y - cy) < r - tol:
                found.append("%s covers %s" % (a, d))
    return found


def _sample(polylines, step=0.25):
    """Points every ``step`` (points) along polylines (list of (n, 2) arrays): (m, 2)."""
    points = []
    for line in polylines:
        for p, q in zip(line[:-1], line[1:]):
            n = max(2, int(np.hypot(*(q - p)) / step) + 1)
            points.append(p + np.linspace(0, 1, n)[:, None] * (q - p))
    return np.vstack(points) if points else np.zeros((0, 2))


def circuit():
    """The book's first circuit, L = (x + y) z, with a labelled arrow."""
    g = Graph()
    g.node("x", label="$x$", kind="input", pos=(0, 2.4), value=-2.0, grad=-4.0)
    g.node("y", label="$y$", kind="input", pos=(0, 1.2), value=5.0, grad=-4.0)
    g.node("z", label="$z$", kind="input", pos=(0, 0), value=-4.0, grad=3.0)
    g.node("add", label="$+$", kind="linear", pos=(1.4, 1.8), value=3.0, grad=-4.0)
    g.node("mul", label=r"$\times$", kind="linear", pos=(2.8, 0.9), value=-12.0, grad=1.0)
    g.node("L", label="$L$", kind="output", pos=(4.0, 0.9), value=-12.0, grad=1.0)
    g.edge("x", "add").edge("y", "add").edge("add", "mul", label="q").edge("z", "mul")
    g.edge("mul", "L")
    return g


def network():
    """A wide graph with matrix-valued labels, side inputs, marks and data nodes."""
    rng = np.random.default_rng(0)

    def vec(*shape):
        return rng.normal(size=shape).round(2)

    g = Graph()
    g.node("x", label=r"$\vec x$", kind="data", pos=(0, 2.6), value=vec(2))
    g.node("W", label="$W$", kind="input", pos=(0.3, 1.1), value=vec(2, 2),
           grad=vec(2, 2))
    g.node("b", label=r"$\vec b$", kind="input", pos=(1.4, 1.1), value=vec(2),
           grad=vec(2))
    g.node("u", label=r"$\vec u$", kind="linear", pos=(1.4, 2.6), value=vec(2),
           grad=vec(2), broadcast=True)
    g.node("h", label=r"$\sigma$", kind="nonlinear", pos=(3.0, 2.6),
           value=vec(2), grad=vec(2))
    g.node("y", label="$y$", kind="data", pos=(4.4, 1.2), value="1×2")
    g.node("L", label="MSE", kind="nonlinear", pos=(4.6, 2.6), value=0.25, grad=1.0,
           reduce=True)
    g.node("J", label=r"$\mathcal{L}$", kind="output", pos=(5.9, 2.6), value=0.25, grad=1.0)
    for src, dst in [("x", "u"), ("W", "u"), ("b", "u"), ("u", "h"), ("h", "L"),
                     ("y", "L"), ("L", "J")]:
        g.edge(src, dst)
    return g


@pytest.mark.parametrize("make", [circuit, network])
@pytest.mark.parametrize("show", ["both", "forward", "backward"])
def test_drawn_figure_has_no_collisions(make, show):
    fig = make().draw(title=r"$\mathcal{L} = f(\vec x)$", show=show)
    assert collisions(fig) == []


@pytest.mark.parametrize("make", [circuit, network])
def test_figure_is_drawn_for_the_column(make):
    """At most MAX_WIDTH inches (the text column), shown at that size: the SVG's size,
    the display width it declares and the size of its text all agree."""
    fig = make().draw(title="a title")
    width_in, height_in = fig.get_size_inches()
    assert width_in <= compgraph.MAX_WIDTH + 1e-9
    svg, meta = fig._repr_svg_()
    assert meta == {"width": "%dpx" % round(width_in * 96)}
    m = re.search(r'<svg[^>]* width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert m and abs(float(m.group(1)) - width_in * 72) < 0.5
    sizes = [float(s) for s in re.findall(r"font-size: ([\d.]+)px", svg)]
    assert sizes and min(sizes) >= compgraph.MIN_FONT_PT
    assert min(sizes) * 4 / 3 >= 11, "text under 11 CSS px at the natural size"
    assert "<text" in svg and "sans-serif" in svg, "labels must stay text, with a fallback"
    assert "<dc:date>" not in svg
    assert make().draw(title="a title").to_svg() == svg, "the same graph gives other bytes"


def test_wide_graph_is_pulled_together_not_shrunk():
    """Nodes spread over 12 units fit in MAX_WIDTH: positions move closer, text keeps
    its size."""
    g = Graph()
    for i in range(7):
        g.node("n%d" % i, kind="linear", pos=(2.0 * i, 0), value=float(i), grad=1.0)
        if i:
            g.edge("n%d" % (i - 1), "n%d" % i)
    fig = g.draw()
    assert fig.get_size_inches()[0] <= compgraph.MAX_WIDTH + 1e-9
    sizes = {float(s) for s in re.findall(r"font-size: ([\d.]+)px", fig.to_svg())}
    assert compgraph.LABEL_FONT in sizes
    assert collisions(fig) == []


def test_backward_figure_reverses_the_arrows_and_shows_gradients_only():
    g = network()
    forward = g.layout(show="forward")
    backward = g.layout(show="backward")
    assert {lab["kind"] for lab in forward["labels"]} == {"value"}
    assert {lab["kind"] for lab in backward["labels"]} == {"grad"}
    f = {(e["src"], e["dst"]): e for e in forward["edges"]}
    b = {(e["src"], e["dst"]): e for e in backward["edges"]}
    u, h = forward["centers"]["u"], forward["centers"]["h"]
    assert np.dot(np.subtract(f["u", "h"]["end"], f["u", "h"]["start"]), np.subtract(h, u)) > 0
    u, h = backward["centers"]["u"], backward["centers"]["h"]
    assert np.dot(np.subtract(b["u", "h"]["end"], b["u", "h"]["start"]), np.subtract(u, h)) > 0


def test_crowded_labels_raise_and_say_what_is_in_the_way():
    """A node hemmed in by eight neighbours and their arrows has no room for its label."""
    g = Graph()
    g.node("c", kind="linear", pos=(0, 0), value="[1.111, 2.222, 3.333]", grad=1.0)
    for k in range(8):
        angle = k * np.pi / 4
        name = "n%d" % k
        g.node(name, kind="input", pos=(0.75 * np.cos(angle), 0.75 * np.sin(angle)),
               value=float(k), grad=float(k))
        g.edge(name, "c")
    with pytest.raises(LayoutError, match=r"no room for the .* \(tried above: (node|edge|the)"):
        g.draw()
    fig = g.draw(strict=False)            # drawn anyway, with the problems listed
    assert fig.layout_problems
    assert collisions(fig), "the independent check must see what the layout reported"


def test_edge_across_a_node_raises():
    g = Graph()
    for i, name in enumerate("abc"):
        g.node(name, kind="linear", pos=(float(i), 0.0))
    g.edge("a", "c")
    with pytest.raises(LayoutError, match="runs across node 'b'"):
        g.draw()


def test_labels_are_ids_the_browser_tests_can_find():
    svg = circuit().draw(title="$L$").to_svg()
    for gid in ("cg-node-x", "cg-value-x", "cg-grad-x", "cg-edge-x-add",
                "cg-edgelabel-add-mul", "cg-title", "cg-legend-0"):
        assert 'id="%s"' % gid in svg, gid


def test_graph_figure_displays_as_svg_only():
    fig = circuit().draw()
    assert isinstance(fig, GraphFigure)
    from IPython.core.formatters import format_display_data
    data, meta = format_display_data(fig)
    assert "image/svg+xml" in data and "image/png" not in data
    assert meta["image/svg+xml"]["width"].endswith("px")
