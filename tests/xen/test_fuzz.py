"""Random hypercalls never crash the host or break isolation."""

from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_isolation import frames_digest
from xenfake import SCRATCH, VIRT_BASE, FakeHost, guest_string, hcall, make_image, put

from pvops.backends.xen.models.abi import DOMID_XEN
from pvops.backends.xen.models.hypervisor import Xen
from pvops.backends.xen.models.mm import ENTRIES, PageType

_XEN: dict[str, tuple[Xen, object, object, str]] = {}


def check_invariants(xen: Xen) -> None:
    """Every validated table maps only its owner's frames, none of them writable if typed."""
    info = xen.frames.info
    for mfn, fi in enumerate(info):
        if not fi.type_count or fi.type not in (PageType.L1, PageType.L2):
            continue
        words = xen.mem.frame_words(mfn)
        limit = ENTRIES if fi.type == PageType.L1 else xen.hv_slot
        for e in words[:limit]:
            if not e & 1:
                continue
            target = info[e >> 12]
            assert target.owner == fi.owner, f"frame {mfn:#x} maps a foreign frame"
            if fi.type == PageType.L2:
                assert target.type == PageType.L1
                assert target.type_count
            elif e & 2:
                assert target.type == PageType.WRITABLE, f"writable map of {target.type}"
    for dom in xen.domains.values():
        if dom.alive:
            assert info[dom.baseptr].type == PageType.L2
            assert info[dom.baseptr].type_count


INTERESTING = st.sampled_from(
    [
        0,
        1,
        2,
        3,
        4,
        0x7FF0,
        0xFFFFFFFF,
        0x80000000,
        SCRATCH,
        SCRATCH + 0x40,
        VIRT_BASE,
        0xFC000000,
        0xFC400000,
        0xC0200000,
        0xC0200000 >> 12,
    ]
)
ARG = st.one_of(INTERESTING, st.integers(0, 0xFFFFFFFF), st.integers(0, 4096))
CALL = st.tuples(
    st.one_of(st.integers(0, 30), st.integers(0, 0xFFFFFFFF)), st.lists(ARG, min_size=5, max_size=5)
)


def _machine(release: str):
    xen = Xen(FakeHost(), release)
    image = make_image(guest_string(xen.abi))
    victim = xen.create_domain(image, memory=4 << 20, name="victim")
    attacker = xen.create_domain(image, memory=4 << 20, name="attacker")
    xen.start(attacker)
    return xen, attacker, victim


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    release=st.sampled_from(["xen-2.0.2", "xen-3.0.1", "xen-3.0.2"]),
    junk=st.binary(min_size=64, max_size=256),
    calls=st.lists(CALL, min_size=1, max_size=12),
)
def test_random_hypercalls_keep_isolation(release: str, junk: bytes, calls) -> None:
    """Random numbers and arguments (and random structures behind pointers) are survived."""
    xen, attacker, victim = _machine(release)
    digest = frames_digest(xen, victim.p2m)
    owners = [fi.owner for fi in xen.frames.info]
    put(xen, attacker, SCRATCH, junk)
    # Let some pointers point at "frame numbers" of the victim and Xen.
    put(
        xen,
        attacker,
        SCRATCH + 0x200,
        b"".join(
            ((m << 12) | k).to_bytes(4, "little")
            for m in (victim.p2m[1], xen.idt_frame, victim.pt_base)
            for k in (0, 1, 2, 3, 0x23)
        ),
    )
    for nr, args in calls:
        if not attacker.alive or xen.current is not attacker:
            break
        hcall(xen, nr, *args)
    check_invariants(xen)
    assert frames_digest(xen, victim.p2m) == digest
    for mfn, fi in enumerate(xen.frames.info):
        if owners[mfn] in (victim.domid, DOMID_XEN):
            assert fi.owner == owners[mfn]
    assert hashlib is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    release=st.sampled_from(["xen-2.0.2", "xen-3.0.2"]),
    reqs=st.lists(
        st.tuples(
            st.integers(0, 3),  # which table: L2, first L1, the page itself, random
            st.integers(0, 1023),
            st.integers(0, 3),  # ptr[1:0]
            st.integers(0, 3),  # target: own, own page table, victim, Xen
            st.integers(0, 0xFFF),  # flags
            st.integers(0, 2047),
        ),
        min_size=1,
        max_size=24,
    ),
)
def test_random_page_table_updates(release: str, reqs) -> None:
    """mmu_update with entries aimed at live page tables never breaks the type rules."""
    from xenfake import mmu_update, mmuext

    xen, attacker, victim = _machine(release)
    digest = frames_digest(xen, victim.p2m)
    l1 = xen.mem.u32((attacker.baseptr << 12) + (VIRT_BASE >> 22) * 4) >> 12
    tables = [attacker.baseptr, l1, attacker.p2m[0x200]]
    for which, index, cmd, target, flags, pfn in reqs:
        if not attacker.alive:
            break
        table = tables[which] if which < 3 else attacker.p2m[pfn % attacker.nr_pages]
        frame = [
            attacker.p2m[pfn % attacker.nr_pages],
            attacker.baseptr,
            victim.p2m[pfn % 64],
            xen.idt_frame,
        ][target]
        rc = mmu_update(xen, attacker, ((table << 12) + index * 4 + cmd, (frame << 12) | flags))
        assert rc <= 0
        if index % 7 == 0 and attacker.alive:
            mmuext(xen, attacker, "pin_l1_table", frame)
    check_invariants(xen)
    assert frames_digest(xen, victim.p2m) == digest
