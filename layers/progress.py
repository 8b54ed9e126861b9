"""How a long job (an import, a summary, building the sample) says how far it has got."""

from __future__ import annotations

from collections.abc import Callable

#: Called with the fraction done (0 to 1) and what is being done now: the CLI prints a line, the
#: page moves a bar.
Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """Progress nobody watches (the default when no caller asks)."""
    return None
