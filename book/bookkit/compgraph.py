"""Computational-graph figures with forward values and backward gradients, drawn as SVG.

A :class:`Graph` is a set of nodes placed by hand at ``(x, y)`` positions and arrows
between them. Each node is a coloured disc with its label inside; its forward value
(dark text) and its gradient (red) are written next to it. Colours follow the legend of
the course notes:

============  ===========  ==========================================
kind          colour       meaning
============  ===========  ==========================================
``input``     pink         input that needs a gradient (weights, x)
``data``      light grey   input without a gradient (labels, constants)
``linear``    green        linear operation (+, matrix product, sum)
``nonlinear`` orange       non-linear operation (sigmoid, max, exp)
``output``    brown        output (the loss)
============  ===========  ==========================================

A ``#`` next to a node marks a dimensional reduction (a sum or mean over an axis) and a
``&`` marks broadcasting, as in the notes.

**Drawn for the size at which it is shown.** The book displays a figure at its natural
size, one SVG point being 4/3 CSS pixels, and never scales it down: every text size below
is what the reader gets (:data:`MIN_FONT_PT` and up, 11 px or more). A figure is at most
:data:`MAX_WIDTH` inches wide, the width of the book's text column at 1280 px; a graph
whose nodes are spread wider is drawn with its positions pulled closer (the text keeps its
size). On a phone the page scrolls the figure sideways instead of shrinking it.

**No label crosses an edge.** Values and gradients go above and below their node when
there is room, else beside it; :meth:`Graph.draw` tries the places in order and raises
:class:`LayoutError` when a label cannot be placed clear of every edge, disc and other
label (move the nodes apart, or pass ``value_at`` / ``grad_at`` to :meth:`Graph.node`).

Plain labels are SVG ``<text>`` (selectable, and measurable in the browser); labels
written in mathtext (``$...$``) are drawn as outlines so that they look the same without
matplotlib's fonts. Every label sits in a group whose id says what it is
(``cg-value-<node>``, ``cg-grad-<node>``, ``cg-edge-<src>-<dst>``, ...; see
:data:`GID_PREFIXES`), which the browser tests use.

Example::

    from bookkit.compgraph import Graph
    g = Graph()
    g.node("x", label="$x$", kind="input", pos=(0, 2), value=-2.0, grad=-4.0)
    g.node("add", label="+", kind="linear", pos=(1.4, 1.5), value=3.0, grad=-4.0)
    g.edge("x", "add")
    fig = g.draw(title="$L = (x + y)\\,z$")

:meth:`Graph.draw` returns a :class:`GraphFigure`: a matplotlib Figure, not registered
with ``pyplot``, that displays (and glues) as SVG with its display width as metadata.
``draw(show="forward")`` and ``draw(show="backward")`` draw only the values or only the
gradients (with the arrows reversed, as the gradients flow), for graphs too big to carry
both.
"""
import functools
import io
import re

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, PathPatch
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D

#: Fill colour of each node kind (the notes' legend).
COLORS = {
    "input": "#f4b6c8",      # pink: inputs needing gradients
    "data": "#d9d9d9",       # light grey: inputs without gradient
    "linear": "#a8dba8",     # green: linear operations
    "nonlinear": "#fdc086",  # orange: non-linear operations
    "output": "#c8a27c",     # brown: outputs
}

#: Legend text of each node kind.
KIND_NAMES = {
    "input": "input needing a gradient",
    "data": "input without gradient",
    "linear": "linear operation",
    "nonlinear": "non-linear operation",
    "output": "output",
}

VALUE_COLOR = "#1a1a1a"
GRAD_COLOR = "#b03a2e"     # red, 6:1 contrast on white
EDGE_COLOR = "#555555"

#: Widest figure, in inches: the text column of the book at 1280 px is 672 CSS px.
MAX_WIDTH = 7.0
#: Pixels per inch of a CSS pixel (SVG points are 1/72 inch).
CSS_PX_PER_INCH = 96
#: Font sizes in points (1 pt = 4/3 CSS px at the natural size).
NODE_FONT = 12.0           # the label inside a disc
LABEL_FONT = 9.5           # values, gradients, arrow labels
LEGEND_FONT = 8.5
TITLE_FONT = 11.0
MARK_FONT = 8.5            # the # and & marks
#: No text in a figure is smaller than this (points).
MIN_FONT_PT = 8.25

RADIUS = 0.21              # disc radius, inches (larger when the label needs it)
FAR = 0.11                 # extra distance of the "far" places, inches
SCALE = 1.0                # inches per position unit, before fitting into MAX_WIDTH
GAP = 2.5 / 72             # space between a disc and its labels, inches
CLEARANCE = 2.5 / 72       # least distance between a label and an edge, disc or label
MARGIN = 0.08              # white border around the drawing, inches

#: Ids (prefixes) of the SVG groups, one group per drawn element.
GID_PREFIXES = {
    "node": "cg-node-",            # disc and label of a node
    "value": "cg-value-",          # forward value of a node
    "grad": "cg-grad-",            # gradient of a node
    "mark": "cg-mark-",            # the # / & marks of a node
    "edge": "cg-edge-",            # an arrow (cg-edge-<src>-<dst>)
    "edgelabel": "cg-edgelabel-",  # the label of an arrow
    "title": "cg-title",
    "legend": "cg-legend-",
}

