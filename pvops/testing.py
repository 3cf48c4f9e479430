"""pvops' pytest plugin: backends as fixtures, and a backend that records.

Installed as a ``pytest11`` entry point, so any test suite in an
environment with pvops gets:

- ``pv_backend``: a fixture parametrised over every registered backend, so
  one test runs against native, xen, vmi, hvm and any third-party backend;
- ``pv_recorder``: a :class:`Recorder` over the native backend, registered
  for the duration of the test as ``recording``, that logs every op call;
- :func:`recording`, to wrap any backend the same way.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

from pvops.ops.catalog import catalog
from pvops.ops.nop import paravirt_nop
from pvops.registry import REGISTRY, Backend, get_op, replace_op


@attrs.frozen
class OpCall:
    """One call of one op: its name, arguments (the CPU left out) and result."""

    op: str
    args: tuple[Any, ...]
    result: Any


@attrs.define
class Recorder:
    """A backend whose every op logs its call before doing what the base did."""

    backend: Backend
    calls: list[OpCall] = attrs.field(factory=list)

    def names(self) -> list[str]:
        """The op names called, in order."""
        return [call.op for call in self.calls]

    def of(self, op: str) -> list[OpCall]:
        """The calls of one op."""
        return [call for call in self.calls if call.op == op]

    def clear(self) -> None:
        """Forget the calls so far."""
        self.calls.clear()


def _recording_op(
    name: str, impl: Callable[..., Any], log: list[OpCall], *, takes_cpu: bool
) -> Callable[..., Any]:
    @functools.wraps(impl)
    def record(*args: Any) -> Any:
        result = impl(*args)
        log.append(OpCall(name, tuple(args[1:] if takes_cpu else args), result))
        return result

    if impl is paravirt_nop:  # the wrapper must keep the contract's names
        spec_params = next(s for s in catalog() if s.name == name).parameters
        record.__signature__ = inspect.Signature(list(spec_params))  # type: ignore[attr-defined]
        del record.__wrapped__
    return record


def recording(base: Backend, *, name: str = "recording") -> Recorder:
    """Wrap every op of ``base`` so that each call is logged in the returned Recorder."""
    log: list[OpCall] = []
    backend = attrs.evolve(base, name=name, description=f"{base.name}, with every op call logged")
    for spec in catalog():
        takes_cpu = bool(spec.parameters) and spec.parameters[0].name == "cpu"
        impl = _recording_op(spec.name, get_op(base, spec), log, takes_cpu=takes_cpu)
        backend = replace_op(backend, spec, impl)
    return Recorder(backend, log)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``pv_backend`` over the registered backends."""
    if "pv_backend" in metafunc.fixturenames:
        metafunc.parametrize("pv_backend", REGISTRY.names(), indirect=True)


@pytest.fixture
def pv_backend(request: pytest.FixtureRequest) -> Backend:
    """Each registered backend in turn."""
    name: str = request.param
    return REGISTRY.get(name)


@pytest.fixture
def pv_recorder() -> Iterator[Recorder]:
    """A recording native backend, registered as ``recording`` while the test runs."""
    recorder = recording(REGISTRY.get("native"))
    REGISTRY.register(recorder.backend, replace=True)
    try:
        yield recorder
    finally:
        REGISTRY.unregister(recorder.backend.name)
