"""Build the book offline: ``python scripts/build_book.py [--root DIR] [--all]``.

1. Installs MathJax 3 into ``book/_mathjax/mathjax/`` (gitignored) if it is missing:
   ``npm install`` into a temporary folder, then its ``es5/`` is copied.
2. Clears the notebook execution cache (``_build/.jupyter_cache``) and rebuilds every page
   when the code the pages execute has changed since the last build: the solution
   notebooks, ``autograder/**/*.py`` and ``book/bookkit/*.py`` (their hash is kept in
   ``_build/.book_inputs.sha256``). A page whose own text is unchanged would otherwise keep
   its old outputs.
3. Re-reads every page (``--all``, without re-executing them) when the site's own CSS,
   JavaScript, templates or Sphinx extension changed (``book/_static``, ``book/_ext``;
   hash in ``_build/.book_assets.sha256``): Sphinx copies static files only when some page
   is out of date.
4. Runs ``jupyter-book build . -W -n --keep-going`` with the interpreter's own
   ``jupyter-book`` and exits with its exit code, after printing how long the build took.
"""
import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATHJAX_NPM = "mathjax@3"
INPUT_GLOBS = ("solutions/*/*.ipynb", "autograder/**/*.py", "book/bookkit/*.py")
ASSET_GLOBS = ("book/_static/**/*", "book/_ext/**/*")


def install_mathjax(root):
    """Install MathJax 3 into root/book/_mathjax/mathjax unless tex-chtml.js is there.

    root (Path): the repository root. Returns None; raises CalledProcessError if npm fails.
    """
    target = root / "book" / "_mathjax" / "mathjax"
    if (target / "tex-chtml.js").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("build_book: MathJax is missing and npm is not installed "
                 "(apt-get install npm, or copy MathJax 3's es5/ to %s)" % target)
    print("build_book: installing %s into %s" % (MATHJAX_NPM, target), flush=True)
    with tempfile.TemporaryDirectory(prefix="mathjax-") as tmp:
        subprocess.run([npm, "install", "--prefix", tmp, "--no-audit", "--no-fund",
                        "--loglevel=error", MATHJAX_NPM], check=True)
        es5 = Path(tmp) / "node_modules" / "mathjax" / "es5"
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(es5, target)


def inputs_hash(root, globs=INPUT_GLOBS):
    """SHA-256 over the paths and contents of the files matching globs.

    root (Path): the repository root; globs (tuple of str): by default the files the
    executed pages depend on. Returns a hex string.
    """
    h = hashlib.sha256()
    for pattern in globs:
        for path in sorted(p for p in root.glob(pattern)
                           if p.is_file() and "__pycache__" not in p.parts):
            h.update(str(path.relative_to(root)).encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def refresh_cache(root):
    """Clear the execution cache when the pages' inputs changed.

    root (Path): the repository root. Returns True when every page must be re-read (the
    inputs changed and an earlier build left a Sphinx environment in _build/.doctrees).
    """
    build = root / "_build"
    stamp = build / ".book_inputs.sha256"
    digest = inputs_hash(root)
    old = stamp.read_text().strip() if stamp.exists() else None
    if old == digest:
        return False
    cache = build / ".jupyter_cache"
    if cache.exists():
        print("build_book: solutions, autograder or bookkit changed: clearing %s"
              % cache.relative_to(root), flush=True)
        shutil.rmtree(cache)
    build.mkdir(exist_ok=True)
    stamp.write_text(digest + "\n")
    return (build / ".doctrees").exists()


def assets_changed(root):
    """True when book/_static or book/_ext changed since the last build (then every page
    must be written again for the new files to be copied). root (Path): the repository root.
    """
    build = root / "_build"
    stamp = build / ".book_assets.sha256"
    digest = inputs_hash(root, ASSET_GLOBS)
    old = stamp.read_text().strip() if stamp.exists() else None
    build.mkdir(exist_ok=True)
    stamp.write_text(digest + "\n")
    return old is not None and old != digest


def main(argv=None):
    """Parse arguments, prepare MathJax and the cache, build; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="book root (default: repo)")
    parser.add_argument("--all", action="store_true", help="re-read every page")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    install_mathjax(root)
    rebuild_all = refresh_cache(root) | assets_changed(root) or args.all
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", ".", "-W", "-n", "--keep-going"]
    if rebuild_all:
        cmd.append("--all")
    print("build_book: " + " ".join(cmd[1:] if jb.exists() else cmd), flush=True)
    start = time.perf_counter()
    code = subprocess.call(cmd, cwd=root)
    print("build_book: %s in %.1f s (exit code %d)"
          % ("built" if code == 0 else "FAILED", time.perf_counter() - start, code), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
