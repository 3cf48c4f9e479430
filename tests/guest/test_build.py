"""pvops.guest.build: the build driver."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pvops.guest.build import SOURCE_DIR, BuildError, build, flavour_spec
from pvops.image import load_image

from .conftest import needs_toolchain


def _copy_sources(dst: Path) -> Path:
    """A private copy of the reference kernel's sources, for breaking."""
    shutil.copytree(SOURCE_DIR, dst, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return dst


class TestFlavourSpec:
    """flavour_spec(): names and options, no compiler needed."""

    def test_unknown_flavour_raises_build_error(self) -> None:
        """The message lists the flavours that exist."""
        with pytest.raises(BuildError, match=r"unknown flavour 'xen'.*native"):
            flavour_spec("xen")

    def test_unknown_option_raises_build_error(self) -> None:
        """Options are per flavour."""
        with pytest.raises(BuildError, match="takes no option xen"):
            flavour_spec("native", {"xen": "xen-3.0"})

    def test_bad_xen_interface_raises_build_error(self) -> None:
        """The pvops image's Xen interface is one the kernel has an entry for."""
        with pytest.raises(BuildError, match=r"xen-3\.0"):
            flavour_spec("pvops", {"xen": "xen-2.0"})

    def test_xenolinux_headers_are_a_3_0_choice(self) -> None:
        """xenolinux-3.0 compiles in 3.0's headers or the layout fix's, nothing else."""
        assert "XEN_SECFIX" in flavour_spec("xenolinux-3.0", {"xen": "xen-3.0-secfix"}).defines
        assert "XEN_SECFIX" not in flavour_spec("xenolinux-3.0").defines
        with pytest.raises(BuildError, match=r"expected one of xen-3\.0, xen-3\.0-secfix"):
            flavour_spec("xenolinux-3.0", {"xen": "2.0"})
        with pytest.raises(BuildError, match="takes no option xen"):
            flavour_spec("xenolinux-2.0", {"xen": "xen-3.0"})


@needs_toolchain
class TestBuild:
    """build()"""

    def test_second_call_served_from_cache(self, built: dict[str, Path]) -> None:
        """Same sources, same options: same file, not rebuilt."""
        before = built["native"].stat().st_mtime_ns
        assert build("native") == built["native"]
        assert built["native"].stat().st_mtime_ns == before

    def test_out_copies_the_image(self, built: dict[str, Path], tmp_path: Path) -> None:
        """out= names where the image goes."""
        out = build("native", out=tmp_path / "sub" / "kernel.elf")
        assert out == tmp_path / "sub" / "kernel.elf"
        assert out.read_bytes() == built["native"].read_bytes()

    def test_force_rebuilds_the_same_image(self, built: dict[str, Path]) -> None:
        """The build is reproducible: a forced rebuild gives identical bytes."""
        before = built["vmi"].read_bytes()
        assert build("vmi", force=True).read_bytes() == before

    def test_pvops_without_xen_has_no_xen_entry(self) -> None:
        """The image records what it was configured for, and only that."""
        im = load_image(build("pvops", options={"xen": "none"}))
        assert im.xen_entry is None
        assert "startup_xen" not in im.symbols
        assert im.config["CONFIG_PARAVIRT_XEN"] == "n"

    def test_compile_error_shows_file_and_line(self, tmp_path: Path) -> None:
        """A broken source gives the compiler's file:line diagnostics."""
        src = _copy_sources(tmp_path / "src")
        (src / "paging.c").write_text(
            (src / "paging.c").read_text() + "\nint broken(void) { return }\n"
        )
        with pytest.raises(BuildError) as e:
            build("native", src=src)
        assert "paging.c:" in str(e.value)
        assert "error" in str(e.value)

    def test_user_code_with_globals_refused(self, tmp_path: Path) -> None:
        """Ring-3 code runs away from its link address: relocations are refused."""
        src = _copy_sources(tmp_path / "src")
        user = src / "user" / "user.c"
        user.write_text(user.read_text() + "\nint counter;\nint bump(void) { return ++counter; }\n")
        with pytest.raises(BuildError, match="position independent"):
            build("native", src=src)

    def test_own_sources_change_the_hash(self, built: dict[str, Path], tmp_path: Path) -> None:
        """A user's edited copy is a different image, cached separately."""
        src = _copy_sources(tmp_path / "src")
        (src / "main.c").write_text((src / "main.c").read_text() + "\n/* edited */\n")
        assert build("native", src=src) != built["native"]

    def test_missing_source_folder_raises(self, tmp_path: Path) -> None:
        """src must exist."""
        with pytest.raises(BuildError, match="no such source folder"):
            build("native", src=tmp_path / "nope")
