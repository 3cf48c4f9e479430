"""The explicit "do nothing" op.

Linux fills slots that need no work on bare hardware with ``paravirt_nop``
instead of leaving them NULL: a NULL slot is a bug that surfaces only when
called (Linux patches it to ``ud2``), while ``paravirt_nop`` is a decision
that anyone can see, that ``describe`` can report, and that the patcher can
recognise and turn into nops.  No slot in pvops may ever hold None.
"""

from __future__ import annotations


def paravirt_nop(*args: object, **kwargs: object) -> None:
    """Do nothing: the explicit default of ops with no work on bare hardware."""
    del args, kwargs
