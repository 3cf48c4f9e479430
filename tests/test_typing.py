"""mypy sees backend mistakes before anything runs.

Each sample in typing_samples/ marks the lines mypy must reject with
``# E: <word>``; the test runs mypy --strict once over all of them and checks
that exactly those lines are reported, and that the error names the slot.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typing_view import build

mypy_api = pytest.importorskip("mypy.api")

SAMPLES = Path(__file__).parent / "typing_samples"
EXPECT = re.compile(r"#\s*E:\s*(\S+)")


def _expected() -> dict[tuple[str, int], str]:
    marks = {}
    for path in sorted(SAMPLES.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if match := EXPECT.search(line):
                marks[(path.name, number)] = match.group(1)
    return marks


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], str]:
    """Run mypy --strict over every sample once; errors keyed by (file, line)."""
    view = build(tmp_path_factory.mktemp("view"))
    cache = tmp_path_factory.mktemp("mypy-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MYPYPATH", str(view))
        stdout, stderr, _ = mypy_api.run(
            [
                "--strict",
                "--no-error-summary",
                "--show-error-codes",
                "--cache-dir",
                str(cache),
                "--config-file",
                "",
                *map(str, sorted(SAMPLES.glob("*.py"))),
            ]
        )
    assert not stderr, stderr
    errors: dict[tuple[str, int], str] = {}
    for line in stdout.splitlines():
        match = re.match(r"(.+?):(\d+): error: (.*)", line)
        if match:
            key = (Path(match.group(1)).name, int(match.group(2)))
            errors[key] = errors.get(key, "") + match.group(3)
    return errors


def test_correct_backend_type_checks(mypy_errors: dict[tuple[str, int], str]) -> None:
    """The correct sample has no errors at all."""
    assert [k for k in mypy_errors if k[0] == "good_backend.py"] == []


@pytest.mark.parametrize(
    "sample", ["wrong_signature.py", "wrong_names.py", "none_slot.py", "address_mixup.py"]
)
def test_mistakes_are_reported_where_marked(
    mypy_errors: dict[tuple[str, int], str], sample: str
) -> None:
    """Every marked line, and only those, is an error that mentions the marked word."""
    expected = {k: v for k, v in _expected().items() if k[0] == sample}
    got = {k: v for k, v in mypy_errors.items() if k[0] == sample}
    assert set(got) == set(expected), got
    for key, word in expected.items():
        assert word in got[key], (key, got[key])
