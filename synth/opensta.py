"""OpenSTA, the timing engine of record: one mapped netlist, our constraints, fmax.

:func:`opensta_timing` writes an SDC and a Tcl script into the design's work directory,
runs ``sta -no_init -no_splash -exit`` on them (Debian's ``opensta``, installed by
``make opensta``) and parses what it prints.  Where ``sta`` is missing
(:func:`opensta_status`) the result is ``{"skipped": reason}``; nothing here raises for
that.

Constraints (``<netlist>.sdc``), the assumptions of :mod:`synth.sta` as nearly as OpenSTA
states them:

* one clock ``clk`` at the flow's target period (:data:`synth.yosys.DELAY_TARGET_PS`,
  10 ns), **ideal** (no ``set_propagated_clock``): every clock pin sees the clock edge at
  time 0 with slew :data:`CLOCK_SLEW_NS`, so the clock tree's buffers and the gating cells'
  ANDs add no latency and no skew (our STA adds both as clock latency; what that and the
  rest change is measured in ``tests/test_opensta.py``);
* inputs: ``set_input_delay 0`` and ``set_input_transition`` :data:`INPUT_SLEW_NS`;
  outputs: ``set_output_delay 0`` (required at the next edge) and ``set_load``
  :data:`synth.netlist.OUTPUT_LOAD_PF` on every output port;
* wire load: OpenSTA's wire-load models need tables the library does not have, so the
  script counts the load pins of every net of the linked netlist (cell inputs and output
  ports) and puts :data:`synth.netlist.WIRE_CAP_PER_FANOUT_PF` per load on the net with
  ``set_load`` (a net's wire capacitance).  With the pins' own capacitances that is our
  :meth:`synth.netlist.Netlist.load_cap` exactly, except that OpenSTA takes the liberty's
  ``rise_capacitance``/``fall_capacitance`` per transition where we take ``capacitance``
  (the larger of the two within 1.1 % of our load on every data net of dnateq, requant
  and huffman);
* delays: OpenSTA's own NLDM delay calculation with rise and fall (and their unateness)
  kept apart, where ours takes the worse of the two at every arc.

Latches (the clock-gating cells of :mod:`synth.clockgate`: ``LATCH`` enabled by the
inverted clock, then ``AND2X2`` with the clock): nothing is disabled.  OpenSTA sees a
positive level-sensitive latch on ``clk'`` (open from the falling edge of ``clk`` to the
next rising one) and infers a clock-gating check on the AND (its enable input must settle
before the rising clock edge).  An enable that arrives while the latch is open borrows
time, up to the latch's closing edge less its ``setup_falling`` (what our STA checks), and
must then also pass the latch's D-to-Q arc in time for the gating check; one that arrives
before the latch opens is launched again by the opening edge (half a cycle plus
``CLK``-to-``Q`` before the gating check).  Those are the real constraints of a latch-based
gating cell: the first is ours, the two others OpenSTA's own and, in the designs measured,
never the limit.  A borrowing latch shows slack 0 (``worst_slack_ns`` is 0 where one borrows
at the target period: dnateq's and huffman's gated views).

fmax: with latches the worst slack is not linear in the period (a borrowing latch shows
slack 0 over a range of periods, a half-cycle check loses only half of a period change), so
``T - slack`` at one period is not the shortest period.  The script searches for it
instead: the shortest period at which no check is violated, to :data:`PERIOD_TOLERANCE_NS`,
using that every slack grows with the period by at most the same amount (from a period
with slack ``s >= 0``, ``T - s`` still meets every check; from one with ``s < 0``, no
period below ``T - s`` can); a design of flip-flops only takes three runs of the timer.
``worst_slack_ns`` is the worst slack at the target period; ``critical_path_ns`` the
shortest period (the limiting path's data arrival plus its setup, or its gating check) and
``fmax_mhz_opensta = 1000 / critical_path_ns``; ``startpoint``, ``endpoint`` and
``data_arrival_ns`` are those of the limiting path, the worst check just below the shortest
period (its full report, and the worst path of every path group, are in
``<netlist>-timing.rpt``).
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .netlist import CLOCK_PORTS, OUTPUT_LOAD_PF, WIRE_CAP_PER_FANOUT_PF
from .sta import CLOCK_SLEW_NS, INPUT_SLEW_NS
from .yosys import DELAY_TARGET_PS

__all__ = ["OpenSTAReport", "OpenSTAError", "opensta_status", "opensta_timing",
           "run_opensta", "run_sta", "write_sdc", "write_script", "STA_COMMAND",
           "TARGET_PERIOD_NS", "PERIOD_TOLERANCE_NS", "TIMEOUT_S"]

STA_COMMAND = "sta"
TARGET_PERIOD_NS = DELAY_TARGET_PS / 1000
PERIOD_TOLERANCE_NS = 0.001       # the fmax search stops within 1 ps of the shortest period
TIMEOUT_S = 900                   # one netlist; the largest default design takes ~5 s
INSTALL_HINT = "apt-get install opensta, as make opensta does where it may"


class OpenSTAError(RuntimeError):
    """OpenSTA failed, timed out or printed no result."""


@dataclass(frozen=True)
class OpenSTAReport:
    worst_slack_ns: float         # at the target period
    critical_path_ns: float       # the shortest period that meets every check
    data_arrival_ns: float        # of the path that limits that period
    startpoint: str
    endpoint: str
    version: str

    @property
    def fmax_mhz(self) -> float:
        return 1e3 / self.critical_path_ns if self.critical_path_ns > 0 else float("inf")

    def as_dict(self) -> dict:
        """JSON-ready; ``None`` for an infinite slack or fmax (no constrained path)."""
        return {"worst_slack_ns": _finite(self.worst_slack_ns, 4),
                "critical_path_ns": round(self.critical_path_ns, 4),
                "fmax_mhz_opensta": _finite(self.fmax_mhz, 2),
                "data_arrival_ns": round(self.data_arrival_ns, 4),
                "startpoint": self.startpoint, "endpoint": self.endpoint,
                "version": self.version}


def _finite(value: float, digits: int):
    return round(value, digits) if math.isfinite(value) else None


_STATUS: dict = {}


def opensta_status() -> tuple[bool, str]:
    """``(available, reason)``: whether ``sta`` on PATH is OpenSTA; the reason is its
    version (``"OpenSTA 2.0.17"``) or why not."""
    path = shutil.which(STA_COMMAND)
    if path is None:
        return False, f"OpenSTA is not installed ({INSTALL_HINT}; it needs root)"
    if path not in _STATUS:
        try:
            proc = subprocess.run([path, "-version"], capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=30)
            version = proc.stdout.strip()
        except (OSError, subprocess.TimeoutExpired) as exc:
            version, proc = f"({exc})", None
        if proc is None or proc.returncode or not re.fullmatch(r"\d+(\.\d+)+\S*", version):
            _STATUS[path] = (False, f"{path} is not OpenSTA ('{STA_COMMAND} -version' "
                                    f"printed {version[:60]!r})")
        else:
            _STATUS[path] = (True, f"OpenSTA {version}")
    return _STATUS[path]


def _tcl(text: str) -> str:
    """``text`` as one Tcl word."""
    return re.sub(r'([\\$\[\]{}";\s])', r"\\\1", str(text))


def _has_clock_port(netlist: Path, clock: str) -> bool:
    pattern = rf"^\s*input\s+(\[[^\]]*\]\s*)?{re.escape(clock)}\s*;"
    return re.search(pattern, Path(netlist).read_text(), re.MULTILINE) is not None


def write_sdc(path: Path, *, period_ns: float = TARGET_PERIOD_NS, clock: str | None = "clk",
              propagated: bool = False) -> Path:
    """The constraints (see the module docstring); ``clock=None``: a virtual clock, for a
    design without a clock input (its input-to-output paths are still timed).
    ``propagated``: the clock through the clock tree and gating cells instead of ideal (for
    comparison with our STA, which adds their delays as clock latency)."""
    source = f" [get_ports {_tcl(clock)}]" if clock else ""
    inputs = (f"[delete_from_list [all_inputs] [get_ports {_tcl(clock)}]]" if clock
              else "[all_inputs]")
    clocking = "propagated clock" if propagated else "ideal clock: not propagated"
    transition = f"set_clock_transition {CLOCK_SLEW_NS:g} [get_clocks clk]\n" if clock else ""
    Path(path).write_text(f"""\
