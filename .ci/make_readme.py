"""Generate README.md from nbs/index.ipynb without Quarto.

nbdev_readme renders the README with Quarto, a separate program that pip cannot install. This
script runs nbdev's own notebook processors (the ones the docs build uses) on index.ipynb, then converts
the result to Markdown with nbconvert. With --check it only reports whether README.md is current.
"""
import argparse
import sys
from pathlib import Path

import nbformat
import yaml
from execnb.nbio import read_nb
from nbconvert import MarkdownExporter
from nbdev.processors import FilterDefaults

ROOT = Path(__file__).resolve().parent.parent


def render_readme() -> str:
    "Return the README text built from nbs/index.ipynb."
    nb = read_nb(ROOT / "nbs" / "index.ipynb")
    FilterDefaults()(nb)   # drops hidden cells and nbdev directives; moves the title into frontmatter
    frontmatter, cells = {}, []
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.startswith("---"):
            frontmatter = yaml.safe_load(cell.source.strip().strip("-")) or {}
            continue
        cells.append(cell)
    title, description = frontmatter.get("title"), frontmatter.get("description")
    nb.cells = cells
    body, _ = MarkdownExporter().from_notebook_node(nbformat.from_dict(dict(nb)))
    head = f"# {title}\n\n" if title else ""
    if description: head += f"> {description}\n\n"
    return head + body.strip() + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit with status 1 when README.md differs from the notebook")
    args = parser.parse_args()
    text = render_readme()
    readme = ROOT / "README.md"
    if args.check:
        if not readme.is_file() or readme.read_text() != text:
            print("README.md is stale: run `python .ci/make_readme.py` and commit the result.", file=sys.stderr)
            sys.exit(1)
        print("README.md is current.")
        return
    readme.write_text(text)
    print(f"wrote {readme}")


if __name__ == "__main__":
    main()
