"""The correctness oracle of pvops.cpu: unicorn, driven with the same code and state.

- :mod:`.layout`: guest-physical layout, IDT/GDT and the background image.
- :mod:`.harness`: lockstep comparison, whole-program comparison, reports.
- :mod:`.flags`: EFLAGS bits and what the SDM leaves undefined.
- :mod:`.encode`: raw encodings and code layout nodes.
- :mod:`.gen`: hypothesis strategies for instruction sequences.
- :mod:`.fuzz`: hypothesis settings.
- :mod:`.ucmachine`: the Machine API on unicorn (self-test of the tests).
"""
