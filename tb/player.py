"""The batch vector player: stimulus in memories inside a generated Verilog wrapper, the check
vectorised in NumPy at the end.

The cocotb harness (:mod:`.harness`) moves every beat across the Python/simulator boundary,
cycle by cycle.  The player moves none: :func:`wrapper_verilog` generates a module
``quantrtl_player`` around a block's top (``quantrtl_<block>``) that, from the component's
stream signature,

- loads every input stream's beats into a memory (``$fread`` of a binary file named by a
  plusarg, :func:`memory_bytes`: Verilator's ``$readmemh`` spends about 0.6 s CPU on a
  million 70-bit hex lines, its ``$fread`` about 0.1 s on the same beats in binary) and
  offers them with ``valid`` from a xorshift generator (its seed and a probability
  threshold from plusargs), holding ``valid`` and the payload until the beat is accepted;
- drives every output stream's ``ready`` from another generator and writes every transferred
  beat, with its cycle, to a file (``$fwrite`` lines); the cycle of every input transfer
  is written too (stall patterns);
- checks that a stalled output (``valid & ~ready``) keeps its payload and ``valid`` (an
  error flag and the first violation's cycle);
- raises ``player_done`` once every input beat is consumed and the outputs have been idle
  for a drain window (after the expected output-beat count, when one is given; a longer
  settle window otherwise), or ``player_timeout`` at a hard cycle limit, so that nothing
  can hang; ``player_finished`` once the files are closed.

The wrapper makes its own clock (``always`` with a delay, :data:`RESET_CYCLES` of reset):
no simulator callback runs per cycle, which on Verilator (built with ``--timing``) takes a
million-cycle requantizer run from 1.5 s to 0.9 s; Icarus runs at the same speed either
way.  Configuration ports and status ports pass through to the wrapper's own ports.  The
cocotb module :mod:`quantrtl.tb.tests.play` sets the configuration ports at time zero and
waits for ``player_finished``; the simulation is launched by
:func:`quantrtl.tb.runner.play_launch`.

Python side: :func:`play` (a vector set of the block's adapter, checked against golden) and
:func:`play_beats` (raw beat lists).  Both return a :class:`PlayResult`; a mismatch raises a
:class:`PlayerError` naming the first failing output (its index, the inputs, expected,
actual, cycle).  This module imports no cocotb.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from amaranth.hdl import Shape
from amaranth.lib.wiring import In

from quantrtl.spec import check_choice
from quantrtl.vectors import CLOCK_PERIOD_NS
from quantrtl.vectors.adapters import input_streams, output_decoder
from quantrtl.vectors.codec import CHUNK_BITS, PayloadCodec, chunks_to_words, words_to_chunks
from quantrtl.vectors.cycles import deadline

__all__ = ["wrapper_verilog", "wrapper_ports", "WrapperPorts", "depth_bucket", "play",
           "play_beats", "PlayResult", "PlayerError", "MismatchError", "CountError",
           "PlayerTimeout", "StabilityError", "StatusError", "memory_bytes", "parse_captures",
           "TOP", "MAIN_TOP", "HOSTS", "main_verilog", "TEST_MODULE", "MIN_DEPTH",
           "MAX_DEPTH", "PROBABILITY_ONE", "FLAGS"]

TOP = "quantrtl_player"
MAIN_TOP = "quantrtl_player_main"   # the plain run's top (no cocotb): main_verilog
TEST_MODULE = "quantrtl.tb.tests.play"
HOSTS = ("cocotb", "plain")         # what runs the wrapper: cocotb's test, or main_verilog
MARGIN_CYCLES = 1000                # cycles beyond the limit before a run is given up
RESET_CYCLES = 2                    # reset held from time 0 over this many clock periods
MIN_DEPTH = 1 << 10
MAX_DEPTH = 1 << 22                # 4M beats: 160 MB of memory for a 16-lane mac
PROBABILITY_ONE = 1 << 16          # a generator threshold of 2^16: valid (ready) every cycle
PATH_CHARS = 4096                  # the longest plusarg (a file path) the wrapper reads
_NIBBLE = np.full(256, 255, dtype=np.uint8)            # ASCII hex digit -> value (255: x, z)
_NIBBLE[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_NIBBLE[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
_NIBBLE[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)


# ------------------------------------------------------------------------- the wrapper

@dataclass(frozen=True)
class WrapperPorts:
    """The block's ports as the wrapper sees them: ``inputs`` and ``outputs`` are
    ``(stream, payload width)``, ``config`` (driven by the testbench) and ``status`` (read
    at the end) ``(port, width)``."""

    inputs: tuple
    outputs: tuple
    config: tuple
    status: tuple


def _is_stream(member) -> bool:
    return member.is_signature and {"valid", "ready", "payload"} <= set(
        member.signature.members)


def wrapper_ports(component) -> WrapperPorts:
    """The stream and plain ports of ``component``'s signature (``TypeError`` for a
    member that is neither a valid/ready stream nor a plain port)."""
    inputs, outputs, config, status = [], [], [], []
    for name, member in component.signature.members.items():
        if _is_stream(member):
            width = Shape.cast(member.signature.members["payload"].shape).width
            (inputs if member.flow == In else outputs).append((name, width))
        elif member.is_signature:
            raise TypeError(f"port {name!r}: the player drives only valid/ready streams and "
                            f"plain ports")
        else:
            width = Shape.cast(member.shape).width
            (config if member.flow == In else status).append((name, width))
    if not inputs or not outputs:
        raise TypeError("the player needs at least one input and one output stream")
    return WrapperPorts(tuple(inputs), tuple(outputs), tuple(config), tuple(status))


def depth_bucket(beats: int) -> int:
    """The memory depth of a run of ``beats`` input beats: the next power of two, at least
    :data:`MIN_DEPTH` (so that builds are shared); ``ValueError`` above :data:`MAX_DEPTH`."""
    if beats > MAX_DEPTH:
        raise ValueError(f"beats={beats} is out of range: allowed [0, {MAX_DEPTH}] (the "
                         f"player's largest memory); split the vector set")
    return max(MIN_DEPTH, 1 << max(0, int(beats) - 1).bit_length())


def _check_depth(depth) -> int:
    if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_DEPTH \
            or depth & (depth - 1):
        raise ValueError(f"depth={depth!r} is out of range: allowed a power of two in "
                         f"[1, {MAX_DEPTH}]")
    return depth


def _vector(width: int) -> str:
    return f"[{width - 1}:0] " if width > 1 else ""


def _port(direction: str, width: int, name: str) -> str:
    """A wrapper port, the only signals the testbench sees (Verilator builds it without
    ``--public-flat-rw``)."""
    return f"    {direction} wire {_vector(width)}{name} /*verilator public_flat_rw*/"


# The per-cycle logic is procedural: Icarus runs an always block's vector operations as
# whole-vector instructions, while operators in continuous assignments become nets of
# functors it evaluates bit by bit (three times slower for this wrapper).

def _step(s: str) -> list[str]:
    """Step the xorshift32 generator ``<s>_lfsr`` (a local ``x`` of the always block)."""
    return [f"      x = {s}_lfsr; x = x ^ (x << 13); x = x ^ (x >> 17); x = x ^ (x << 5);",
            f"      {s}_lfsr <= x;"]


def _pass(s: str, threshold: str) -> str:
    """The generator's top 16 bits below ``threshold``: probability ``threshold / 2^16``."""
    return f"({{1'b0, {s}_lfsr[31:16]}} < {threshold})"