#: Where a label may go, relative to its disc. Each place also has a "far" variant
#: (``"above far"``, ...), :data:`FAR` inches further out.
PLACES = ("above", "below", "right", "left", "above-right", "above-left", "below-right",
          "below-left")
PLACES = PLACES + tuple(p + " far" for p in PLACES)
#: The places tried by default, in order.
VALUE_PLACES = ("above", "above far", "above-right", "above-left", "right", "left",
                "above-right far", "above-left far", "below", "below-right", "below-left")
GRAD_PLACES = ("below", "below far", "below-right", "below-left", "right", "left",
               "below-right far", "below-left far", "above", "above-right", "above-left")
#: The places tried for the one label of a node in a forward or backward figure.
SINGLE_PLACES = ("above", "below", "above far", "below far", "above-right", "above-left",
                 "below-right", "below-left", "right", "left", "above-right far",
                 "above-left far", "below-right far", "below-left far")


class LayoutError(ValueError):
    """A label of a graph cannot be placed clear of the edges, discs and other labels."""


def format_number(value):
    """Format a value for display: 4 significant digits for numbers.

    value: None, a float or int (numpy scalars included), a string, or a small array
        (up to 6 elements; a larger one is shown by its shape).
    Returns a string, or None when ``value`` is None.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    arr = np.asarray(value)
    if arr.ndim == 0:
        x = float(arr)
        if x == 0:
            return "0"
        return "%.4g" % x
    if arr.size > 6:
        return "array " + "\u00d7".join(str(n) for n in arr.shape)
    if arr.ndim == 1:
        return "[" + ", ".join("%.4g" % float(v) for v in arr) + "]"
    rows = ("[" + ", ".join("%.4g" % float(v) for v in row) + "]"
            for row in arr.reshape(arr.shape[0], -1))
    return "[" + ", ".join(rows) + "]"


def is_math(text):
    """True when a label is (or contains) matplotlib mathtext, i.e. a ``$...$`` pair."""
    return text.count("$") >= 2


class DisplayFigure(Figure):
    """A Figure that IPython and ``myst_nb.glue`` display as PNG without ``pyplot``.

    A plain :class:`~matplotlib.figure.Figure` only has a PNG representation once
    ``pyplot`` has loaded the inline backend; this one always has, and, not being managed
    by ``pyplot``, it is never shown a second time at the end of a cell. Used for plots;
    graphs are :class:`GraphFigure`.
    """

    def _repr_png_(self):
        """PNG bytes of the figure (used by IPython's display and by glue)."""
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=self.dpi, bbox_inches="tight")
        return buf.getvalue()


class GraphFigure(Figure):
    """A graph's Figure: displays (and glues) as SVG, with its CSS width as metadata.

    The SVG keeps plain labels as ``<text>`` and has no date in it, so the same graph
    always gives the same bytes. The metadata ``{"width": "<n>px"}`` makes the book show
    the figure at its natural size and link it to the full-size file.
    """

    def to_svg(self):
        """The figure as an SVG document (str)."""
        buf = io.StringIO()
        with rc_context({"svg.fonttype": "none", "svg.hashsalt": "compgraph",
                         "svg.id": "compgraph"}):
            self.savefig(buf, format="svg", metadata={"Date": None})
        return buf.getvalue()

    def css_width(self):
        """Width at which the figure is shown, in CSS pixels (int)."""
        return int(round(self.get_figwidth() * CSS_PX_PER_INCH))

    def _repr_svg_(self):
        """(SVG text, metadata) for IPython's display and for glue."""
        return self.to_svg(), {"width": "%dpx" % self.css_width()}


# --- geometry (inches; rectangles are (x0, y0, x1, y1)) ---------------------------------

def _grow(rect, d):
    """The rectangle grown by d on every side."""
    return (rect[0] - d, rect[1] - d, rect[2] + d, rect[3] + d)


