"""The models on the real core: small hand-assembled guests in ring 1."""

from __future__ import annotations

import struct

import pytest
from guestasm import assemble
from xenfake import guest_string, make_image

from pvops.backends.xen.models.domain import RunState
from pvops.backends.xen.models.hypervisor import TIMER_VECTOR, Xen

cpu = pytest.importorskip("pvops.cpu")
if not all(hasattr(cpu.Machine, h) for h in ("set_int_hook", "add_gate_table", "set_segment")):
    pytest.skip("the core has no hypervisor hooks yet", allow_module_level=True)

BASE = 0xC0000000


def shutdown(xen: Xen) -> str:
    """The release's sched_op shutdown (poweroff)."""
    if xen.abi.major < 3:
        return "mov $6, %eax\n mov $2, %ebx\n int $0x82\n hlt\n"
    return "mov $6, %eax\n mov $2, %ebx\n xor %ecx, %ecx\n int $0x82\n hlt\n"


def console(label: str, n: int) -> str:
    """console_io(write, n, label)."""
    return f"mov $18, %eax\n mov $0, %ebx\n mov ${n}, %ecx\n mov ${label}, %edx\n int $0x82\n"


def run(
    release: str,
    body: str,
    *,
    force_abi: str | None = None,
    tick_ns: int = 10_000_000,
    budget: int = 50_000,
):
    """Build a domain from ``body`` on a fresh machine and run it."""
    machine = cpu.Machine(memory_size=24 << 20)
    xen = Xen(machine, release, tick_ns=tick_ns)
    image_abi = (
        xen.abi
        if force_abi is None
        else __import__("pvops.backends.xen.models.abi", fromlist=["x"]).version(force_abi).abi
    )
    code = assemble(body, BASE)
    dom = xen.create_domain(
        make_image(guest_string(image_abi), code=code), memory=8 << 20, force=force_abi is not None
    )
    xen.start(dom)
    stop = machine.run(max_instructions=budget)
    return machine, xen, dom, stop


@pytest.mark.parametrize("release", ["xen-2.0.2", "xen-2.0.7", "xen-3.0.1", "xen-3.0.2"])
def test_hello_and_shutdown(release: str) -> None:
    """int $0x82 from ring 1: console_io then sched_op shutdown, counted by number."""
    xen_probe = Xen(cpu.Machine(memory_size=8 << 20), release)
    body = console("msg", 5) + shutdown(xen_probe) + 'msg: .ascii "hello"\n'
    machine, xen, dom, _ = run(release, body)
    assert bytes(dom.console) == b"hello"
    assert dom.state is RunState.SHUTDOWN
    assert machine.cpl == 1
    assert xen.hypercalls[18] == 1


def _pf_program(cs: int, ds3: int, cs3: int, xen_like: Xen) -> str:
    return (
        "mov $0, %eax\n mov $traps, %ebx\n int $0x82\n"
        f"mov $3, %eax\n mov ${xen_like.abi.flat_ring1_ds}, %ebx\n"
        " mov $0xC0200000, %ecx\n int $0x82\n"
        "movl (0x1000), %eax\n hlt\n"
        "pf_handler:\n"
        + console("pfmsg", 2)
        + f" add $4, %esp\n push ${ds3}\n push $0xC0210000\n push $0x202\n push ${cs3}\n"
        " push $user\n iret\n"
        "user:\n mov $4, %eax\n int $0x80\n jmp user\n"
        "sys_handler:\n"
        + console("sysmsg", 3)
        + shutdown(xen_like)
        + 'pfmsg: .ascii "pf"\nsysmsg: .ascii "sys"\n.balign 4\n'
        f"traps:\n .byte 14, 0\n .word {cs}\n .long pf_handler\n"
        f" .byte 0x80, 3\n .word {cs}\n .long sys_handler\n .long 0, 0\n"
    )


def test_fault_bounce_and_direct_syscall() -> None:
    """#PF exits to Xen and is bounced; int $0x80 from ring 3 reaches ring 1 with no exit."""
    probe = Xen(cpu.Machine(memory_size=8 << 20), "xen-3.0.2")
    sel = probe.abi.selectors
    body = _pf_program(sel.ring1_cs, sel.ring3_ds, sel.ring3_cs, probe)
    machine, xen, dom, _ = run("xen-3.0.2", body)
    assert bytes(dom.console) == b"pfsys"
    assert dom.state is RunState.SHUTDOWN
    assert xen.exceptions == {14: 1}  # the syscall never exited to the hypervisor
    assert machine.counters()["exceptions"].get(0x80) == 1