# quantrtl synth.opensta: the assumptions of synth.sta ({clocking})
create_clock -name clk -period {period_ns:g}{source}
{transition}set_input_delay 0 -clock clk {inputs}
set_input_transition {INPUT_SLEW_NS:g} {inputs}
set_output_delay 0 -clock clk [all_outputs]
set_load {OUTPUT_LOAD_PF:g} [all_outputs]
""" + ("set_propagated_clock [get_clocks clk]\n" if propagated else ""))
    return Path(path)


# The wire-load Tcl procedure, shared with synth.opensta_power.
WIRE_LOAD_PROC = """\
proc quantrtl_wire_load {per_load} {
  set nets 0
  foreach net [get_nets *] {
    set loads 0
    set pins [$net connected_pin_iterator]
    while {[$pins has_next]} {
      if {[[$pins next] is_load]} { incr loads }
    }
    $pins finish
    if {$loads > 0} {
      set_load [expr {$per_load * $loads}] $net
      incr nets
    }
  }
  return $nets
}
"""

_SCRIPT = """\
# quantrtl synth.opensta: timing of {netlist_name} with OpenSTA; see the module docstring.
read_liberty {liberty}
read_verilog {netlist}
link_design {top}
read_sdc {sdc}

# Wire load: {wire_pf:g} pF per load pin (cell inputs and output ports) on every net.
{wire_load_proc}
# Worst slack (ns) of every setup, latch and gating check at a clock period (ns).
proc quantrtl_slack {{period}} {{
  create_clock -name clk -period $period{clock_source}{transition}{propagate}
  return [worst_slack -max]
}}

