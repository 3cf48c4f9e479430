"""The reference guest kernel: its sources, build driver and checksums.

The kernel itself is C and GNU assembler in this folder (see ``build.py`` for
the layout); :func:`build` turns it into an ELF image per flavour, and
:func:`expected_checksum` says what each workload must print.
"""

from pvops.guest.build import FLAVOURS, BuildError, build
from pvops.guest.checksums import expected_checksum, parse_result

__all__ = ["FLAVOURS", "BuildError", "build", "expected_checksum", "parse_result"]