def _input_stream(name: str, width: int) -> list[str]:
    """Memory, beat count, index, valid pattern and transfer log of input stream ``name``:
    ``valid`` is offered (with the generator's probability) only when the previous beat is
    gone, and then held with its payload until accepted.  The log is run-length coded
    (:func:`_parse_log`): a ``<cycle> <index>`` line starts each run of transfers in
    consecutive cycles, so that an unstalled stream writes a line, not one per beat."""
    s = f"in_{name}"
    return [
        f"  // input stream {name}: {width}-bit payload",
        f"  reg [{width - 1}:0] {s}_mem [0:DEPTH-1];",
        f"  reg [{width - 1}:0] {s}_payload;",
        f"  reg [31:0] {s}_count, {s}_index, {s}_lfsr, {s}_seed, {s}_run;",
        f"  reg {s}_valid;",
        f"  integer {s}_log;",
        f"  wire {s}_ready;",
        f"  always @(posedge clk) begin : {s}_step",
        "    reg [31:0] x, next;",
        "    if (rst) begin",
        f"      {s}_index <= 32'd0; {s}_valid <= 1'b0; {s}_lfsr <= {s}_seed;",
        f"      {s}_run <= 32'hffffffff;",
        f"      {s}_payload <= {width}'d0;",
        "    end else if (!finished) begin",
        *_step(s),
        f"      next = {s}_index + ({s}_valid && {s}_ready ? 32'd1 : 32'd0);",
        f"      {s}_index <= next;",
        f"      if (!{s}_valid || {s}_ready) begin",
        f"        {s}_valid <= next < {s}_count && {_pass(s, 'valid_threshold')};",
        f"        {s}_payload <= next < {s}_count ? {s}_mem[next[AW-1:0]] : {width}'d0;",
        "      end",
        f"      if ({s}_valid && {s}_ready) begin",
        f"        if ({s}_log != 0 && cycle != {s}_run)",
        f"          $fwrite({s}_log, \"%h %h\\n\", cycle, {s}_index);",
        f"        {s}_run <= cycle + 32'd1;",
        "      end",
        "    end",
        "  end",
    ]


def _output_stream(name: str, width: int) -> list[str]:
    """Ready pattern, capture, transfer count and stability check (a sticky flag and the
    first violation's cycle) of output stream ``name``."""
    s = f"out_{name}"
    return [
        f"  // output stream {name}: {width}-bit payload",
        f"  wire {s}_valid;",
        f"  wire [{width - 1}:0] {s}_payload;",
        f"  reg {s}_ready, {s}_stalled, {s}_has_expect, {s}_unstable;",
        f"  reg [{width - 1}:0] {s}_held;",
        f"  reg [31:0] {s}_count, {s}_expect, {s}_lfsr, {s}_seed, {s}_unstable_cycle;",
        f"  integer {s}_log;",
        f"  always @(posedge clk) begin : {s}_step",
        "    reg [31:0] x;",
        "    if (rst) begin",
        f"      {s}_ready <= 1'b0; {s}_stalled <= 1'b0; {s}_count <= 32'd0;",
        f"      {s}_lfsr <= {s}_seed; {s}_unstable <= 1'b0; {s}_unstable_cycle <= 32'd0;",
        "    end else if (!finished) begin",
        *_step(s),
        f"      {s}_ready <= {_pass(s, 'ready_threshold')};",
        f"      if ({s}_stalled && !{s}_unstable && (!{s}_valid || {s}_payload != {s}_held))",
        f"        begin {s}_unstable <= 1'b1; {s}_unstable_cycle <= cycle; end",
        f"      {s}_stalled <= {s}_valid && !{s}_ready;",
        f"      {s}_held <= {s}_payload;",
        f"      if ({s}_valid && {s}_ready) begin",
        f"        {s}_count <= {s}_count + 32'd1;",
        f"        if ({s}_log != 0) $fwrite({s}_log, \"%h %h\\n\", cycle, {s}_payload);",
        "      end",
        "    end",
        "  end",
    ]


def _plusarg(name: str, fmt: str, target: str) -> str:
    return f"    void_ = $value$plusargs(\"{name}={fmt}\", {target});"


def _start(ports: WrapperPorts) -> list[str]:
    """The ``initial`` block: every register's start value, the knobs, seeds, counts and
    file names from plusargs, the input memories loaded."""
    lines = ["  initial begin",
             "    cycle = 32'd0; idle = 32'd0; finished = 1'b0; done = 1'b0; timeout = 1'b0;",
             "    closed = 1'b0;",
             "    valid_threshold = 17'd65536; ready_threshold = 17'd65536;",
             "    drain = 32'd64; settle = 32'd1024; limit = 32'd1000000;",
             _plusarg("qrtl_valid", "%d", "valid_threshold"),
             _plusarg("qrtl_ready", "%d", "ready_threshold"),
             _plusarg("qrtl_drain", "%d", "drain"),
             _plusarg("qrtl_settle", "%d", "settle"),
             _plusarg("qrtl_limit", "%d", "limit")]
    for k, (name, _) in enumerate(ports.inputs):
        s = f"in_{name}"
        lines += [f"    {s}_index = 32'd0; {s}_valid = 1'b0; {s}_count = 32'd0; {s}_log = 0;",
                  f"    {s}_payload = 0;",
                  f"    {s}_seed = 32'h{0x9E3779B9 + k:08x};",
                  _plusarg(f"qrtl_count_{name}", "%d", f"{s}_count"),
                  _plusarg(f"qrtl_seed_{name}", "%h", f"{s}_seed"),
                  f"    if ({s}_seed == 32'd0) {s}_seed = 32'd1;",
                  f"    if ({s}_count != 0 && $value$plusargs(\"qrtl_beats_{name}=%s\", path)) "
                  "begin",
                  "      file_ = $fopen(path, \"rb\");",
                  "      if (file_ == 0) $display(\"quantrtl_player: cannot open %0s\", path);",
                  f"      else begin void_ = $fread({s}_mem, file_); $fclose(file_); end",
                  "    end",
                  f"    if ($value$plusargs(\"qrtl_log_{name}=%s\", path))",
                  f"      {s}_log = $fopen(path, \"w\");"]
    for k, (name, _) in enumerate(ports.outputs):
        s = f"out_{name}"
        lines += [f"    {s}_ready = 1'b0; {s}_stalled = 1'b0; {s}_count = 32'd0; {s}_log = 0;",
                  f"    {s}_unstable = 1'b0; {s}_unstable_cycle = 32'd0;",
                  f"    {s}_expect = 32'd0; {s}_seed = 32'h{0x7F4A7C15 + k:08x};",
                  f"    {s}_has_expect = $value$plusargs(\"qrtl_expect_{name}=%d\", "
                  f"{s}_expect);",
                  _plusarg(f"qrtl_seed_{name}", "%h", f"{s}_seed"),
                  f"    if ({s}_seed == 32'd0) {s}_seed = 32'd1;",
                  f"    if ($value$plusargs(\"qrtl_capture_{name}=%s\", path))",
                  f"      {s}_log = $fopen(path, \"w\");"]
    return lines + ["  end"]