# The shortest period that meets every check: slacks grow with the period by at most
# as much, so a met period T with slack s >= 0 gives a met T - s, a violated one a bound.
proc quantrtl_min_period {{target tol}} {{
  set eps 1e-6
  set t $target
  set s [quantrtl_slack $t]
  puts "QUANTRTL slack_at_target $s"
  if {{$s > 1e20}} {{ return 0.0 }}
  set lo 0.0
  set runs 1
  while {{$s < -$eps}} {{
    set lo [expr {{$t - $s}}]
    set t [expr {{$lo + $tol / 2.0}}]
    set s [quantrtl_slack $t]
    if {{[incr runs] > 100}} {{ error "no period meets every check" }}
  }}
  set hi $t
  set probe [expr {{$t - $s}}]
  while {{$hi - $lo > $tol}} {{
    if {{$probe >= $hi - $tol / 2.0 || $probe <= $lo}} {{
      set probe [expr {{($lo + $hi) / 2.0}}]
    }}
    set s [quantrtl_slack $probe]
    if {{[incr runs] > 100}} {{ error "the period search does not converge" }}
    if {{$s >= -$eps}} {{
      set hi $probe
      set probe [expr {{$probe - $s}}]
    }} else {{
      set lo [expr {{min($probe - $s, $hi)}}]
      set probe [expr {{$lo + $tol / 2.0}}]
    }}
  }}
  puts "QUANTRTL timer_runs $runs"
  return $hi
}}

