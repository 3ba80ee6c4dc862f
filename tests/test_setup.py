"""The set-up files agree with each other: one set of pins, a self-documenting Makefile, CI calls make test."""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*(?:-\s*)?([A-Za-z0-9_.-]+(?:\[[^\]]*\])?)==(\S+)\s*$")


def pins(text: str) -> dict:
    return {m.group(1).lower(): m.group(2) for line in text.splitlines() if (m := PIN.match(line))}


def test_environment_yml_pins_exactly_what_the_makefile_installs():
    req = pins((ROOT / "requirements.txt").read_text())
    env_text = (ROOT / "environment.yml").read_text()
    env = pins(env_text.split("- pip:", 1)[1])
    assert req and env == req
    assert "python=3.11" in env_text and "openjdk=17" in env_text


def test_every_requirement_is_pinned_and_moto_exactly():
    lines = [ln for ln in (ROOT / "requirements.txt").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert all(PIN.match(ln) for ln in lines), [ln for ln in lines if not PIN.match(ln)]
    assert pins("\n".join(lines))["moto[server]"] == "5.2.5"


def test_makefile_help_lists_the_documented_targets():
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for target in ("run", "test", "lab", "bench", "exercises", "clean"):
        assert re.search(rf"make {target}\s+\S", out), f"`make help` does not describe {target}:\n{out}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
