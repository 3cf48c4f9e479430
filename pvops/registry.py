"""Backends: complete sets of ops, registered by name.

A :class:`Backend` holds one instance of every op group, so it is complete
by construction; registering it also checks every slot against its contract
(callable, not None, the contract's parameter names in order, no nop where
a result is expected) and refuses it with an error naming the op otherwise.
Backends come from :func:`register` or from the ``pvops.backends``
entry-point group, which is how the in-tree ones arrive too.
"""

from __future__ import annotations

import contextlib
import enum
import inspect
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, TypeVar

import attrs

from pvops.boot import BootEntrypoint
from pvops.ops.catalog import OpSpec, catalog, lookup
from pvops.ops.groups import (
    PvApicOps,
    PvCpuOps,
    PvInfo,
    PvInitOps,
    PvIrqOps,
    PvLockOps,
    PvMmuOps,
    PvTimeOps,
)
from pvops.ops.nop import paravirt_nop

ENTRY_POINT_GROUP = "pvops.backends"

F = TypeVar("F", bound=Callable[..., Any])


class RegistryError(Exception):
    """A backend was refused, or a name is unknown."""


@attrs.frozen
class Backend:
    """A named, complete set of ops plus the way it boots a kernel."""

    name: str
    description: str
    boot: BootEntrypoint
    hypervisors: tuple[str, ...]
    info: PvInfo = attrs.field(factory=PvInfo)
    init: PvInitOps = attrs.field(factory=PvInitOps)
    time: PvTimeOps = attrs.field(factory=PvTimeOps)
    cpu: PvCpuOps = attrs.field(factory=PvCpuOps)
    irq: PvIrqOps = attrs.field(factory=PvIrqOps)
    apic: PvApicOps = attrs.field(factory=PvApicOps)
    mmu: PvMmuOps = attrs.field(factory=PvMmuOps)
    lock: PvLockOps = attrs.field(factory=PvLockOps)


def get_op(backend: Backend, spec: OpSpec) -> Callable[..., Any]:
    """The callable in ``backend``'s slot for ``spec``."""
    obj: Any = getattr(backend, spec.group)
    for part in spec.path:
        obj = getattr(obj, part)
    impl: Callable[..., Any] = obj
    return impl


def replace_op(backend: Backend, spec: OpSpec, impl: Callable[..., Any]) -> Backend:
    """A copy of ``backend`` with one slot replaced (the groups are frozen)."""

    def evolve(obj: Any, path: tuple[str, ...]) -> Any:
        head, *rest = path
        value = evolve(getattr(obj, head), tuple(rest)) if rest else impl
        return attrs.evolve(obj, **{head: value})

    new: Backend = evolve(backend, (spec.group, *spec.path))
    return new


def _parameter_names(impl: Callable[..., Any]) -> tuple[str, ...] | None:
    """Positional parameter names, or None for a variadic callable that accepts anything."""
    try:
        params = inspect.signature(impl).parameters.values()
    except (TypeError, ValueError):
        return None  # builtins and compiled ops without a signature
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    return tuple(
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    )


def check_op(backend_name: str, spec: OpSpec, impl: object) -> None:
    """Refuse ``impl`` for ``spec``'s slot unless it honours the contract."""
    where = f"backend {backend_name!r}: op {spec.name}"
    if impl is None:
        msg = f"{where}: the slot is None; use the native default or paravirt_nop"
        raise RegistryError(msg)
    if not callable(impl):
        msg = f"{where}: {impl!r} is not callable"
        raise RegistryError(msg)
    if impl is paravirt_nop:
        if spec.returns_value:
            msg = f"{where}: returns a value, so paravirt_nop cannot stand in for it"
            raise RegistryError(msg)
        return
    expected = tuple(p.name for p in spec.parameters)
    got = _parameter_names(impl)
    if got is not None and got != expected:
        msg = (
            f"{where}: {getattr(impl, '__qualname__', impl)!r} takes ({', '.join(got)}) "
            f"but the contract is {spec.signature}"
        )
        raise RegistryError(msg)


def validate(backend: Backend) -> Backend:
    """Check every slot and the record's own fields; return the backend."""
    if not backend.name or not backend.name.replace("-", "").replace("_", "").isalnum():
        msg = f"backend name {backend.name!r}: use letters, digits, '-' and '_'"
        raise RegistryError(msg)
    boot: object = backend.boot  # records built without a type checker may hold anything
    if not callable(boot):
        msg = f"backend {backend.name!r}: boot entrypoint {backend.boot!r} is not callable"
        raise RegistryError(msg)
    for spec in catalog():
        check_op(backend.name, spec, get_op(backend, spec))
    return backend


