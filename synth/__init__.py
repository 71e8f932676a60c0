"""quantrtl's synthesis reports: what a quantization scheme costs in silicon (SPEC 5).

For every block and parameter set (:mod:`synth.flow`): Yosys generic gates with a transistor
estimate, OSU 0.18 um standard-cell area, a critical path from our own STA with the
liberty's tables (:mod:`synth.sta`), iCE40 LUT/carry/FF counts (:mod:`synth.yosys`), and
energy per operation from the switching activity of the gate-level netlist under a real
workload (:mod:`synth.gatesim` simulates the netlist, :mod:`synth.energy` prices the
toggles, :mod:`synth.workloads` holds the vectors).  ``python -m synth`` runs the
default set, sweeps and the headline INT8 vs DNA-TEQ comparison, and writes JSON, CSV,
Markdown and PNG reports (:mod:`synth.report`, :mod:`synth.plots`).
"""
