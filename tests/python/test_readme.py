"""The README's Python example runs as written (its Ray example is the same calls as
test_distributed.py's)."""

import re

from conftest import ROOT


def test_readme_python_example_runs(model_dir):
    section = (ROOT / "README.md").read_text().split("## From Python, and on a Ray cluster", 1)[1]
    example = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    names = {}
    exec(compile(example, "README.md", "exec"), names)
    assert names["X"].shape == (2, 384)
    assert names["ids"].tolist() == [2]  # the one item user 0 has not seen
    assert len(names["history"]["steps"]) == 1 and names["P"].shape == (1, 2)
