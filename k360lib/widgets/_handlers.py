"""What every app does when an event handler fails: a message, never a traceback."""

from __future__ import annotations

import functools

from k360lib.errors import K360Error

__all__ = ["guarded"]


def guarded(on_user_error: str, on_unexpected: str):
    """Decorate an app's event handler so that errors become messages in the app.

    Parameters
    ----------
    on_user_error : str
        Name of the app's method taking a :class:`~k360lib.errors.K360Error`
        (a translated, expected error: bad input, a rule the game refuses).
    on_unexpected : str
        Name of the app's method taking any other exception (a bug: the app
        says so with the exception's type and text, and stays usable).

    Examples
    --------
    >>> class App:
    ...     def _user(self, err): self.shown = ("user", err.key)
    ...     def _bug(self, exc): self.shown = ("bug", type(exc).__name__)
    ...     @guarded("_user", "_bug")
    ...     def click(self, x): return 1 / x
    >>> app = App()
    >>> app.click(0), app.shown
    (None, ('bug', 'ZeroDivisionError'))
    """

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except K360Error as err:
                getattr(self, on_user_error)(err)
            except Exception as exc:  # noqa: BLE001 - an app shows a message, not a traceback
                getattr(self, on_unexpected)(exc)
            return None

        return wrapper

    return decorate
