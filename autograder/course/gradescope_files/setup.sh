#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, when it builds the image.
# It installs the grader (which carries the hidden tests and the reference solutions) into
# /autograder/venv and locks the grader's files to root (chmod 0700), so that students'
# code, which runs as an unprivileged user when bubblewrap cannot, cannot read them.
#
# Variables (for testing outside Gradescope): AUTOGRADER_ROOT (default /autograder),
# BACKPROP_SKIP_APT=1 (no apt-get), BACKPROP_BASE_PYTHON (default python3),
# BACKPROP_PIP_OPTIONS (extra options for pip install).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ -z "${BACKPROP_SKIP_APT:-}" ] && command -v apt-get >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip \
    bubblewrap util-linux
fi

if [ ! -x "$ROOT/venv/bin/python" ]; then
  "${BACKPROP_BASE_PYTHON:-python3}" -m venv "$ROOT/venv"
fi
# shellcheck disable=SC2086
"$ROOT/venv/bin/python" -m pip install -q --disable-pip-version-check \
  ${BACKPROP_PIP_OPTIONS:-} "$HERE/backprop-by-hand"
chmod -R a+rX "$ROOT/venv"
"$ROOT/venv/bin/python" -m autograder.course.gradescope lock --root "$ROOT"
