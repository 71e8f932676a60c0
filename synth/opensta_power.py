"""OpenSTA's ``report_power`` as a second pricing of a design's energy, fed our activities.

:func:`opensta_power` runs ``sta`` (Debian's OpenSTA 2.0.17, as :mod:`synth.opensta`) on
one mapped netlist with our assumptions: the constraints of
:func:`synth.opensta.write_sdc` at the clock period the activities were measured at
(1.8 V typical library, :data:`synth.netlist.OUTPUT_LOAD_PF` on every output, input slew
:data:`synth.sta.INPUT_SLEW_NS`, and here also :data:`synth.sta.CLOCK_SLEW_NS` on the clock
port, where :mod:`synth.sta` starts its clock tree), the wire load of :mod:`synth.opensta`
(:data:`synth.netlist.WIRE_CAP_PER_FANOUT_PF` per load pin, set per net), and on every pin
of every net the activity of our zero-delay gate simulation
(:func:`simulate_activity`, :func:`activities_from_toggles`).  It prices the design twice
in one run: with those activities (``active``) and with every data activity 0 (``idle``:
the clock network and leakage).  Components per cycle: ``switching`` and ``internal`` =
active - idle (the data nets), ``clock`` = idle switching + internal, ``leakage``;
:func:`compare_energy` divides them by ours (:func:`synth.flow.measure_energy`).

Activity semantics of this build (its ``search/Power.cc`` and ``tcl/Power.tcl``, and runs):

* ``set_power_activity -activity a -duty d``, ``sta::set_power_pin_activity pin a d``: ``a``
  is transitions **per clock period** of the clock whose paths reach the pin (OpenSTA
  divides it by that period to get transitions per second; a pin no clocked path reaches
  keeps ``a`` as per second); ``d`` is the probability that the signal is 1.  Ours, per
  net: ``a = toggles / cycles`` of the measurement window, ``d`` = the fraction of its
  cycles whose settled value is 1, at the testbench clock
  (:data:`quantrtl.vectors.CLOCK_PERIOD_NS`).  ``d`` only weighs a multi-input cell's
  related pins (below); this library has no ``when`` conditions.
* Clock-network pins (the root clock, the clock tree, gated clocks) are fixed at 2
  transitions per period, duty 0.5, whatever is set: a gated clock is priced as if it ran
  every cycle, so the gated (``icg``) view's clock is not comparable.
* ``set_power_activity -pins`` is broken in this build (its Tcl calls a missing command),
  so the script calls ``sta::set_power_pin_activity`` on each pin of each net.
* Before pricing, 2.0.17 propagates activities from the data input ports through the
  logic (probabilistically, every cell input taken as independent) and overwrites what
  was set on the pins of that fan-out, up to the register inputs (half the nets of a
  small design); upstream lets user activities win since ``ae3da179`` (2020-08).  The
  script declares the data inputs clock sources whose clock stops at the port
  (``set_sense -type clock -stop_propagation``): roots that are clocks are not
  propagated from, and nothing behind them becomes a clock, so every data pin keeps our
  figure (``origins`` in the result: ``user`` or ``clock`` only) and slews, loads and
  delays stay as they were.

Pricing of this build against ours (:mod:`synth.energy`), per cycle:

* switching ``1/2 C V^2 a`` per cell output, ``C`` the load pins' liberty capacitance
  plus the wire and output loads: ours to 0.2 %; but OpenSTA does not price the nets a
  primary input drives (no cell drives them), the root clock net included, where ours does
  (:func:`unpriced_switching_pj`);
* internal energy of an output: per related input pin, ``w (E_rise + E_fall) a``, the
  tables at OpenSTA's own slew and the load, with a weight ``w``: 1 behind a clock pin,
  ``a_in / a_out x P(the other inputs pass it)`` where 2.0.17 can infer that condition
  from the function, 0.5 where it cannot (the ``A``, ``B`` of an AOI21, OAI21).  Ours is
  ``(E_rise + E_fall) / 2`` per output toggle, averaged over the related pins: 2.0.17
  charges a transition about twice ours (the sum of rise and fall, not their mean), and a
  multi-input cell's weights need not sum to 1 (upstream takes the mean and normalises the
  weights since ``77d507d0``/``2bcd61a5``, 2020-04/05);
* internal energy of an input pin (flip-flop ``D`` and ``CLK``): ``w (E_rise + E_fall) a``
  with ``w = 0.5`` on a data pin (our figure) and ``1`` on a clock pin, whose 2 transitions
  per period then cost ``2 (E_rise + E_fall)`` per cycle, twice ours;
* leakage: ``cell_leakage_power`` of every cell, as ours.

``average_rise_fall=True`` runs OpenSTA on a copy of the liberty whose output and clock-pin
internal-power tables are halved (:func:`mean_rise_fall_liberty`), which turns 2.0.17's
sum into the mean that upstream and ours take; what then remains between the two is the
weighting of related pins and the slews (ours: the worse of rise and fall from our STA).

Units: OpenSTA reports watts; energy per cycle ``E = P T`` in pJ (W x ns x 1e3).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .netlist import CLOCK_PORTS, WIRE_CAP_PER_FANOUT_PF
from .opensta import (WIRE_LOAD_PROC, _has_clock_port, _tcl, opensta_status, run_sta,
                      write_sdc)
from .sta import CLOCK_SLEW_NS

__all__ = ["opensta_power", "run_opensta_power", "OpenSTAPowerError", "Activity",
           "simulate_activity", "activities_from_toggles", "net_names",
           "unpriced_switching_pj", "compare_energy", "mean_rise_fall_liberty",
           "write_activities", "POWER_COMPONENTS", "TIMEOUT_S"]

TIMEOUT_S = 900
POWER_COMPONENTS = ("switching", "internal", "clock", "leakage", "total")
_GROUPS = ("total", "sequential", "combinational", "macro", "pad")
_FIELDS = ("internal", "switching", "leakage", "total")


class OpenSTAPowerError(RuntimeError):
    """OpenSTA failed, timed out or printed no power."""


# -- the OpenSTA run ----------------------------------------------------------------------

_SCRIPT = """\
# quantrtl synth.opensta_power: power of {netlist_name} with our activities.
read_liberty {liberty}
read_verilog {netlist}
link_design {top}
read_sdc {sdc}
{clock_slew}
# Wire load, as synth.opensta: {wire_pf:g} pF per load pin on every net.
{wire_load_proc}
# "name transitions_per_period duty" per line -> dict name -> {{activity duty}}.
proc quantrtl_read_activities {{path}} {{
  set acts [dict create]
  set f [open $path r]
  foreach line [split [read $f] "\\n"] {{
    set words [regexp -all -inline {{\\S+}} $line]
    if {{[llength $words] == 3}} {{ dict set acts [lindex $words 0] [lrange $words 1 2] }}
  }}
  close $f
  return $acts
}}

