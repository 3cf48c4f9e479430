"""The documentation's examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).parent.parent / "docs"


def python_blocks(path: Path) -> list[str]:
    """The ```python blocks of a markdown file, in order."""
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL)


def test_registry_page_examples_run() -> None:
    """docs/registry.md: write, register, describe and override a backend."""
    blocks = python_blocks(DOCS / "registry.md")
    assert len(blocks) >= 3
    namespace: dict[str, object] = {"__name__": "docs_registry"}
    exec(compile("\n".join(blocks), "docs/registry.md", "exec"), namespace)
    assert namespace["seen"] == []


def test_cost_model_page_lists_every_event() -> None:
    """docs/cost-model.md has a row for every event of the default cost table."""
    from pvops.lab.cost import DEFAULT_COSTS

    text = (DOCS / "cost-model.md").read_text()
    for event, cost in DEFAULT_COSTS.items():
        assert f"| `{event}` | {cost.cycles:g} |" in text, event
