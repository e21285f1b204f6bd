"""ipywidgets consoles of the virtual scanners, for the Voilà dashboards.

``build_mr_console()`` and ``build_pet_console()`` return the root widget of a trainee
console; :class:`ConsoleSession` is the model behind each (no widgets), driven by the
widgets, the mentoring link and the exercise panel through the same commands.
"""

from simulator.console.session import ConsoleSession

__all__ = ["build_mr_console", "build_pet_console", "ConsoleSession"]


def build_mr_console(lang=None, exercise=None, seed=1):  # noqa: ANN001, ANN201
    """Build the trainee MR console (see :func:`simulator.console.mr_console.build_mr_console`)."""
    from simulator.console.mr_console import build_mr_console as build

    return build(lang=lang, exercise=exercise, seed=seed)


def build_pet_console(lang=None, exercise=None, seed=1):  # noqa: ANN001, ANN201
    """Build the trainee PET console (see :func:`simulator.console.pet_console.build_pet_console`)."""
    from simulator.console.pet_console import build_pet_console as build

    return build(lang=lang, exercise=exercise, seed=seed)
