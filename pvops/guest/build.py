"""Build the reference guest kernel, one flavour at a time.

``build("pvops")`` compiles the kernel sources in this package (or ``src=``,
a folder laid out the same way) with gcc/binutils and returns the path of the
ELF image.  Images are cached by a content hash of every source file, the
flavour, its options and the toolchain's version, so a second call costs a
few hashes.

Source layout (a contract for ``src=`` folders):

- ``*.c``/``*.S`` at the top, in ``lib/`` and ``workloads/``: every flavour;
- ``pc/``: the bare-metal platform (Multiboot entry, UART, PIT/PIC):
  native, pvops and vmi;
- ``paravirt/``: pvops only (``pv_ops`` and its native defaults); files named
  ``xen_*`` in it only when the image is configured for Xen;
- ``vmi/``: vmi only; ``xen/``: the XenoLinux flavours only;
- ``user/``: ring-3 code, compiled into ``.utext`` and checked to be free of
  relocations (it runs at a different address than it is linked at);
- ``include/``: headers; ``kernel.ld``: the linker script.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import attrs
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

__all__ = [
    "FLAVOURS",
    "BuildError",
    "FlavourSpec",
    "build",
    "default_cache_dir",
    "flavour_spec",
    "toolchain_available",
]

SOURCE_DIR = Path(__file__).resolve().parent
"""The reference kernel's sources (this package)."""

CC = os.environ.get("PVOPS_GUEST_CC", "gcc")
LD = os.environ.get("PVOPS_GUEST_LD", "ld")
OBJCOPY = os.environ.get("PVOPS_GUEST_OBJCOPY", "objcopy")

CFLAGS: tuple[str, ...] = (
    "-m32",
    "-march=i686",
    "-O2",
    "-std=gnu11",
    "-ffreestanding",
    "-fno-pic",
    "-fno-pie",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
    "-fno-unwind-tables",
    "-fcf-protection=none",
    "-fno-common",
    "-fno-tree-loop-distribute-patterns",  # or gcc turns memset's loop into memset()
    "-mregparm=3",  # the kernel's ABI, and the pv op call ABI (paravirt_types.h)
    "-mno-sse",
    "-mno-mmx",
    "-mno-80387",
    "-Wall",
    "-Werror",
    "-Werror=implicit-function-declaration",
)
USER_CFLAGS: tuple[str, ...] = ("-fno-jump-tables",)
LDFLAGS: tuple[str, ...] = (
    "-m",
    "elf_i386",
    "-nostdlib",
    "-z",
    "max-page-size=4096",
    "-z",
    "noexecstack",
    "--build-id=none",
    "--no-warn-rwx-segments",
)
COMMON_DIRS = (".", "lib", "workloads")
# ld sections the ring-3 object may have; renamed so kernel.ld places them.
USER_SECTION_RENAMES = {".text": ".utext"}


class BuildError(Exception):
    """The guest kernel did not build; the message shows the tool's own
    diagnostics (``file:line: error: ...``), ready to print without a
    traceback."""


@attrs.frozen
class FlavourSpec:
    """What one flavour compiles and how it is entered."""

    name: str
    defines: tuple[str, ...]
    dirs: tuple[str, ...]
    entry: str
    config: tuple[tuple[str, str], ...]


# What-if interfaces (the models' abi.py): the C defines each one compiles in.
XEN_WHAT_IF_DEFINES = {"xen-3.0-secfix": ("XEN_SECFIX",), "xen-3.0-autoflush": ("XEN_AUTO_FLUSH",)}
XEN_INTERFACES = ("xen-3.0", *XEN_WHAT_IF_DEFINES, "none")
XENOLINUX_3_INTERFACES = ("xen-3.0", *XEN_WHAT_IF_DEFINES)


