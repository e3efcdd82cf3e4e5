"""Computational-graph figures with forward values and backward gradients.

A :class:`Graph` is a set of nodes placed by hand at ``(x, y)`` positions and arrows
between them. Each node shows its label inside a coloured disc, its forward value above
(dark text) and its gradient below (red). Colours follow the legend of the course notes:

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

Example::

    from bookkit.compgraph import Graph
    g = Graph()
    g.node("x", label="x", kind="input", pos=(0, 2), value=-2.0, grad=-4.0)
    g.node("add", label="+", kind="linear", pos=(1, 1.5), value=3.0, grad=-4.0)
    g.edge("x", "add")
    fig = g.draw(title="L = (x + y) z")

:meth:`Graph.draw` returns a :class:`matplotlib.figure.Figure` that is not registered with
``pyplot``: it shows once when it is the last expression of a notebook cell (or when
passed to ``myst_nb.glue``), is never shown twice, and can be saved with ``fig.savefig``.
"""
import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, FancyArrowPatch, Patch

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
GRAD_COLOR = "#c0392b"
EDGE_COLOR = "#555555"
RADIUS = 0.27          # node radius in data units
SCALE = 1.55           # inches per data unit


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
    rows = ("[" + ", ".join("%.4g" % float(v) for v in row) + "]" for row in arr.reshape(arr.shape[0], -1))
    return "[" + ", ".join(rows) + "]"


class DisplayFigure(Figure):
    """A Figure that IPython and ``myst_nb.glue`` display as PNG without ``pyplot``.

    A plain :class:`~matplotlib.figure.Figure` only has a PNG representation once
    ``pyplot`` has loaded the inline backend; this one always has, and, not being managed
    by ``pyplot``, it is never shown a second time at the end of a cell.
    """

    def _repr_png_(self):
        """PNG bytes of the figure (used by IPython's display and by glue)."""
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=self.dpi, bbox_inches="tight")
        return buf.getvalue()


