"""The built wheel carries the templates and the schedule, and its CLI works from a clean venv."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from tests.conftest import EXAMPLE, ROOT, readme_library_example


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_wheel_installs_in_a_clean_venv_and_imports_a_meeting(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, ROOT)
    [wheel] = dist.glob("iep_followup-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "iep_followup/py.typed" in names
    assert any(n.startswith("iep_followup/jobs/") for n in names)
    assert any(n.startswith("iep_followup/email_templates/") for n in names)
    assert any(n.startswith("iep_followup/store/migrations/versions/0001") for n in names)
    assert "iep_followup/examples/lucia-annual-review.yaml" in names
    assert "iep_followup/examples/unbalanced-meeting.yaml" in names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    _run(env_dir / "bin" / "python", "-m", "pip", "install", "--quiet", wheel)
    work = tmp_path / "work"
    work.mkdir()
    cli = env_dir / "bin" / "iep-followup"
    _run(cli, "init", cwd=work)
    out = _run(cli, "import", EXAMPLE, cwd=work)
    assert "added item homework-check" in out
    located = _run(
        env_dir / "bin" / "python",
        "-c",
        "from iep_followup.resources import templates_dir, jobs_dir; print(templates_dir()); print(jobs_dir())",
        cwd=work,
    )
    assert all(str(env_dir) in line for line in located.splitlines())
    # The README's library example runs from a folder with no examples/ in it.
    library = _run(env_dir / "bin" / "python", "-c", readme_library_example(), cwd=work)
    assert library.startswith("Lucía Herrera Work on pencil grip")
    # The demo uses the shipped templates, schedule and example from inside the package.
    demo = _run(cli, "demo", "--dir", work / "demo", cwd=work)
    assert "5. Monday, Dec 14: the two weeks are over" in demo
