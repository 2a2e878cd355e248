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


_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")  # [text](target "title")
_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)  # [ref]: target
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, file:, mailto: …


@pytest.mark.parametrize("name", ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"])
def test_docs_link_only_to_files_inside_the_repository_that_exist(name: str) -> None:
    """A clone has nothing beside it: no ../ path, no URL, no link to a file that is missing."""
    text = (ROOT / name).read_text(encoding="utf-8")
    root = ROOT.resolve()
    assert not re.search(r"(?<![\w.])\.\./", text), f"{name} names a path outside the repository"
    for target in _LINK.findall(text) + _DEFINITION.findall(text):
        assert not _SCHEME.match(target), f"{name} links outside the repository: {target}"
        path = target.split("#", 1)[0]
        if not path:
            continue  # a heading in the same file
        resolved = (root / path).resolve()
        assert resolved.is_relative_to(root), f"{name} links outside the repository: {target}"
        assert resolved.exists(), f"{name} links to {target}, which does not exist"