def flavour_spec(flavour: str, options: Mapping[str, str] | None = None) -> FlavourSpec:
    """The spec of ``flavour`` with ``options`` applied.

    Options of pvops: ``xen``: the Xen interface the image carries an entry
    point and a backend for, ``xen-3.0`` (default), one of the what-if
    interfaces (``xen-3.0-secfix``: ``ABI_3_0_SECFIX``'s layout fix;
    ``xen-3.0-autoflush``: ``ABI_3_0_AUTOFLUSH``'s flush) or ``none``; ``hvm``:
    whether the image can take the hvm backend's paravirtual MMU by late
    registration, ``y`` (default) or ``n`` (a kernel built before that
    interface existed); ``vmi``: ``y`` builds in the vmi backend (Linux
    2.6.21's ``vmi.c``: probe for a VMI ROM at boot and, finding one, run
    the ops through it), ``n`` (default) leaves it out.  Of xenolinux-3.0:
    ``xen``, ``xen-3.0`` (default) or a what-if interface, the headers it
    compiles in.

    Raises:
        BuildError: unknown flavour or option.
    """
    opts = dict(options or {})
    known = {"pvops": {"xen", "hvm", "vmi"}, "xenolinux-3.0": {"xen"}}.get(flavour, set())
    unknown = set(opts) - known
    if unknown:
        msg = f"flavour {flavour!r} takes no option {', '.join(sorted(unknown))}"
        raise BuildError(msg)
    if flavour == "native":
        return FlavourSpec(
            "native", ("CONFIG_NATIVE",), ("pc",), "_start_phys", (("CONFIG_NATIVE", "y"),)
        )
    if flavour == "vmi":
        return FlavourSpec(
            "vmi",
            ("CONFIG_VMI",),
            ("pc", "vmi"),
            "_start_phys",
            (("CONFIG_VMI", "y"), ("CONFIG_VMI_API", "3.0"), ("CONFIG_VMI_ROM_PROBE", "y")),
        )
    if flavour == "pvops-vmi":
        # Linux 2.6.21's configuration: paravirt_ops with the VMI backend only.
        spec = flavour_spec("pvops", {"xen": "none", "hvm": "n", "vmi": "y"})
        return attrs.evolve(spec, name="pvops-vmi")
    if flavour == "pvops":
        xen = opts.get("xen", "xen-3.0")
        if xen not in XEN_INTERFACES:
            msg = f"option xen={xen!r}: expected one of {', '.join(XEN_INTERFACES)}"
            raise BuildError(msg)
        hvm = opts.get("hvm", "y")
        if hvm not in ("y", "n"):
            msg = f"option hvm={hvm!r}: expected y or n"
            raise BuildError(msg)
        vmi = opts.get("vmi", "n")
        if vmi not in ("y", "n"):
            msg = f"option vmi={vmi!r}: expected y or n"
            raise BuildError(msg)
        backends = "native" + (f",{xen}" if xen != "none" else "") + (",hvm" if hvm == "y" else "")
        backends += ",vmi" if vmi == "y" else ""
        return FlavourSpec(
            "pvops",
            ("CONFIG_PARAVIRT",)
            + (("CONFIG_PARAVIRT_XEN",) if xen != "none" else ())
            + (("CONFIG_PARAVIRT_VMI",) if vmi == "y" else ()),
            ("pc", "paravirt", *(("vmi",) if vmi == "y" else ())),
            "_start_phys",
            (
                ("CONFIG_PARAVIRT", "y"),
                ("CONFIG_PARAVIRT_BACKENDS", backends),
                ("CONFIG_PARAVIRT_XEN", xen if xen != "none" else "n"),
                ("CONFIG_PARAVIRT_VMI", vmi),
                ("CONFIG_KERNEL_RPL", "pv_info"),
            ),
        )
    if flavour in ("xenolinux-2.0", "xenolinux-3.0"):
        abi = "200" if flavour.endswith("2.0") else "300"
        interface = "2.0" if abi == "200" else opts.get("xen", "xen-3.0")
        if abi == "300" and interface not in XENOLINUX_3_INTERFACES:
            msg = f"option xen={interface!r}: expected one of {', '.join(XENOLINUX_3_INTERFACES)}"
            raise BuildError(msg)
        fix = XEN_WHAT_IF_DEFINES.get(interface, ())
        return FlavourSpec(
            flavour,
            ("CONFIG_XENOLINUX", f"XEN_ABI={abi}", *fix),
            ("xen",),
            "startup_xen",
            (
                ("CONFIG_XENOLINUX", "y"),
                ("CONFIG_XEN_INTERFACE", interface),
                ("CONFIG_KERNEL_RPL", "1"),
            ),
        )
    msg = f"unknown flavour {flavour!r} (known: {', '.join(FLAVOURS)})"
    raise BuildError(msg)