def _rects_overlap(a, b):
    """True when two rectangles overlap (touching does not count)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _rect_hits_circle(rect, center, radius):
    """True when a rectangle and a disc overlap."""
    cx = min(max(center[0], rect[0]), rect[2])
    cy = min(max(center[1], rect[1]), rect[3])
    return (cx - center[0]) ** 2 + (cy - center[1]) ** 2 < radius ** 2


def _rect_hits_segment(rect, p, q):
    """True when the segment p-q passes through the rectangle (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = p, q
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for pk, qk in ((-dx, x0 - rect[0]), (dx, rect[2] - x0),
                   (-dy, y0 - rect[1]), (dy, rect[3] - y0)):
        if pk == 0:
            if qk < 0:
                return False
            continue
        t = qk / pk
        if pk < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def _place_center(place, center, size, radius, gap):
    """Center of a label of size (w, h) put at ``place`` around a disc (inches)."""
    (x, y), (w, h) = center, size
    if place.endswith(" far"):
        place, gap = place[:-len(" far")], gap + FAR
    r, d = radius + gap, radius * 0.7071 + gap
    return {
        "above": (x, y + r + h / 2), "below": (x, y - r - h / 2),
        "right": (x + r + w / 2, y), "left": (x - r - w / 2, y),
        "above-right": (x + d + w / 2, y + d + h / 2),
        "above-left": (x - d - w / 2, y + d + h / 2),
        "below-right": (x + d + w / 2, y - d - h / 2),
        "below-left": (x - d - w / 2, y - d - h / 2),
    }[place]


def _rect_at(center, size):
    """The rectangle of size (w, h) centred at center."""
    return (center[0] - size[0] / 2, center[1] - size[1] / 2,
            center[0] + size[0] / 2, center[1] + size[1] / 2)


class _Measure:
    """Sizes of labels in inches, measured with matplotlib's own text layout."""

    def __init__(self):
        self.fig = Figure(figsize=(4, 4), dpi=72)
        FigureCanvasAgg(self.fig)
        self.renderer = self.fig.canvas.get_renderer()

    def size(self, text, fontsize, math=None):
        """(width, height) in inches of ``text`` at ``fontsize`` points.

        Mathtext is measured as the outline it is drawn as; plain text as matplotlib lays
        it out (lines included), which is also the box a browser gives an SVG <text>.
        """
        if math if math is not None else is_math(text):
            ext = _text_path(text, fontsize).get_extents()
            return ext.width / 72, ext.height / 72
        artist = self.fig.text(0, 0, text, fontsize=fontsize)
        bbox = artist.get_window_extent(self.renderer)
        artist.remove()
        return bbox.width / 72, bbox.height / 72


def _text_path(text, fontsize):
    """Outline of a (mathtext) label at fontsize points, in point units."""
    return TextPath((0, 0), text, size=fontsize, prop=FontProperties(family="DejaVu Sans"))


def _distance_to_segment(c, p, q):
    """Distance (inches) from point c to the segment p-q (p, q: arrays of shape (2,))."""
    t = np.clip(np.dot(np.subtract(c, p), q - p) / np.dot(q - p, q - p), 0, 1)
    return np.hypot(*(p + t * (q - p) - c))


# --- placing labels and marks (one layout attempt) --------------------------------------

def _mark_text(node):
    """The marks of a node (str): ``#`` for a reduction, ``&`` for broadcasting, or ""."""
    return ("#" if node["reduce"] else "") + ("&" if node["broadcast"] else "")


def _beside_edge(edge):
    """Where a label of an edge may go: a function (side, size) -> centre (x, y).

    edge (dict): a routed edge (``start``, ``end`` in inches). side (1 or -1) puts the label
    above (or left of) the middle of the arrow, or below (right of) it, GAP away.
    """
    p, q = np.array(edge["start"]), np.array(edge["end"])
    mid, d = (p + q) / 2, (q - p) / np.hypot(*(q - p))
    normal = np.array([-d[1], d[0]])
    if normal[1] < 0 or (normal[1] == 0 and normal[0] < 0):
        normal = -normal       # try above (or left of) the arrow first

    def beside(side, size):
        off = (abs(normal[0]) * size[0] + abs(normal[1]) * size[1]) / 2 + GAP
        return tuple(mid + side * normal * off)
    return beside


#: The labels of a node drawn for each ``show`` of :meth:`Graph.draw`.
_SHOWN = {"both": ("value", "grad"), "forward": ("value",), "backward": ("grad",)}


def _label_places(node, kind, show):
    """The places to try for a node's ``kind`` ("value" or "grad") label: tuple of str."""
    if show != "both":
        default = SINGLE_PLACES
    else:
        default = VALUE_PLACES if kind == "value" else GRAD_PLACES
    return node[kind + "_at"] or default


class _Placer:
    """Puts labels and marks clear of every disc, edge and label already there.

    One placer serves one layout attempt. centers (dict name -> (x, y)) and radii (dict
    name -> float) are the discs in inches, in node order; edges (list of dict) the routed
    arrows; measure (_Measure) sizes the labels; scale (float, inches per unit) goes into
    messages; strict (bool) says whether a label with no free place raises LayoutError.

    Filled while placing: ``placed``, list of (rectangle, description) of every label and
    mark; ``labels``, list of label dicts (kind, owner, text, color, center, size, place);
    ``marks``, list of mark dicts (node, text, center, size); ``problems``, list of str.
    """

    def __init__(self, centers, radii, edges, measure, scale, strict):
        self.discs = [(name, centers[name], radii[name]) for name in centers]
        self.edges = edges
        self.measure, self.scale, self.strict = measure, scale, strict
        self.placed, self.labels, self.marks, self.problems = [], [], [], []

    def blocker(self, rect, own_edges=(), own_node=None):
        """What a label's rectangle would touch (str), or None when it is clear of every
        disc, edge, label and mark. Its own disc only must not be overlapped: the label
        sits GAP from it. own_edges: ids of the edges the label belongs to.
        """
        grown = _grow(rect, CLEARANCE)
        for name, c, r in self.discs:
            if _rect_hits_circle(rect if name == own_node else grown, c, r):
                return "node %s" % name
        for e in self.edges:
            if id(e) not in own_edges and _rect_hits_segment(grown, e["start"], e["end"]):
                return "edge %s->%s" % (e["src"], e["dst"])
        for other, what in self.placed:
            if _rects_overlap(grown, other):
                return what
        return None

    def place_mark(self, name, text, center, radius):
        """Put a node's mark up and to the right of its disc; LayoutError if an edge
        crosses it. name, text (str); center ((x, y)) and radius (float) of the disc.
        """
        w, h = self.measure.size(text, MARK_FONT, math=False)
        w, h = w + 4 / 72, h + 2 / 72
        cx, cy = center
        center = (cx + radius * 0.78 + w / 2 - 2 / 72, cy + radius * 0.78 + h / 2 - 2 / 72)
        rect = _rect_at(center, (w, h))
        hit = [e for e in self.edges if _rect_hits_segment(_grow(rect, CLEARANCE / 2),
                                                           e["start"], e["end"])]
        if hit:
            raise LayoutError("the %s mark of %s is crossed by the edge %s -> %s: "
                              "move the nodes" % (text, name, hit[0]["src"], hit[0]["dst"]))
        self.marks.append({"node": name, "text": text, "center": center, "size": (w, h)})
        self.placed.append((rect, "the mark of %s" % name))

    def place(self, kind, owner, text, color, candidates, center_of, own_edges=()):
        """Put a label at the first free candidate place.

        kind (str): "value", "grad" or "edgelabel"; owner (str): node (or "src-dst");
        candidates (tuple): places, passed to center_of(place, size) -> (x, y).
        When no place is free: LayoutError if strict, else the problem is noted and the
        label goes to its first place.
        """
        size = self.measure.size(text, LABEL_FONT)
        chosen, tried = self._first_free(owner, size, candidates, center_of, own_edges)
        if chosen is None:
            self._no_room(kind, owner, text, tried)
            chosen = candidates[0]
        center = center_of(chosen, size)
        self.placed.append((_rect_at(center, size), "the %s of %s" % (kind, owner)))
        self.labels.append({"kind": kind, "owner": owner, "text": text, "color": color,
                            "center": center, "size": size, "place": chosen})

    def _first_free(self, owner, size, candidates, center_of, own_edges):
        """(first free candidate or None, list of str saying what blocked each tried one)."""
        tried = []
        for cand in candidates:
            hit = self.blocker(_rect_at(center_of(cand, size), size), own_edges,
                               own_node=owner)
            if hit is None:
                return cand, tried
            tried.append("%s: %s" % (cand, hit))
        return None, tried

    def _no_room(self, kind, owner, text, tried):
        """Raise LayoutError (strict) or note the problem: a label found no free place."""
        message = ("no room for the %s %r of %s at %.2f in per unit (tried %s): move the "
                   "nodes apart or pass %s_at=" % (kind, text, owner, self.scale,
                                                   "; ".join(tried),
                                                   "value" if kind == "value" else "grad"))
        if self.strict:
            raise LayoutError(message)
        self.problems.append(message)

    def place_edge_labels(self):
        """Put the label of each labelled edge beside the middle of its arrow."""
        for e in self.edges:
            if e["label"]:
                self.place("edgelabel", "%s-%s" % (e["src"], e["dst"]), e["label"],
                           EDGE_COLOR, (1, -1), _beside_edge(e), own_edges=(id(e),))

    def bounds(self):
        """(x0, y0, x1, y1): the box around every disc, label and mark (inches)."""
        rects = ([_rect_at(c, (2 * r, 2 * r)) for _, c, r in self.discs]
                 + [r for r, _ in self.placed])
        return (min(r[0] for r in rects), min(r[1] for r in rects),
                max(r[2] for r in rects), max(r[3] for r in rects))


# --- fitting the figure: scale, title, legend, margins ----------------------------------

def _title_size(measure, title, max_width):
    """(width, height) of the title in inches, (0, 0) for none; LayoutError if too wide."""
    title_size = measure.size(title, TITLE_FONT) if title else (0.0, 0.0)
    if title_size[0] + 2 * MARGIN > max_width:
        raise LayoutError("the title is %.2f in wide, more than the %.2f in of a figure"
                          % (title_size[0], max_width - 2 * MARGIN))
    return title_size


def _shrink_to_fit(attempt, scale, max_width):
    """The first layout, at ``scale`` then at smaller scales, that is ``max_width`` wide or less.

    attempt (callable): scale (float) -> plan (dict); raises LayoutError when too tight.
    Returns the plan; raises LayoutError when 12 attempts do not fit or one is too tight.
    """
    error = None
    for _ in range(12):
        try:
            plan = attempt(scale)
        except LayoutError as exc:      # too tight already: shrinking will not help
            raise exc if error is None else LayoutError("%s (after shrinking to fit "
                                                        "%.1f in: %s)" % (exc, max_width,
                                                                          error)) from None
        if plan["size"][0] <= max_width + 1e-9:
            return plan
        error = "%.2f in wide at %.2f in per unit" % (plan["size"][0], scale)
        scale *= min(0.97, (max_width - 2 * MARGIN) / (plan["size"][0] - 2 * MARGIN))
    raise LayoutError("the graph does not fit in %.1f in: %s" % (max_width, error))


def _title_above(title, title_size, x0, x1, y1):
    """(title plan or None, top y) for a title centred above the box x0..x1, y1 (inches)."""
    if not title:
        return None, y1
    center = ((x0 + x1) / 2, y1 + 0.12 + title_size[1] / 2)
    return {"text": title, "center": center, "size": title_size}, y1 + 0.12 + title_size[1]


def _widen(x0, x1, legend_plan, title_plan):
    """(x0, x1) widened to take in the legend items and the title."""
    if legend_plan:
        lx0 = min(item["x"] for item in legend_plan)
        lx1 = max(item["x"] + item["width"] for item in legend_plan)
        x0, x1 = min(x0, lx0), max(x1, lx1)
    if title_plan:
        x0 = min(x0, title_plan["center"][0] - title_plan["size"][0] / 2)
        x1 = max(x1, title_plan["center"][0] + title_plan["size"][0] / 2)
    return x0, x1


def _shift_plan(plan, shift):
    """Move every position of a plan by shift (array of shape (2,), inches), in place."""
    def moved(point):
        return tuple(np.asarray(point) + shift)

    for item in plan["labels"] + plan["marks"]:
        item["center"] = moved(item["center"])
    for e in plan["edges"]:
        e["start"], e["end"] = moved(e["start"]), moved(e["end"])
    if plan["title"]:
        plan["title"]["center"] = moved(plan["title"]["center"])
    for item in plan["legend"]:
        item["x"] += shift[0]
        item["y"] += shift[1]
    plan["centers"] = {k: moved(v) for k, v in plan["centers"].items()}


# Legend geometry (inches): width of an entry's key, space after it, space between entries.
_LEGEND_KEY_WIDTH, _LEGEND_PAD, _LEGEND_SPACING = 0.2, 0.05, 0.2


def _legend_rows(entries, measure, width):
    """Legend entries flowed into rows at most ``width`` inches wide.

    entries (list of (kind, text)). Returns a list of (row, row width), a row being a
    list of (kind, text, entry width).
    """
    rows, row, row_w = [], [], 0.0
    for kind, text in entries:
        w = (_LEGEND_KEY_WIDTH + _LEGEND_PAD
             + measure.size(text, LEGEND_FONT, math=False)[0])
        if row and row_w + _LEGEND_SPACING + w > width:
            rows.append((row, row_w))
            row, row_w = [], 0.0
        row_w += (_LEGEND_SPACING if row else 0.0) + w
        row.append((kind, text, w))
    if row:
        rows.append((row, row_w))
    return rows


def _legend_items(rows, line_h, center_x, top):
    """Legend rows (see :func:`_legend_rows`) centred on center_x, stacked down from top.

    line_h (float): height of a line of legend text. Returns (items, bottom) as
    :meth:`Graph._legend_layout`.
    """
    items, y = [], top
    for row, row_w in rows:
        y -= line_h / 2 + 0.03
        x = center_x - row_w / 2
        for kind, text, w in row:
            items.append({"kind": kind, "text": text, "x": x, "y": y, "width": w,
                          "key_width": _LEGEND_KEY_WIDTH, "pad": _LEGEND_PAD})
            x += w + _LEGEND_SPACING
        y -= line_h / 2 + 0.03
    return items, y


# --- checking a node's arguments; drawing -----------------------------------------------

def _check_name_and_kind(name, kind):
    """Raise ValueError for a kind not in :data:`COLORS` or a name with characters other
    than letters, digits and ``_``."""
    if kind not in COLORS:
        raise ValueError("unknown node kind %r; use one of %s" % (kind, ", ".join(COLORS)))
    if not re.fullmatch(r"\w+", name):
        raise ValueError("node name %r: use letters, digits and _ only" % name)


def _check_places(name, value_at, grad_at):
    """The places given for a node's value and gradient, as tuples (dict, maybe empty).

    value_at, grad_at (str, tuple of str, or None). Raises ValueError for a place not in
    :data:`PLACES`.
    """
    places = {}
    for key, at in (("value", value_at), ("grad", grad_at)):
        if at is not None:
            at = (at,) if isinstance(at, str) else tuple(at)
            bad = [p for p in at if p not in PLACES]
            if bad:
                raise ValueError("node %r: unknown place(s) %s; use %s"
                                 % (name, bad, ", ".join(PLACES)))
            places[key] = at
    return places


def _edge_arrow(edge, backward, faint):
    """The arrow of a routed edge (FancyArrowPatch): red when drawn ``backward``; a faint
    dashed link, without a head, when ``faint`` (no gradient flows along it)."""
    if faint:
        return FancyArrowPatch(edge["start"], edge["end"], arrowstyle="-", shrinkA=0,
                               shrinkB=0, lw=0.9, ls=(0, (3, 2)), zorder=1, color="#9a9a9a")
    return FancyArrowPatch(edge["start"], edge["end"], arrowstyle="-|>", mutation_scale=10,
                           shrinkA=0, shrinkB=0, lw=1.1, zorder=1,
                           color=GRAD_COLOR if backward else EDGE_COLOR)


def _blank_figure(plan):
    """(GraphFigure of the plan's size, its axes in inches with nothing drawn)."""
    width, height = plan["size"]
    fig = GraphFigure(figsize=(width, height), dpi=72)
    fig.layout_problems = plan["problems"]
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


class Graph:
    """A computational graph to be drawn: nodes at fixed positions, arrows between them."""

    def __init__(self):
        """Start an empty graph."""
        self.nodes = {}
        self.edges = []

    def node(self, name, label=None, kind="linear", pos=(0.0, 0.0), value=None, grad=None,
             reduce=False, broadcast=False, value_at=None, grad_at=None):
        """Add a node (or replace the node of the same name).

        name (str): identifier used by :meth:`edge`; letters, digits and ``_`` only.
        label (str or None): text inside the disc; matplotlib mathtext such as
            ``r"$\\sigma$"`` works. Defaults to ``name``.
        kind (str): ``"input"``, ``"data"``, ``"linear"``, ``"nonlinear"`` or ``"output"``.
        pos (tuple of two floats): position (x, y); one unit is about the distance
            between two neighbouring nodes (:data:`SCALE` inches before fitting).
        value (float, str, small array or None): forward value, written above the node
            (or wherever there is room).
        grad (float, str, small array or None): gradient of the loss with respect to this
            node, written below it in red (or wherever there is room).
        reduce (bool): mark a dimensional reduction with ``#``.
        broadcast (bool): mark broadcasting with ``&``.
        value_at, grad_at (str, tuple of str, or None): the places to try for the value
            and the gradient, in order, among :data:`PLACES`. By default
            :data:`VALUE_PLACES` and :data:`GRAD_PLACES` (value above, gradient below);
            a figure that shows only one of them tries :data:`SINGLE_PLACES` for it.
        Returns self, so calls can be chained.
        """
        _check_name_and_kind(name, kind)
        places = _check_places(name, value_at, grad_at)
        self.nodes[name] = {
            "name": name, "label": name if label is None else label, "kind": kind,
            "pos": (float(pos[0]), float(pos[1])), "value": format_number(value),
            "grad": format_number(grad), "reduce": bool(reduce), "broadcast": bool(broadcast),
            "value_at": places.get("value"), "grad_at": places.get("grad"),
        }
        return self

    def edge(self, src, dst, label=None):
        """Add an arrow from node ``src`` to node ``dst`` (both str names of nodes).

        label (str or None): optional small text beside the middle of the arrow.
        Returns self, so calls can be chained.
        """
        self.edges.append((src, dst, label))
        return self

    def _check(self):
        """Raise ValueError if an edge names a node that does not exist."""
        if not self.nodes:
            raise ValueError("the graph has no nodes")
        for src, dst, _ in self.edges:
            for name in (src, dst):
                if name not in self.nodes:
                    raise ValueError("edge %s -> %s: no node named %r" % (src, dst, name))

    # --- layout ----------------------------------------------------------------------

    def layout(self, show="both", scale=SCALE, title=None, legend=True, max_width=MAX_WIDTH,
               strict=True):
        """Place every element; the plan that :meth:`draw` draws.

        show (str): ``"both"``, ``"forward"`` (values only) or ``"backward"`` (gradients
            only, arrows reversed).
        scale (float): inches per position unit; reduced until the figure fits max_width.
        title (str or None), legend (bool): as in :meth:`draw`.
        max_width (float): widest figure, inches.
        strict (bool): raise LayoutError when a label finds no free place; when False, put
            it at its first place anyway and list the problem in the plan's "problems".
        Returns a dict with the figure size (inches), the node centres, edges, labels,
        title and legend, all in inches from the figure's lower-left corner.
        Raises LayoutError when no scale gives a figure that fits with every label clear.
        """
        if show not in ("both", "forward", "backward"):
            raise ValueError("show must be 'both', 'forward' or 'backward', not %r" % (show,))
        self._check()
        measure = _Measure()
        title_size = _title_size(measure, title, max_width)
        attempt = functools.partial(self._layout_at, show=show, measure=measure, title=title,
                                    title_size=title_size, legend=legend,
                                    max_width=max_width, strict=strict)
        return _shrink_to_fit(attempt, scale, max_width)

    def _layout_at(self, scale, show, measure, title, title_size, legend, max_width, strict):
        """One layout attempt at a given scale (see :meth:`layout`): the plan (dict)."""
        centers = self._node_centers(scale)
        radii = {name: self._radius(node, measure) for name, node in self.nodes.items()}
        self._check_discs_apart(centers, radii, scale)
        edges = self._route_edges(centers, radii, show)
        self._check_edges_clear(edges, centers, radii)
        placer = _Placer(centers, radii, edges, measure, scale, strict)
        self._place_marks(placer, centers, radii)    # marks first: they are fixed
        placer.place_edge_labels()
        self._place_node_labels(placer, centers, radii, show)
        plan = {"size": None, "scale": scale, "show": show, "radii": radii,
                "problems": placer.problems, "centers": centers, "edges": edges,
                "labels": placer.labels, "marks": placer.marks, "title": None, "legend": []}
        self._frame(plan, placer.bounds(), measure, title, title_size, legend, max_width)
        return plan

    def _node_centers(self, scale):
        """Centre of each node's disc in inches, the lowest and leftmost at 0 (dict)."""
        xs = [n["pos"][0] for n in self.nodes.values()]
        ys = [n["pos"][1] for n in self.nodes.values()]
        x_min, y_min = min(xs), min(ys)
        return {name: ((n["pos"][0] - x_min) * scale, (n["pos"][1] - y_min) * scale)
                for name, n in self.nodes.items()}

    def _check_discs_apart(self, centers, radii, scale):
        """Raise LayoutError when two discs (dicts of centres and radii) are too close."""
        for a in self.nodes:
            for b in self.nodes:
                if a < b and np.hypot(*np.subtract(centers[a], centers[b])) < (
                        radii[a] + radii[b] + 0.1):
                    raise LayoutError("nodes %r and %r overlap at %.2f in per unit"
                                      % (a, b, scale))

    def _route_edges(self, centers, radii, show):
        """The arrows, from disc rim to disc rim (reversed when show is "backward").

        Returns a list of dicts: src, dst, label, start and end ((x, y), inches); an edge
        between two nodes at the same place is left out.
        """
        edges = []
        for src, dst, label in self.edges:
            a, b = (src, dst) if show != "backward" else (dst, src)
            p, q = np.array(centers[a]), np.array(centers[b])
            n = np.hypot(*(q - p))
            if n == 0:
                continue
            u = (q - p) / n
            edges.append({"src": src, "dst": dst, "label": label,
                          "start": tuple(p + u * (radii[a] + 1 / 72)),
                          "end": tuple(q - u * (radii[b] + 1.5 / 72))})
        return edges

    def _check_edges_clear(self, edges, centers, radii):
        """Raise LayoutError when an arrow runs across (or too near) another node's disc."""
        for e in edges:
            for name in self.nodes:
                if name in (e["src"], e["dst"]):
                    continue
                p, q = np.array(e["start"]), np.array(e["end"])
                if _distance_to_segment(centers[name], p, q) < radii[name] + CLEARANCE:
                    raise LayoutError("the edge %s -> %s runs across node %r: move the nodes"
                                      % (e["src"], e["dst"], name))

    def _place_marks(self, placer, centers, radii):
        """Put the ``#`` / ``&`` marks of the nodes that have them (see _Placer.place_mark)."""
        for name, node in self.nodes.items():
            text = _mark_text(node)
            if text:
                placer.place_mark(name, text, centers[name], radii[name])

    def _place_node_labels(self, placer, centers, radii, show):
        """Put each node's value and gradient (those that ``show`` draws) around its disc."""
        for name, node in self.nodes.items():
            for kind, color in (("value", VALUE_COLOR), ("grad", GRAD_COLOR)):
                text = node[kind]
                if text is None or kind not in _SHOWN[show]:
                    continue
                placer.place(kind, name, text, color, _label_places(node, kind, show),
                             lambda cand, size, c=centers[name], r=radii[name]:
                             _place_center(cand, c, size, r, GAP))

    def _frame(self, plan, bounds, measure, title, title_size, legend, max_width):
        """Add the title above the graph and the legend below it, then move everything so
        that the figure's lower-left corner is (0, 0), with MARGIN all round.

        plan (dict): filled in place (size, title, legend, and every position moved).
        bounds ((x0, y0, x1, y1)): box of the discs, labels and marks, inches.
        title (str or None), title_size ((w, h), inches), legend (bool), max_width (float).
        """
        x0, y0, x1, y1 = bounds
        width = max(x1 - x0, title_size[0])
        title_plan, top = _title_above(title, title_size, x0, x1, y1)
        legend_plan, bottom = [], y0
        if legend:
            legend_plan, bottom = self._legend_layout(plan["show"], measure, (x0 + x1) / 2,
                                                      min(max_width - 2 * MARGIN,
                                                          max(width, 3.3)), y0 - 0.16)
        x0, x1 = _widen(x0, x1, legend_plan, title_plan)
        plan.update(size=(x1 - x0 + 2 * MARGIN, top - bottom + 2 * MARGIN),
                    title=title_plan, legend=legend_plan)
        _shift_plan(plan, np.array([MARGIN - x0, MARGIN - bottom]))

    @staticmethod
    def _radius(node, measure):
        """Radius of a node's disc (inches): :data:`RADIUS`, or more for a long label."""
        w, h = measure.size(node["label"], NODE_FONT, math=True)
        return max(RADIUS, np.hypot(w, h) / 2 + 1.5 / 72)

    def _legend_layout(self, show, measure, center_x, width, top):
        """Legend items flowed into centred rows of at most ``width`` inches below ``top``.

        Returns (items, bottom): items are dicts with kind, text, x (left), y (centre),
        width; bottom is the lowest y used.
        """
        entries = self._legend_entries(show)
        line_h = measure.size("Ag", LEGEND_FONT, math=False)[1]
        return _legend_items(_legend_rows(entries, measure, width), line_h, center_x, top)

    def _legend_entries(self, show):
        """The legend's entries for this graph drawn as ``show``: list of (kind, text)."""
        nodes = self.nodes.values()
        entries = [("swatch-" + k, KIND_NAMES[k]) for k in COLORS
                   if any(n["kind"] == k for n in nodes)]
        if show != "backward" and any(n["value"] is not None for n in nodes):
            entries.append(("value", "forward value"))
        if show != "forward" and any(n["grad"] is not None for n in nodes):
            entries.append(("grad", "gradient"))
        if show == "backward":
            entries.append(("flow", "gradient flows back"))
        if any(n["reduce"] for n in nodes):
            entries.append(("mark-#", "dimensional reduction"))
        if any(n["broadcast"] for n in nodes):
            entries.append(("mark-&", "broadcasting"))
        return entries

    # --- drawing ---------------------------------------------------------------------

    def draw(self, title=None, legend=True, scale=SCALE, show="both", max_width=MAX_WIDTH,
             strict=True):
        """Lay the graph out and draw it; returns a :class:`GraphFigure`.

        title (str or None): title above the graph (mathtext allowed).
        legend (bool): add the legend of node colours and marks below the graph.
        scale (float): inches per position unit, before fitting into ``max_width``.
        show (str): ``"both"`` (values and gradients), ``"forward"`` (values) or
            ``"backward"`` (gradients, arrows reversed).
        max_width (float): widest figure in inches (default :data:`MAX_WIDTH`).
        strict (bool): False draws even when labels collide (to see why), listing the
            problems in the figure's ``layout_problems``.
        Raises LayoutError (when strict) if a label cannot be placed clear of the rest.
        """
        plan = self.layout(show=show, scale=scale, title=title, legend=legend,
                           max_width=max_width, strict=strict)
        fig, ax = _blank_figure(plan)
        self._draw_edges(ax, plan)
        self._draw_nodes(ax, plan)
        self._draw_marks(ax, plan)
        self._draw_labels(ax, plan)
        for i, item in enumerate(plan["legend"]):
            self._draw_legend_item(ax, item, i)
        return fig

    def _draw_edges(self, ax, plan):
        """The arrows; backwards, the links out of ``data`` nodes are faint and dashed."""
        backward = plan["show"] == "backward"
        for e in plan["edges"]:
            # No gradient flows into an input that needs none: a faint dashed link.
            faint = backward and self.nodes[e["src"]]["kind"] == "data"
            arrow = _edge_arrow(e, backward, faint)
            arrow.set_gid(GID_PREFIXES["edge"] + "%s-%s" % (e["src"], e["dst"]))
            ax.add_patch(arrow)

    def _draw_nodes(self, ax, plan):
        """Each node's disc, coloured by kind, with its label inside."""
        for name, node in self.nodes.items():
            center = plan["centers"][name]
            disc = Circle(center, plan["radii"][name], facecolor=COLORS[node["kind"]],
                          edgecolor="#333333", lw=1.0, zorder=2)
            disc.set_gid(GID_PREFIXES["node"] + name)
            ax.add_patch(disc)
            self._draw_text(ax, node["label"], center, NODE_FONT, "#111111",
                            GID_PREFIXES["node"] + name + "-label", zorder=3, math=True)

    def _draw_marks(self, ax, plan):
        """The ``#`` / ``&`` marks, bold in small white rounded boxes."""
        for mark in plan["marks"]:
            (cx, cy), (w, h) = mark["center"], mark["size"]
            box = FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                 boxstyle="round,pad=0,rounding_size=0.02", fc="white",
                                 ec="#333333", lw=0.6, zorder=4)
            box.set_gid(GID_PREFIXES["mark"] + mark["node"] + "-box")
            ax.add_patch(box)
            self._draw_text(ax, mark["text"], mark["center"], MARK_FONT, "#333333",
                            GID_PREFIXES["mark"] + mark["node"], zorder=5, weight="bold",
                            math=False)

    def _draw_labels(self, ax, plan):
        """The values, gradients and edge labels, then the title."""
        for label in plan["labels"]:
            self._draw_text(ax, label["text"], label["center"], LABEL_FONT, label["color"],
                            GID_PREFIXES[label["kind"]] + label["owner"], zorder=4)
        if plan["title"]:
            self._draw_text(ax, plan["title"]["text"], plan["title"]["center"], TITLE_FONT,
                            "#111111", GID_PREFIXES["title"], zorder=4)

    @staticmethod
    def _draw_text(ax, text, center, fontsize, color, gid, zorder, weight="normal", math=None):
        """A label centred at ``center``: an outline for mathtext, else SVG <text>."""
        if math or (math is None and is_math(text)):
            path = _text_path(text, fontsize)
            ext = path.get_extents()
            transform = (Affine2D().translate(-(ext.x0 + ext.x1) / 2, -(ext.y0 + ext.y1) / 2)
                         .scale(1 / 72).translate(*center))
            patch = PathPatch(transform.transform_path(path), facecolor=color,
                              edgecolor="none", lw=0, zorder=zorder)
            patch.set_gid(gid)
            ax.add_patch(patch)
            return
        artist = ax.text(center[0], center[1], text, ha="center", va="center",
                         multialignment="center", fontsize=fontsize, color=color,
                         weight=weight, zorder=zorder)
        artist.set_gid(gid)

    def _draw_legend_item(self, ax, item, index):
        """One legend entry: its key (swatch, sample number, arrow or mark) and its text."""
        kind, x, y, key_w = item["kind"], item["x"], item["y"], item["key_width"]
        gid = GID_PREFIXES["legend"] + "%d" % index
        key_center = (x + key_w / 2, y)
        if kind.startswith("swatch-"):
            disc = Circle(key_center, 0.07, facecolor=COLORS[kind[len("swatch-"):]],
                          edgecolor="#333333", lw=0.8)
            disc.set_gid(gid + "-key")
            ax.add_patch(disc)
        elif kind in ("value", "grad"):
            self._draw_text(ax, "1.0", key_center, LEGEND_FONT,
                            VALUE_COLOR if kind == "value" else GRAD_COLOR, gid + "-key",
                            zorder=4, weight="bold", math=False)
        elif kind == "flow":
            arrow = FancyArrowPatch((x + key_w, y), (x, y), arrowstyle="-|>", mutation_scale=9,
                                    shrinkA=0, shrinkB=0, lw=1.1, color=GRAD_COLOR)
            arrow.set_gid(gid + "-key")
            ax.add_patch(arrow)
        elif kind.startswith("mark-"):
            self._draw_text(ax, kind[len("mark-"):], key_center, MARK_FONT, "#333333",
                            gid + "-key", zorder=4, weight="bold", math=False)
        artist = ax.text(x + key_w + item["pad"], y, item["text"], ha="left", va="center",
                         fontsize=LEGEND_FONT, color="#222222")
        artist.set_gid(gid)
