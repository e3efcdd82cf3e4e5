"""The student's functions as a hidden test sees them.

``student.mul_backward(dout, xs)`` sends the call to the sandboxed worker and returns plain
numbers and arrays, or raises a :class:`StudentError` (a ``CheckFailure``) whose message
tells the student what happened in words they can act on.
"""
from autograder.toolkit.checks import CheckFailure

ADVICE = {
    "missing": "No function named `{name}` was found in your notebook. Keep the name and "
               "the signature of the stub: was it renamed, deleted, or is its cell broken?",
    "stub": "`{name}` is still the stub (it raises NotImplementedError): write its body.",
    "raised": "`{name}` raised an error: {message}",
    "exit": "`{name}` tried to stop the program ({message}); return a value instead.",
    "unencodable": "`{name}` returned {message}.",
    "timeout": "`{name}` {message}",
    "crashed": "`{name}` {message}",
}


class StudentError(CheckFailure):
    """A call to the student's code did not return a usable value."""

    def __init__(self, kind, name, message):
        self.kind = kind
        super().__init__(ADVICE[kind].format(name=name, message=message))


class StudentProxy:
    """Attribute access gives a function that calls the student's code in ``session``."""

    def __init__(self, session):
        self._session = session

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args, **kwargs):
            kind, value = self._session.call(name, args, kwargs)
            if kind != "ok":
                raise StudentError(kind, name, value)
            return value
        call.__name__ = name
        return call