class Graph:
    """A computational graph to be drawn: nodes at fixed positions, arrows between them."""

    def __init__(self):
        """Start an empty graph."""
        self.nodes = {}
        self.edges = []

    def node(self, name, label=None, kind="linear", pos=(0.0, 0.0), value=None, grad=None,
             reduce=False, broadcast=False):
        """Add a node (or replace the node of the same name).

        name (str): identifier used by :meth:`edge`.
        label (str or None): text inside the disc; matplotlib mathtext such as
            ``r"$\\sigma$"`` works. Defaults to ``name``.
        kind (str): ``"input"``, ``"data"``, ``"linear"``, ``"nonlinear"`` or ``"output"``.
        pos (tuple of two floats): position (x, y) in data units; one unit is about the
            distance between two neighbouring nodes.
        value (float, str, small array or None): forward value, written above the node.
        grad (float, str, small array or None): gradient of the loss with respect to this
            node, written below it in red.
        reduce (bool): mark a dimensional reduction with ``#``.
        broadcast (bool): mark broadcasting with ``&``.
        Returns self, so calls can be chained.
        """
        if kind not in COLORS:
            raise ValueError("unknown node kind %r; use one of %s" % (kind, ", ".join(COLORS)))
        self.nodes[name] = {
            "label": name if label is None else label, "kind": kind,
            "pos": (float(pos[0]), float(pos[1])), "value": format_number(value),
            "grad": format_number(grad), "reduce": bool(reduce), "broadcast": bool(broadcast),
        }
        return self

    def edge(self, src, dst, label=None):
        """Add an arrow from node ``src`` to node ``dst`` (both str names of nodes).

        label (str or None): optional small text at the middle of the arrow.
        Returns self, so calls can be chained.
        """
        self.edges.append((src, dst, label))
        return self

    def _check(self):
        """Raise ValueError if an edge names a node that does not exist."""
        for src, dst, _ in self.edges:
            for name in (src, dst):
                if name not in self.nodes:
                    raise ValueError("edge %s -> %s: no node named %r" % (src, dst, name))

    def draw(self, title=None, ax=None, legend=True, scale=SCALE):
        """Draw the graph and return the matplotlib Figure (``plt.show`` is not called).

        title (str or None): title above the graph.
        ax (matplotlib Axes or None): draw into this Axes instead of a new figure.
        legend (bool): add the legend of node colours and marks below the graph.
        scale (float): inches per data unit of a new figure.
        Returns a matplotlib.figure.Figure.
        """
        self._check()
        if not self.nodes:
            raise ValueError("the graph has no nodes")
        xs = [n["pos"][0] for n in self.nodes.values()]
        ys = [n["pos"][1] for n in self.nodes.values()]
        x0, x1 = min(xs) - 0.75, max(xs) + 0.75
        y0, y1 = min(ys) - 0.65, max(ys) + 0.65
        if ax is None:
            width = max(4.0, (x1 - x0) * scale)
            height = max(2.0, (y1 - y0) * scale) + (0.9 if legend else 0.0)
            fig = DisplayFigure(figsize=(width, height), dpi=110)
            ax = fig.add_subplot(1, 1, 1)
        fig = ax.figure
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.axis("off")
        for src, dst, label in self.edges:
            self._draw_edge(ax, self.nodes[src]["pos"], self.nodes[dst]["pos"], label)
        for node in self.nodes.values():
            self._draw_node(ax, node)
        if title:
            ax.set_title(title, fontsize=12)
        if legend:
            self._draw_legend(ax)
        return fig

    @staticmethod
    def _draw_edge(ax, p, q, label):
        """An arrow from the rim of the disc at p to the rim of the disc at q."""
        p, q = np.array(p), np.array(q)
        d = q - p
        n = np.hypot(*d)
        if n == 0:
            return
        u = d / n
        arrow = FancyArrowPatch(p + u * RADIUS, q - u * (RADIUS + 0.02), arrowstyle="-|>",
                                mutation_scale=12, color=EDGE_COLOR, lw=1.2, zorder=1)
        ax.add_patch(arrow)
        if label:
            mid = (p + q) / 2
            ax.text(mid[0], mid[1] + 0.06, label, ha="center", va="bottom", fontsize=8,
                    color=EDGE_COLOR, zorder=4)

    @staticmethod
    def _draw_node(ax, node):
        """The disc, its label, the value above, the gradient below, and # / & marks."""
        x, y = node["pos"]
        ax.add_patch(Circle((x, y), RADIUS, facecolor=COLORS[node["kind"]],
                            edgecolor="#333333", lw=1.0, zorder=2))
        ax.text(x, y, node["label"], ha="center", va="center", fontsize=11, zorder=3)
        if node["value"] is not None:
            ax.text(x, y + RADIUS + 0.05, node["value"], ha="center", va="bottom",
                    fontsize=9, color=VALUE_COLOR, zorder=4,
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
        if node["grad"] is not None:
            ax.text(x, y - RADIUS - 0.05, node["grad"], ha="center", va="top",
                    fontsize=9, color=GRAD_COLOR, zorder=4,
                    bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
        marks = ("#" if node["reduce"] else "") + ("&" if node["broadcast"] else "")
        if marks:
            ax.text(x + RADIUS * 0.72, y + RADIUS * 0.72, marks, ha="center", va="center",
                    fontsize=8, fontweight="bold", color="#333333", zorder=4,
                    bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="#333333", lw=0.6))

    def _draw_legend(self, ax):
        """Legend below the axes: the kinds used, the value/gradient colours, # and &."""
        used = [k for k in COLORS if any(n["kind"] == k for n in self.nodes.values())]
        handles = [Patch(facecolor=COLORS[k], edgecolor="#333333", label=KIND_NAMES[k])
                   for k in used]
        handles += [
            Line2D([], [], ls="none", marker="$1.0$", color=VALUE_COLOR, markersize=14,
                   label="forward value"),
            Line2D([], [], ls="none", marker="$1.0$", color=GRAD_COLOR, markersize=14,
                   label="gradient"),
        ]
        nodes = self.nodes.values()
        if any(n["reduce"] for n in nodes):
            handles.append(Line2D([], [], ls="none", label="#   dimensional reduction"))
        if any(n["broadcast"] for n in nodes):
            handles.append(Line2D([], [], ls="none", label="&   broadcasting"))
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                  ncol=min(4, len(handles)), fontsize=8, frameon=False,
                  handlelength=1.5, columnspacing=1.2)
