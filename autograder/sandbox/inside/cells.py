"""Turn notebook code cells into the definitions a grader needs (standard library only).

Grading finds answers by *name*: it runs the definitions of a notebook (imports,
functions, classes, assignments) and skips the statements that only do something (calls
to checks, plots, loops, IPython magics). The same filter serves the reference solutions,
loaded in the grader, and the students' notebooks, loaded in the sandbox.
"""
import ast
import json
from collections.abc import Callable

KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign,
        ast.AnnAssign, ast.If, ast.Try)


def strip_magics(source: str) -> str:
    """Comment out IPython-only lines (``%magic``, ``!shell``, ``?help``): str -> str."""
    lines = []
    for line in source.splitlines():
        if line.lstrip().startswith(("%", "!", "?")):
            line = "# " + line
        lines.append(line)
    return "\n".join(lines)


def definitions(source: str) -> ast.Module:
    """The definitions of one cell, as a module AST: str -> ast.Module.

    IPython magics are commented out only when the cell does not parse as it is (so a
    line such as ``% (a, b))`` continuing an expression is left alone). Raises SyntaxError
    when the cell does not parse either way; the caller reports it and goes on.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = ast.parse(strip_magics(source))
    tree.body = [node for node in tree.body if isinstance(node, KEPT)]
    return tree


def code_cells(notebook_text: str) -> list[str]:
    """The sources of a notebook's code cells, in order: JSON text -> list of str.

    Raises ValueError when the text is not a notebook.
    """
    try:
        nb = json.loads(notebook_text)
        cells = nb["cells"]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError("not a Jupyter notebook (%s)" % error) from None
    sources = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        sources.append("".join(src) if isinstance(src, list) else str(src))
    return sources


def run_cells(sources: list[str], namespace: dict,
              on_start: Callable[[int], object] | None = None) -> list[tuple[int, str | None]]:
    """Execute the definitions of each cell in ``namespace``; errors stay per cell.

    sources: list of cell sources; namespace: dict used as the module globals.
    on_start: optional callback(index) called before each cell (the sandbox reports it,
    so a cell that hangs can be named and skipped).
    Returns a list of (index, error message or None), one entry per cell.
    """
    report = []
    for index, source in enumerate(sources):
        if on_start is not None:
            on_start(index)
        try:
            tree = definitions(source)
            exec(compile(tree, "<cell %d>" % (index + 1), "exec"), namespace)
        except SyntaxError as error:
            report.append((index, "SyntaxError: %s (line %s)" % (error.msg, error.lineno)))
            continue
        except BaseException as error:  # a cell may raise anything, SystemExit included
            report.append((index, "%s: %s" % (type(error).__name__, str(error)[:200])))
            continue
        report.append((index, None))
    return report
