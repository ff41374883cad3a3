"""One exception family for everything a user can get wrong.

The command line turns any :class:`ShallowChromeError` into a single line on
stderr and exit code 2; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations


class ShallowChromeError(Exception):
    """Base class: the message is complete and meant for the user."""


class InputError(ShallowChromeError):
    """A problem with an input file or argument.

    ``InputError(path, "message", line=12, fix="...")`` renders as
    ``path:12: message; fix: ...`` so that the file, line and remedy are
    always in one line.
    """

    def __init__(self, source, message: str, line: int | None = None, fix: str | None = None):
        self.source = str(source) if source is not None else None
        self.line = line
        self.detail = message
        self.fix = fix
        where = self.source or ""
        if line is not None:
            where = f"{where}:{line}"
        text = f"{where}: {message}" if where else message
        if fix:
            text = f"{text}; fix: {fix}"
        super().__init__(text)

    def __reduce__(self):  # picklable across worker processes
        return (self.__class__, (self.source, self.detail, self.line, self.fix))


class ModelError(ShallowChromeError):
    """The data cannot support a model (e.g. a single class of labels)."""
