"""Check the docs site without Quarto: notebooks process, pages have frontmatter, links and the sidebar resolve.

The site is rendered by Quarto in the docs-deploy workflow only, because pip cannot install Quarto.
This script checks everything short of rendering:

1. nbdev's docs processors (the `FilterDefaults` that `nbdev_docs` runs) succeed on every notebook
   in nbs/. They execute exported cells, imports and show_doc cells, so a cell that needs an earlier,
   unexecuted cell fails here as it would in the deploy workflow.
2. Every page has a title and a description (a first markdown cell `# Title` then `> description`).
3. Links to other pages (.ipynb, .qmd, .md, .html), their #anchors, in-page anchors and image paths
   resolve. Anchors are the heading ids that Pandoc derives, or explicit `{#id}`.
4. Every page in the sidebar of _quarto.yml exists, and every notebook in nbs/ is in the sidebar.
5. Every notebook that exports code gets an API reference: show_doc output after processing.

With --html DIR it also writes an HTML preview of each processed page with nbconvert; with
--screenshots DIR (needs --html and chromium) it screenshots a few of them. The preview is not the
site: Quarto features such as callouts, column layouts and cross references are not rendered.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import yaml

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / "nbs"

# Sidebar pages being written on another branch: an absent one is a warning, not an error, until it is merged.
PENDING_PAGES: set[str] = set()

SCREENSHOT_PAGES = ("index", "architecture", "plasticity", "benchmarks", "02_cell")
PAGE_SUFFIXES = (".ipynb", ".qmd", ".md")
MATHJAX_JS = Path("/usr/share/javascript/mathjax/MathJax.js")   # Debian's libjs-mathjax, for offline previews


@dataclass
class Report:
    "Problems found by one check: errors fail the run, warnings are printed only."
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def extend(self, other: Report):
        self.errors += other.errors
        self.warnings += other.warnings


@contextmanager
def working_directory(path: Path):
    "Run the body with `path` as the current directory, as nbdev's tools expect the repository root."
    old = Path.cwd()
    os.chdir(path)
    try: yield
    finally: os.chdir(old)


def notebooks(nbs: Path = NBS) -> list[Path]:
    "The notebooks that become pages: every .ipynb under `nbs`, except checkpoints and `_`-prefixed paths."
    return sorted(p for p in nbs.rglob("*.ipynb")
                  if not any(part.startswith(("_", ".")) for part in p.relative_to(nbs).parts))


# 1. nbdev processing

def process_notebook(path: Path):
    "Run nbdev's docs processors on `path` as `nbdev_docs` does. Returns the processed notebook and nbdev's warnings."
    from execnb.nbio import read_nb
    from nbdev.processors import FilterDefaults

    os.environ["IN_TEST"] = "1"    # nbdev's docs build sets this too, so notebooks can skip work
    try:
        with working_directory(ROOT), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            nb = read_nb(path)
            FilterDefaults()(nb)
    finally:
        del os.environ["IN_TEST"]
    return nb, [str(w.message).strip() for w in caught]


def process_all(paths: list[Path]) -> tuple[dict, Report]:
    "Process every notebook in `paths`. Returns the processed notebooks by path and a report of failures."
    processed, report = {}, Report()
    for path in paths:
        name = path.relative_to(NBS) if path.is_relative_to(NBS) else path
        try:
            processed[path], messages = process_notebook(path)
        except Exception as e:   # any failure here would also stop nbdev_docs
            cause = f" ({type(e.__cause__).__name__}: {e.__cause__})" if e.__cause__ else ""
            report.errors.append(f"{name}: nbdev's docs processing failed: {e}{cause}")
            continue
        report.warnings += [f"{name}: nbdev warned: {m.splitlines()[0]}" for m in messages]
    return processed, report


# 2. title and description

def check_frontmatter(path: Path, nb) -> Report:
    "Check that processed notebook `nb` has a title and a description in its frontmatter."
    report = Report()
    frontmatter = getattr(nb, "frontmatter_", {}) or {}
    for key in ("title", "description"):
        if not str(frontmatter.get(key) or "").strip():
            report.errors.append(f"{path.name}: no {key}; start the notebook with a markdown cell "
                                 f"'# Title' followed by a line '> one-sentence description'.")
    return report


# 3. links, anchors and images

FENCED_CODE = re.compile(r"^(```|~~~).*?^\1", flags=re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", flags=re.S)
INLINE_MATH = re.compile(r"\$[^$\n]+\$")
MD_LINK = re.compile(r"(!?)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"<(a|img)\b[^>]*?\b(href|src)=[\"']([^\"']+)[\"']", flags=re.I)
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", flags=re.M)
EXPLICIT_ID = re.compile(r"\{#([\w:.-]+)[^}]*\}|\bid=[\"']([^\"']+)[\"']")


def read_markdown_cells(path: Path) -> list[str]:
    "Sources of the markdown cells of notebook `path`, or the whole text of a .md or .qmd file."
    if path.suffix != ".ipynb": return [path.read_text(encoding="utf-8")]
    import nbformat
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def prose(markdown: str) -> str:
    "Markdown without code and math, where a `[...](...)` is not a link."
    for pattern in (FENCED_CODE, DISPLAY_MATH, INLINE_CODE, INLINE_MATH):
        markdown = pattern.sub(" ", markdown)
    return markdown


def pandoc_id(heading: str) -> str:
    "The identifier Pandoc gives a heading: lower case, punctuation dropped, spaces to hyphens."
    text = re.sub(r"\{[^}]*\}\s*$", "", heading)                    # attributes such as {#id .class}
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)            # a link keeps its text
    text = re.sub(r"[`*_]{1,3}(?=\S)|(?<=\S)[`*_]{1,3}", "", text)  # emphasis and code markers
    text = re.sub(r"[^\w\s.-]", "", text.lower()).strip()
    text = re.sub(r"\s+", "-", text)
    return re.sub(r"^[^a-z]+", "", text)                            # ids start with a letter


def anchors(path: Path) -> set[str]:
    "Anchors on the page built from `path`: heading ids and explicit ids. The title cell's heading becomes the page title, not an anchor."
    cells = read_markdown_cells(path)
    if path.suffix == ".ipynb" and cells and re.match(r"\s*#\s", cells[0]): cells = cells[1:]
    found = set()
    for cell in cells:
        text = FENCED_CODE.sub(" ", cell)
        found |= {pandoc_id(h) for h in HEADING.findall(text)}
        found |= {a or b for a, b in EXPLICIT_ID.findall(text)}
    return found


def page_source(target: Path) -> Path | None:
    "The source file of a page link: the file itself, or for `x.html` a notebook, .qmd or .md named x."
    if target.suffix == ".html":
        for suffix in PAGE_SUFFIXES:
            if target.with_suffix(suffix).is_file(): return target.with_suffix(suffix)
        return None
    return target if target.is_file() else None


def links(path: Path) -> list[tuple[bool, str]]:
    "Every link and image in the markdown of `path`, as `(is_image, target)`."
    found = []
    for cell in read_markdown_cells(path):
        text = prose(cell)
        found += [(bang == "!", target) for bang, target in MD_LINK.findall(text)]
        found += [(tag.lower() == "img", target) for tag, _, target in HTML_LINK.findall(text)]
    return found


def check_links(path: Path, root: Path = ROOT, readme_nb: str | None = None) -> Report:
    "Check that the internal links, anchors and images of `path` resolve relative to its folder."
    report = Report()
    for is_image, target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.I): continue   # http:, https:, mailto: ...
        kind = "image" if is_image else "link"
        if target.startswith("/"):
            report.errors.append(f"{path.name}: {kind} '{target}' is absolute; the site lives under a base URL, so use a relative path.")
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / unquote(file_part)).resolve() if file_part else path
        if is_image: source = resolved if resolved.is_file() else None
        else: source = page_source(resolved)
        if source is None:
            from_root = (root / unquote(file_part)).resolve()
            if path.name == readme_nb and (from_root.exists() or page_source(from_root)):
                report.warnings.append(f"{path.name}: {kind} '{target}' resolves from the repository root, as README.md needs, "
                                       f"but not on the site, where the page lives in nbs/.")
            else:
                report.errors.append(f"{path.name}: {kind} '{target}' not found (looked for {resolved}).")
            continue
        if anchor and source.suffix in PAGE_SUFFIXES and anchor not in anchors(source):
            report.errors.append(f"{path.name}: anchor '#{anchor}' not found in {source.name}; "
                                 f"its headings give: {', '.join(sorted(anchors(source))) or 'none'}.")
    return report


# 4. sidebar

def sidebar_entries(contents) -> list[str]:
    "Page paths named in a Quarto sidebar `contents` list, in order, including nested sections."
    found = []
    for entry in contents or []:
        if isinstance(entry, str): found.append(entry)
        elif isinstance(entry, dict):
            for key in ("href", "file"):
                if isinstance(entry.get(key), str): found.append(entry[key])
            found += sidebar_entries(entry.get("contents"))
    return [e for e in found if not re.match(r"^[a-z][a-z0-9+.-]*:", e, flags=re.I)]


def check_sidebar(quarto_yml: Path, nbs: Path = NBS, pending: set[str] = PENDING_PAGES) -> Report:
    "Check that the sidebar of `quarto_yml` names existing pages only, each once, and every notebook in `nbs`."
    report = Report()
    config = yaml.safe_load(quarto_yml.read_text()) or {}
    contents = ((config.get("website") or {}).get("sidebar") or {}).get("contents")
    if not contents:
        report.errors.append(f"{quarto_yml.name}: website.sidebar.contents is missing or empty.")
        return report
    entries = sidebar_entries(contents)
    for entry in sorted({e for e in entries if entries.count(e) > 1}):
        report.errors.append(f"{quarto_yml.name}: sidebar lists '{entry}' {entries.count(entry)} times.")
    for entry in entries:
        if (nbs / entry).is_file(): continue
        if entry in pending:
            report.warnings.append(f"{quarto_yml.name}: sidebar page '{entry}' is not in this tree yet (it comes from another branch).")
        else:
            report.errors.append(f"{quarto_yml.name}: sidebar page '{entry}' not found in {nbs}.")
    for page in notebooks(nbs):
        if str(page.relative_to(nbs)) not in entries:
            report.errors.append(f"{quarto_yml.name}: notebook '{page.relative_to(nbs)}' is not in the sidebar; add it to a section.")
    return report


# 5. API reference

def check_api_reference(path: Path, nb) -> Report:
    "Check that a notebook with `#| export` cells shows documentation: at least one show_doc cell with output."
    import nbformat
    raw = nbformat.read(path, as_version=4)
    exports = any(c.cell_type == "code" and re.search(r"^#\|\s*export", c.source, flags=re.M) for c in raw.cells)
    if not exports: return Report()
    documented = [c for c in nb.cells if c.cell_type == "code" and re.search(r"^show_doc", c.source or "", flags=re.M)
                  and any("text/markdown" in o.get("data", {}) for o in c.get("outputs", []))]
    if documented: return Report()
    return Report(errors=[f"{path.name}: exports code but nbdev produced no show_doc output, so the page has no API reference."])


def check_all(paths: list[Path] | None = None, readme_nb: str | None = None) -> tuple[dict, dict[str, Report]]:
    "Run checks 1 to 5 on `paths` (default: every notebook in nbs/). Returns the processed notebooks and a report per check."
    paths = notebooks() if paths is None else paths
    readme_nb = readme_nb or read_setting("readme_nb")
    processed, processing = process_all(paths)
    reports = {"nbdev processing": processing, "titles and descriptions": Report(), "links and images": Report(),
               "sidebar": check_sidebar(ROOT / "_quarto.yml"), "API reference": Report()}
    for path in paths:
        reports["links and images"].extend(check_links(path, readme_nb=readme_nb))
        if path in processed:
            reports["titles and descriptions"].extend(check_frontmatter(path, processed[path]))
            reports["API reference"].extend(check_api_reference(path, processed[path]))
    return processed, reports


def read_setting(key: str) -> str | None:
    "A value from settings.ini, the nbdev 2 project settings."
    match = re.search(rf"^{key}\s*=\s*(.*)$", (ROOT / "settings.ini").read_text(), flags=re.M)
    return match.group(1).strip() if match else None


# HTML preview and screenshots

def output_file(path: Path, nb) -> str:
    "The page name the site gives notebook `path` (nbdev sets `output-file`, dropping a number prefix)."
    return (getattr(nb, "frontmatter_", {}) or {}).get("output-file") or path.with_suffix(".html").name


def preview_output(output):
    "A copy of a code cell output for nbconvert: text held as a list of lines is joined into one string."
    import nbformat
    output = nbformat.from_dict(output)
    if isinstance(output.get("text"), list): output["text"] = "".join(output["text"])
    for mime, value in output.get("data", {}).items():
        if isinstance(value, list): output["data"][mime] = "".join(value)
    markdown = output.get("data", {}).get("text/markdown")
    if markdown:   # show_doc's source links carry Pandoc attributes, which nbconvert would print
        output["data"]["text/markdown"] = re.sub(r"\{target=[^}]*\}", "", markdown)
    return output


def preview_notebook(nb, pages: dict[str, str]):
    "An nbformat notebook for nbconvert made from processed notebook `nb`, with the Quarto-only syntax removed."
    import nbformat
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "raw" and (cell.source or "").startswith("---"):
            fm = yaml.safe_load(cell.source.strip().strip("-")) or {}
            head = f"# {fm.get('title', '')}\n\n" + (f"*{fm['description']}*\n" if fm.get("description") else "")
            cells.append(nbformat.v4.new_markdown_cell(head))
            continue
        if not cell.source: continue   # nbdev empties hidden and exported cells
        if cell.cell_type == "markdown":
            text = re.sub(r"^:::.*$", "", cell.source, flags=re.M)                         # Quarto divs
            text = re.sub(r"\]\(([^)#\s]+)\.ipynb", lambda m: f"]({pages.get(m.group(1) + '.ipynb', m.group(1) + '.html')}", text)
            cells.append(nbformat.v4.new_markdown_cell(text))
        elif cell.cell_type == "code":
            directives = dict(re.findall(r"^#\|\s*([\w-]+):?\s*(.*)$", cell.source, flags=re.M))
            source = re.sub(r"^#\|.*\n?", "", cell.source, flags=re.M)
            new = nbformat.v4.new_code_cell(source)
            new.outputs = [] if directives.get("output") == "false" else [preview_output(o) for o in cell.get("outputs", [])]
            if directives.get("echo") == "false": new.metadata["tags"] = ["remove_input"]
            cells.append(new)
    preview = nbformat.v4.new_notebook(cells=cells)
    preview.metadata = {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"},
                        "language_info": {"name": "python"}}   # no widget state, so no widget scripts from a CDN
    return preview


def write_previews(processed: dict, out: Path) -> list[Path]:
    "Write one HTML page per processed notebook into `out`, with nbs/images copied beside them."
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = ["remove_input"]
    exporter = HTMLExporter(config=config)
    # Point every script at a local file or nothing, so that opening a preview sends no request off the machine.
    exporter.mathjax_url = MATHJAX_JS.as_uri() + "?config=TeX-AMS_CHTML" if MATHJAX_JS.is_file() else ""
    for name in ("require_js_url", "jquery_url", "mermaid_js_url", "mermaid_layout_elk_js_url", "widget_renderer_url"):
        setattr(exporter, name, "")
    out.mkdir(parents=True, exist_ok=True)
    if (NBS / "images").is_dir(): shutil.copytree(NBS / "images", out / "images", dirs_exist_ok=True)
    pages = {str(p.relative_to(NBS)): output_file(p, nb) for p, nb in processed.items()}
    written = []
    for path, nb in processed.items():
        html, _ = exporter.from_notebook_node(preview_notebook(nb, pages))
        target = out / pages[str(path.relative_to(NBS))]
        target.write_text(html, encoding="utf-8")
        written.append(target)
    return written


def take_screenshots(html_dir: Path, out: Path, pages: dict[str, str], names=SCREENSHOT_PAGES, height: int = 2400) -> list[Path]:
    "Screenshot the preview pages of the notebooks `names` with headless chromium, with every host name unresolvable."
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None: raise SystemExit("--screenshots needs chromium, which is not installed (Debian: apt-get install chromium).")
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    for name in names:
        page = pages.get(f"{name}.ipynb")
        if page is None:
            print(f"screenshot skipped: no page for {name}.ipynb")
            continue
        shot = out / f"{name}.png"
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking",
                        "--disable-component-update", "--no-first-run", f"--window-size=1280,{height}",
                        "--virtual-time-budget=8000", f"--screenshot={shot}", (html_dir / page).as_uri()],
                       check=True, capture_output=True, timeout=120)
        shots.append(shot)
    return shots


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to check (default: every notebook in nbs/)")
    parser.add_argument("--html", type=Path, default=None, help="write an HTML preview of each page into this folder")
    parser.add_argument("--screenshots", type=Path, default=None, help="write PNG screenshots of a few preview pages here (needs --html and chromium)")
    args = parser.parse_args(argv)
    if args.screenshots and not args.html: parser.error("--screenshots needs --html DIR for the pages to screenshot.")

    paths = [p.resolve() for p in args.notebooks] or None
    processed, reports = check_all(paths)
    failed = False
    for name, report in reports.items():
        print(f"== {name}: {'ok' if not report.errors else f'{len(report.errors)} error(s)'}")
        for message in report.errors: print(f"  error: {message}")
        for message in report.warnings: print(f"  warning: {message}")
        failed |= bool(report.errors)

    if args.html:
        written = write_previews(processed, args.html)
        print(f"wrote {len(written)} preview pages to {args.html}")
        if args.screenshots:
            pages = {str(p.relative_to(NBS)): output_file(p, nb) for p, nb in processed.items()}
            shots = take_screenshots(args.html, args.screenshots, pages)
            print(f"wrote {len(shots)} screenshots to {args.screenshots}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
