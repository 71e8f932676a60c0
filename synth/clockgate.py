"""Clock gating: the integrated clock-gating cell built from osu018 cells, and the Yosys steps
that insert it.

OSU018 has no integrated clock-gating (ICG) cell, so :data:`ICG_VERILOG` builds the standard
latch-based one from three library cells, as a real cell in the netlist::

    CLK --+------------------------ AND2X2 --- GCLK
          |                           |
          +-- INVX1 -- LATCH(CLK) --- + (Q)
                        D = E

The latch is transparent while ``CLK`` is low (its enable is the inverted clock), so the
enable ``E`` is captured as the clock rises and held through the high phase: ``GCLK`` is the
clock while ``E`` was high at the rising edge, and low otherwise, without glitches.  Its area,
timing and energy are those of its three cells, priced from the liberty like every other cell
(the cells' instance names start with the ICG's, ``icg_<k>.``).

Insertion (:data:`GATING_STEPS`, run on the coarse netlist before technology mapping):
Amaranth gives its registers a synchronous reset that takes priority over their enable
(``$_SDFFE_``), which Yosys's ``clockgate`` pass cannot gate.  ``dfflegalize`` first rewrites
every such flip-flop into the enable-over-reset form (``$_SDFFCE_``) with the reset folded
into the enable (``E' = E | rst``), ``opt_merge`` shares the identical enables of a register
group, then ``clockgate`` gives every group of at least :data:`MIN_GROUP` flip-flops that
share a clock and an enable one ICG and drops their enables.  The synchronous reset of a
gated flip-flop still works: its enable includes the reset, so its clock runs during reset.

Hierarchical gating (:func:`nest_clock_gates`, after mapping): a module of the RTL may name
a ``clock_gate`` signal (:data:`hw.pipeline.CLOCK_GATE`), promising that none of its
registers changes in a cycle where it is low -- a post-processor or a requantizer that is
idle between dot products, a counter bank without a pair.  The module's flip-flops and
clock-gating cells then take their clock from one more gating cell, enabled by that
signal: the gating cells inside are clocked only while the module works, so an idle module
costs no clock at all, not even its gating cells' latches.

Group size: a gating cell costs about as much clock energy per cycle as 1.7 flip-flops
(its inverter and AND are two loads on the clock tree, and its latch is clocked every
cycle), so a group of three or more flip-flops that is idle about half the time or more
pays for its gate; smaller groups keep their enable multiplexers.
"""

from __future__ import annotations

__all__ = ["ICG_CELL", "ICG_PREFIX", "ICG_VERILOG", "MIN_GROUP", "GATING_STEPS",
           "INSTANCE_STEPS", "is_icg_instance", "nest_clock_gates", "CLOCK_GATE",
           "CLOCK_PORT"]

CLOCK_GATE = "clock_gate"     # hw.pipeline.CLOCK_GATE: a module's "nothing changes" signal
CLOCK_PORT = "clk"

ICG_CELL = "QUANTRTL_ICG"
ICG_PREFIX = "icg_"
MIN_GROUP = 3        # flip-flops per enable group worth a gating cell (see the module docstring)

ICG_VERILOG = f"""// Integrated clock-gating cell from osu018 cells (quantrtl synth.clockgate)
module {ICG_CELL} (CLK, E, GCLK);
  input CLK, E;
  output GCLK;
  wire clk_n, enable;
  INVX1 inv (.A(CLK), .Y(clk_n));
  LATCH latch (.CLK(clk_n), .D(E), .Q(enable));
  AND2X2 gate (.A(CLK), .B(enable), .Y(GCLK));
endmodule
"""

GATING_STEPS = f"""
dfflegalize -cell $_SDFFCE_PP0P_ 01 -cell $_SDFFCE_PP1P_ 01 -cell $_DFFE_PP_ 01 -cell $_DFF_P_ 01 -cell $_SDFF_PP0_ 01 -cell $_SDFF_PP1_ 01
opt_merge
opt_clean
clockgate -pos {ICG_CELL} E:CLK:GCLK -min_net_size {MIN_GROUP}
rename -enumerate -pattern {ICG_PREFIX}% t:{ICG_CELL}
"""

# After technology mapping: the ICG cells become their three library cells.
INSTANCE_STEPS = """
read_verilog -overwrite icg.v
hierarchy -top {top}
flatten
"""


