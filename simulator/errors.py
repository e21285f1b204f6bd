"""Errors that the user can fix, with messages in French and English.

Every value a trainee, an instructor or a script can get wrong raises a subclass of
:class:`UserError`. The consoles and the command line catch ``UserError`` and show
:meth:`UserError.message` in the user's language; anything else is a bug.
"""

from __future__ import annotations

__all__ = ["UserError", "ParameterError"]


class UserError(ValueError):
    """A mistake the user can correct; never a traceback on screen.

    Parameters
    ----------
    en : str
        The message in English.
    fr : str, optional
        The message in French; falls back to English.
    """

    def __init__(self, en: str, fr: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.fr = fr if fr is not None else en

    def message(self, lang: str = "en") -> str:
        """Return the message in ``lang`` (``"fr"`` or ``"en"``)."""
        return self.fr if lang.startswith("fr") else self.en


class ParameterError(UserError):
    """A protocol parameter outside what the scanner allows.

    Parameters
    ----------
    name : str
        Contract name of the parameter (``"tr_ms"``, ``"activity_mbq"``…).
    value : object
        The refused value.
    allowed : str
        The allowed range or set, language-neutral where possible
        (``"10–10000 ms"``, ``"se, tse, gre, ir"``).
    reason_en, reason_fr, reason_de : str, optional
        Why, when the limit depends on other parameters
        (``"min TR for 20 slices at TE 100 ms"``). German falls back to the whole English
        message when a reason is given in English only.

    Examples
    --------
    >>> e = ParameterError("tr_ms", 5, "10–10000 ms")
    >>> str(e)
    'tr_ms = 5: allowed 10–10000 ms'
    >>> e.message("de")
    'tr_ms = 5: zulässig 10–10000 ms'
    """

    def __init__(
        self,
        name: str,
        value: object,
        allowed: str,
        reason_en: str = "",
        reason_fr: str = "",
        reason_de: str = "",
    ) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        self.reason_en = reason_en
        self.reason_fr = reason_fr or reason_en
        en = f"{name} = {value}: allowed {allowed}" + (f" ({reason_en})" if reason_en else "")
        fr = f"{name} = {value} : valeurs permises {allowed}" + (
            f" ({self.reason_fr})" if self.reason_fr else ""
        )
        super().__init__(en, fr)
        if reason_de or not reason_en:
            self.de = f"{name} = {value}: zulässig {allowed}" + (
                f" ({reason_de})" if reason_de else ""
            )
        else:
            self.de = en

    def message(self, lang: str = "en") -> str:
        """Return the message in ``lang`` (``"fr"``, ``"en"`` or ``"de"``)."""
        return self.de if lang.startswith("de") else super().message(lang)
