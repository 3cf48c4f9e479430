"""Generated instruction sequences, compared with unicorn in lockstep.

Each test draws sequences from one family of :mod:`cpu_oracle.gen` (plus a
mixed one); a failure shows the first instruction where the core and unicorn
part, both states and the whole sequence.
"""

# Test names follow the blink style test<Thing>_<condition>_<expectation> (STYLE.md).

from __future__ import annotations

import pytest
from cpu_oracle import gen
from cpu_oracle.fuzz import examples
from cpu_oracle.harness import Case, Rejected, check_case
from hypothesis import assume, given


def run(case: Case) -> None:
    """Compare one case; reject it if unicorn cannot run it as intended."""
    __tracebackhide__ = True
    try:
        check_case(case)
    except Rejected as exc:
        assume(False)
        raise AssertionError("unreachable") from exc


FAMILY_BUDGET = {
    "alu": 60,
    "unary": 40,
    "mul": 40,
    "div": 40,
    "shift": 60,
    "double_shift": 40,
    "bits": 40,
    "cond": 40,
    "moves": 60,
    "xops": 40,
    "flag_ops": 25,
    "stack": 50,
    "strings": 50,
    "control": 50,
}


@pytest.mark.parametrize("family", sorted(FAMILY_BUDGET))
def testFamily_generatedSequences_matchUnicorn(family: str) -> None:
    """Sequences of one instruction family behave exactly as on unicorn."""

    @examples(FAMILY_BUDGET[family])
    @given(case=gen.cases([family], 1, 8))
    def inner(case: Case) -> None:
        run(case)

    inner()


@examples(150)
@given(case=gen.cases(sorted(set(gen.FAMILIES) - {"div_fault"}), 4, 16))
def testMixed_generatedSequences_matchUnicorn(case: Case) -> None:
    """Sequences mixing every family behave exactly as on unicorn."""
    run(case)


@examples(40)
@given(case=gen.cases(["div_fault"], 1, 3))
def testDivide_unguarded_faultsLikeUnicorn(case: Case) -> None:
    """div/idiv with arbitrary operands: same quotient, or #DE at the same place."""
    run(case)