def is_icg_instance(name: str) -> bool:
    """Whether a flattened netlist instance belongs to a clock-gating cell."""
    return name.startswith(ICG_PREFIX) and "." in name


def _gate_cells(prefix, clock, enable, clk_n, q, gclk):
    """The three cells of a gating cell ``prefix`` (as :data:`ICG_VERILOG` builds them)."""
    def cell(kind, conns, dirs):
        return {"hide_name": 0, "type": kind, "parameters": {}, "attributes": {},
                "port_directions": dirs, "connections": {k: [v] for k, v in conns.items()}}
    return {
        f"{prefix}.inv": cell("INVX1", {"A": clock, "Y": clk_n}, {"A": "input", "Y": "output"}),
        f"{prefix}.latch": cell("LATCH", {"CLK": clk_n, "D": enable, "Q": q},
                                {"CLK": "input", "D": "input", "Q": "output"}),
        f"{prefix}.gate": cell("AND2X2", {"A": clock, "B": q, "Y": gclk},
                               {"A": "input", "B": "input", "Y": "output"}),
    }


def nest_clock_gates(module: dict, library, next_bit: int) -> tuple[int, int]:
    """Hierarchical gating of a mapped, gated netlist (Yosys JSON ``module``, edited in
    place; see the module docstring): for every ``<scope>.clock_gate`` net, a parent gating
    cell on the root clock, enabled by it, clocks the scope's flip-flops that were on the
    root clock and the gating cells whose flip-flops all belong to the scope.  Returns
    ``(parent cells added, next free bit)``."""
    cells, netnames = module["cells"], module["netnames"]
    root = module["ports"].get(CLOCK_PORT, {}).get("bits", [None])[0]
    if root is None:
        return 0, next_bit
    names = {}
    for name, nn in netnames.items():
        for b in nn["bits"]:
            if not isinstance(b, str):
                names.setdefault(b, []).append(name.lstrip("\\"))
    gates = {}
    for name, nn in netnames.items():
        base = name.lstrip("\\")
        if base == CLOCK_GATE or base.endswith("." + CLOCK_GATE):
            gates[base[:-len(CLOCK_GATE)]] = nn["bits"][0]
    flops = {}                                  # cell name -> (clock pin, Q names)
    for name, c in cells.items():
        cell = library.cells.get(c["type"])
        if cell is None or not cell.ff:
            continue
        clk_pin = cell.ff["clocked_on"].strip()
        q = [n for pin, bits in c["connections"].items()
             if cell.pins[pin].direction == "output" for n in names.get(bits[0], [])]
        flops[name] = (clk_pin, q)
    by_clock = {}
    for name, (pin, _) in flops.items():
        by_clock.setdefault(cells[name]["connections"][pin][0], []).append(name)
    icgs = {name[:-len(".gate")]: c for name, c in cells.items()
            if name.startswith(ICG_PREFIX) and name.endswith(".gate")}
    scopes = sorted(gates)
    added = 0
    for k, scope in enumerate(scopes):
        if any(o != scope and (o.startswith(scope) or scope.startswith(o)) for o in scopes):
            continue                            # nested scopes: left to their own gates
        def inside(flop):
            return any(n.startswith(scope) for n in flops[flop][1])
        own = [f for f in by_clock.get(root, []) if inside(f)]
        children = [g for g, c in icgs.items()
                    if c["connections"]["A"][0] == root
                    and by_clock.get(c["connections"]["Y"][0])
                    and all(inside(f) for f in by_clock[c["connections"]["Y"][0]])]
        if not own and not children:
            continue
        clk_n, q, pclk = next_bit, next_bit + 1, next_bit + 2
        next_bit += 3
        prefix = f"{ICG_PREFIX}scope{k}"
        cells.update(_gate_cells(prefix, root, gates[scope], clk_n, q, pclk))
        for suffix, bit in ((".clk_n", clk_n), (".enable", q), (".GCLK", pclk)):
            netnames[prefix + suffix] = {"hide_name": 0, "bits": [bit], "attributes": {}}
        for f in own:
            cells[f]["connections"][flops[f][0]] = [pclk]
        for g in children:
            cells[f"{g}.gate"]["connections"]["A"] = [pclk]
            cells[f"{g}.inv"]["connections"]["A"] = [pclk]
        added += 1
    return added, next_bit