def _control(ports: WrapperPorts) -> list[str]:
    """Cycle counter, the end of the run (drain, settle, limit), the stability flags of
    the outputs combined, and the files closed a cycle after the last write (so no write
    races the close)."""
    empty = " && ".join(f"in_{n}_index == in_{n}_count" for n, _ in ports.inputs)
    busy = " || ".join(f"out_{n}_valid" for n, _ in ports.outputs)
    reached = " && ".join(f"(!out_{n}_has_expect || out_{n}_count >= out_{n}_expect)"
                          for n, _ in ports.outputs)
    first = "".join(f"out_{n}_unstable ? out_{n}_unstable_cycle : " for n, _ in ports.outputs)
    logs = [f"in_{n}_log" for n, _ in ports.inputs] + [f"out_{n}_log" for n, _ in ports.outputs]
    return [
        "  // control: cycles, the end of the run, stability, files",
        "  assign unstable = " + " || ".join(f"out_{n}_unstable" for n, _ in ports.outputs)
        + ";",
        f"  assign unstable_cycle = {first}32'd0;",
        "  always @(posedge clk) begin : control",
        "    reg empty, reached;",
        "    if (rst) begin",
        "      cycle <= 32'd0; idle <= 32'd0; finished <= 1'b0; done <= 1'b0;",
        "      timeout <= 1'b0;",
        "    end else if (!finished) begin",
        f"      empty = {empty};",
        f"      reached = {reached};",
        "      cycle <= cycle + 32'd1;",
        f"      idle <= empty && !({busy}) ? idle + 32'd1 : 32'd0;",
        "      if (empty && ((reached && idle >= drain) || idle >= settle)) begin",
        "        done <= 1'b1; finished <= 1'b1;",
        "      end else if (cycle >= limit) begin",
        "        timeout <= 1'b1; finished <= 1'b1;",
        "      end",
        "    end",
        "  end",
        "  always @(posedge clk) begin",
        "    if (rst) closed <= 1'b0;",
        "    else if (finished && !closed) begin",
        *[f"      if (in_{n}_log != 0)\n"
          f"        $fwrite(in_{n}_log, \"%h %h\\n\", cycle, in_{n}_index);"
          for n, _ in ports.inputs],
        *[f"      if ({log} != 0) $fclose({log});" for log in logs],
        "      closed <= 1'b1;",
        "    end",
        "  end",
    ]


def _instance(top: str, ports: WrapperPorts) -> list[str]:
    conns = [".clk(clk)", ".rst(rst)"]
    for name, _ in ports.inputs:
        conns += [f".{name}__valid(in_{name}_valid)", f".{name}__ready(in_{name}_ready)",
                  f".{name}__payload(in_{name}_payload)"]
    for name, _ in ports.outputs:
        conns += [f".{name}__valid(out_{name}_valid)", f".{name}__ready(out_{name}_ready)",
                  f".{name}__payload(out_{name}_payload)"]
    conns += [f".{name}({name})" for name, _ in ports.config + ports.status]
    return [f"  {top} dut (", ",\n".join(f"    {c}" for c in conns), "  );"]


# The wrapper's own outputs: (name after "player_", width, driven by).
FLAGS = (("finished", 1, "closed"), ("done", 1, "done"), ("timeout", 1, "timeout"),
         ("unstable", 1, "unstable"), ("unstable_cycle", 32, "unstable_cycle"),
         ("cycles", 32, "cycle"))


def wrapper_verilog(config, depth: int) -> str:
    """The Verilog of ``quantrtl_player`` around ``config``'s top (``config.top``, to be
    compiled with the block's own Verilog), its input memories ``depth`` beats deep (the
    ``DEPTH`` parameter's default; a power of two).

    The clock (:data:`quantrtl.vectors.CLOCK_PERIOD_NS`, first rising edge at half a
    period) and the reset (high until the falling edge after :data:`RESET_CYCLES` rising
    edges) are made inside.  Ports: the block's configuration ports (inputs) and status ports
    (outputs) under their own names; ``player_finished`` (the run is over and its files
    are closed), ``player_done`` (it ended normally), ``player_timeout`` (the cycle limit was
    reached), ``player_unstable`` and ``player_unstable_cycle`` (an output's payload or
    ``valid`` changed while stalled, and the first such cycle), ``player_cycles``.

    Plusargs (all optional): of every input stream ``s``, ``qrtl_beats_<s>`` (its binary
    memory file, :func:`memory_bytes`), ``qrtl_count_<s>`` (its beats) and
    ``qrtl_log_<s>`` (a file for its transfer cycles, run-length coded:
    :func:`_parse_log`); of every
    output stream, ``qrtl_capture_<s>`` (a file for ``<cycle> <payload>`` ``%h`` lines)
    and ``qrtl_expect_<s>`` (expected transfers); ``qrtl_seed_<s>`` (hex generator seed of
    any stream); ``qrtl_valid`` / ``qrtl_ready`` (probability thresholds out of 2^16);
    ``qrtl_drain``, ``qrtl_settle``, ``qrtl_limit`` (cycles)."""
    depth = _check_depth(depth)
    ports = wrapper_ports(config.component)
    half = CLOCK_PERIOD_NS // 2
    header = [_port("input", w, n) for n, w in ports.config]
    header += [_port("output", w, n) for n, w in ports.status]
    header += [_port("output", w, f"player_{n}") for n, w, _ in FLAGS]
    body = [
        f"// quantrtl vector player around {config.top}: {config.label}",
        f"// parameters: {json.dumps(config.param_dict, sort_keys=True)}",
        "/* verilator lint_off WIDTH */",
        "/* verilator lint_off UNUSED */",
        f"module {TOP} #(",
        f"    parameter DEPTH = {depth}",
        ") (",
        ",\n".join(header),
        ");",
        "  // the clock and the reset, made here: no simulator callback per cycle",
        "  reg clk = 1'b0;",
        "  reg rst = 1'b1;",
        f"  always #{half} clk = ~clk;",
        f"  initial #{2 * half * RESET_CYCLES} rst = 1'b0;",
        "  localparam AW = DEPTH > 1 ? $clog2(DEPTH) : 1;",
        "  reg [31:0] cycle, idle, drain, settle, limit;",
        "  reg [16:0] valid_threshold, ready_threshold;",
        f"  reg [{8 * PATH_CHARS - 1}:0] path;",
        "  reg finished, done, timeout, closed;",
        "  wire unstable;",
        "  wire [31:0] unstable_cycle;",
        "  integer void_, file_;",
        *[f"  assign player_{n} = {source};" for n, _, source in FLAGS],
    ]
    for name, width in ports.inputs:
        body += _input_stream(name, width)
    for name, width in ports.outputs:
        body += _output_stream(name, width)
    body += _start(ports) + _control(ports) + _instance(config.top, ports)
    body += ["endmodule", "/* verilator lint_on UNUSED */", "/* verilator lint_on WIDTH */", ""]
    return "\n".join(body)


