"""Hypothesis settings for the generated-sequence tests."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings


def examples(default: int) -> settings:
    """Settings with ``default`` examples, or ``$PVOPS_FUZZ_EXAMPLES`` (random seed).

    Failing examples are not shrunk unless ``PVOPS_FUZZ_SHRINK=1``: the
    lockstep report already names the first differing instruction, and
    shrinking a long sequence costs more than the whole suite.
    """
    override = os.environ.get("PVOPS_FUZZ_EXAMPLES")
    n = int(override) if override else default
    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    if os.environ.get("PVOPS_FUZZ_SHRINK") == "1":
        phases.append(Phase.shrink)
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=not override,
        database=None if not override else settings.default.database,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
        print_blob=True,
        phases=phases,
    )
