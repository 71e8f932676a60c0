"""quantrtl's benches: measured figures, never asserted wall-clock limits.

``python -m quantrtl.bench -o build/bench [--suite speed,dnateq,huffman] [--quick]`` (also
``quantrtl bench ...`` and ``make bench``) runs the suites in one process, shows progress
lines while they run and ends with each suite's tables and a summary table.

Modules:

- :mod:`quantrtl.bench.common` -- the shared mechanism: progress lines, the table printer,
  the JSON (with provenance: commit, versions, date, command, seed) and CSV writers, timing,
  running a cocotb bench module with its output in a log;
- :mod:`quantrtl.bench.speed` -- checked vectors/s through cocotb, the requantizer's latency
  and throughput at every shift, golden-model speed (``bench.json``, ``bench.csv``);
- :mod:`quantrtl.bench.dnateq` -- the DNA-TEQ search and error studies on MiniLM, RTL cycles
  per dot product (``dnateq.json``, ``dnateq.csv``);
- :mod:`quantrtl.bench.huffman` -- Huffman decoder symbols per clock, golden coder speed,
  compression of DQA shifting errors (``huffman.json``, ``huffman.csv``);
- :mod:`quantrtl.bench.__main__` -- the command line and the run (``run.json``, ``run.csv``).
"""

__all__ = ["main"]


def main(argv=None, prog: str = "python -m quantrtl.bench") -> int:
    """The bench's command line (:func:`quantrtl.bench.__main__.main`); returns the exit
    status."""
    from .__main__ import main as run

    return run(argv, prog=prog)
