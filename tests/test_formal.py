"""The formal flow itself (``make formal`` runs the whole catalogue in CI): a proof that
holds passes, a deliberately broken property fails with a counterexample trace from the
initial state, and a claim that is true but too weak to be inductive is reported as not
proved (``unknown``), never as a pass."""

import pytest

from quantrtl.tb.formal import Proof, check_builds, run_proof, sby_available
from quantrtl.tb.proofs import (COUNTER_PARAMS, MAC_PARAMS, PROOFS, CounterBankSpec, DqaJoinSpec,
                       HuffmanSpec, MacSpec, PipelineSpec, PostProcessorSpec, RequantSpec)

pytestmark = pytest.mark.skipif(not sby_available()[0], reason=sby_available()[1])


def test_a_true_property_is_proved(tmp_path):
    result = run_proof(Proof("pipeline", lambda: PipelineSpec(2), "prove", 2, "ok"), tmp_path)
    assert result["status"] == "pass", result


def test_a_broken_property_fails_with_a_counterexample(tmp_path):
    """The pipeline's output carries the sequence number, not the number plus one: BMC
    finds the first output transfer that shows it, and writes the trace."""
    result = run_proof(Proof("broken", lambda: PipelineSpec(2, broken=True), "bmc", 6,
                             "false on purpose"), tmp_path)
    assert result["status"] == "fail", result
    assert result["trace"] and result["trace"].endswith(".vcd")
    text = open(result["trace"]).read()
    assert "$var" in text and "o_payload" in text


def test_a_bound_too_tight_is_a_real_counterexample(tmp_path):
    """The decoder does stall its producer for a few clocks (a full bit buffer): claiming
    at most 3 fails from the initial state, so the proof with the true bound is not
    vacuous."""
    params = {"symbol_bits": 2, "max_length": 3, "word_width": 16}
    result = run_proof(Proof("tight", lambda: HuffmanSpec(params, "stall", bound=4), "bmc",
                             24, "false on purpose"), tmp_path)
    assert result["status"] == "fail" and result["trace"], result


def test_every_catalogue_proof_builds_rtlil():
    """Every property module of ``make formal`` elaborates for the formal platform, with a
    unique name and at least one assertion."""
    check_builds(PROOFS)
    assert len({p.name for p in PROOFS}) == len(PROOFS)


BROKEN = {
    # name: (spec with a false functional claim, mode, depth: those of the catalogue)
    "dqa": (lambda: DqaJoinSpec(4, 3, broken=True), "prove", 2),
    "requant": (lambda: RequantSpec("single", 1, functional=True, broken=True), "prove", 2),
    "mac": (lambda: MacSpec(MAC_PARAMS[0], broken=True), "bmc", 7),
    "mac pes=2": (lambda: MacSpec(MAC_PARAMS[3], broken=True), "bmc", 6),
    "mac lanes=2": (lambda: MacSpec(MAC_PARAMS[1], broken=True), "bmc", 7),
    "counters": (lambda: CounterBankSpec(broken=True, **COUNTER_PARAMS[0]), "bmc", 10),
    "post": (lambda: PostProcessorSpec(broken=True, pp_lanes=2, count_width=3, lut_width=4,
                                       result_width=12), "bmc", 7),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_functional_claims_reach_their_outputs(tmp_path, name):
    """Each functional proof, with its expected value off by one, fails at the catalogue's
    depth from the initial state: the outputs it checks are reached, so its pass is not
    vacuous."""
    build, mode, depth = BROKEN[name]
    result = run_proof(Proof(name, build, "bmc", depth, "false on purpose",
                             engine="smtbmc boolector"), tmp_path)
    assert result["status"] == "fail" and result["trace"], result
