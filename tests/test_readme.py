"""The README's configuration table lists every setting dashboard/config.py reads, with its default."""

from __future__ import annotations

import pytest

from dashboard.config import ROOT, VARIABLES

README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", list(VARIABLES))
def test_every_setting_is_in_the_readme_with_its_default(name):
    default, meaning = VARIABLES[name]
    default = "./.data" if name == "DATA_DIR" else default  # the real default is an absolute path
    assert f"| `{name}` | `{default}` | {meaning} |" in README
