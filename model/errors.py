"""One exception family for everything a user can get wrong.

The command line turns any :class:`ShallowChromeError` into a single line on
stderr and exit code 2; anything else is a bug and keeps its traceback.

Every error carries its remedy in a field of its own: ``exc.detail`` is what
went wrong, ``exc.fix`` what to do about it (or None), and ``str(exc)`` is
``"detail; fix: fix"`` so the one line on stderr holds both. Code that wants
the remedy reads ``exc.fix`` instead of splitting the message.
"""
from __future__ import annotations


class ShallowChromeError(Exception):
    """Base class: the message is complete and meant for the user.

    ``ShallowChromeError("message", fix="...")`` renders as
    ``message; fix: ...``; without a fix, as the message alone.
    """

    def __init__(self, message, fix: str | None = None):
        self.detail = message
        self.fix = fix
        super().__init__(self._render())

    def _render(self):
        """The one-line text of ``str(exc)``: the message, then the remedy when there is one."""
        return f"{self.detail}; fix: {self.fix}" if self.fix else self.detail

    def __reduce__(self):  # picklable across worker processes
        return (self.__class__, (self.detail, self.fix), self.__dict__)


class InputError(ShallowChromeError):
    """A problem with an input file or argument.

    ``InputError(path, "message", line=12, fix="...")`` renders as
    ``path:12: message; fix: ...`` so that the file, line and remedy are
    always in one line.
    """

    def __init__(self, source, message: str, line: int | None = None, fix: str | None = None):
        self.source = str(source) if source is not None else None
        self.line = line
        super().__init__(message, fix)

    def _render(self):
        where = self.source or ""
        if self.line is not None:
            where = f"{where}:{self.line}"
        text = f"{where}: {self.detail}" if where else self.detail
        return f"{text}; fix: {self.fix}" if self.fix else text

    def __reduce__(self):  # picklable across worker processes
        return (self.__class__, (self.source, self.detail, self.line, self.fix), self.__dict__)


class ModelError(ShallowChromeError, ValueError):
    """The data cannot support a model (e.g. a single class of labels).

    Also a :class:`ValueError`, as scikit-learn expects of an estimator
    given data it cannot fit.
    """
