"""A small Liberty (.lib) reader: cell areas, pin capacitances, timing and internal-power tables.

Only what the reports need is interpreted (NLDM ``table_lookup`` delay tables, internal
energy tables, ``ff`` groups, leakage); the file is parsed into generic groups first, so an
unknown construct is skipped rather than misread.  Units are the library's own: for
``osu018_stdcells.lib`` time in ns, capacitance in pF, energy (internal power tables,
capacitance x voltage^2) in pJ, leakage in nW.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["Group", "Table", "Arc", "Pin", "Cell", "Library", "parse_groups", "load_library"]

_TOKEN = re.compile(r'\s+|/\*.*?\*/|//[^\n]*|\\\n|"(?:[^"\\]|\\.)*"|[{}();:,]|[^\s{}();:,"]+',
                    re.S)


@dataclass
class Group:
    kind: str
    args: list
    attrs: dict = field(default_factory=dict)      # simple and complex attributes
    groups: list = field(default_factory=list)

    def find(self, kind):
        return [g for g in self.groups if g.kind == kind]


def _tokens(text):
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if tok[0].isspace() or tok.startswith("/*") or tok.startswith("//") or tok == "\\\n":
            continue
        yield tok


def _unquote(tok):
    return tok[1:-1] if tok.startswith('"') else tok


def parse_groups(text: str) -> Group:
    """Parse Liberty text into nested :class:`Group` objects; returns the ``library`` group."""
    toks = list(_tokens(text))
    pos = 0

    def parse_body(group):
        nonlocal pos
        while pos < len(toks):
            name = toks[pos]
            if name == "}":
                pos += 1
                return
            pos += 1
            if toks[pos] == ":":                       # simple attribute
                pos += 1
                value = []
                while toks[pos] != ";" and toks[pos] != "}":
                    value.append(_unquote(toks[pos]))
                    pos += 1
                if toks[pos] == ";":
                    pos += 1
                group.attrs[name] = " ".join(value)
            elif toks[pos] == "(":                     # group or complex attribute
                pos += 1
                args = []
                while toks[pos] != ")":
                    if toks[pos] != ",":
                        args.append(_unquote(toks[pos]))
                    pos += 1
                pos += 1
                if pos < len(toks) and toks[pos] == "{":
                    pos += 1
                    child = Group(name, args)
                    parse_body(child)
                    group.groups.append(child)
                else:
                    if pos < len(toks) and toks[pos] == ";":
                        pos += 1
                    group.attrs.setdefault(name, args)
            else:                                      # stray token
                continue

    top = Group("<root>", [])
    parse_body(top)
    libs = top.find("library")
    if not libs:
        raise ValueError("not a Liberty file: no library group")
    return libs[0]


def _floats(values):
    return np.array([[float(x) for x in str(v).replace("\\", "").split(",") if x.strip()]
                     for v in values], dtype=float)


@dataclass
class Table:
    """A 1-D or 2-D lookup table; ``lookup(load, slew)`` interpolates bilinearly and
    extrapolates linearly outside the characterised range."""
    index_1: np.ndarray
    index_2: np.ndarray | None
    values: np.ndarray
    var_1: str
    var_2: str | None

    def __post_init__(self):
        # Plain Python lists: a lookup touches a handful of numbers, and scalar NumPy
        # operations would cost more than the arithmetic (STA does ~10^6 lookups).
        self._ax1 = [float(v) for v in np.asarray(self.index_1).ravel()]
        self._ax2 = (None if self.index_2 is None
                     else [float(v) for v in np.asarray(self.index_2).ravel()])
        values = np.asarray(self.values, dtype=float)
        self._rows = values.ravel().tolist() if self._ax2 is None else values.tolist()
        self._load_first = self.var_1 not in _SLEW_VARS

    def lookup(self, load: float, slew: float) -> float:
        """The value at output load ``load`` and input slew ``slew`` (each routed to the
        axis its template variable names)."""
        v1 = load if self._load_first else slew
        v2 = load if self.var_2 == "total_output_net_capacitance" else slew
        return self.at(v1, v2)

    def at(self, v1: float, v2: float = 0.0) -> float:
        """The value at ``index_1 = v1``, ``index_2 = v2`` (bilinear; linear outside)."""
        i, j, t = _bracket(self._ax1, v1)
        if self._ax2 is None:
            row = self._rows
            return row[i] + t * (row[j] - row[i])
        k, m, u = _bracket(self._ax2, v2)
        ri, rj = self._rows[i], self._rows[j]
        a = ri[k] + u * (ri[m] - ri[k])
        b = rj[k] + u * (rj[m] - rj[k])
        return a + t * (b - a)


_SLEW_VARS = {"input_net_transition", "input_transition_time", "related_pin_transition",
              "constrained_pin_transition"}


def _bracket(axis, v):
    """``(i, i + 1, t)``: the segment of ``axis`` around ``v`` (the end segments extend
    linearly) and the position in it."""
    n = len(axis)
    if n == 1:
        return 0, 0, 0.0
    i = min(max(bisect_left(axis, v) - 1, 0), n - 2)
    return i, i + 1, (v - axis[i]) / (axis[i + 1] - axis[i])


@dataclass
class Arc:
    related_pin: str
    timing_type: str                 # "combinational", "rising_edge", "setup_rising", ...
    tables: dict                     # cell_rise, cell_fall, rise_transition, ... -> Table


@dataclass
class Pin:
    name: str
    direction: str
    capacitance: float = 0.0
    function: str | None = None
    arcs: list = field(default_factory=list)
    power: list = field(default_factory=list)   # (related_pin or None, {"rise_power": Table, ...})


@dataclass
class Cell:
    name: str
    area: float
    leakage: float                   # library leakage unit (nW for osu018)
    pins: dict
    sequential: bool
    ff: dict | None = None           # the ``ff`` group: state vars, next_state, clocked_on, ...
    latch: dict | None = None        # the ``latch`` group: state vars, data_in, enable

    @property
    def inputs(self):
        return [p for p in self.pins.values() if p.direction == "input"]

    @property
    def outputs(self):
        return [p for p in self.pins.values() if p.direction == "output"]


@dataclass
class Library:
    name: str
    cells: dict
    voltage: float
    time_unit: str
    cap_unit: str
    path: Path

    def cell(self, name: str) -> Cell:
        if name not in self.cells:
            raise KeyError(f"cell {name!r} is not in the library {self.name}")
        return self.cells[name]


def _table(group, templates):
    tmpl = templates.get(group.args[0] if group.args else "", {})
    idx1 = group.attrs.get("index_1", tmpl.get("index_1"))
    idx2 = group.attrs.get("index_2", tmpl.get("index_2"))
    values = _floats(group.attrs["values"])
    i1 = _floats(idx1).ravel() if idx1 is not None else np.arange(values.shape[-1], dtype=float)
    i2 = _floats(idx2).ravel() if idx2 is not None else None
    var1, var2 = tmpl.get("variable_1"), tmpl.get("variable_2")
    if i2 is None:
        values = values.ravel()
        if len(values) != len(i1):  # a 1-D table written as one row
            i1 = np.arange(len(values), dtype=float)
        return Table(i1, None, values, var1, None)
    return Table(i1, i2, values.reshape(len(i1), len(i2)), var1, var2)


def _build(lib: Group, path: Path) -> Library:
    templates = {}
    for kind in ("lu_table_template", "power_lut_template"):
        for g in lib.find(kind):
            templates[g.args[0]] = {k: g.attrs.get(k) for k in
                                    ("variable_1", "variable_2", "index_1", "index_2")}
    cells = {}
    for cg in lib.find("cell"):
        pins = {}
        for pg in cg.find("pin"):
            pin = Pin(pg.args[0], pg.attrs.get("direction", "input"),
                      float(pg.attrs.get("capacitance", 0) or 0), pg.attrs.get("function"))
            for tg in pg.find("timing"):
                tables = {t.kind: _table(t, templates) for t in tg.groups if "values" in t.attrs}
                pin.arcs.append(Arc(tg.attrs.get("related_pin", ""),
                                    tg.attrs.get("timing_type", "combinational"), tables))
            for ig in pg.find("internal_power"):
                tables = {t.kind: _table(t, templates) for t in ig.groups if "values" in t.attrs}
                pin.power.append((ig.attrs.get("related_pin"), tables))
            pins[pin.name] = pin
        ffs = cg.find("ff")
        ff = ({"vars": tuple(ffs[0].args), **{k: ffs[0].attrs.get(k) for k in
                                               ("next_state", "clocked_on", "clear", "preset")}}
              if ffs else None)
        latches = cg.find("latch")
        latch = ({"vars": tuple(latches[0].args), **{k: latches[0].attrs.get(k) for k in
                                                     ("data_in", "enable", "clear", "preset")}}
                 if latches else None)
        cells[cg.args[0]] = Cell(cg.args[0], float(cg.attrs.get("area", 0)),
                                 float(cg.attrs.get("cell_leakage_power", 0) or 0), pins,
                                 bool(ffs or latches), ff, latch)
    oc = lib.find("operating_conditions")
    voltage = float(lib.attrs.get("nom_voltage") or (oc[0].attrs.get("voltage") if oc else 0))
    cap = lib.attrs.get("capacitive_load_unit")
    return Library(lib.args[0], cells, voltage, lib.attrs.get("time_unit", "1ns"),
                   "".join(cap) if isinstance(cap, list) else str(cap), path)


@lru_cache(maxsize=4)
def load_library(path: str | Path) -> Library:
    path = Path(path)
    return _build(parse_groups(path.read_text()), path)
