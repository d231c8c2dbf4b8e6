"""Checks on the repository itself: the README is generated from its notebook and CI runs its test command."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_is_current():
    result = subprocess.run([sys.executable, str(ROOT / ".ci" / "make_readme.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_ci_runs_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^nbdev_test .*$", readme, flags=re.M)
    assert len(commands) == 1, commands
    assert "grep -m1 -E '^nbdev_test ' README.md" in (ROOT / ".ci" / "run").read_text()


def test_runtime_requirements_carry_no_dev_pins():
    settings = (ROOT / "settings.ini").read_text()
    requirements = re.search(r"^requirements = (.*)$", settings, flags=re.M).group(1)
    for dev_only in ("nbdev", "execnb", "ghapi", "fastcore<2"):
        assert dev_only not in requirements, dev_only


def shell_commands(markdown: str) -> list[str]:
    "Commands in the ```bash blocks of a Markdown text, without trailing comments."
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", markdown, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line: commands.append(line)
    return commands


def test_turkish_readme_has_same_commands():
    english = shell_commands((ROOT / "README.md").read_text())
    turkish = shell_commands((ROOT / "README.tr.md").read_text(encoding="utf-8"))
    assert english, "no ```bash blocks found in README.md"
    assert turkish == english
