"""The README and .env.example list every setting, with the default the code really uses."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from iep_followup.config import ENV_PREFIX, Settings
from tests.conftest import ROOT, readme_library_example


def _names() -> set[str]:
    return {ENV_PREFIX + name.upper() for name in Settings.model_fields}


def test_readme_settings_table_lists_every_setting_with_its_default() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(IEP_FOLLOWUP_\w+)` \| (.+?) \|", readme, flags=re.MULTILINE))
    assert set(rows) == _names()
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = rows[ENV_PREFIX + name.upper()]
        if default is None:
            assert shown == "unset", name
        else:
            value = default.get_secret_value() if hasattr(default, "get_secret_value") else default
            assert shown == f"`{value}`", name


def test_env_example_lists_every_setting() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert set(re.findall(r"(IEP_FOLLOWUP_\w+)=", example)) == _names()


def test_the_readme_library_example_runs_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = readme_library_example()
    monkeypatch.chdir(tmp_path)  # an empty folder: no examples/ beside it
    for name in list(os.environ):
        if name.startswith("IEP_FOLLOWUP_"):
            monkeypatch.delenv(name)
    printed: list[str] = []
    exec(
        compile(code, "README.md", "exec"),
        {"print": lambda *a: printed.append(" ".join(map(str, a)))},
    )
    assert printed[0].startswith("Lucía Herrera Work on pencil grip")
    assert len(printed) == 1  # every member of the example has a part: no balance warnings