FLAVOURS = ("native", "pvops", "pvops-vmi", "vmi", "xenolinux-2.0", "xenolinux-3.0")
"""The flavours ``build`` knows, each one from the same sources."""


class _OpSpec(Protocol):
    @property
    def group(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def number(self) -> int: ...


class _Registry(Protocol):
    def catalog(self) -> Sequence[_OpSpec]: ...

    def c_header(self) -> str: ...


def _registry() -> _Registry:
    """The host's op registry (``pvops.ops``), where the op numbers live."""
    try:
        module = importlib.import_module("pvops.ops")
    except ImportError as e:
        msg = f"the pvops flavour needs the op registry (pvops.ops): {e}"
        raise BuildError(msg) from e
    registry: _Registry = module
    return registry


def _qualified(op: _OpSpec) -> str:
    """``group.name`` (the registry may already qualify its names)."""
    return op.name if op.name.startswith(f"{op.group}.") else f"{op.group}.{op.name}"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/pvops/guest``, or ``~/.cache/pvops/guest``."""
    base = os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    return root / "pvops" / "guest"


def _run(argv: Sequence[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        msg = f"{argv[0]}: not found (the guest needs gcc with -m32 and GNU binutils)"
        raise BuildError(msg) from e


@functools.lru_cache(maxsize=1)
def _toolchain_id() -> str:
    parts = []
    for tool in (CC, LD, OBJCOPY):
        r = _run([tool, "--version"], Path.cwd())
        parts.append(r.stdout.splitlines()[0] if r.stdout else tool)
    return "\n".join(parts)


def toolchain_available() -> bool:
    """Whether gcc can compile and ld can link a 32-bit freestanding object."""
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "t.c").write_text("int f(int x) { return x + 1; }\n")
        try:
            cc = subprocess.run(
                [CC, "-m32", "-ffreestanding", "-c", "t.c", "-o", "t.o"],
                cwd=d,
                capture_output=True,
                check=False,
            )
            if cc.returncode:
                return False
            ld = subprocess.run(
                [LD, "-m", "elf_i386", "-r", "t.o", "-o", "u.o"],
                cwd=d,
                capture_output=True,
                check=False,
            )
        except FileNotFoundError:
            return False
        return ld.returncode == 0


def _sources(src: Path, dirs: Iterable[str]) -> list[Path]:
    """The .c and .S files of ``dirs`` (relative to ``src``), sorted."""
    found: list[Path] = []
    for d in dirs:
        folder = src / d
        if not folder.is_dir():
            continue
        found += [p.relative_to(src) for p in sorted(folder.iterdir()) if p.suffix in (".c", ".S")]
    return found


def _select(src: Path, spec: FlavourSpec) -> tuple[list[Path], list[Path]]:
    """(kernel sources, user sources) of a flavour."""
    kernel = _sources(src, (*COMMON_DIRS, *spec.dirs))
    if "CONFIG_PARAVIRT_XEN" not in spec.defines:
        kernel = [p for p in kernel if not (p.parts[0] == "paravirt" and p.name.startswith("xen_"))]
    return kernel, _sources(src, ["user"])


def _c_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _generated_headers(spec: FlavourSpec) -> dict[str, str]:
    """Headers the build writes: the op numbers and the build's identity."""
    config = "".join(f"{k}={v}\n" for k, v in spec.config)
    lines = [
        "/* Generated by pvops.guest.build: do not edit. */",
        f"#define PVOPS_FLAVOUR {_c_string(spec.name)}",
        f"#define PVOPS_CONFIG {_c_string(config)}",
    ]
    headers: dict[str, str] = {}
    if "CONFIG_PARAVIRT" in spec.defines:
        registry = _registry()
        table = "".join(f"{_qualified(op)}={op.number}\n" for op in registry.catalog())
        lines.append(f"#define PVOPS_OP_TABLE {_c_string(table)}")
        headers["pv_ops_numbers.h"] = (
            "/* Generated from the host's op registry (pvops.ops.c_header()). */\n"
            "#ifndef PVOPS_PV_OPS_NUMBERS_H\n#define PVOPS_PV_OPS_NUMBERS_H\n"
            + registry.c_header()
            + "#endif\n"
        )
    headers["build_config.h"] = "\n".join(lines) + "\n"
    return headers


def _digest(src: Path, spec: FlavourSpec, headers: Mapping[str, str], files: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for part in (repr(spec), repr(CFLAGS), repr(USER_CFLAGS), repr(LDFLAGS), _toolchain_id()):
        h.update(part.encode())
        h.update(b"\0")
    for name in sorted(headers):
        h.update(f"gen/{name}\0{headers[name]}\0".encode())
    for rel in sorted(set(files)):
        h.update(f"{rel.as_posix()}\0".encode())
        h.update((src / rel).read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _all_inputs(src: Path) -> list[Path]:
    """Every file that can influence the image: sources, headers, script."""
    return [
        p.relative_to(src)
        for p in sorted(src.rglob("*"))
        if p.is_file() and p.suffix in (".c", ".S", ".h", ".ld")
    ]


MAX_DIAGNOSTIC_LINES = 60


def _diagnostics(what: str, result: subprocess.CompletedProcess[str]) -> BuildError:
    """The tool's own output (the first errors matter most; the rest is cut)."""
    lines = (result.stderr or result.stdout).strip().splitlines()
    if len(lines) > MAX_DIAGNOSTIC_LINES:
        more = len(lines) - MAX_DIAGNOSTIC_LINES
        lines = [*lines[:MAX_DIAGNOSTIC_LINES], f"... ({more} more lines)"]
    text = "\n".join(lines)
    return BuildError(f"{what} failed:\n{text}")


def _check_user_object(obj: Path, rel: Path) -> None:
    """Ring-3 objects run away from their link address: no relocations."""
    try:
        with obj.open("rb") as f:
            elf = ELFFile(f)
            for section in elf.iter_sections():
                if not isinstance(section, RelocationSection):
                    continue
                target = elf.get_section(section["sh_info"]).name
                if target.startswith(".debug") or section.num_relocations() == 0:
                    continue
                symtab = elf.get_section(section["sh_link"])
                reloc = section.get_relocation(0)
                sym = "?"
                if isinstance(symtab, SymbolTableSection):
                    sym = symtab.get_symbol(reloc["r_info_sym"]).name or "(section)"
                msg = (
                    f"{rel.as_posix()}: ring-3 code must be position independent, but "
                    f"{target} has {section.num_relocations()} relocation(s), the first "
                    f"against {sym!r} at offset {reloc['r_offset']:#x} (no globals, string "
                    "literals, jump tables or calls outside the file)"
                )
                raise BuildError(msg)
    except ELFError as e:
        msg = f"{rel.as_posix()}: unreadable object: {e}"
        raise BuildError(msg) from e


def _compile(
    src: Path, rel: Path, obj: Path, gen: Path, spec: FlavourSpec, extra: Sequence[str]
) -> None:
    argv = [
        CC,
        *CFLAGS,
        *extra,
        *(f"-D{d}" for d in spec.defines),
        "-I",
        "include",
        "-I",
        str(gen),
        "-c",
        rel.as_posix(),
        "-o",
        str(obj),
    ]
    result = _run(argv, src)
    if result.returncode:
        raise _diagnostics(f"compiling {rel.as_posix()}", result)


def _link(spec: FlavourSpec, src: Path, tmp: Path, objs: Sequence[Path]) -> Path:
    elf = tmp / f"{spec.name}.elf"
    argv = [
        LD,
        *LDFLAGS,
        "-T",
        str(src / "kernel.ld"),
        "-e",
        spec.entry,
        "-o",
        str(elf),
        *(str(o) for o in objs),
    ]
    result = _run(argv, src)
    if result.returncode:
        raise _diagnostics("linking", result)
    return elf


def _build_into(src: Path, spec: FlavourSpec, headers: Mapping[str, str], tmp: Path) -> Path:
    gen = tmp / "gen"
    gen.mkdir()
    for name, text in headers.items():
        (gen / name).write_text(text)
    kernel, user = _select(src, spec)
    if not (src / "kernel.ld").is_file():
        msg = f"{src}: no kernel.ld"
        raise BuildError(msg)

    def kernel_object(i: int, rel: Path) -> Path:
        obj = tmp / f"{i:03d}-{rel.stem}.o"
        _compile(src, rel, obj, gen, spec, ())
        return obj

    def user_object(i: int, rel: Path) -> Path:
        raw = tmp / f"u{i:03d}-{rel.stem}.raw.o"
        obj = tmp / f"u{i:03d}-{rel.stem}.o"
        _compile(src, rel, raw, gen, spec, USER_CFLAGS)
        _check_user_object(raw, rel)
        renames = [f"--rename-section={a}={b}" for a, b in USER_SECTION_RENAMES.items()]
        result = _run([OBJCOPY, *renames, str(raw), str(obj)], src)
        if result.returncode:
            raise _diagnostics(f"objcopy of {rel.as_posix()}", result)
        return obj

    # The compiler runs in processes of its own: threads are enough to keep
    # every core busy.  The first error (in source order) is the one raised.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = [pool.submit(kernel_object, i, rel) for i, rel in enumerate(kernel)]
        futures += [pool.submit(user_object, i, rel) for i, rel in enumerate(user)]
        objs = [f.result() for f in futures]
    return _link(spec, src, tmp, objs)


def build(
    flavour: str,
    *,
    src: Path | None = None,
    out: Path | None = None,
    force: bool = False,
    options: Mapping[str, str] | None = None,
) -> Path:
    """Build one flavour of the guest kernel and return the ELF image's path.

    Args:
        flavour: one of :data:`FLAVOURS`.
        src: a source folder laid out as this package (default: the
            reference kernel shipped with pvops).
        out: where to put the image (default: in the cache, named by hash).
        force: rebuild even if the cache has this image.
        options: flavour options (see :func:`flavour_spec`).

    Raises:
        BuildError: unknown flavour, missing toolchain, or a compiler or
            linker error (the message holds its diagnostics).
    """
    spec = flavour_spec(flavour, options)
    root = (src or SOURCE_DIR).resolve()
    if not root.is_dir():
        msg = f"{root}: no such source folder"
        raise BuildError(msg)
    headers = _generated_headers(spec)
    digest = _digest(root, spec, headers, _all_inputs(root))
    cache = default_cache_dir()
    cached = cache / f"{flavour}-{digest[:20]}.elf"
    if force or not cached.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="pvops-guest-") as tmp:
            elf = _build_into(root, spec, headers, Path(tmp))
            with tempfile.NamedTemporaryFile(
                dir=cache, prefix=f".{cached.name}.", delete=False
            ) as f:
                staged = Path(f.name)
                f.write(elf.read_bytes())
            staged.replace(cached)  # atomic: concurrent builds never see half a file
    if out is None:
        return cached
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, out)
    return out