def main_verilog(config) -> str:
    """The Verilog of ``quantrtl_player_main``, the top of a plain run: the simulator's own
    main runs the wrapper (:func:`wrapper_verilog`) with no cocotb and no Python in the
    process.  It does what :mod:`quantrtl.tb.tests.play` does: sets the configuration
    ports at time zero (plusargs ``qrtl_config_<port>``, hex, two's complement), waits for
    ``player_finished`` and writes the flags and status ports as the test's JSON to the
    file ``qrtl_result`` names, then ends the simulation.  After ``qrtl_guard`` clock
    periods (the cycle limit and a margin) it ends the simulation without that file."""
    ports = wrapper_ports(config.component)
    conns = [f".{n}(cfg_{n})" for n, _ in ports.config]
    conns += [f".{n}(status_{n})" for n, _ in ports.status]
    conns += [f".player_{n}(flag_{n})" for n, _, _ in FLAGS]
    fields = [(n, f"flag_{n}") for n, _, _ in FLAGS]
    text = ", ".join(f'\\"{n}\\": %0d' for n, _ in fields)
    status = ", ".join(f'\\"{n}\\": %0d' for n, _ in ports.status)
    args = ", ".join([f for _, f in fields] + [f"status_{n}" for n, _ in ports.status])
    period = CLOCK_PERIOD_NS
    return "\n".join([
        f"// quantrtl vector player, plain run: {config.label}",
        "/* verilator lint_off WIDTH */",
        "/* verilator lint_off UNUSED */",
        f"module {MAIN_TOP};",
        *[f"  reg {_vector(w)}cfg_{n};" for n, w in ports.config],
        *[f"  wire {_vector(w)}status_{n};" for n, w in ports.status],
        *[f"  wire {_vector(w)}flag_{n};" for n, w, _ in FLAGS],
        f"  reg [{8 * PATH_CHARS - 1}:0] result;",
        "  reg [63:0] guard;",
        "  integer void_, file_;",
        f"  {TOP} player (",
        ",\n".join(f"    {c}" for c in conns),
        "  );",
        "  initial begin",
        *[f"    cfg_{n} = 0;\n" + _plusarg(f"qrtl_config_{n}", "%h", f"cfg_{n}")
          for n, _ in ports.config],
        "    result = 0;",
        _plusarg("qrtl_result", "%s", "result"),
        "    guard = 64'd0;",
        _plusarg("qrtl_guard", "%d", "guard"),
        "  end",
        "  initial begin",
        "    #1;",
        "    if (guard != 0) begin",
        f"      #(guard * {period});",
        "      $display(\"quantrtl_player_main: no end after %0d clock periods\", guard);",
        "      $finish;",
        "    end",
        "  end",
        "  always @(posedge flag_finished) begin",
        "    file_ = $fopen(result, \"w\");",
        f"    $fwrite(file_, \"{{{text}, \\\"status\\\": {{{status}}}}}\\n\", {args});",
        "    $fclose(file_);",
        "    $finish;",
        "  end",
        "endmodule",
        "/* verilator lint_on UNUSED */",
        "/* verilator lint_on WIDTH */",
        "",
    ])


# -------------------------------------------------------------------- files and formats

