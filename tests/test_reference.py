"""The reference loader: one source per solution; later chapters made whole from earlier ones."""
import json

import pytest

from autograder.grading import reference


def notebook(*cells):
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def code(source, tags=(), **meta):
    return {"cell_type": "code", "source": source, "outputs": [], "execution_count": None,
            "metadata": dict(meta, tags=list(tags))}


@pytest.fixture
def solutions(tmp_path, monkeypatch):
    """A solutions/ folder of our own; the loader's cache is cleared before and after."""
    def write(name, nb):
        path = tmp_path / name / ("%s.ipynb" % name)
        path.parent.mkdir()
        path.write_text(json.dumps(nb))
    monkeypatch.setattr(reference, "SOLUTIONS", tmp_path)
    reference.load_reference.cache_clear()
    yield write
    reference.load_reference.cache_clear()


def test_a_later_chapter_gets_earlier_layers_from_their_reference(solutions):
    solutions("ch05_x", notebook(code("def affine(x):\n    return 2 * x\n")))
    stub = code("def affine(x):\n    raise NotImplementedError('paste your affine')\n",
                tags=["earlier_layers"], backprop={"earlier": ["ch05_x"]})
    solutions("ch06_y", notebook(stub, code("def net(x):\n    return affine(x) + 1\n")))
    ref = reference.load_reference("ch06_y")
    assert ref.net(3) == 7                  # the stub cell was skipped, ch05's affine used
    assert reference.earlier_chapters(json.loads(
        (reference.SOLUTIONS / "ch06_y" / "ch06_y.ipynb").read_text())) == ["ch05_x"]


def test_without_the_tag_the_stub_is_what_runs(solutions):
    solutions("ch05_x", notebook(code("def affine(x):\n    return 2 * x\n")))
    stub = code("def affine(x):\n    raise NotImplementedError()\n")
    solutions("ch06_y", notebook(stub, code("def net(x):\n    return affine(x) + 1\n")))
    with pytest.raises(NotImplementedError):
        reference.load_reference("ch06_y").net(3)


def test_a_broken_reference_does_not_load(solutions):
    solutions("ch05_x", notebook(code("def f(:\n")))
    with pytest.raises(RuntimeError, match="does not load"):
        reference.load_reference("ch05_x")