class OpStatus(enum.Enum):
    """What a backend did with one slot."""

    IMPLEMENTED = "implemented"
    NATIVE_DEFAULT = "native-default"
    NOP = "nop"


@attrs.frozen
class OpReport:
    """One line of :func:`describe`."""

    spec: OpSpec
    status: OpStatus
    impl: Callable[..., Any]  # the callable in the slot

    @property
    def impl_name(self) -> str:
        """The slot's callable as ``module.qualname``."""
        module = getattr(self.impl, "__module__", "?")
        return f"{module}.{getattr(self.impl, '__qualname__', repr(self.impl))}"


def describe(backend: Backend) -> list[OpReport]:
    """For every op: implemented by the backend, left at the native default, or a nop."""
    reports = []
    for spec in catalog():
        impl = get_op(backend, spec)
        if impl is paravirt_nop:
            status = OpStatus.NOP
        elif impl is spec.default:
            status = OpStatus.NATIVE_DEFAULT
        else:
            status = OpStatus.IMPLEMENTED
        reports.append(OpReport(spec, status, impl))
    return reports


class Registry:
    """Backends by name, filled by :meth:`register` and entry-point discovery."""

    def __init__(self) -> None:
        self._backends: dict[str, Backend] = {}
        self._discovered = False
        self.discovery_errors: dict[str, str] = {}

    def register(self, backend: Backend, *, replace: bool = False) -> Backend:
        """Validate and add a backend; a second one of the same name needs ``replace``."""
        validate(backend)
        if backend.name in self._backends and not replace:
            msg = f"a backend named {backend.name!r} is already registered"
            raise RegistryError(msg)
        self._backends[backend.name] = backend
        return backend

    def unregister(self, name: str) -> None:
        """Remove a backend (tests use this to clean up)."""
        self._backends.pop(name, None)

    def discover(self) -> None:
        """Load every ``pvops.backends`` entry point not loaded yet.

        An entry point may name a :class:`Backend` or a callable returning one.
        One that fails is recorded in :attr:`discovery_errors` (the others still
        load), so a broken third-party backend cannot hide the in-tree ones.
        """
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self._backends or ep.name in self.discovery_errors:
                continue
            try:
                obj = ep.load()
                backend = obj() if not isinstance(obj, Backend) and callable(obj) else obj
                if not isinstance(backend, Backend):
                    msg = f"{ep.value} is {type(backend).__name__}, not a pvops Backend"
                    raise RegistryError(msg)
                if backend.name != ep.name:
                    msg = f"{ep.value} is named {backend.name!r}, registered as {ep.name!r}"
                    raise RegistryError(msg)
                self.register(backend)
            except Exception as exc:
                self.discovery_errors[ep.name] = f"{ep.value}: {exc}"
        self._discovered = True

    def _ensure(self) -> None:
        if not self._discovered:
            self.discover()

    def names(self) -> list[str]:
        """Registered backend names, sorted."""
        self._ensure()
        return sorted(self._backends)

    def get(self, name: str) -> Backend:
        """The backend called ``name``."""
        self._ensure()
        try:
            return self._backends[name]
        except KeyError:
            known = ", ".join(sorted(self._backends)) or "none"
            why = self.discovery_errors.get(name)
            detail = f" (it failed to load: {why})" if why else f" (known: {known})"
            msg = f"unknown backend {name!r}{detail}"
            raise RegistryError(msg) from None

    def all(self) -> list[Backend]:
        """Every registered backend, by name."""
        return [self._backends[n] for n in self.names()]

    @contextlib.contextmanager
    def override(
        self, op: str | OpSpec, impl: Callable[..., Any], *, backend: str = "native"
    ) -> Iterator[Backend]:
        """Swap one op of one backend for the duration of a ``with`` block.

        The swapped backend is validated like any other; the original is put
        back however the block ends.
        """
        spec = lookup(op) if isinstance(op, str) else op
        original = self.get(backend)
        swapped = replace_op(original, spec, impl)
        check_op(backend, spec, impl)
        self._backends[backend] = swapped
        try:
            yield swapped
        finally:
            self._backends[backend] = original


REGISTRY = Registry()
"""The process-wide registry."""

register = REGISTRY.register
get_backend = REGISTRY.get
backend_names = REGISTRY.names
override = REGISTRY.override