def memory_bytes(chunks, width: int) -> bytes:
    """The memory file of payload words (a ``[N, C]`` uint32 chunk array) as ``$fread``
    reads it into a memory of ``width``-bit words: ``ceil(width / 8)`` bytes per word, most
    significant first, vectorised.  A word of more than ``width`` bits is a
    ``ValueError``."""
    chunks = np.ascontiguousarray(chunks, dtype="<u4")
    rows, count = chunks.shape
    if count * CHUNK_BITS < width:
        raise ValueError(f"chunks must be [N, >= {-(-width // CHUNK_BITS)}], got {chunks.shape}")
    size = -(-width // 8)
    raw = chunks.view(np.uint8).reshape(rows, 4 * count)
    spare = 8 * size - width
    if rows and ((raw[:, size:] != 0).any() or
                 (spare and (raw[:, size - 1] >> np.uint8(8 - spare)).any())):
        bad = (raw[:, size:] != 0).any(axis=1)
        if spare:
            bad |= (raw[:, size - 1] >> np.uint8(8 - spare)) != 0
        raise ValueError(f"payload word {int(np.flatnonzero(bad)[0])} is out of range: "
                         f"allowed [0, 2^{width})")
    return np.ascontiguousarray(raw[:, size - 1::-1]).tobytes()


def _hex_values(digits: np.ndarray) -> np.ndarray:
    """``[N, D]`` hex digit values (D <= 8, most significant first) as uint32 numbers."""
    value = np.zeros(digits.shape[0], dtype=np.uint32)
    for k in range(digits.shape[1]):
        value = (value << np.uint32(4)) | digits[:, k]
    return value


def _hex_table(text: bytes, line: int, what: str) -> np.ndarray:
    """A file of fixed-length lines as ``[N, line]`` digit values (255: not a hex digit)."""
    raw = np.frombuffer(text, dtype=np.uint8)
    if raw.size % line:
        raise PlayerError(f"{what} is malformed: {raw.size} bytes is not a whole number of "
                          f"{line}-byte lines")
    raw = raw.reshape(-1, line)
    if raw.size and (raw[:, -1] != ord("\n")).any():
        raise PlayerError(f"{what} is malformed: a line is not {line} bytes long")
    return _NIBBLE[raw]


def parse_captures(text: bytes, width: int):
    """``(cycles, chunks, unknown)`` of a capture file (``<cycle> <payload>`` hex lines as
    the wrapper writes them): ``[B]`` int64 cycles, the ``[B, C]`` uint32 payload chunks
    and a ``[B]`` bool mask of beats with x/z payload bits (Icarus), vectorised."""
    digits = -(-width // 4)
    count = -(-width // CHUNK_BITS)
    table = _hex_table(text, 8 + 1 + digits + 1, "capture file")
    if table.size and ((table[:, :8] == 255).any() or (table[:, 8] != 255).any()):
        raise PlayerError("capture file is malformed: expected '<8 hex> <payload hex>' lines")
    cycles = _hex_values(table[:, :8]).astype(np.int64)
    payload = table[:, 9:9 + digits]
    unknown = (payload == 255).any(axis=1)
    if unknown.any():
        payload = np.where(payload == 255, 0, payload).astype(np.uint8)
    chunks = np.zeros((table.shape[0], count), dtype=np.uint32)
    for k in range(count):                      # chunk k: the k-th 8 digits from the right
        stop = digits - 8 * k
        chunks[:, k] = _hex_values(payload[:, max(0, stop - 8):stop])
    return cycles, chunks, unknown


def _parse_log(text: bytes) -> np.ndarray:
    """The cycle of every transfer of a run-length coded transfer log: ``<cycle> <index>``
    hex lines (8 digits each), one per run of transfers in consecutive cycles (the cycle
    and beat index of its first transfer), then a last line of the closing cycle and the
    number of beats transferred."""
    table = _hex_table(text, 18, "transfer log")
    if (not table.shape[0] or (table[:, [8, 17]] != 255).any()
            or (np.delete(table, [8, 17], axis=1) == 255).any()):
        raise PlayerError("transfer log is malformed: expected '<8 hex> <8 hex>' lines and a "
                          "closing line")
    cycles = _hex_values(table[:, :8]).astype(np.int64)
    index = _hex_values(table[:, 9:17]).astype(np.int64)
    runs = np.diff(index)
    if index[0] != 0 or (runs <= 0).any() or (np.diff(cycles) < runs).any():
        raise PlayerError("transfer log is malformed: its runs do not follow each other")
    return np.repeat(cycles[:-1] - index[:-1], runs) + np.arange(index[-1], dtype=np.int64)


# ----------------------------------------------------------------------------- results

class PlayerError(AssertionError):
    """A player run that did not match: a mismatch, a count, a timeout, a stalled output
    that changed, a status."""


class MismatchError(PlayerError):
    """An output differs from the expected one; ``index``, ``inputs``, ``expected``,
    ``actual``, ``cycle`` describe the first."""

    def __init__(self, message, *, index, inputs, expected, actual, cycle):
        super().__init__(message)
        self.index, self.inputs, self.expected = index, inputs, expected
        self.actual, self.cycle = actual, cycle


class CountError(PlayerError):
    """Missing or extra output items (``expected`` and ``received`` counts)."""

    def __init__(self, message, *, expected, received):
        super().__init__(message)
        self.expected, self.received = expected, received


class PlayerTimeout(PlayerError):
    """The run reached the wrapper's cycle limit."""


class StabilityError(PlayerError):
    """An output's payload or ``valid`` changed while it was stalled (``cycle``)."""

    def __init__(self, message, *, cycle):
        super().__init__(message)
        self.cycle = cycle


class StatusError(PlayerError):
    """The status ports' final values differ from the expected ones."""


@dataclass
class PlayResult:
    """What :func:`play` and :func:`play_beats` return.

    ``outputs``: the decoded output items in order (:func:`play`: shaped like ``expected``
    where the sizes agree, as :func:`quantrtl.tb.runner.run_block` does); ``expected``: the
    golden items (:func:`play`, checked or not) or the given ones (:func:`play_beats`,
    ``None`` without); ``words``: the raw output
    payload words as a ``[B, C]`` uint32 chunk array; ``output_cycles``: ``[B]`` cycle of
    each output transfer; ``items_per_beat``: ``[B]`` items each beat carried;
    ``input_cycles``: ``{stream: [beats] cycle of each input transfer}``; ``status_ports``:
    the status ports' final values (ints); ``status`` / ``golden_status``: the adapter's
    status fields of the RTL and of golden (:func:`play`; ``status_ports`` again and the
    expected values for :func:`play_beats`); ``cycles``: clocks from reset to the end of
    the run (including the drain window); ``limit``: the cycle limit; ``seed``; ``depth``:
    the memory depth (build bucket); ``prepare_seconds`` (golden, packing, files),
    ``build_seconds``, ``run_seconds`` (the simulator launch), ``check_seconds`` (reading
    and checking) of wall-clock time; ``run_dir``: the run's files, when kept; ``flags``:
    the wrapper's ``done``, ``timeout``, ``unstable``, ``unstable_cycle``; ``checked``: the
    output items compared with ``expected`` (0 when the run was not checked)."""

    outputs: np.ndarray
    expected: np.ndarray | None
    words: np.ndarray
    output_cycles: np.ndarray
    items_per_beat: np.ndarray
    input_cycles: dict
    status_ports: dict
    status: dict
    golden_status: dict
    cycles: int
    limit: int
    seed: int
    depth: int
    prepare_seconds: float = 0.0
    build_seconds: float = 0.0
    run_seconds: float = 0.0
    check_seconds: float = 0.0
    run_dir: Path | None = None
    flags: dict = field(default_factory=dict)
    checked: int = 0

    @property
    def seconds(self) -> float:
        """Wall-clock time of the whole call."""
        return self.prepare_seconds + self.build_seconds + self.run_seconds + \
            self.check_seconds

    @property
    def item_cycles(self) -> np.ndarray:
        """The cycle of the output beat that carried each output item."""
        return np.repeat(self.output_cycles, self.items_per_beat)

    def as_run_result(self):
        """The :class:`quantrtl.tb.runner.RunResult` that :func:`run_block` would return
        (``rtl``, ``expected``, ``cycles``, ``status``, ``golden_status``)."""
        from .runner import RunResult
        return RunResult(self.outputs, self.expected, self.cycles, self.status,
                         self.golden_status)


# -------------------------------------------------------------------------------- runs

@dataclass
class _Plan:
    """A run before the simulator starts: the validated beats (chunk arrays) of every input
    stream and the knobs of the wrapper."""

    config: object
    ports: WrapperPorts
    chunks: dict
    depth: int
    thresholds: tuple            # (valid, ready), out of PROBABILITY_ONE
    limit: int
    drain: int
    settle: int
    expected_beats: int | None
    config_ports: dict
    seed: int

    @property
    def output(self) -> tuple:
        return self.ports.outputs[0]

    @property
    def beats(self) -> dict:
        return {s: int(c.shape[0]) for s, c in self.chunks.items()}


def _threshold(name: str, probability: float) -> int:
    probability = float(probability)
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"{name}={probability} is out of range: allowed [0, 1]")
    return int(round(probability * PROBABILITY_ONE))


def _as_chunks(words, width: int) -> np.ndarray:
    """Payload words in any form (a list of ints, an integer array, a chunk array)."""
    if isinstance(words, np.ndarray) and words.ndim == 2:
        if words.shape[1] != -(-width // CHUNK_BITS):
            raise ValueError(f"chunk array must be [N, {-(-width // CHUNK_BITS)}], got "
                             f"{words.shape}")
        return words.astype(np.uint32)
    return words_to_chunks(words, width)


def _default_limit(beats: int, expected: int | None, latency: int | None,
                   valid_probability: float, ready_probability: float) -> int:
    """The cycle limit of a raw run: :func:`quantrtl.vectors.cycles.deadline`'s formula with
    one clock per input beat and per expected output (a probability of 0 can never finish:
    any finite limit will do)."""
    vp = valid_probability or 1.0
    rp = ready_probability or 1.0
    return int(4 * (beats / vp + (expected or beats) / rp + beats + (latency or 4))) + 1000


def _plan(config, streams, *, config_ports, expected_beats, valid_probability,
          ready_probability, limit, drain, settle, depth, seed) -> _Plan:
    """Check every argument of a run (``ValueError``, ``TypeError``) and pack its beats."""
    ports = wrapper_ports(config.component)
    if len(ports.outputs) != 1:
        raise TypeError(f"the player reads one output stream; {config.name} has "
                        f"{[n for n, _ in ports.outputs]}")
    widths = dict(ports.inputs)
    unknown, missing = sorted(set(streams) - set(widths)), sorted(set(widths) - set(streams))
    if unknown or missing:
        raise ValueError(f"streams must be {{{', '.join(widths)}}}: " +
                         (f"unknown {unknown}" if unknown else f"missing {missing}"))
    chunks = {s: _as_chunks(streams[s], widths[s]) for s in widths}
    most = max(int(c.shape[0]) for c in chunks.values())
    if depth is None:
        depth = depth_bucket(most)
    elif _check_depth(depth) < most:
        raise ValueError(f"depth={depth} is out of range: allowed a power of two >= {most} "
                         f"(the input beats)")
    thresholds = (_threshold("valid_probability", valid_probability),
                  _threshold("ready_probability", ready_probability))
    latency = config.component.latency
    if limit is None:
        limit = _default_limit(most, expected_beats, latency, valid_probability,
                               ready_probability)
    drain = max(64, 4 * ((latency or 4) + 4)) if drain is None else int(drain)
    settle = 16 * drain + 1024 if settle is None else int(settle)
    for name, value in (("limit", limit), ("drain", drain), ("settle", settle)):
        if not 0 <= value < 1 << 32:
            raise ValueError(f"{name}={value} is out of range: allowed [0, 2^32)")
    names = {n for n, _ in ports.config}
    config_ports = {k: int(v) for k, v in dict(config_ports or {}).items()}
    if set(config_ports) - names:
        raise ValueError(f"config_ports {sorted(set(config_ports) - names)} are not "
                         f"configuration ports of {config.name}: allowed {sorted(names)}")
    if seed is None:
        seed = int(os.environ.get("QUANTRTL_SEED") or random.SystemRandom().getrandbits(32))
    return _Plan(config, ports, chunks, depth, thresholds, int(limit), drain, settle,
                 None if expected_beats is None else int(expected_beats), config_ports,
                 int(seed))


def _seeds(seed: int, ports: WrapperPorts) -> dict:
    """Nonzero 32-bit generator seeds of every stream, derived from the run's seed."""
    names = [n for n, _ in ports.inputs + ports.outputs]
    words = np.random.SeedSequence(seed).generate_state(len(names), dtype=np.uint32)
    return {name: int(w) or 1 for name, w in zip(names, words)}


def _write_run(plan: _Plan, work: Path, host: str = "cocotb") -> list[str]:
    """The run's files in ``work`` (memories, the test's JSON); returns the plusargs (a
    plain run's configuration ports, result file and guard among them)."""
    out_name = plan.output[0]
    valid, ready = plan.thresholds
    plusargs = [f"+qrtl_valid={valid}", f"+qrtl_ready={ready}", f"+qrtl_drain={plan.drain}",
                f"+qrtl_settle={plan.settle}", f"+qrtl_limit={plan.limit}",
                f"+qrtl_capture_{out_name}={work / f'capture_{out_name}.txt'}"]
    plusargs += [f"+qrtl_seed_{s}={w:x}" for s, w in _seeds(plan.seed, plan.ports).items()]
    widths = dict(plan.ports.inputs)
    for stream, chunks in plan.chunks.items():
        (work / f"beats_{stream}.bin").write_bytes(memory_bytes(chunks, widths[stream]))
        plusargs += [f"+qrtl_beats_{stream}={work / f'beats_{stream}.bin'}",
                     f"+qrtl_count_{stream}={chunks.shape[0]}",
                     f"+qrtl_log_{stream}={work / f'accepted_{stream}.txt'}"]
    if plan.expected_beats is not None:
        plusargs.append(f"+qrtl_expect_{out_name}={plan.expected_beats}")
    if host == "plain":                # what the cocotb test would set and read
        widths = dict(plan.ports.config)
        plusargs += [f"+qrtl_config_{p}={v & ((1 << widths[p]) - 1):x}"
                     for p, v in plan.config_ports.items()]
        plusargs += [f"+qrtl_result={work / 'result.json'}",
                     f"+qrtl_guard={plan.limit + RESET_CYCLES + MARGIN_CYCLES}"]
    if any(len(arg) > PATH_CHARS for arg in plusargs):
        raise ValueError(f"run_dir={str(work)!r} is too long a path for the wrapper")
    spec = {"config": plan.config_ports, "status": [n for n, _ in plan.ports.status],
            "flags": [n for n, _, _ in FLAGS], "limit": plan.limit, "margin": MARGIN_CYCLES,
            "period_ns": CLOCK_PERIOD_NS,
            "result": str(work / "result.json")}
    (work / "player.json").write_text(json.dumps(spec))
    return plusargs


def _read_run(plan: _Plan, work: Path) -> dict:
    """What the run left in ``work``: the test's flags and status, the output beats and
    the input transfer cycles."""
    out_name, out_width = plan.output
    if not (work / "result.json").exists():
        raise PlayerError(f"the run ended without its result (no player_finished within the "
                          f"cycle limit {plan.limit} and a margin of {MARGIN_CYCLES})")
    flags = json.loads((work / "result.json").read_text())
    cycles, words, unknown = parse_captures(
        (work / f"capture_{out_name}.txt").read_bytes(), out_width)
    accepted = {s: _parse_log((work / f"accepted_{s}.txt").read_bytes()) for s in plan.chunks}
    return {"flags": flags, "cycles": cycles, "words": words, "unknown": unknown,
            "accepted": accepted}


def _status_values(plan: _Plan, raw: dict) -> dict:
    """The status ports' final values, signed ones sign-extended."""
    members = plan.config.component.signature.members
    values = {}
    for port, width in plan.ports.status:
        value = int(raw[port])
        if Shape.cast(members[port].shape).signed and value >> (width - 1):
            value -= 1 << width
        values[port] = value
    return values




def _block_verilog(config) -> str:
    """The block's Verilog (:meth:`quantrtl.blocks.Block.verilog`, which caches it)."""
    return config.verilog()


def _launch(plan: _Plan, *, sim, build_root, opt, run_dir, verbose, host="cocotb"):
    """Write the run's files, simulate, read the files back: ``(read, timings, kept)``."""
    from .runner import play_launch

    holder = None if run_dir is not None else tempfile.TemporaryDirectory(
        prefix="quantrtl-play-")
    work = Path(run_dir if holder is None else holder.name).resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        plusargs = _write_run(plan, work, host)
        timings = play_launch(plan.config, _block_verilog(plan.config),
                              wrapper_verilog(plan.config, plan.depth), plan.depth, sim=sim,
                              top=TOP, test_module=TEST_MODULE, plusargs=plusargs,
                              seed=plan.seed, build_root=build_root, opt=opt,
                              env={"QUANTRTL_PLAYER": str(work / "player.json")},
                              verbose=verbose, main=(MAIN_TOP, main_verilog(plan.config))
                              if host == "plain" else None)
        return _read_run(plan, work), timings, (work if holder is None else None)
    finally:
        if holder is not None:
            holder.cleanup()


def play_beats(config, streams: dict, *, config_ports: dict | None = None,
               expected_beats: int | None = None, expected=None, decode=None,
               flatten: bool = False, expected_status: dict | None = None, inputs=None,
               sim: str = "verilator", seed: int | None = None,
               valid_probability: float = 1.0, ready_probability: float = 1.0,
               limit: int | None = None, drain: int | None = None, settle: int | None = None,
               depth: int | None = None, build_root: Path | None = None,
               opt: str | None = None, run_dir: Path | None = None, name: str = "o",
               verbose: bool = False, host: str = "cocotb") -> PlayResult:
    """Play raw payload words ``streams`` (``{input stream: words}``: lists of ints, integer
    arrays or ``[N, C]`` uint32 chunk arrays; every input stream of the block) through
    ``config``'s block (a :class:`quantrtl.blocks.Config`) with configuration-port values
    ``config_ports``, and read back its (single) output stream.

    ``expected_beats``: output transfers to expect (the run then ends a drain window after
    the last of them; without it, once inputs are consumed and the output has been idle
    for the settle window).  ``decode(word) -> item`` (or a list of items per beat with
    ``flatten``) decodes output words in Python; by default the output payload's single
    value is decoded vectorised.  ``expected`` (items) is compared with the decoded
    outputs and ``expected_status`` (``{status port: value}``) with the status ports;
    ``inputs(k) -> dict`` describes the inputs behind output item ``k`` in error messages.
    ``valid_probability`` / ``ready_probability``: the input gaps and the output
    backpressure (generator patterns seeded from ``seed``, default ``QUANTRTL_SEED`` or a
    fresh one); ``limit``: the hard cycle limit (default from the beat counts); ``drain``
    / ``settle``: the idle windows; ``depth``: the memory depth, a power of two (default
    :func:`depth_bucket`; give one to share a build between runs of different sizes);
    ``build_root``: where builds live (default ``build/sim``); ``opt``: the C++
    optimisation of the Verilator model (default :func:`quantrtl.tb.runner.player_opt`:
    -O2, -O0 for very large blocks); ``run_dir``: keep the run's files there; ``name``: the
    output's name in messages; ``host``: what runs the wrapper, ``"cocotb"`` (its test
    :mod:`quantrtl.tb.tests.play`, the runner's seeds and logs) or ``"plain"`` (the
    simulator's own main, :func:`main_verilog`: no Python in the simulator, so no start-up
    of about 0.3 s per run; its own build).

    Raises :class:`PlayerError` (a subclass naming what failed) when a check fails,
    ``ValueError`` on bad arguments, :class:`quantrtl.tb.runner.SimulationError` when the
    simulator fails.  Returns a :class:`PlayResult`."""
    check_choice("host", host, HOSTS)
    started = time.perf_counter()
    plan = _plan(config, streams, config_ports=config_ports, expected_beats=expected_beats,
                 valid_probability=valid_probability, ready_probability=ready_probability,
                 limit=limit, drain=drain, settle=settle, depth=depth, seed=seed)
    read, timings, kept = _launch(plan, sim=sim, build_root=build_root, opt=opt,
                                  run_dir=run_dir, verbose=verbose, host=host)
    launched = time.perf_counter()
    flags = read["flags"]
    status = _status_values(plan, flags["status"])
    result = PlayResult(
        outputs=np.zeros(0, np.int64), expected=None, words=read["words"],
        output_cycles=read["cycles"], items_per_beat=np.ones(len(read["cycles"]), np.int64),
        input_cycles=read["accepted"], status_ports=status, status=dict(status),
        golden_status=dict(expected_status or {}), cycles=int(flags["cycles"]),
        limit=plan.limit, seed=plan.seed, depth=plan.depth,
        prepare_seconds=launched - started - timings["build_seconds"] -
        timings["run_seconds"], build_seconds=timings["build_seconds"],
        run_seconds=timings["run_seconds"], run_dir=kept,
        flags={k: flags[k] for k in ("done", "timeout", "unstable", "unstable_cycle")})
    label = f"{sim} player {config.label}.{name}"
    _check_run(result, plan, label, read["unknown"])
    _decode(result, config.component, plan.output[0], decode, flatten)
    if expected is not None:
        result.expected = expected
        _check_outputs(result, label, inputs)
        result.checked = int(np.size(expected))
    elif expected_beats is not None and result.output_cycles.size != expected_beats:
        raise CountError(f"{label}: expected {expected_beats} output beats, received "
                         f"{result.output_cycles.size}", expected=expected_beats,
                         received=result.output_cycles.size)
    if expected_status is not None:
        got = {p: status[p] for p in expected_status}
        if got != dict(expected_status):
            raise StatusError(f"{label}: status {got}, expected {dict(expected_status)}")
    result.check_seconds = time.perf_counter() - launched
    return result


def _check_run(result: PlayResult, plan: _Plan, label: str, unknown) -> None:
    """The wrapper's own verdicts: stability, timeout; and x/z output bits."""
    flags = result.flags
    if flags["unstable"]:
        raise StabilityError(f"{label}: the output payload or valid changed while stalled "
                             f"(valid & ~ready) at cycle {flags['unstable_cycle']}",
                             cycle=flags["unstable_cycle"])
    if flags["timeout"]:
        consumed = {s: int(c.size) for s, c in result.input_cycles.items()}
        want = "" if plan.expected_beats is None else f" of {plan.expected_beats} expected"
        raise PlayerTimeout(
            f"{label}: timeout: the cycle limit {plan.limit} was reached with input beats "
            f"consumed {consumed} of {plan.beats} and {result.output_cycles.size}{want} "
            f"output beats received")
    if unknown.any():
        k = int(np.flatnonzero(unknown)[0])
        raise PlayerError(f"{label}: output beat {k} at cycle {int(result.output_cycles[k])} "
                          f"has x/z payload bits")


def _decode(result: PlayResult, component, out_name: str, decode, flatten: bool) -> None:
    """``result.outputs`` (and ``items_per_beat``) from ``result.words``."""
    if decode is None:
        shape = component.signature.members[out_name].signature.members["payload"].shape
        codec = PayloadCodec(shape)
        if list(codec.fields) == ["value"]:
            result.outputs = codec.unpack_array(result.words)["value"]
        else:
            result.outputs = np.array(chunks_to_words(result.words), dtype=object)
        return
    decoded = [decode(w) for w in chunks_to_words(result.words)]
    if flatten:
        result.items_per_beat = np.array([len(d) for d in decoded], dtype=np.int64)
        decoded = [item for items in decoded for item in items]
    result.outputs = _int_array(decoded) if decoded else np.zeros(0, np.int64)


def _int_array(values) -> np.ndarray:
    """Integers as int64 where they fit, else as an object array of Python ints."""
    array = np.asarray(values).reshape(-1)
    if array.dtype.kind in "ib":
        return array.astype(np.int64)
    if array.dtype.kind == "u":
        if not array.size or int(array.max()) < (1 << 63):
            return array.astype(np.int64)
        return array.astype(object)
    return np.array([int(v) for v in array], dtype=object)


def _summary(value) -> str:
    array = np.asarray(value)
    if array.ndim == 0:
        return str(array.item())
    return np.array2string(array, threshold=16, edgeitems=4, separator=",",
                           max_line_width=10 ** 6)


def _check_outputs(result: PlayResult, label: str, inputs) -> None:
    """Compare ``result.outputs`` with ``result.expected``, vectorised: the first differing
    item (with its inputs and cycle), then the count."""
    actual, expected = _int_array(result.outputs), _int_array(result.expected)
    common = min(actual.size, expected.size)
    bad = np.flatnonzero(actual[:common] != expected[:common])
    if bad.size:
        k = int(bad[0])
        cycle = int(result.item_cycles[k])
        context = inputs(k) if inputs is not None else None
        shown = "; inputs " + ", ".join(f"{n}={_summary(v)}" for n, v in context.items()) \
            if context else ""
        count = "" if actual.size == expected.size else \
            f"; {actual.size} outputs received, {expected.size} expected"
        raise MismatchError(
            f"{label}[{k}] differs at cycle {cycle}: expected {expected[k]}, got {actual[k]}"
            f"{shown} ({bad.size} of {common} compared outputs differ{count})", index=k,
            inputs=context, expected=expected[k], actual=actual[k], cycle=cycle)
    if actual.size < expected.size:
        raise CountError(f"{label}: expected {expected.size} outputs, received {actual.size} "
                         f"(all of them match; the first missing is {label}[{actual.size}] = "
                         f"{expected[actual.size]})", expected=expected.size,
                         received=actual.size)
    if actual.size > expected.size:
        raise CountError(f"{label}: expected {expected.size} outputs, received {actual.size} "
                         f"(the first extra: {actual[expected.size]} at cycle "
                         f"{int(result.item_cycles[expected.size])})",
                         expected=expected.size, received=actual.size)


def _inputs_of(vectors: dict, adapter, count: int):
    """``inputs(k)``: the vector-set fields behind output item ``k``: the scalars, and
    every field with a row per row of the vector set (its first required field's rows),
    as the element of output ``k`` where its leading dimensions index the outputs (e.g.
    ``q[t, c]``) or else the row it belongs to (e.g. ``a[d]`` of a ``pes > 1`` array)."""
    arrays = {n: np.asarray(v) for n, v in vectors.items()}
    lead = next((arrays[n] for n in adapter.required if n in arrays and arrays[n].ndim), None)
    rows = lead.shape[0] if lead is not None else 0

    def pick(a):
        if a.ndim == 0:
            return lambda k: a
        if not rows or a.shape[0] != rows:
            return None
        for j in range(a.ndim, 0, -1):
            if int(np.prod(a.shape[:j])) == count:
                return lambda k, j=j: a[np.unravel_index(k, a.shape[:j])]
        if count % rows == 0:
            return lambda k: a[k // (count // rows)]
        return None

    picks = {n: f for n, a in arrays.items() if (f := pick(a)) is not None}
    return lambda k: {n: f(k) for n, f in picks.items()}


def play(block_name: str, params: dict | None, vectors: dict, *, sim: str = "verilator",
         seed: int | None = None, valid_probability: float = 1.0,
         ready_probability: float = 1.0, build_root: Path | None = None, check: bool = True,
         depth: int | None = None, opt: str | None = None, run_dir: Path | None = None,
         verbose: bool = False, host: str = "cocotb") -> PlayResult:
    """Play a vector set (see :mod:`quantrtl.vectors.adapters`) through a block's RTL with the
    vector player and check it against the golden model: the batch counterpart of
    :func:`quantrtl.tb.runner.run_block`.

    The vectors are validated (``adapter.encode``, ``ValueError`` on bad input) before any
    simulator starts.  With ``check`` (default) any difference raises a
    :class:`PlayerError`: :class:`MismatchError` for the first differing output (index,
    inputs, expected, actual, cycle), :class:`CountError`, :class:`PlayerTimeout`,
    :class:`StabilityError`, :class:`StatusError`; with ``check=False`` only a timeout, a
    stability violation or x/z outputs raise, and the result carries the outputs, golden
    and the status of both for the caller to compare.  The cycle limit is
    :func:`quantrtl.vectors.cycles.deadline`.  Other arguments as :func:`play_beats`.
    Returns a :class:`PlayResult` (``outputs`` shaped like ``expected`` where the sizes
    agree)."""
    from quantrtl.blocks import get_block

    check_choice("host", host, HOSTS)
    started = time.perf_counter()
    config = get_block(block_name).configure(params)
    adapter, component = config.adapter, config.component
    streams = input_streams(adapter, vectors)          # validates, as run_block does
    golden = adapter.golden(vectors)
    count = adapter.count(vectors)
    decode, flatten = output_decoder(adapter, component)
    limit = deadline(adapter, component, vectors, streams, count, valid_probability or 1.0,
                     ready_probability or 1.0)
    golden_status = adapter.golden_status(vectors) if adapter.status_ports else {}
    prepared = time.perf_counter() - started
    result = play_beats(
        config, streams, config_ports=adapter.config(vectors),
        expected_beats=None if flatten else count, expected=golden if check else None,
        decode=decode if flatten else None, flatten=flatten,
        inputs=_inputs_of(vectors, adapter, count), sim=sim, seed=seed,
        valid_probability=valid_probability, ready_probability=ready_probability,
        limit=limit, depth=depth, build_root=build_root, opt=opt, run_dir=run_dir,
        name=adapter.output, verbose=verbose, host=host)
    returned = time.perf_counter()
    result.prepare_seconds += prepared
    result.expected = golden
    if np.size(result.outputs) == np.size(golden):
        result.outputs = np.asarray(result.outputs).reshape(np.shape(golden))
    if adapter.status_ports:
        result.status = adapter.status({p: result.status_ports[p]
                                        for p in adapter.status_ports})
        result.golden_status = golden_status
        if check and result.status != golden_status:
            raise StatusError(f"{sim} player {config.label}: status {result.status}, golden "
                              f"{golden_status}")
    if check:          # the same bins as the cocotb monitors, sampled from the recorded beats
        from quantrtl.vectors import coverage as vcov
        from . import coverage
        trace = {"i": np.asarray(result.input_cycles.get("i", ())),
                 "o": np.asarray(result.output_cycles)}
        coverage.record(config, vcov.sample(config, vectors, result.outputs, trace),
                        "player", sim=sim)
    result.check_seconds += time.perf_counter() - returned
    return result
