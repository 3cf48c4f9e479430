"""Shared setup for the core's tests: the oracle package and hypothesis settings.

The differential harness lives in ``cpu_oracle`` next to this file; it is put
on ``sys.path`` here because pytest runs in importlib mode.

``PVOPS_FUZZ_EXAMPLES=N`` runs every generated-sequence test with N examples
(and a random seed); by default each uses a small, derandomized budget so the
whole of tests/cpu stays under two minutes.  ``PVOPS_CPU_SELFTEST=1`` runs the
differential tests against a unicorn-backed stand-in Machine, which must pass
everything: it checks the tests themselves.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
