"""Toggle counts per net bit from a VCD file, inside a time window, glitch-free.

Within one simulation time step, only the value at the end of the step counts (a
zero-delay simulation can change a net several times in delta cycles; real gates would
mostly filter such glitches, and counting them would depend on event order).  A toggle is
a 0<->1 change between the settled values of consecutive time steps; changes to or from
x/z are not counted.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["toggle_counts", "timescale_ps"]

_UNITS_PS = {"s": 1e12, "ms": 1e9, "us": 1e6, "ns": 1e3, "ps": 1.0, "fs": 1e-3}


def timescale_ps(text: str) -> float:
    text = text.strip().replace(" ", "")
    num = "".join(ch for ch in text if ch.isdigit()) or "1"
    unit = text[len(num):] if text.startswith(num) else text.lstrip("0123456789")
    return float(num) * _UNITS_PS[unit]


def toggle_counts(path: Path, t0_ps: float, t1_ps: float) -> tuple[dict, dict]:
    """``({(name, bit_index): toggles}, {name: width})`` for the vars of the dump's first
    scope, counting settled changes at times in ``(t0_ps, t1_ps]``."""
    ids = {}              # id code -> [(name, width)]
    widths = {}
    scale = 1.0
    depth = 0
    counts = {}           # (id, bit) -> toggles; bit -1 for scalars
    settled = {}          # id -> value string (MSB first), settled at the previous step
    step = {}             # id -> value string changed in the current step
    time_ps = 0.0

    def commit():
        if t0_ps < time_ps <= t1_ps:
            for code, value in step.items():
                old = settled.get(code)
                if old is None or old == value:
                    continue
                if len(value) == 1:
                    if value in "01" and old in "01":
                        counts[code] = counts.get(code, 0) + 1
                    continue
                n = len(value)
                for k in range(n):
                    a, b = old[n - 1 - k], value[n - 1 - k]
                    if a != b and a in "01" and b in "01":
                        key = (code, k)
                        counts[key] = counts.get(key, 0) + 1
        settled.update(step)
        step.clear()

    with open(path) as f:
        header = True
        for line in f:
            if header:
                tokens = line.split()
                if not tokens:
                    continue
                if tokens[0] == "$timescale":
                    rest = " ".join(tokens[1:]).replace("$end", "").strip()
                    if not rest:
                        rest = next(f).strip()
                    scale = timescale_ps(rest)
                elif tokens[0] == "$scope":
                    depth += 1
                elif tokens[0] == "$upscope":
                    depth -= 1
                elif tokens[0] == "$var" and depth == 1:
                    width, code = int(tokens[2]), tokens[3]
                    name = tokens[4].lstrip("\\")
                    ids.setdefault(code, []).append((name, width))
                    widths[name] = width
                elif tokens[0] == "$enddefinitions":
                    header = False
                continue
            c = line[:1]
            if c == "#":
                commit()
                time_ps = int(line[1:]) * scale
            elif c in "01xzXZ":
                code = line[1:].strip()
                if code in ids:
                    step[code] = c.lower()
            elif c in "bB":
                value, code = line[1:].split()
                if code in ids:
                    value = value.lower()
                    width = ids[code][0][1]
                    if len(value) < width:
                        value = value.rjust(width, value[0] if value[0] in "xz" else "0")
                    step[code] = value
            # $dumpvars / $end / real values are ignored
    commit()
    toggles = {}
    for key, count in counts.items():
        code, k = key if isinstance(key, tuple) else (key, 0)
        for name, _ in ids[code]:
            toggles[(name, k)] = count
    return toggles, widths
