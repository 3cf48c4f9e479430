"""Benchmarks of pvops: the interpreter core against unicorn (:mod:`pvops.bench.core`).

Guest code is built at run time from the sources in ``loops/`` and
``programs/`` by :mod:`pvops.bench.build`; nothing prebuilt is shipped.
"""
