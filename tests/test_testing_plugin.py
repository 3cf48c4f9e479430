"""The pytest plugin that pvops installs (entry point pytest11)."""

from __future__ import annotations

import pytest
from fakecpu import FakeCpu

from pvops.registry import REGISTRY, validate
from pvops.testing import OpCall, Recorder, recording
from pvops.types import Pte, VirtAddr


def test_plugin_parametrises_pv_backend_over_the_registry(pytester: pytest.Pytester) -> None:
    """A test asking for pv_backend runs once per registered backend."""
    pytester.makepyfile(
        """
        def test_each(pv_backend):
            assert pv_backend.name in ("native", "xen", "vmi", "hvm")
        """
    )
    result = pytester.runpytest_subprocess("-v")
    result.assert_outcomes(passed=len(REGISTRY.names()))
    result.stdout.fnmatch_lines(
        [f"*test_each?{name}?*PASSED*" for name in ("hvm", "native", "vmi", "xen")],
        consecutive=False,
    )


def test_plugin_recorder_logs_calls(pytester: pytest.Pytester) -> None:
    """pv_recorder registers a recording backend for the test and logs its calls."""
    pytester.makepyfile(
        """
        from pvops.registry import REGISTRY

        def test_records(pv_recorder):
            assert REGISTRY.get("recording") is pv_recorder.backend
            assert pv_recorder.calls == []

        def test_gone_afterwards():
            assert "recording" not in REGISTRY.names()
        """
    )
    pytester.runpytest_subprocess().assert_outcomes(passed=2)


class TestRecording:
    """recording() wraps every op of a backend."""

    def test_records_args_and_results_without_the_cpu(self) -> None:
        """Each call is logged with its op name, arguments and result."""
        recorder = recording(REGISTRY.get("native"))
        cpu = FakeCpu()
        backend = recorder.backend
        backend.irq.irq_enable(cpu)
        flags = backend.irq.save_fl(cpu)
        backend.mmu.set_pte(cpu, VirtAddr(0x100), Pte(0x5007))
        assert recorder.names() == ["irq.irq_enable", "irq.save_fl", "mmu.set_pte"]
        assert recorder.of("irq.save_fl") == [OpCall("irq.save_fl", (), flags)]
        assert recorder.of("mmu.set_pte")[0].args == (0x100, 0x5007)
        assert cpu.read(0x100, 4) == (0x5007).to_bytes(4, "little")  # type: ignore[arg-type]

    def test_recording_backend_is_valid_and_keeps_nops_recognisable(self) -> None:
        """The wrapped backend passes validation; wrapped nops keep the contract's names."""
        recorder = recording(REGISTRY.get("native"))
        validate(recorder.backend)
        recorder.backend.mmu.alloc_pt(FakeCpu(), VirtAddr(0), 5)  # type: ignore[arg-type]
        assert recorder.names() == ["mmu.alloc_pt"]

    def test_pv_recorder_fixture(self, pv_recorder: Recorder) -> None:
        """The fixture's recorder is registered under 'recording'."""
        pv_recorder.backend.irq.irq_disable(FakeCpu())
        assert pv_recorder.names() == ["irq.irq_disable"]
        assert REGISTRY.get("recording") is pv_recorder.backend
