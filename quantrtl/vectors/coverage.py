"""Functional coverage of every block: the declared cover points and crosses of a
configuration, and a vectorised sampler over vector sets, outputs and stream traces.

Pure NumPy (no cocotb): the cocotb side (:mod:`quantrtl.tb.coverage`) declares the same
points with cocotb-coverage and feeds it what :func:`classify` finds, transaction by
transaction; the bulk vector player calls :func:`sample` on the beats it recorded.

The model
    A :class:`Point` has named bins and a *domain*, what one sample of it is: ``output``
    (one output transfer: a result, a code), ``packet`` (one input packet: a dot product's
    beats), ``symbol`` and ``beat`` (a decoded Huffman symbol, an output beat), ``stream``
    (one Huffman packet), ``load`` (one LUT or table load), ``run`` (one sampled call),
    ``restart``.  A sample hits any number of a point's bins (flags) or none.  A
    :class:`Cross` is the product of points of one domain: a sample hits a cross bin when
    it hits each of its points' bins.

Configurations
    ``config`` is a :class:`quantrtl.blocks.Config` or a ``(block name, component)`` pair
    (what a testbench has); only the component's parameters are read.  The bins are
    declared per configuration: a point whose bins depend on parameters carries them in
    its name (``counter[n=5]``, ``code_length[max_length=8,symbol_bits=4]``,
    ``rounding_tie[rounding=single]``), and a point that a configuration cannot reach (an
    offset without an ``input_offset`` port) is not declared for it.

Bin names
    ``<point>/<bin>`` and ``<cross>/<bin>,<bin>``: e.g. ``shift/-31``,
    ``rounding_tie[rounding=double]/-31,tie``, ``counter[n=5]/C0[8]``.  A block's report
    (:func:`quantrtl.tb.coverage.merge`) takes the union of the bins its configurations
    declare and adds their hits by name, so a bin without parameters in its name counts
    over every configuration and one with parameters over those configurations only.

Traces
    ``trace`` (optional) holds what the stream drivers saw, as arrays: ``i`` (the cycle of
    each input beat's transfer), ``i_idle`` (cycles the source held ``valid`` low before
    the beat), ``i_wait`` (cycles the beat waited with ``valid`` high and ``ready`` low),
    ``o`` and ``o_wait`` (the same for each output transfer), ``o_items`` (items per output
    beat: Huffman symbols), ``restart`` (the decoder's state at each ``restart``: 0 idle,
    1 busy, 2 error) and ``error_kind`` (the Huffman decoder's final ``error_kind``).
    Points that need a missing key are not sampled.

``vectors`` is a vector set of the block's adapter, or a sequence of them streamed back to
back (the outputs in the same order): a LUT or table load after the first set is a reload.
For ``huffman`` it may also be the input beats themselves, ``(kind, index, data, last)``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from quantrtl.golden._ints import INT32_MAX, INT32_MIN, signed_range, wrap
from quantrtl.golden.dnateq import entry_offsets
from quantrtl.golden.requant import (MULTIPLIER_MAX, MULTIPLIER_MIN, SHIFT_MAX, SHIFT_MIN,
                                     multiply_by_quantized_multiplier,
                                     saturating_rounding_doubling_high_mul)
from quantrtl.spec import HuffmanKind
from .adapters import MacAdapter, RequantAdapter
from .dnaenc import DnaTeqEncoderAdapter
from .dnateq import DnaTeqAdapter
from .dqa import DqaAdapter
from .huffman import HuffmanAdapter
from .huffman_model import ERROR_NAMES, ReferenceDecoder

__all__ = ["Point", "Cross", "Model", "model", "declared", "classify", "sample", "resolve",
           "counts", "cross_counts", "bin_names", "OneBin", "DOMAINS"]

DOMAINS = ("output", "packet", "symbol", "beat", "stream", "load", "run", "restart")


@dataclass(frozen=True)
class Point:
    """A cover point: ``bins`` (labels) of one ``domain``."""
    name: str
    bins: tuple
    domain: str
    doc: str = ""

    def __post_init__(self):
        bad = [b for b in self.bins if not isinstance(b, str) or set(b) & set("/,")]
        if bad or "/" in self.name or "." in self.name or self.domain not in DOMAINS:
            raise ValueError(f"cover point {self.name!r}: bad name, domain or bins {bad}")


@dataclass(frozen=True)
class Cross:
    """The product of ``items`` (points of one domain); ``bins`` are label tuples."""
    name: str
    items: tuple
    domain: str
    bins: tuple
    doc: str = ""


def _cross(name, points, doc=""):
    domains = {p.domain for p in points}
    if len(domains) != 1:
        raise ValueError(f"cross {name!r} mixes domains {sorted(domains)}")
    return Cross(name, tuple(p.name for p in points), points[0].domain,
                 tuple(itertools.product(*(p.bins for p in points))), doc)


def bin_names(item) -> list[str]:
    """The report names of a point's or a cross's bins."""
    if isinstance(item, Cross):
        return [f"{item.name}/{','.join(b)}" for b in item.bins]
    return [f"{item.name}/{b}" for b in item.bins]


@dataclass(frozen=True)
class Model:
    """The declared coverage of one configuration."""
    block: str
    params: tuple                 # sorted (name, value)
    points: tuple
    crosses: tuple

    @property
    def label(self) -> str:
        return f"{self.block}({','.join(f'{k}={v}' for k, v in self.params)})"

    def point(self, name: str) -> Point:
        return {p.name: p for p in self.points}[name]

    def bins(self) -> list[str]:
        return [b for item in self.points + self.crosses for b in bin_names(item)]

    def domain_points(self, domain: str) -> tuple:
        return tuple(p for p in self.points if p.domain == domain)

    def domain_crosses(self, domain: str) -> tuple:
        return tuple(x for x in self.crosses if x.domain == domain)


def _plain(value):
    return getattr(value, "value", value)        # enums (RoundingMode) as their text


def resolve(config):
    """``(block name, component, params)`` of a Config or a ``(name, component)`` pair."""
    if isinstance(config, tuple):
        name, component = config
    else:
        name, component = config.name, config.component
    if name not in _BLOCKS:
        raise ValueError(f"block={name!r} has no coverage model: allowed {{{', '.join(_BLOCKS)}}}")
    params = tuple(sorted((p.name, _plain(getattr(component, p.name)))
                          for p in component.PARAMS))
    return name, component, params


def model(config) -> Model:
    """The cover points and crosses declared for ``config``."""
    name, component, params = resolve(config)
    return _model(name, params, component)


def _model(name, params, component):
    key = (name, params)
    if key not in _MODELS:
        points, crosses = _BLOCKS[name][0](component)
        _MODELS[key] = Model(name, params, tuple(points), tuple(crosses))
    return _MODELS[key]


_MODELS: dict = {}


def declared(config) -> list[str]:
    """Every bin declared for ``config``, by report name."""
    return model(config).bins()


def _sets(vectors):
    if vectors is None:
        return []
    return [vectors] if isinstance(vectors, dict) else list(vectors)


def classify(config, vectors, outputs=None, trace=None) -> dict[str, np.ndarray]:
    """``{point name: bool [samples, bins]}``: which bins each sample of each point hits
    (points that ``vectors``, ``outputs`` and ``trace`` do not give are left out).  The
    outputs are the decoded outputs in stream order (``None``: the golden ones)."""
    return {k: v.matrix() if isinstance(v, OneBin) else v
            for k, v in _marks(config, vectors, outputs, trace).items()}


def _marks(config, vectors, outputs, trace) -> dict:
    """:func:`classify`'s marks, a point whose samples hit one bin at most as a
    :class:`OneBin` (the bulk player's million-sample points stay a vector of indices)."""
    name, component, params = resolve(config)
    m = _model(name, params, component)
    marks = _BLOCKS[name][1](component, vectors, outputs, dict(trace or {}))
    out = {}
    for p in m.points:
        if p.name in marks:
            mark = marks[p.name]
            if isinstance(mark, OneBin):
                if mark.bins != len(p.bins):
                    raise AssertionError(f"{name}: point {p.name!r} sampled over {mark.bins} "
                                         f"bins, declared with {len(p.bins)}")
                out[p.name] = mark
            else:
                out[p.name] = np.asarray(mark, dtype=bool).reshape(-1, len(p.bins))
    for domain in DOMAINS:
        sizes = {p.name: len(out[p.name]) for p in m.domain_points(domain) if p.name in out}
        if len(set(sizes.values())) > 1:
            raise AssertionError(f"{name}: points of domain {domain!r} sampled with different "
                                 f"sample counts {sizes}")
    return out


@dataclass(frozen=True)
class OneBin:
    """The samples of a point that hits at most one bin per sample, as bin indices:
    ``index[k]`` is sample ``k``'s bin, -1 for none; ``bins`` is the point's bin count.
    :meth:`matrix` is the ``bool [samples, bins]`` form of :func:`classify`."""

    index: np.ndarray
    bins: int

    def __len__(self) -> int:
        return int(self.index.size)

    def matrix(self) -> np.ndarray:
        return self.index.reshape(-1, 1) == np.arange(self.bins).reshape(1, -1)

    def where(self, flags) -> "OneBin":
        """Only the samples whose ``flags`` are set hit their bin."""
        return OneBin(np.where(np.asarray(flags, dtype=bool).reshape(-1), self.index, -1),
                      self.bins)

    def counts(self) -> np.ndarray:
        """Hits of each bin."""
        return np.bincount(self.index[self.index >= 0], minlength=self.bins)[:self.bins]


def cross_counts(cross: Cross, marks) -> np.ndarray | None:
    """Hits of each bin of ``cross`` (flattened product order), or ``None`` when one of its
    points was not sampled."""
    mats = [marks.get(i) for i in cross.items]
    if any(m is None for m in mats):
        return None
    if all(isinstance(m, OneBin) or (np.count_nonzero(m, axis=1) <= 1).all() for m in mats):
        # Each point puts a sample in at most one bin (the usual case): count the samples'
        # joint bin index, in O(samples) memory rather than the einsum's int64 copies.
        index = [m.index if isinstance(m, OneBin) else
                 np.where(m.any(axis=1), m.argmax(axis=1), -1) for m in mats]
        hit = np.logical_and.reduce([i >= 0 for i in index])
        sizes = [m.bins if isinstance(m, OneBin) else m.shape[1] for m in mats]
        joint = np.ravel_multi_index([i[hit] for i in index], sizes)
        return np.bincount(joint, minlength=int(np.prod(sizes)))
    mats = [m.matrix() if isinstance(m, OneBin) else m for m in mats]
    letters = "abcdefgh"[:len(mats)]
    spec = ",".join(f"z{c}" for c in letters) + "->" + letters
    return np.einsum(spec, *(m.astype(np.int64) for m in mats)).reshape(-1)


def sample(config, vectors, outputs=None, trace=None) -> dict[str, int]:
    """``{bin name: hits}`` over every declared bin of ``config`` (0 where not hit): the
    vectorised sampler.  ``vectors``, ``outputs`` and ``trace`` as in :func:`classify`."""
    return counts(model(config), _marks(config, vectors, outputs, trace))


def counts(m: Model, marks: dict) -> dict[str, int]:
    """``{bin name: hits}`` of every bin of ``m`` from :func:`classify`'s ``marks``."""
    hits = dict.fromkeys(m.bins(), 0)
    for p in m.points:
        if p.name in marks:
            mark = marks[p.name]
            per_bin = mark.counts() if isinstance(mark, OneBin) else \
                np.count_nonzero(mark, axis=0)
            for b, n in zip(bin_names(p), per_bin):
                hits[b] += int(n)
    for x in m.crosses:
        per_bin = cross_counts(x, marks)
        if per_bin is not None:
            for b, n in zip(bin_names(x), per_bin):
                hits[b] += int(n)
    return hits


# -- helpers --------------------------------------------------------------------------------

def _onehot(values, choices) -> OneBin:
    """Sample ``k`` hits bin ``j`` where ``values[k] == choices[j]`` (``choices``
    ascending), no bin where no choice equals it."""
    values = np.asarray(values).reshape(-1)
    choices = np.asarray(choices).reshape(-1)
    if choices.size > 1 and not (np.diff(choices) > 0).all():
        raise ValueError("coverage choices must be ascending")
    index = np.minimum(np.searchsorted(choices, values), max(choices.size - 1, 0))
    if not choices.size:
        return OneBin(np.full(values.size, -1, dtype=np.int64), 0)
    return OneBin(np.where(choices[index] == values, index, -1).astype(np.int64),
                  int(choices.size))


def _cat(parts):
    """The samples of consecutive parts of one point (bool matrices or :class:`OneBin`),
    without a copy when there is one part."""
    if len(parts) == 1:
        return parts[0]
    if isinstance(parts[0], OneBin):
        return OneBin(np.concatenate([p.index for p in parts]), parts[0].bins)
    return np.concatenate(parts)


def _stack(*columns) -> np.ndarray:
    return np.stack([np.asarray(c, dtype=bool).reshape(-1) for c in columns], axis=1)


def _extremes(values, lo, hi) -> np.ndarray:
    """``min``, ``max``, ``zero`` flags."""
    values = np.asarray(values).reshape(-1)
    return _stack(values == lo, values == hi, values == 0)


EXTREMES = ("min", "max", "zero")


def _trace(trace, key, size=None):
    """``trace[key]`` as int64 (``None`` if absent or not ``size`` long)."""
    if key not in trace or trace[key] is None:
        return None
    value = np.asarray(trace[key], dtype=np.int64).reshape(-1)
    return value if size is None or value.size == size else None


def _outputs(outputs, golden):
    return np.asarray(golden if outputs is None else outputs, dtype=np.int64).reshape(-1)


def _load_flags(rows) -> np.ndarray:
    """``load`` / ``reload`` of each set's table: a reload follows a set with results
    (``rows``: the results of each set)."""
    before = np.concatenate([[0], np.cumsum(rows)[:-1]])
    return _stack(before == 0, before > 0)


def _wait_bins(waits) -> np.ndarray:
    """``none``, ``1``, ``2+`` cycles waited."""
    return _stack(waits == 0, waits == 1, waits >= 2)


WAITS = ("none", "1", "2+")


# -- requant ---------------------------------------------------------------------------------

def _requant_points(c):
    mode = _plain(c.rounding)
    shift = Point("shift", tuple(str(s) for s in range(SHIFT_MIN, SHIFT_MAX + 1)), "output",
                  "the shift of the multiplier")
    tie = Point("tie", ("tie", "non_tie"), "output",
                "a rounding step meets an exact half (single: x*M0 / 2^(31-shift); double: "
                "the doubling high multiply or the divide by 2^-shift)")
    points = [
        shift, tie,
        Point("clamp", ("low", "inside", "high"), "output",
              "MBQM(acc) + zero_point below qmin, within, above qmax"),
        Point("acc", ("int32_min", "int32_max", "zero"), "output", "accumulator extremes"),
        Point("zero_point", EXTREMES, "output", "zero point at the out_width extremes, 0"),
        Point("multiplier", ("zero", "min", "max"), "output", "M0 = 0, 2^30, 2^31 - 1"),
    ]
    return points, [_cross(f"rounding_tie[rounding={mode}]", [shift, tie],
                           "shift x this configuration's rounding mode x tie")]


def _requant_ties(c, acc, mult, shift):
    if _plain(c.rounding) == "single":
        total = 31 - shift
        return ((acc * mult) & ((np.int64(1) << total) - 1)) == (np.int64(1) << (total - 1))
    left, right = np.maximum(shift, 0), np.maximum(-shift, 0)
    xl = wrap(acc << left, 32)
    first = ((xl * mult) & ((1 << 31) - 1)) == (1 << 30)
    high = saturating_rounding_doubling_high_mul(xl, mult)
    r = np.maximum(right, 1)
    second = (right > 0) & ((high & ((np.int64(1) << r) - 1)) == (np.int64(1) << (r - 1)))
    return first | second


def _requant_classify(c, vectors, outputs, trace):
    adapter = RequantAdapter(c)
    marks = {k: [] for k in ("shift", "tie", "clamp", "acc", "zero_point", "multiplier")}
    lo, hi = signed_range(c.out_width)
    for v in _sets(vectors):
        port = adapter.config(v)
        acc, mult, shift = (np.asarray(a, dtype=np.int64) for a in np.broadcast_arrays(
            v["acc"], v["multiplier"], v["shift"]))
        acc, mult, shift = acc.reshape(-1), mult.reshape(-1), shift.reshape(-1)
        tie = _requant_ties(c, acc, mult, shift)
        scaled = multiply_by_quantized_multiplier(acc, mult, shift, _plain(c.rounding))
        y = scaled + port["zero_point"]
        marks["shift"].append(_onehot(shift, np.arange(SHIFT_MIN, SHIFT_MAX + 1)))
        marks["tie"].append(_stack(tie, ~tie))
        marks["clamp"].append(_stack(y < port["qmin"], (y >= port["qmin"]) & (y <= port["qmax"]),
                                     y > port["qmax"]))
        marks["acc"].append(_stack(acc == INT32_MIN, acc == INT32_MAX, acc == 0))
        zp = np.full(acc.size, port["zero_point"])
        marks["zero_point"].append(_extremes(zp, lo, hi))
        marks["multiplier"].append(_stack(mult == 0, mult == MULTIPLIER_MIN,
                                          mult == MULTIPLIER_MAX))
    return {k: _cat(v) for k, v in marks.items() if v}


# -- mac -------------------------------------------------------------------------------------

def _mac_safe_length(c) -> int:
    """The longest dot product SPEC 1 guarantees free of overflow on any operands:
    ``2^(acc_width - 2*width - 1)`` pairs (``acc_width >= 2*width + 1 + log2(K)``)."""
    return 1 << max(c.acc_width - 2 * c.width - 1, 0)


def _mac_points(c):
    points = [
        Point(f"acc_crossing[overflow={c.overflow}]", ("high", "low"), "output",
              "the accumulator (from the bias, beat by beat) leaves its range above / below "
              "(wraps or saturates)"),
        Point("length", ("1", "max"), "packet",
              "a packet of one beat; one of at least 2^(acc_width - 2*width - 1) pairs (the "
              "longest SPEC 1 guarantees free of overflow)"),
    ]
    if c.offset:
        points.append(Point("input_offset", EXTREMES, "output",
                            "input_offset at its signed(width + 1) extremes, 0"))
    if c.bias:
        points.append(Point("bias", ("min", "max"), "output", "bias at the accumulator limits"))
    if c.zero_skip:
        points.append(Point("zero_skip", ("beat", "packet"), "output",
                            "a PE's beat whose every pair has a zero operand (skipped), in a "
                            "packet with other beats / every beat of the packet"))
    points += [
        Point("in_stall", ("back_to_back", "gap_1", "gap_2+", "valid_drop", "ready_low"),
              "packet", "inside a packet of >= 2 beats: no gap, a longest gap of 1 cycle, of "
              "2 or more (consecutive stalls); the source dropped valid between two beats; "
              "a beat waited for ready"),
        Point("o_stall", WAITS, "output", "output transfer after 0, 1, 2+ backpressured cycles"),
    ]
    return points, []


def _mac_rows(c, v):
    """Per set: products masked to each row's length ``[D, P, beats, lanes]``, bias
    ``[D, P]``, beats per row, offset, zero flags (same shape as the products)."""
    adapter = MacAdapter(c)
    a, w, length, bias = adapter._rows(v)          # the adapter's checks and broadcasts
    offset = adapter.config(v).get("input_offset", 0)
    d, k = a.shape
    w = np.asarray(w).reshape(d, c.pes, k)
    bias = np.asarray(bias, dtype=np.int64).reshape(d, c.pes)
    nb = -(-k // c.lanes)
    pad = nb * c.lanes - k
    act = np.pad(a.astype(np.int64) + offset, ((0, 0), (0, pad)))[:, None, :]
    wgt = np.pad(w.astype(np.int64), ((0, 0), (0, 0), (0, pad)))
    valid = (np.arange(nb * c.lanes)[None, :] < length[:, None])[:, None, :]
    zero = ((act == 0) | (wgt == 0)) & valid
    products = act * wgt * valid
    shape = (d, c.pes, nb, c.lanes)
    return products.reshape(shape), bias, length // c.lanes, offset, zero.reshape(shape)


def _mac_crossing(c, beats, bias, nbeats):
    """``(high, low)`` per (row, PE): the accumulator left its range at some beat."""
    lo, hi = signed_range(c.acc_width)
    sums = beats.sum(axis=-1)                                       # [D, P, nb]
    live = np.arange(sums.shape[-1])[None, None, :] < nbeats[:, None, None]
    if c.overflow == "wrap":
        exact = bias[..., None] + np.cumsum(sums, axis=-1)
        before = np.concatenate([bias[..., None], exact[..., :-1]], axis=-1)
        step = wrap(before, c.acc_width) + sums
        return np.any((step > hi) & live, axis=-1), np.any((step < lo) & live, axis=-1)
    acc = bias.copy()
    high = np.zeros(bias.shape, bool)
    low = np.zeros(bias.shape, bool)
    for j in range(sums.shape[-1]):
        step = acc + sums[..., j]
        high |= (step > hi) & live[..., j]
        low |= (step < lo) & live[..., j]
        acc = np.clip(step, lo, hi)
    return high, low


def _packet_stalls(cycles, idle, wait, nbeats) -> np.ndarray:
    """``in_stall`` flags per packet from the input beats' transfer cycles."""
    starts = np.concatenate([[0], np.cumsum(nbeats)[:-1]]).astype(np.int64)
    gaps = np.diff(cycles, prepend=cycles[:1]) - 1                  # before each beat
    first = np.zeros(cycles.size, bool)
    first[starts] = True
    inner = np.where(first, 0, gaps)
    maxgap = np.maximum.reduceat(inner, starts)
    multi = nbeats >= 2
    drop = np.zeros(nbeats.size, bool) if idle is None else \
        np.logical_or.reduceat((idle > 0) & ~first, starts)
    low = np.zeros(nbeats.size, bool) if wait is None else \
        np.logical_or.reduceat(wait > 0, starts)
    return _stack(multi & (maxgap == 0), multi & (maxgap == 1), multi & (maxgap >= 2),
                  multi & drop, low)


def _mac_classify(c, vectors, outputs, trace):
    acc_lo, acc_hi = signed_range(c.acc_width)
    olo, ohi = signed_range(c.width + 1)
    parts = {k: [] for k in ("crossing", "offset", "bias", "zero", "length", "nbeats")}
    for v in _sets(vectors):
        beats, bias, nbeats, offset, zero = _mac_rows(c, v)
        high, low = _mac_crossing(c, beats, bias, nbeats)
        parts["crossing"].append(_stack(high, low))
        parts["offset"].append(_extremes(np.full(bias.size, offset), olo, ohi))
        parts["bias"].append(_stack(bias == acc_lo, bias == acc_hi))
        live = np.arange(beats.shape[2])[None, None, :] < nbeats[:, None, None]
        skipped = np.all(zero | ~live[..., None], axis=-1) & live          # [D, P, nb]
        some, every = np.any(skipped, axis=-1), np.all(skipped | ~live, axis=-1)
        parts["zero"].append(_stack(some & ~every, every))
        parts["length"].append(_stack(nbeats == 1, nbeats * c.lanes >= _mac_safe_length(c)))
        parts["nbeats"].append(nbeats)
    if not parts["length"]:
        return {}
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    marks = {f"acc_crossing[overflow={c.overflow}]": cat["crossing"], "length": cat["length"]}
    if c.offset:
        marks["input_offset"] = cat["offset"]
    if c.bias:
        marks["bias"] = cat["bias"]
    if c.zero_skip:
        marks["zero_skip"] = cat["zero"]
    nbeats = cat["nbeats"]
    cycles = _trace(trace, "i", int(nbeats.sum()))
    if cycles is not None:
        marks["in_stall"] = _packet_stalls(cycles, _trace(trace, "i_idle", cycles.size),
                                           _trace(trace, "i_wait", cycles.size), nbeats)
    waits = _trace(trace, "o_wait", cat["crossing"].shape[0])
    if waits is not None:
        marks["o_stall"] = _wait_bins(waits)
    return marks


# -- dnateq ----------------------------------------------------------------------------------

def _dnateq_counters(c) -> tuple:
    m = c.m
    labels = [f"C0[{k}]" for k in range(2 * m - 1)] + [f"C1[{f}]" for f in range(m)] + \
        [f"C2[{f}]" for f in range(m)]
    return tuple(labels if c.fold_c3 else labels + ["C3"])


def _dnateq_points(c):
    return [
        Point(f"counter[n={c.n}]", _dnateq_counters(c), "output",
              "a counter entry some pair of the dot product counts (both codes non-zero): "
              "C0[fx + fw], C1[fx], C2[fw], C3 (not with fold_c3)"),
        Point("zero_skip", ("x_zero", "w_zero", "both_zero", "all_zero"), "output",
              "a pair with only x zero, only w zero, both zero; every pair with a zero"),
        Point(f"length[max_length={c.max_length}]", ("1", "max"), "output",
              "a dot product of 1 pair, of max_length pairs"),
        Point(f"bits[n={c.n}]", tuple(str(b) for b in range(3, c.n + 1)), "output",
              "the code width of the layer (narrower codes widened)"),
        Point("lut", ("load", "reload"), "load",
              "the LUT of the first set of a stream; one loaded after dot products of the "
              "same stream"),
    ], []


def _dnateq_classify(c, vectors, outputs, trace):
    adapter = DnaTeqAdapter(c)
    o0, o1, o2, o3 = entry_offsets(c.n)
    width = len(_dnateq_counters(c))
    parts = {k: [] for k in ("counter", "zero", "length", "bits")}
    rows = []
    for v in _sets(vectors):
        x, w, length = adapter._rows(v)            # widened codes, zero codes past length
        d, p, k = w.shape
        valid = (np.arange(k)[None, :] < length[:, None])[:, None, :]
        xs = np.broadcast_to(x[:, None, :], w.shape)
        xz, wz = xs == c.zero_code, w == c.zero_code
        both = ~xz & ~wz & valid
        hits = np.zeros((d * p, width), bool)
        dd, pp, kk = np.nonzero(both)
        sample = dd * p + pp
        fx, fw = xs[dd, pp, kk] & (c.m - 1), w[dd, pp, kk] & (c.m - 1)
        hits[sample, o0 + fx + fw] = True
        hits[sample, o1 + fx] = True
        hits[sample, o2 + fw] = True
        if not c.fold_c3:
            hits[sample, o3] = True
        parts["counter"].append(hits)
        parts["zero"].append(_stack(np.any(xz & ~wz & valid, -1), np.any(~xz & wz & valid, -1),
                                    np.any(xz & wz & valid, -1), ~np.any(both, -1)))
        lengths = np.repeat(length, p)
        parts["length"].append(_stack(lengths == 1, lengths == c.max_length))
        parts["bits"].append(_onehot(np.full(d * p, adapter.bits(v)), np.arange(3, c.n + 1)))
        rows.append(d)
    if not rows:
        return {}
    marks = {f"counter[n={c.n}]": np.concatenate(parts["counter"]),
             "zero_skip": np.concatenate(parts["zero"]),
             f"length[max_length={c.max_length}]": np.concatenate(parts["length"]),
             f"bits[n={c.n}]": _cat(parts["bits"]),
             "lut": _load_flags(rows)}
    return marks


# -- dnaenc ----------------------------------------------------------------------------------

def _dnaenc_points(c):
    return [
        Point(f"code[n={c.n}]", tuple(str(k) for k in range(1 << c.n)), "output",
              "every output code (the zero code included)"),
        Point("threshold", ("pos_tie", "neg_tie"), "output",
              "r exactly on a threshold of its sign (|r| = T: the smaller magnitude wins)"),
        Point("r", EXTREMES, "output", "r at the signed(width) extremes, 0"),
        Point("table", ("load", "reload"), "load",
              "the table of the first set of a stream; one loaded after results of the "
              "same stream"),
    ], []


def _dnaenc_classify(c, vectors, outputs, trace):
    adapter = DnaTeqEncoderAdapter(c)
    lo, hi = signed_range(c.width)
    parts = {k: [] for k in ("code", "threshold", "r", "golden")}
    rows = []
    for v in _sets(vectors):
        r = np.asarray(adapter._results(v), dtype=np.int64)
        thr = np.asarray(adapter.thresholds(v), dtype=np.int64)
        pos, neg = thr[:c.m], thr[c.m:]
        parts["threshold"].append(_stack((r >= 0) & np.isin(r, pos),
                                         (r < 0) & np.isin(-r, neg)))
        parts["r"].append(_extremes(r, lo, hi))
        parts["golden"].append(np.asarray(adapter.golden(v)).reshape(-1))
        rows.append(r.size)
    if not rows:
        return {}
    codes = _outputs(outputs, np.concatenate(parts["golden"]))
    return {f"code[n={c.n}]": _onehot(codes, np.arange(1 << c.n)),
            "threshold": np.concatenate(parts["threshold"]),
            "r": np.concatenate(parts["r"]), "table": _load_flags(rows)}


# -- dqa -------------------------------------------------------------------------------------

def _dqa_points(c):
    channel = Point("channel", ("important", "ordinary"), "output",
                    "an element of an important / an ordinary channel")
    q = Point("q", EXTREMES, "output", "q at the signed(n) extremes, 0")
    return [
        Point(f"err[m={c.m}]", tuple(str(e) for e in range(1 << c.m)), "output",
              "every shifting error value (important channels)"),
        channel, q,
    ], [_cross("channel_q", [channel, q], "q extremes on both kinds of channel")]


def _dqa_classify(c, vectors, outputs, trace):
    adapter = DqaAdapter(c)
    lo, hi = signed_range(c.n)
    parts = {k: [] for k in ("err", "channel", "q")}
    for v in _sets(vectors):
        q, err, mask = adapter._fields(v)
        flags = np.broadcast_to(mask, q.shape).reshape(-1)
        parts["err"].append(_onehot(err.reshape(-1), np.arange(1 << c.m)).where(flags))
        parts["channel"].append(_stack(flags, ~flags))
        parts["q"].append(_extremes(q, lo, hi))
    if not parts["q"]:
        return {}
    return {f"err[m={c.m}]": _cat(parts["err"]),
            "channel": np.concatenate(parts["channel"]), "q": np.concatenate(parts["q"])}


# -- huffman ---------------------------------------------------------------------------------

RESTART_STATES = ("idle", "busy", "error")


def _longest_code(c) -> int:
    """The longest code the decoder can meet: ``max_length``, or ``2^symbol_bits - 1`` (the
    longest code of a complete code over the whole alphabet) if that is shorter."""
    return min(c.max_length, max(1, (1 << c.symbol_bits) - 1))


def _code_length_point(c) -> str:
    return f"code_length[max_length={c.max_length},symbol_bits={c.symbol_bits}]"


def _huffman_points(c):
    return [
        Point(_code_length_point(c), tuple(str(k) for k in range(1, _longest_code(c) + 1)),
              "symbol", "a decoded symbol of each code length the configuration allows"),
        Point("error", tuple(ERROR_NAMES), "run", "the final error_kind of a sampled run"),
        Point("table", ("load", "reload", "reuse"), "stream",
              "a packet after a table load (the first of the run), after a reload that "
              "follows another packet, with no table of its own (the previous one kept)"),
        Point(f"symbols_per_clock[lanes={c.lanes}]",
              tuple(str(k) for k in range(1, c.lanes + 1)), "beat",
              "symbols in an output beat (one beat per clock)"),
        Point("restart", RESTART_STATES, "restart", "a restart while idle, busy, in error"),
    ], []


def _huffman_tuples(c, vectors):
    if vectors is None:
        return []
    if isinstance(vectors, dict):
        return HuffmanAdapter(c).tuples(vectors)
    vectors = list(vectors)
    if vectors and isinstance(vectors[0], dict):
        adapter = HuffmanAdapter(c)
        return [t for v in vectors for t in adapter.tuples(v)]
    return [tuple(int(f) for f in t) for t in vectors]


def _packets(tuples):
    """Segments of beats, each ending with a packet's last beat (``COUNT`` with ``last``
    or a ``DATA`` beat with ``last``), the rest of the beats in a final segment."""
    segments, start = [], 0
    for k, (kind, _, _, last) in enumerate(tuples):
        if last and kind in (HuffmanKind.DATA, HuffmanKind.COUNT):
            segments.append(tuples[start:k + 1])
            start = k + 1
    if start < len(tuples):
        segments.append(tuples[start:])
    return segments


def _huffman_classify(c, vectors, outputs, trace):
    marks = {}
    tuples = _huffman_tuples(c, vectors)
    if tuples:
        decoder = ReferenceDecoder(c.symbol_bits, c.max_length, c.word_width)
        lengths, streams, seen_packet = [], [], False
        for segment in _packets(tuples):
            outcome = decoder.feed(segment)
            try:
                code_lengths = decoder.code().lengths
            except ValueError:
                code_lengths = None
            got = np.asarray(outcome.symbols, dtype=np.int64)
            lengths.append(np.full(got.size, -1) if code_lengths is None else
                           np.asarray(code_lengths)[got])
            kinds = [t[0] for t in segment]
            if HuffmanKind.COUNT in kinds:
                table = any(k in (HuffmanKind.LEN, HuffmanKind.SYM)
                            for k in kinds[:kinds.index(HuffmanKind.COUNT)])
                streams.append((table and not seen_packet, table and seen_packet, not table))
                seen_packet = True
        symbol_lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
        if outputs is not None:
            symbol_lengths = symbol_lengths[:len(outputs)]
        marks[_code_length_point(c)] = _onehot(symbol_lengths,
                                               np.arange(1, _longest_code(c) + 1))
        if streams:
            marks["table"] = np.array(streams, dtype=bool)
        kind = trace.get("error_kind")
        if kind is None:
            outcome = ReferenceDecoder(c.symbol_bits, c.max_length, c.word_width).feed(tuples)
            kind = outcome.kind if outcome.exact else None
        if kind is not None:
            marks["error"] = _onehot([int(kind)], np.arange(len(ERROR_NAMES)))
    items = _trace(trace, "o_items")
    if items is not None:
        marks[f"symbols_per_clock[lanes={c.lanes}]"] = _onehot(items, np.arange(1, c.lanes + 1))
    restarts = _trace(trace, "restart")
    if restarts is not None:
        marks["restart"] = _onehot(restarts, np.arange(len(RESTART_STATES)))
    return marks


_BLOCKS = {
    "mac": (_mac_points, _mac_classify),
    "requant": (_requant_points, _requant_classify),
    "dnateq": (_dnateq_points, _dnateq_classify),
    "huffman": (_huffman_points, _huffman_classify),
    "dqa": (_dqa_points, _dqa_classify),
    "dnaenc": (_dnaenc_points, _dnaenc_classify),
}