def test_forced_2_0_kernel_fails_for_the_real_reason() -> None:
    """A 2.0 kernel forced onto 3.0.2 names FLAT_RING1_CS 0x0819: its first fault is fatal."""
    probe = Xen(cpu.Machine(memory_size=8 << 20), "xen-2.0.2")
    sel = probe.abi.selectors
    body = _pf_program(sel.ring1_cs, sel.ring3_ds, sel.ring3_cs, probe)
    _, _, ok_dom, _ = run("xen-2.0.2", body)
    assert bytes(ok_dom.console) == b"pfsys"
    _, _, dom, _ = run("xen-3.0.2", body, force_abi="xen-2.0.2")
    assert dom.state is RunState.CRASHED
    assert "selector 0x819" in (dom.crash_reason or "")


def test_timer_upcall_and_block() -> None:
    """Block, wake on VIRQ_TIMER through the timer gate, upcall, iret hypercall, three times."""
    si = 0xC0300000
    body = f"""
  mov %esi, start_info_ptr
  mov $4, %eax
  mov $0xe019, %ebx
  mov $callback, %ecx
  mov $0xe019, %edx
  mov $callback, %esi
  int $0x82
  mov $16, %eax
  mov $evop, %ebx
  int $0x82
  mov $14, %eax
  mov ${si}, %ebx
  mov start_info_ptr, %esi
  mov 36(%esi), %ecx
  or $0x63, %ecx
  xor %edx, %edx
  mov $2, %esi
  int $0x82
  xor %ebp, %ebp
idle:
  mov $6, %eax
  mov $1, %ebx
  xor %ecx, %ecx
  int $0x82
  jmp idle
callback:
  inc %ebp
{console("tmsg", 1)}
  cmp $3, %ebp
  je done
  movb $0, {si}
  movl $0, {si}+4
  movl $0, {si}+2048
  push %eax
  mov $23, %eax
  int $0x82
done:
  mov $6, %eax
  mov $2, %ebx
  xor %ecx, %ecx
  int $0x82
  hlt
tmsg: .ascii "t"
.balign 4
start_info_ptr: .long 0
evop: .long 1, 0, 0, 0, 0, 0
"""
    machine, xen, dom, _ = run("xen-3.0.2", body, tick_ns=2000, budget=200_000)
    assert bytes(dom.console) == b"ttt"
    assert dom.state is RunState.SHUTDOWN
    assert machine.counters()["exceptions"].get(TIMER_VECTOR) == 3
    assert xen.hypercalls[23] == 2  # two iret hypercalls


def test_two_domains_share_the_core() -> None:
    """A yields to B (its own cr3 and registers); B finishes; A resumes where it was."""
    machine = cpu.Machine(memory_size=32 << 20)
    xen = Xen(machine, "xen-3.0.2")
    a_body = (
        "mov $6, %eax\n xor %ebx, %ebx\n xor %ecx, %ecx\n int $0x82\n"
        + console("m", 1)
        + shutdown(xen)
        + 'm: .ascii "A"\n'
    )
    b_body = console("m", 1) + shutdown(xen) + 'm: .ascii "B"\n'
    a = xen.create_domain(
        make_image(guest_string(xen.abi), code=assemble(a_body, BASE)), memory=8 << 20
    )
    b = xen.create_domain(
        make_image(guest_string(xen.abi), code=assemble(b_body, BASE)), memory=8 << 20
    )
    xen.start(a)
    machine.run(max_instructions=10_000)
    assert (bytes(a.console), bytes(b.console)) == (b"A", b"B")
    assert a.state is b.state is RunState.SHUTDOWN
    assert not set(a.p2m) & set(b.p2m)
    assert struct.calcsize("<I") == 4


def test_xen_boot_entrypoint() -> None:
    """The backend's boot entrypoint builds and enters a domain; a refused image says why."""
    from pvops.backends.xen.boot import xen_boot
    from pvops.backends.xen.models.hypervisor import xen_of
    from pvops.backends.xen.models.loader import LoadError
    from pvops.boot import BootRequest

    machine = cpu.Machine(memory_size=32 << 20)
    probe = Xen(cpu.Machine(memory_size=8 << 20), "xen-3.0.2")
    image = make_image(guest_string(probe.abi), code=assemble(shutdown(probe), BASE))
    xen_boot(BootRequest(machine, image, "console=xen", "xen-3.0.2"))
    xen = xen_of(machine)
    assert xen is not None
    assert machine.cpl == 1
    machine.run(max_instructions=100)
    assert xen.domains[1].state is RunState.SHUTDOWN
    old = make_image(guest_string(Xen(cpu.Machine(memory_size=8 << 20), "xen-2.0.2").abi))
    with pytest.raises(LoadError, match=r"Xen v3\.0"):
        xen_boot(BootRequest(cpu.Machine(memory_size=32 << 20), old, "", "xen-3.0.2"))