puts "QUANTRTL version [sta::version]"
puts "QUANTRTL wire_loads [quantrtl_wire_load {wire_pf:g}]"
set period [quantrtl_min_period {target:g} {tol:g}]
puts "QUANTRTL min_period $period"
if {{$period > 0}} {{
  # The path that limits the period: the worst check just below it (a latch that borrows
  # time without reaching its limit shows slack 0 at every period, so the worst check at
  # the period itself may be such a latch), reported 0.1 ps above it (where it is met).
  quantrtl_slack [expr {{max($period - 2 * {tol:g}, $period / 2.0)}}]
  set worst ""
  foreach end [find_timing_paths -path_delay max -group_count 1] {{
    if {{$worst eq "" || [$end slack] < [$worst slack]}} {{ set worst $end }}
  }}
  set stop [[$worst vertex] pin]
  quantrtl_slack [expr {{$period + 1e-4}}]
  set worst [lindex [find_timing_paths -path_delay max -to $stop] 0]
  # The start point: the first pin after the (ideal) clock network, an input port or a
  # register's output (its instance is the start point).
  foreach start [lreverse [[$worst path] pins]] {{
    if {{![[lindex [$start vertices] 0] is_clock]}} {{ break }}
  }}
  if {{[$start is_top_level_port]}} {{
    puts "QUANTRTL startpoint input [get_full_name $start]"
  }} else {{
    set inst [$start instance]
    puts "QUANTRTL startpoint [get_full_name $inst] ([get_property $inst ref_name])"
  }}
  if {{[$stop is_top_level_port]}} {{
    puts "QUANTRTL endpoint output [get_full_name $stop]"
  }} else {{
    set inst [$stop instance]
    puts "QUANTRTL endpoint [get_full_name $stop] ([get_property $inst ref_name])"
  }}
  puts "QUANTRTL data_arrival [expr {{[$worst data_arrival_time] * 1e9}}]"
  puts "QUANTRTL slack_at_min_period [expr {{[$worst slack] * 1e9}}]"
  report_checks -path_delay max -to $stop -format full_clock_expanded \\
    -fields {{slew cap input_pins}} -digits 4 > {report}
  report_checks -path_delay max -format full_clock_expanded -fields {{slew cap input_pins}} \\
    -digits 4 >> {report}
  report_checks -path_delay max -group_count 20 -format end -digits 4 >> {report}
}}
"""


def write_script(path: Path, netlist: Path, top: str, liberty: Path, sdc: Path, *,
                 target_ns: float = TARGET_PERIOD_NS, clock: str | None = "clk",
                 report: str = "timing.rpt", propagated: bool = False) -> Path:
    """The Tcl script: read, link, constrain, wire loads, the fmax search, the report
    (``report``, relative to the directory OpenSTA runs in)."""
    source = f" [get_ports {_tcl(clock)}]" if clock else ""
    Path(path).write_text(_SCRIPT.format(wire_load_proc=WIRE_LOAD_PROC,
        netlist_name=Path(netlist).name, liberty=_tcl(Path(liberty).resolve()),
        netlist=_tcl(Path(netlist).resolve()), top=_tcl(top), sdc=_tcl(Path(sdc).resolve()),
        wire_pf=WIRE_CAP_PER_FANOUT_PF, clock_source=source,
        transition=(f"\n  set_clock_transition {CLOCK_SLEW_NS:g} [get_clocks clk]" if clock
                    else ""),
        target=target_ns, tol=PERIOD_TOLERANCE_NS, report=_tcl(report),
        propagate="\n  set_propagated_clock [get_clocks clk]" if propagated else ""))
    return Path(path)


def _parse(stdout: str) -> dict:
    values = {}
    for line in stdout.splitlines():
        if line.startswith("QUANTRTL "):
            key, _, value = line[len("QUANTRTL "):].partition(" ")
            values[key] = value.strip()
    return values


def run_sta(script: Path, log: Path, *, timeout: float, what: str,
            error: type[Exception] | None = None) -> subprocess.CompletedProcess:
    """Run OpenSTA on ``script`` (in its folder, no init file, exiting at the end), write
    its output to ``log`` and return the finished process.  A timeout or a missing or
    unstartable ``sta`` raises ``error`` (default :class:`OpenSTAError`) naming ``what``;
    the caller reads the output and the exit code."""
    error = error or OpenSTAError
    cmd = [shutil.which(STA_COMMAND) or STA_COMMAND, "-no_init", "-no_splash", "-exit",
           script.name]
    try:
        proc = subprocess.run(cmd, cwd=script.parent, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise error(f"OpenSTA timed out after {timeout:g} s on {what}") from None
    except OSError as exc:
        raise error(f"OpenSTA could not be started: {exc}") from None
    log.write_text(proc.stdout + proc.stderr)
    return proc


def run_opensta(netlist: Path, top: str, liberty: Path, work: Path, *,
                target_ns: float = TARGET_PERIOD_NS, timeout: float = TIMEOUT_S,
                propagated: bool = False) -> OpenSTAReport:
    """OpenSTA on ``netlist`` (a mapped Verilog netlist of ``liberty``'s cells, top module
    ``top``), its files in ``work`` (``<stem>.sdc``, ``<stem>-opensta.tcl``, the log
    ``<stem>-opensta.log`` and the report ``<stem>-timing.rpt``).  :class:`OpenSTAError`
    if it fails; ``sta`` must be there (:func:`opensta_status`).  ``propagated``: see
    :func:`write_sdc` (the files' stem then ends in ``-propagated``)."""
    netlist, work = Path(netlist), Path(work)
    work.mkdir(parents=True, exist_ok=True)
    stem = netlist.stem + ("-propagated" if propagated else "")
    clock = next((c for c in CLOCK_PORTS if _has_clock_port(netlist, c)), None)
    sdc = write_sdc(work / f"{stem}.sdc", period_ns=target_ns, clock=clock,
                    propagated=propagated)
    script = write_script(work / f"{stem}-opensta.tcl", netlist, top, liberty, sdc,
                          target_ns=target_ns, clock=clock, report=f"{stem}-timing.rpt",
                          propagated=propagated)
    log = work / f"{stem}-opensta.log"
    proc = run_sta(script, log, timeout=timeout, what=str(netlist), error=OpenSTAError)
    values = _parse(proc.stdout)
    errors = [line for line in (proc.stdout + proc.stderr).splitlines()
              if line.startswith("Error")]
    if proc.returncode or errors or "min_period" not in values:
        detail = "; ".join(errors[:3]) or (proc.stdout + proc.stderr).strip()[-300:]
        raise OpenSTAError(f"OpenSTA failed on {netlist} (exit {proc.returncode}): {detail}"
                           f"; log {log}")
    try:
        period, slack = float(values["min_period"]), float(values["slack_at_target"])
        arrival = float(values.get("data_arrival", 0.0))
    except (KeyError, ValueError) as exc:
        raise OpenSTAError(f"OpenSTA printed no result for {netlist} ({exc}); log "
                           f"{log}") from None
    return OpenSTAReport(
        worst_slack_ns=slack if slack < 1e20 else float("inf"), critical_path_ns=period,
        data_arrival_ns=arrival, startpoint=values.get("startpoint", "none"),
        endpoint=values.get("endpoint", "none"),
        version=f"OpenSTA {values.get('version', '?')}")


def opensta_timing(netlist: Path, top: str, liberty: Path, work: Path, **kwargs) -> dict:
    """:meth:`OpenSTAReport.as_dict` of :func:`run_opensta`, or ``{"skipped": reason}``
    where OpenSTA is unavailable, or ``{"error": message}`` where it failed; never raises
    for either."""
    available, reason = opensta_status()
    if not available:
        return {"skipped": reason}
    try:
        return run_opensta(netlist, top, liberty, work, **kwargs).as_dict()
    except OpenSTAError as exc:
        return {"error": str(exc)}
