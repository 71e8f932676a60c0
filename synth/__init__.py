"""quantrtl's synthesis reports: what a quantization scheme costs in silicon (SPEC 5).

For every block and parameter set (:mod:`synth.flow`): Yosys generic gates with a transistor
estimate, OSU 0.18 um standard-cell area without and with clock gating
(:mod:`synth.clockgate`, a clock tree for both: :mod:`synth.cts`), the critical path and
fmax from OpenSTA, the timing of record (:mod:`synth.opensta`), and from our own STA with
the liberty's tables (:mod:`synth.sta`, the energy model's slews), iCE40 LUT/carry/FF counts
(:mod:`synth.yosys`), and energy per operation from the switching activity of the
gate-level netlists under a real workload (:mod:`synth.gatesim` simulates them,
:mod:`synth.energy` prices the toggles under three gating models,
:mod:`synth.components` attributes them to a design's components, :mod:`quantrtl.vectors.workloads`
holds the vectors).  ``python -m quantrtl.synth`` runs the default set and sweeps and writes JSON,
CSV, Markdown and PNG reports (:mod:`synth.report`, :mod:`synth.plots`); the INT8 vs
DNA-TEQ comparison built on it is :mod:`quantrtl.headline`.
"""
