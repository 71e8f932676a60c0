"""The progress of a long run of counted items (a synthesis sweep, the headline's designs,
an experiment's layers), written once.

On a terminal it is a tqdm bar on stderr; anywhere else (a CI log, a pipe, a test) one
line per finished item, as before: logs and tests read those lines.  A caller that passes
its own ``lines`` callable always gets lines.

    with Progress(len(designs), "synth") as tell:
        for ...:
            tell(f"[synth {k}/{n}] {label} ...", label=label)
"""

from __future__ import annotations

import sys
from typing import Callable

__all__ = ["Progress"]


def _print(line: str) -> None:
    print(line, flush=True)


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):        # replaced or closed streams
        return False


class Progress:
    """``tell(line, label=None, keep=False)`` once per finished item of ``total``.

    Parameters
    ----------
    total : the number of items.
    desc : the bar's name (``synth``, ``headline``, ...); ``unit``: what an item is.
    lines : where the lines go (a callable taking one line); default ``print`` to stdout.
    bar : a tqdm bar instead of the lines; default: when stderr is a terminal and ``lines``
        was not given.  The bar shows the last item's ``label``; a ``keep`` line (an
        error) is written above it all the same.
    """

    def __init__(self, total: int, desc: str, *, unit: str = "design",
                 lines: Callable[[str], object] | None = None, bar: bool | None = None):
        if bar is None:
            bar = lines is None and _is_terminal(sys.stderr)
        self._lines = lines or _print
        self._bar = None
        if bar:
            from tqdm import tqdm
            self._bar = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr,
                             dynamic_ncols=True)

    def __call__(self, line: str, *, label: str | None = None, keep: bool = False) -> None:
        if self._bar is None:
            self._lines(line)
            return
        if keep:
            self._bar.write(line, file=sys.stderr)
        if label:
            self._bar.set_postfix_str(label, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
