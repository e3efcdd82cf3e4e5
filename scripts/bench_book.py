"""Time a clean book build and a no-change rebuild: ``python scripts/bench_book.py``.

The clean build first removes what a book build leaves in ``_build/`` (the site, the
Sphinx environment, the execution cache), so every page is executed; the rebuild right
after it changes nothing and should only check the cache.
Prints both times and their ratio; exits 1 if a build fails or the rebuild takes longer
than ``--limit`` seconds (15 by default).
"""
import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD_OUTPUTS = ("html", ".doctrees", ".jupyter_cache", "jupyter_execute", ".book_inputs.sha256")


def timed_build(root):
    """Run scripts/build_book.py in root; return (seconds, exit code)."""
    start = time.perf_counter()
    code = subprocess.call([sys.executable, str(root / "scripts" / "build_book.py"),
                            "--root", str(root)], stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, code


def main(argv=None):
    """Clean build, then no-change rebuild; print the times; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="book root (default: repo)")
    parser.add_argument("--limit", type=float, default=15.0, help="max rebuild seconds")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    for name in BUILD_OUTPUTS:
        path = root / "_build" / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    clean, code1 = timed_build(root)
    print("clean build:      %6.1f s (exit code %d)" % (clean, code1))
    rebuild, code2 = timed_build(root)
    print("no-change build:  %6.1f s (exit code %d)" % (rebuild, code2))
    print("ratio clean/rebuild: %.1f" % (clean / rebuild if rebuild else float("inf")))
    if code1 or code2:
        return 1
    if rebuild > args.limit:
        print("the no-change rebuild took more than %.0f s" % args.limit)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