# Every pin of every net named in acts gets scale x its activity, and its duty; a net not
# named there (a constant's, or one our names missed: reported) activity 0, duty 0.
proc quantrtl_set_activities {{acts scale}} {{
  set nets 0
  set pins 0
  set found [dict create]
  set unnamed [list]
  foreach net [get_nets *] {{
    set name [get_full_name $net]
    if {{[dict exists $acts $name]}} {{
      lassign [dict get $acts $name] activity duty
      set activity [expr {{$scale * $activity}}]
      dict set found $name 1
      incr nets
    }} else {{
      lassign {{0.0 0.0}} activity duty
      lappend unnamed $name
    }}
    set it [$net connected_pin_iterator]
    while {{[$it has_next]}} {{
      sta::set_power_pin_activity [$it next] $activity $duty
      incr pins
    }}
    $it finish
  }}
  set missing [list]
  foreach name [dict keys $acts] {{
    if {{![dict exists $found $name]}} {{ lappend missing $name }}
  }}
  return [list $nets $pins $missing $unnamed]
}}

puts "QUANTRTL version [sta::version]"
puts "QUANTRTL wire_loads [quantrtl_wire_load {wire_pf:g}]"
# 2.0.17 overwrites the activities set in the fan-out of the data inputs with its own
# propagation from them, unless they are clock sources (not seeded) whose clock stops at
# the port (their fan-out stays data): a clock that reaches nothing, slews and arrivals
# unchanged; at the clock's period (a longer one makes latch paths slow to search).
set quantrtl_data_in {data_inputs}
if {{[llength $quantrtl_data_in]}} {{
  create_clock -name quantrtl_no_propagation -period {period:g} $quantrtl_data_in
  set_sense -type clock -stop_propagation $quantrtl_data_in
}}
set_power_activity -input -activity 0 -duty 0
set acts [quantrtl_read_activities {activities}]
lassign [quantrtl_set_activities $acts 1.0] nets pins missing unnamed
puts "QUANTRTL nets_set $nets"
puts "QUANTRTL pins_set $pins"
puts "QUANTRTL missing [llength $missing] [lrange $missing 0 9]"
puts "QUANTRTL unnamed [llength $unnamed] [lrange $unnamed 0 9]"
set corner [sta::cmd_corner]
puts "QUANTRTL active [sta::design_power $corner]"
# Where each cell pin's activity came from: user (ours), clock, propagated, input (default).
set origins [dict create]
foreach pin [get_pins */*] {{
  if {{[get_property $pin direction] ne "internal"}} {{
    dict incr origins [lindex [get_property $pin activity] 2]
  }}
}}
puts "QUANTRTL origins $origins"
report_power -digits 6 > {report}
quantrtl_set_activities $acts 0.0
puts "QUANTRTL idle [sta::design_power $corner]"
"""


def write_activities(path: Path, activities: dict) -> Path:
    """``activities`` (``{net: (transitions per period, duty)}``) as the script reads them,
    one net a line; a name with white space cannot be looked up and is refused."""
    lines = []
    for name, (activity, duty) in sorted(activities.items()):
        if re.search(r"\s", name) or not name:
            raise ValueError(f"net name {name!r} has white space")
        if not (math.isfinite(activity) and activity >= 0 and 0 <= duty <= 1):
            raise ValueError(f"net {name}: activity={activity}, duty={duty} is out of range: "
                             f"allowed activity >= 0, duty [0, 1]")
        lines.append(f"{name} {activity:.9g} {duty:.6g}\n")
    Path(path).write_text("".join(lines))
    return Path(path)


def _powers(words: list) -> dict:
    """``sta::design_power``'s 20 numbers -> ``{group: {field: W}}``."""
    values = [float(w) for w in words]
    if len(values) != len(_GROUPS) * len(_FIELDS):
        raise ValueError(f"{len(values)} numbers")
    return {g: dict(zip(_FIELDS, values[4 * k:4 * k + 4])) for k, g in enumerate(_GROUPS)}


def _pj(watts: float, period_ns: float) -> float:
    return watts * period_ns * 1e3               # W x ns = 1e-9 J = 1e3 pJ


def mean_rise_fall_liberty(liberty: Path, out: Path) -> Path:
    """A copy of ``liberty`` at ``out`` with every ``rise_power``/``fall_power`` table of an
    output pin's or a clock pin's ``internal_power`` halved: where 2.0.17 charges such a
    transition ``w (E_rise + E_fall)``, OpenSTA then charges ``w (E_rise + E_fall) / 2``,
    the mean of the two tables, as upstream OpenSTA (since 2020) and :mod:`synth.energy`
    do.  Data input pins (a flip-flop's ``D``: 2.0.17 already takes half the sum there),
    capacitances, delays and leakage are unchanged."""
    text = Path(liberty).read_text()
    parts, pos = [], 0
    for start, body_start, end in _groups(text, "pin"):
        if start < pos:                          # a pin inside a pin: not in a liberty
            continue
        body = text[body_start:end]
        own = _strip_groups(body)
        direction = re.search(r"\bdirection\s*:\s*(\w+)", own)
        clock = re.search(r"\bclock\s*:\s*true\b", own)
        if (direction and direction.group(1) == "output") or clock:
            body = _POWER_VALUES.sub(_halve_values, body)
        parts += [text[pos:body_start], body]
        pos = end
    Path(out).write_text("".join(parts) + text[pos:])
    return Path(out)


_POWER_VALUES = re.compile(r"((?:rise|fall)_power\s*\([^)]*\)\s*\{[^{}]*?\bvalues\s*\()"
                           r"([^)]*)\)")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _halve_values(match) -> str:
    halved = _NUMBER.sub(lambda n: f"{float(n.group(0)) / 2:.9g}", match.group(2))
    return f"{match.group(1)}{halved})"


def _groups(text: str, kind: str):
    """``(start, body start, body end)`` of every ``kind (...) { ... }`` group in
    ``text`` (the body ends before its closing brace)."""
    for m in re.finditer(rf"\b{kind}\s*\([^)]*\)\s*\{{", text):
        depth, k = 1, m.end()
        while depth:
            if k >= len(text):
                raise ValueError(f"unbalanced braces in the {kind} group at {m.start()}")
            c = text[k]
            if c == '"':
                k = text.index('"', k + 1)
            depth += (c == "{") - (c == "}")
            k += 1
        yield m.start(), m.end(), k - 1


def _strip_groups(body: str) -> str:
    """``body`` without its nested groups: the group's own attributes."""
    while True:
        stripped = re.sub(r"\{[^{}]*\}", "", body)
        if stripped == body:
            return body
        body = stripped


def run_opensta_power(netlist_v: Path, top: str, liberty: Path, work: Path, *,
                      period_ns: float, activities: dict, clock: str | None = "auto",
                      average_rise_fall: bool = False, timeout: float = TIMEOUT_S) -> dict:
    """OpenSTA's power of ``netlist_v`` (top module ``top``, cells of ``liberty``) with
    ``activities`` (``{net name as in netlist_v: (transitions per clock period, duty)}``;
    nets left out get 0) at a clock of ``period_ns``; files ``<stem>-power.*`` in ``work``.
    ``clock``: the clock port (``"auto"``: the first of :data:`synth.netlist.CLOCK_PORTS`
    the netlist has; ``None``: a virtual clock).  ``average_rise_fall``: price output and
    clock-pin transitions at the mean of the rise and fall tables
    (:func:`mean_rise_fall_liberty`) instead of this build's sum.
    :class:`OpenSTAPowerError` if it fails.

    Returns (powers in W, energies per cycle in pJ, ``E = P x period_ns``):
    ``switching_w``, ``internal_w``, ``leakage_w``, ``total_w`` of the run with our
    activities; ``idle_w`` the same four with every data activity 0 (the clock network
    alone, and leakage); ``groups_w`` OpenSTA's sequential/combinational split;
    ``pj_per_cycle`` the components of :data:`POWER_COMPONENTS`: ``switching`` and
    ``internal`` = active - idle (the data part), ``clock`` = idle internal + switching,
    ``leakage``, ``total`` = active total; ``nets_set``/``pins_set``, ``missing`` (our
    names no net has) and ``unnamed`` (nets none of our names has: constants, such as
    OpenSTA's ``zero_``, else a naming fault; priced at activity 0) how our names matched
    the netlist's nets; ``origins`` where OpenSTA took the activity of each
    cell pin (internal state pins left out) from: ``user`` ours, ``clock`` the clock
    network's 2 per period; ``propagated`` (OpenSTA's own estimate) or ``input`` (the
    default, 0) would be a pin our activities missed."""
    if not period_ns > 0:
        raise ValueError(f"period_ns={period_ns} is out of range: allowed (0, inf)")
    netlist_v, work = Path(netlist_v), Path(work)
    work.mkdir(parents=True, exist_ok=True)
    stem = netlist_v.stem + "-power"
    if clock == "auto":
        clock = next((c for c in CLOCK_PORTS if _has_clock_port(netlist_v, c)), None)
    if average_rise_fall:
        liberty = mean_rise_fall_liberty(liberty, work / f"{Path(liberty).stem}-mean.lib")
    sdc = write_sdc(work / f"{stem}.sdc", period_ns=period_ns, clock=clock)
    acts = write_activities(work / f"{stem}-activities.txt", activities)
    script = work / f"{stem}.tcl"
    data_inputs = (f"[delete_from_list [all_inputs] [get_ports {_tcl(clock)}]]" if clock
                   else "[all_inputs]")
    script.write_text(_SCRIPT.format(wire_load_proc=WIRE_LOAD_PROC,
        netlist_name=netlist_v.name, liberty=_tcl(Path(liberty).resolve()),
        netlist=_tcl(netlist_v.resolve()), top=_tcl(top), sdc=_tcl(sdc.resolve()),
        wire_pf=WIRE_CAP_PER_FANOUT_PF, activities=_tcl(acts.resolve()),
        data_inputs=data_inputs, period=period_ns, report=_tcl(f"{stem}.rpt"),
        clock_slew=(f"# The clock port's slew (the clock pins' internal power): "
                    f"synth.sta's.\nset_input_transition "
                    f"{CLOCK_SLEW_NS:g} [get_ports {_tcl(clock)}]\n" if clock else "")))
    log = work / f"{stem}.log"
    proc = run_sta(script, log, timeout=timeout, what=str(netlist_v), error=OpenSTAPowerError)
    text = proc.stdout + proc.stderr
    values = {}
    for line in proc.stdout.splitlines():
        if line.startswith("QUANTRTL "):
            key, _, value = line[len("QUANTRTL "):].partition(" ")
            values[key] = value.split()
    errors = [line for line in text.splitlines() if line.startswith("Error")]
    try:
        if proc.returncode or errors:
            raise ValueError("; ".join(errors[:3]) or text.strip()[-300:])
        active, idle = _powers(values["active"]), _powers(values["idle"])
        nets, pins = int(values["nets_set"][0]), int(values["pins_set"][0])
        missing, unnamed, words = values["missing"], values["unnamed"], values["origins"]
        origins = {words[k]: int(words[k + 1]) for k in range(0, len(words), 2)}
    except (KeyError, ValueError, IndexError) as exc:
        raise OpenSTAPowerError(f"OpenSTA power failed on {netlist_v} (exit "
                                f"{proc.returncode}): {exc}; log {log}") from None
    a, i = active["total"], idle["total"]
    parts = {"switching": a["switching"] - i["switching"],
             "internal": a["internal"] - i["internal"],
             "clock": i["internal"] + i["switching"],
             "leakage": a["leakage"], "total": a["total"]}
    return {
        "version": f"OpenSTA {values.get('version', ['?'])[0]}", "period_ns": period_ns,
        "average_rise_fall": average_rise_fall,
        **{f"{k}_w": a[k] for k in _FIELDS},
        "total_pj_per_cycle": _pj(a["total"], period_ns),
        "idle_w": dict(i),
        "groups_w": {g: active[g] for g in ("sequential", "combinational")},
        "pj_per_cycle": {k: _pj(v, period_ns) for k, v in parts.items()},
        "nets_set": nets, "pins_set": pins,
        "missing": {"count": int(missing[0]), "first": missing[1:]},
        "unnamed": {"count": int(unnamed[0]), "first": unnamed[1:]},
        "origins": origins,
    }


def opensta_power(netlist_v: Path, top: str, liberty: Path, work: Path, **kwargs) -> dict:
    """:func:`run_opensta_power`, or ``{"skipped": reason}`` where OpenSTA is unavailable
    (:func:`synth.opensta.opensta_status`), or ``{"error": message}`` where it failed; never
    raises for either."""
    available, reason = opensta_status()
    if not available:
        return {"skipped": reason}
    try:
        return run_opensta_power(netlist_v, top, liberty, work, **kwargs)
    except (OpenSTAPowerError, ValueError, OSError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


# -- our activities -----------------------------------------------------------------------

def net_names(netlist_json, top: str | None = None) -> dict:
    """``{yosys bit: [net names]}``: the names each bit of the netlist JSON (a path or the
    parsed document) has in the netlist Verilog Yosys wrote beside it, which OpenSTA reads:
    a one-bit net at offset 0 by its name, a bus bit as ``name[index]`` (index from the
    net's ``offset`` and ``upto``, as ``write_verilog`` numbers it).  The flow renamed every
    private net to a public ``_N_`` (:mod:`synth.yosys`), so the two files agree; an
    escaped Verilog name (``\\cts_0.Y``) is the JSON name, the one OpenSTA reports, except
    that the JSON keeps the backslash of a public name that starts with ``$`` (``\\$101``,
    OpenSTA's ``$101``)."""
    data = netlist_json if isinstance(netlist_json, dict) else json.loads(
        Path(netlist_json).read_text())
    modules = data["modules"]
    top = top or next(n for n, m in modules.items() if m.get("attributes", {}).get("top"))
    out: dict = {}
    for name, net in modules[top]["netnames"].items():
        name = name[1:] if name.startswith("\\") else name
        bits, offset = net["bits"], int(net.get("offset", 0))
        upto = bool(net.get("upto", 0))
        for k, bit in enumerate(bits):
            if isinstance(bit, str):
                continue
            if len(bits) == 1 and offset == 0:
                full = name
            else:
                full = f"{name}[{offset + (len(bits) - 1 - k if upto else k)}]"
            out.setdefault(bit, []).append(full)
    return out


def activities_from_toggles(names: dict, per_bit: dict, cycles: int,
                            high: dict | None = None) -> dict:
    """``{net name: (transitions per cycle, duty)}`` for every bit of ``names``
    (:func:`net_names`): ``per_bit[bit] / cycles`` (toggles of the window, absent = 0) and
    ``high[bit] / cycles`` (cycles the settled value was 1; absent = 0.5, OpenSTA's
    default), clipped to [0, 1]."""
    if cycles <= 0:
        raise ValueError(f"cycles={cycles} is out of range: allowed [1, inf)")
    out = {}
    for bit, aliases in names.items():
        activity = per_bit.get(bit, 0) / cycles
        duty = 0.5 if high is None else min(1.0, max(0.0, high.get(bit, 0) / cycles))
        for name in aliases:
            out[name] = (activity, duty)
    return out


def unpriced_switching_pj(net, per_bit: dict) -> dict:
    """Our switching energy (pJ over the window, ``sum 1/2 C V^2 toggles`` with
    :meth:`synth.netlist.Netlist.load_cap`) of the nets a primary input drives, which
    OpenSTA does not price (no cell drives them): ``inputs``, the data inputs (part of our
    ``switching_pj``), and ``clock_root``, the root clock (part of our ``clock_pj``)."""
    v2 = net.library.voltage ** 2
    out = {"inputs": 0.0, "clock_root": 0.0}
    for bit, count in per_bit.items():
        if net.driver.get(bit, ("",))[0] == "port":
            key = "clock_root" if bit in net.clock_bits else "inputs"
            out[key] += 0.5 * net.load_cap(bit) * v2 * count
    return out


@dataclass
class Activity:
    """One gate-level run of a design's workload: ``per_bit`` toggles and ``high`` cycles
    at 1 per Yosys bit over ``cycles`` counted cycles, the netlist, its files, and our energy
    of that run (:meth:`synth.energy.EnergyReport.as_dict`, as ``measure_energy`` prices
    it)."""
    net: object
    per_bit: dict
    high: dict
    cycles: int
    period_ns: float
    netlist_json: Path
    netlist_v: Path
    energy: dict

    def activities(self) -> dict:
        """:func:`activities_from_toggles` of this run, named as in ``netlist_v``."""
        return activities_from_toggles(net_names(self.netlist_json, self.net.top),
                                       self.per_bit, self.cycles, self.high)

    @property
    def unpriced_pj(self) -> dict:
        """:func:`unpriced_switching_pj` of this run."""
        return unpriced_switching_pj(self.net, self.per_bit)


def _duty_sim(net):
    """A :class:`synth.gatesim.GateLevelSim` that also counts, per net, the counted cycles
    whose settled value is 1."""
    from .gatesim import GateLevelSim

    class DutySim(GateLevelSim):
        def clear(self):
            self.high = np.zeros(self.size, dtype=np.int64)
            super().clear()

        def start_counting(self):
            super().start_counting()
            self.high[:] = 0

        def evaluate(self):
            super().evaluate()
            if self._prev is not None:
                self.high += self.v

        def bit_high(self) -> dict:
            nz = np.nonzero(self.high)[0]
            return {self.bits[k]: int(self.high[k]) for k in nz if self.bits[k] is not None}

    return DutySim(net)


def simulate_activity(design, synth: dict, *, gating: str = "none", n: int = 64,
                      seed: int = 1, workload: tuple | None = None) -> Activity | None:
    """The native gate-level run of :func:`synth.flow.measure_energy` again, for one view
    of a synthesized design (``synth``: :func:`synth.flow.synthesize`'s result, or any dict
    whose ``work`` is its work directory), keeping the per-net toggles it does not return,
    and each net's duty; ``None`` if the block has no workload.  Uses the flow's own steps
    (``energy_inputs``, ``_load_netlist``, ``_native_activity``, ``energy_components``,
    the saved slews), so the toggles and ``energy`` are those of ``measure_energy``'s native
    run with the same arguments; outputs are checked against the golden model."""
    from quantrtl.vectors import CLOCK_PERIOD_NS

    from . import flow
    from .components import attribute
    from .energy import energy_from_toggles
    lib_path, _, work, (json_name, verilog_name), mode, payload, info = flow.energy_inputs(
        design, synth, gating, workload, n, seed)
    if mode is None:
        return None
    net = flow._load_netlist(work / json_name, lib_path, design.top)
    sim = _duty_sim(net)
    per_bit, cycles = flow._native_activity(design, net, mode, payload, info, seed, sim=sim)
    slews = {int(k): v for k, v in json.loads((work / flow.SLEWS[gating]).read_text()).items()}
    owners = attribute(net, flow.energy_components(design))
    report = energy_from_toggles(net, per_bit, cycles, CLOCK_PERIOD_NS, slews,
                                 component=lambda inst: owners[id(inst)])
    return Activity(net, per_bit, sim.bit_high(), cycles, CLOCK_PERIOD_NS, work / json_name,
                    work / verilog_name, report.as_dict())


# -- the cross-check ----------------------------------------------------------------------

def compare_energy(ours: dict, theirs: dict, *, unpriced_pj: dict | None = None) -> dict:
    """OpenSTA / ours per component and cycle.  ``ours``: :func:`synth.flow.measure_energy`'s
    result (or :attr:`Activity.energy`; pJ over ``cycles``), ``theirs``:
    :func:`opensta_power`'s.  Ours per cycle: ``switching`` = ``switching_pj`` (data nets,
    primary inputs included), ``internal`` = ``internal_comb_pj + internal_seq_pj``,
    ``clock`` = ``clock_pj``, ``leakage``, ``total``, each divided by ``cycles``.
    ``unpriced_pj`` (:attr:`Activity.unpriced_pj`, pJ over the window): also compare
    without what OpenSTA does not price, ``switching_cells`` = switching - inputs,
    ``clock_cells`` = clock - clock_root and ``total_cells`` = total - both.  Returns
    ``{"ours": {...}, "opensta": {...}, "ratio": {...}}`` (pJ per cycle; a ratio is
    ``None`` where ours is 0), or ``theirs`` itself where it was skipped or failed."""
    if "skipped" in theirs or "error" in theirs:
        return dict(theirs)
    cycles = ours["cycles"]
    mine = {"switching": ours["switching_pj"],
            "internal": ours["internal_comb_pj"] + ours["internal_seq_pj"],
            "clock": ours["clock_pj"], "leakage": ours["leakage_pj"],
            "total": ours["total_pj"]}
    other = dict(theirs["pj_per_cycle"])
    if unpriced_pj is not None:
        mine["switching_cells"] = mine["switching"] - unpriced_pj["inputs"]
        mine["clock_cells"] = mine["clock"] - unpriced_pj["clock_root"]
        mine["total_cells"] = mine["total"] - unpriced_pj["inputs"] - unpriced_pj["clock_root"]
        other.update(switching_cells=other["switching"], clock_cells=other["clock"],
                     total_cells=other["total"])
    mine = {k: v / cycles for k, v in mine.items()}
    ratio = {k: (other[k] / v if v else None) for k, v in mine.items()}
    return {"ours": mine, "opensta": other, "ratio": ratio}
