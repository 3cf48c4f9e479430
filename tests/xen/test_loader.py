"""The builders' image checks and messages, per release."""

from __future__ import annotations

import struct

import pytest
from xenfake import FakeHost, make_image

from pvops.backends.xen.models.abi import ABI_2_0, ABI_3_0, version
from pvops.backends.xen.models.hypervisor import Xen
from pvops.backends.xen.models.loader import LoadError, check_image
from pvops.image import ElfNote

XEN2 = "GUEST_OS=linux,GUEST_VER=2.6,XEN_VER=2.0,VIRT_BASE=0xC0000000,LOADER=generic"
XEN3 = "GUEST_OS=linux,GUEST_VER=2.6,XEN_VER=xen-3.0,VIRT_BASE=0xC0000000,PAE=no,LOADER=generic"


def _notes(xen_version: str = "xen-3.0") -> tuple[ElfNote, ...]:
    return (
        ElfNote("Xen", 6, b"linux\0"),
        ElfNote("Xen", 5, xen_version.encode() + b"\0"),
        ElfNote("Xen", 3, struct.pack("<I", 0xC0000000)),
        ElfNote("Xen", 1, struct.pack("<I", 0xC0000010)),
        ElfNote("Xen", 8, b"generic\0"),
    )


class TestCheckImage:
    """check_image accepts and refuses as each release's builder."""

    @pytest.mark.parametrize("release", ["xen-3.0.1", "xen-3.0.2"])
    def test_3_0_refuses_a_2_0_kernel(self, release: str) -> None:
        """A XEN_VER=2.0 image is refused by 3.0.x with Xen's message."""
        with pytest.raises(LoadError, match=r"will only load images built for Xen v3\.0"):
            check_image(make_image(XEN2), version(release))

    @pytest.mark.parametrize("release", ["xen-2.0.2", "xen-2.0.7"])
    def test_2_0_refuses_a_3_0_kernel(self, release: str) -> None:
        """XEN_VER=xen-3.0 does not contain XEN_VER=2.0."""
        with pytest.raises(LoadError, match=r"will only load images built for Xen v2\.0"):
            check_image(make_image(XEN3), version(release))

    def test_matching_versions_load(self) -> None:
        """Each release takes the kernels built for it; VIRT_BASE and entry come through."""
        info = check_image(make_image(XEN2), version("xen-2.0.2"))
        assert info.virt_base == 0xC0000000
        assert info.source == "__xen_guest"
        assert check_image(make_image(XEN3), version("xen-3.0.2")).entry == 0xC0000000

    def test_force_skips_only_the_version_check(self) -> None:
        """force loads a mismatched kernel but still wants a Linux/generic image."""
        assert check_image(make_image(XEN2), version("xen-3.0.2"), force=True)
        with pytest.raises(LoadError, match="generic loader or Linux images"):
            check_image(
                make_image("GUEST_OS=bsd,XEN_VER=xen-3.0"), version("xen-3.0.2"), force=True
            )

    def test_no_section(self) -> None:
        """No __xen_guest and no notes: not a Xen-ELF image."""
        with pytest.raises(LoadError, match="'__xen_guest' section not found"):
            check_image(make_image(None), version("xen-3.0.2"))

    def test_notes_accepted_by_3_0_only(self) -> None:
        """A pvops image's Xen notes stand in for __xen_guest on 3.0.x, not on 2.0."""
        image = make_image(None, notes=_notes(), code=b"\x90" * 32)
        info = check_image(image, version("xen-3.0.2"))
        assert info.source == "notes"
        assert info.entry == 0xC0000010
        with pytest.raises(LoadError, match="section not found"):
            check_image(image, version("xen-2.0.2"))

    def test_hypercall_page_request(self) -> None:
        """HYPERCALL_PAGE=<pfn> in __xen_guest names a page offset from VIRT_BASE."""
        info = check_image(make_image(XEN3 + ",HYPERCALL_PAGE=0x2"), version("xen-3.0.2"))
        assert info.hypercall_page == 0xC0002000


class TestCreateDomain:
    """Xen.create_domain runs the checks before building anything."""

    def test_refused_image_builds_nothing(self) -> None:
        """A refused kernel leaves machine memory untouched."""
        xen = Xen(FakeHost(), "xen-3.0.2")
        free = xen.free_frames()
        with pytest.raises(LoadError):
            xen.create_domain(make_image(XEN2))
        assert xen.free_frames() == free
        assert not xen.domains

    def test_forced_2_0_kernel_meets_3_0_layouts(self) -> None:
        """Forced onto 3.0, a 2.0 kernel gets 3.0's start_info: nr_pages is not at 0."""
        xen = Xen(FakeHost(), "xen-3.0.2")
        dom = xen.create_domain(make_image(XEN2), memory=8 << 20, force=True)
        si = xen.read_guest(dom, dom.start_info_va, 64)
        assert isinstance(si, bytes)
        assert si[:14] == b"xen-3.0-x86_32"  # where a 2.0 kernel reads nr_pages
        assert struct.unpack_from("<I", si, 32)[0] == 2048
        assert ABI_2_0.start_info.offset("nr_pages") != ABI_3_0.start_info.offset("nr_pages")
