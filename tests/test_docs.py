"""Docs checks without Quarto: the parts of .ci/check_docs.py that need no browser, and proof that each can fail."""
import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_docs", ROOT / ".ci" / "check_docs.py")
check_docs = importlib.util.module_from_spec(_spec)
sys.modules["check_docs"] = check_docs
_spec.loader.exec_module(check_docs)


@pytest.fixture(scope="module")
def reports():
    "Run every check once on the notebooks in nbs/; processing executes cells, so it takes some seconds."
    _, reports = check_docs.check_all()
    return reports


@pytest.mark.parametrize("check", ["nbdev processing", "titles and descriptions", "links and images", "sidebar", "API reference"])
def test_docs_check_passes(reports, check):
    assert not reports[check].errors, "\n".join(reports[check].errors)


def write_notebook(path: Path, *markdown: str, code: str = ""):
    "Write a notebook with the given markdown cells, then one code cell."
    cells = [{"cell_type": "markdown", "metadata": {}, "source": text} for text in markdown]
    cells.append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": code})
    nb = {"cells": cells, "metadata": {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 4}
    path.write_text(json.dumps(nb))
    return path


def test_link_check_finds_broken_targets(tmp_path):
    write_notebook(tmp_path / "other.ipynb", "# Other\n> A page.", "## Real section")
    page = write_notebook(tmp_path / "page.ipynb", "# Page\n> A page.",
                          "[ok](other.ipynb#real-section) [ok too](other.html) ![missing](images/none.png)\n"
                          "[gone](gone.ipynb) [bad anchor](other.ipynb#no-such-section) [self](#nowhere)\n"
                          "`[in code](ignored.ipynb)` and [web](https://example.org/x.ipynb)")
    errors = check_docs.check_links(page, root=tmp_path).errors
    assert len(errors) == 4, errors
    assert any("images/none.png" in e for e in errors)
    assert any("gone.ipynb" in e for e in errors)
    assert any("#no-such-section" in e for e in errors)
    assert any("#nowhere" in e for e in errors)


def test_pandoc_ids_match_quarto_anchors():
    assert check_docs.pandoc_id("How the results were measured") == "how-the-results-were-measured"
    assert check_docs.pandoc_id("`liquid-plasticity-test`") == "liquid-plasticity-test"
    assert check_docs.pandoc_id("One token: ODE, then Hebbian update") == "one-token-ode-then-hebbian-update"
    assert check_docs.pandoc_id("Same size: the 5M models {#five}") == "same-size-the-5m-models"


def test_sidebar_check_finds_missing_and_unlisted(tmp_path):
    write_notebook(tmp_path / "a.ipynb", "# A\n> A page.")
    write_notebook(tmp_path / "unlisted.ipynb", "# U\n> A page.")
    quarto = tmp_path / "_quarto.yml"
    quarto.write_text("website:\n  sidebar:\n    contents:\n      - a.ipynb\n      - section: S\n"
                      "        contents: [missing.ipynb, pending.ipynb, a.ipynb]\n")
    report = check_docs.check_sidebar(quarto, nbs=tmp_path, pending={"pending.ipynb"})
    assert any("'missing.ipynb' not found" in e for e in report.errors), report.errors
    assert any("'unlisted.ipynb' is not in the sidebar" in e for e in report.errors), report.errors
    assert any("'a.ipynb' 2 times" in e for e in report.errors), report.errors
    assert len(report.errors) == 3, report.errors
    assert any("pending.ipynb" in w for w in report.warnings), report.warnings


def test_frontmatter_check_needs_description(tmp_path):
    page = write_notebook(tmp_path / "page.ipynb", "# Title only")
    nb, _ = check_docs.process_notebook(page)
    errors = check_docs.check_frontmatter(page, nb).errors
    assert len(errors) == 1, errors
    assert "no description" in errors[0], errors


def test_processing_failure_is_reported(tmp_path):
    page = write_notebook(tmp_path / "page.ipynb", "# Page\n> A page.", code="#| export\nvalue = undefined_name + 1")
    _, report = check_docs.process_all([page])
    assert len(report.errors) == 1, report.errors
    assert "undefined_name" in report.errors[0], report.errors
