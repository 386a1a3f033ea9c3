#!/usr/bin/env python
"""Build the documentation site (`make docs`): Sphinx + myst-nb + sphinx-book-theme, into `_site/`.

Pages: home (README.md, generated from nbs/index.ipynb), the user guide (every notebook of nbs/guides/, executed
and tested like the library notebooks, in `GUIDE_ORDER` and then by name), one page per library notebook with its
committed outputs, the experiments (the executed copies of the last reproduction in figures/notebooks/, written by
`tools/nb_outputs.py publish`; an experiment without one is shown unexecuted, with a note), the claims
audit (figures/claims.md), a gallery of figures/, and an API reference of every name in the `__all__` of
every module of qkd_nb (autodoc, from the exported docstrings).

Math is rendered by MathJax 2.7 shipped with the site: the files of the `jupyter-server-mathjax` package (a docs
requirement) are copied to `_static/mathjax`, so a page opened offline shows typeset math, not raw TeX; the build
fails when the package is missing.

The sources are staged in docs/_build/src (git-ignored; files rewritten only when they change, so Sphinx
rebuilds what changed; `-E` re-reads every page so each build reports every warning); nothing is executed and nothing is fetched from the network. The build fails on
warnings that mean a broken page (a missing document, image, reference target or module) and when a
public name is missing from the API reference; other Sphinx warnings (docstring formatting) are printed.

    python tools/build_docs.py [--out _site] [--clean]
"""
from __future__ import annotations
import argparse, importlib, json, re, shutil, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE, DOCTREES, HTML = (ROOT / 'docs' / '_build' / d for d in ('src', 'doctrees', 'html'))
# warnings that mean a reader meets a broken page
FATAL = re.compile(r"undefined label|unknown document|reference target not found|nonexisting document|"
                   r"image file not readable|failed to import|No module named|toctree glob pattern .* didn't match|"
                   r"Unknown target name|include file .* not found|could not import|duplicate object description|"
                   r"Problems with \"include\" directive|Unknown interpreted text role|undefined substitution")


def _write(path: Path, data, written: set):
    "Write `data` (str or bytes) to `path` only when it differs (keeps Sphinx's incremental build); record it."
    path.parent.mkdir(parents=True, exist_ok=True)
    b = data.encode('utf-8') if isinstance(data, str) else data
    if not path.exists() or path.read_bytes() != b: path.write_bytes(b)
    written.add(path)


def _directives(src: str):
    "nbdev directives (leading `#|` lines) of a cell's source: (set of directive words, the rest of the source)."
    lines, dirs = src.splitlines(), set()
    while lines and (lines[0].startswith('#|') or (dirs and not lines[0].strip())):
        if lines[0].startswith('#|'): dirs.add(lines[0][2:].strip().split(':')[0].split()[0] if lines[0][2:].strip() else '')
        lines.pop(0)
    return dirs, '\n'.join(lines)


def _md_output(md: str, link_rewrite=None) -> str:
    """A Markdown output as MyST renders it well: show_doc's leading `---` rule (docutils allows none inside an
    output) and its Quarto link attributes (`{target="_blank" ...}`) dropped; `link_rewrite` (old, new) applied."""
    md = re.sub(r'\A\s*---\s*\n', '', md)
    md = re.sub(r'(\]\([^)]*\))\{[^}\n]*\}', r'\1', md)
    return md.replace(*link_rewrite) if link_rewrite else md


def stage_notebook(nb, link_rewrite=None):
    """A notebook as the site shows it: nbdev `#| hide` cells dropped, directive lines removed, `show_doc`
    inputs and `#| echo: false` inputs hidden, `#| output: false` outputs hidden; Markdown outputs through
    `_md_output`."""
    cells = []
    for c in nb.cells:
        if c.cell_type != 'code': cells.append(c); continue
        dirs, body = _directives(c.source)
        if 'hide' in dirs or 'default_exp' in dirs and not body.strip(): continue
        if not body.strip() and not c.get('outputs'): continue
        tags = set(c.metadata.get('tags', []))
        if 'echo' in dirs and re.search(r'^#\|\s*echo:\s*false', c.source, re.M | re.I): tags.add('remove-input')
        if re.search(r'^#\|\s*output:\s*false', c.source, re.M | re.I): tags.add('remove-output')
        if re.fullmatch(r'(\s*show_doc\([^\n]*\)\s*)+', body): tags.add('remove-input')
        c.source = body
        if tags: c.metadata['tags'] = sorted(tags)
        for o in c.get('outputs', []):
            md = o.get('data', {}).get('text/markdown')
            if md: o['data']['text/markdown'] = _md_output(''.join(md), link_rewrite)
        cells.append(c)
    nb.cells = cells
    return nb


GUIDE_ORDER = ('your_circuit', 'migrate', 'distil_your_student', 'ibm_hardware', 'dask_cluster')
"The user guide's pages first in this order (those that exist), then any other notebook of nbs/guides by name."


def library_notebooks():
    "The library notebooks of nbs/ (the home page's notebook and the user guide's excepted)."
    sys.path.insert(0, str(ROOT / 'tools'))
    from nb_outputs import library_notebooks as nbs
    return [p for p in nbs() if p.name != 'index.ipynb' and p.relative_to(ROOT / 'nbs').parts[0] != 'guides']


def guide_notebooks(folder: Path = ROOT / 'nbs' / 'guides') -> list[Path]:
    "The user guide's notebooks: `GUIDE_ORDER` first, then the others by name."
    nbs = [p for p in folder.glob('*.ipynb') if not p.name.startswith(('_', '.'))] if folder.is_dir() else []
    rank = {s: i for i, s in enumerate(GUIDE_ORDER)}
    return sorted(nbs, key=lambda p: (rank.get(p.stem, len(rank)), p.stem))


def mathjax_dir() -> Path | None:
    "The MathJax 2 files of the `jupyter-server-mathjax` package (its `static` folder), or None when it is not installed."
    import importlib.util
    spec = importlib.util.find_spec('jupyter_server_mathjax')       # (found without importing it: it imports jupyter_server)
    if spec is None or not spec.submodule_search_locations: return None
    d = Path(list(spec.submodule_search_locations)[0]) / 'static'
    return d if (d / 'MathJax.js').exists() else None


def modules():
    "The public modules of qkd_nb (generated by nbdev), with their __all__."
    res = {}
    for p in sorted((ROOT / 'qkd_nb').glob('*.py')):
        if p.stem.startswith('_'): continue
        m = importlib.import_module(f'qkd_nb.{p.stem}')
        res[p.stem] = list(getattr(m, '__all__', []))
    return res


def _api_entry(module: str, name: str) -> str:
    "The autodoc directive of one public name, in `__all__` order (so none is left out, whatever its docstring)."
    import inspect
    obj = getattr(importlib.import_module(f'qkd_nb.{module}'), name)
    kind = ('autoexception' if inspect.isclass(obj) and issubclass(obj, BaseException) else 'autoclass' if inspect.isclass(obj)
            else 'autofunction' if callable(obj) else 'autodata')
    opts = '   :members:\n   :undoc-members:\n' if kind == 'autoclass' else ''
    if _reexport_home(module, name):
        opts += '   :no-index:\n'     # a re-export (qkd_nb.simulator's names from qkd_nb.sim_gates): its home page holds the index entry
    return f'.. {kind}:: qkd_nb.{module}.{name}\n{opts}'


def _reexport_home(module: str, name: str) -> str | None:
    "The public module that defines `name` when `module` only re-exports it (it is in the home's `__all__`), else None."
    home = getattr(getattr(importlib.import_module(f'qkd_nb.{module}'), name), '__module__', '') or ''
    if home.startswith('qkd_nb.') and home != f'qkd_nb.{module}' and name in getattr(importlib.import_module(home), '__all__', ()):
        return home.split('.', 1)[1]
    return None


def _title(nb, default):
    for c in nb.cells:
        if c.cell_type == 'markdown':
            m = re.search(r'^#\s+(.+)$', c.source, re.M)
            if m: return m.group(1).strip()
    return default


def stage(written: set, figures: Path = ROOT / 'figures') -> dict:
    "Stage every page under docs/_build/src from the repository and `figures`; returns a summary (pages by section)."
    import nbformat
    published = figures / 'notebooks'
    for f in (ROOT / 'docs').glob('*'):
        if f.is_file(): _write(STAGE / f.name, f.read_bytes(), written)
    _write(STAGE / 'settings.ini', (ROOT / 'settings.ini').read_bytes(), written)
    _write(STAGE / 'README.md', (ROOT / 'README.md').read_bytes(), written)
    for f in figures.rglob('*'):
        if f.is_file() and f.suffix in ('.png', '.md', '.svg', '.jpg') and published not in f.parents:
            _write(STAGE / 'figures' / f.relative_to(figures), f.read_bytes(), written)
    pages = dict(guides=[], library=[], experiments=[], api=[])
    mj = mathjax_dir()
    if mj is None:
        raise RuntimeError("MathJax is not installed (the `jupyter-server-mathjax` package, a docs requirement: "
                           "`make env` installs it, or pip install jupyter-server-mathjax): without it the pages would "
                           "show raw TeX when read offline")
    for f in mj.rglob('*'):
        if f.is_file(): _write(STAGE / '_static' / 'mathjax' / f.relative_to(mj), f.read_bytes(), written)
    for p in guide_notebooks():
        nb = stage_notebook(nbformat.read(p, as_version=4))
        _write(STAGE / 'guides' / p.name, nbformat.writes(nb), written)
        pages['guides'].append(f'guides/{p.stem}')
    index = (ROOT / 'docs' / 'index.md').read_text(encoding='utf-8')
    _write(STAGE / 'index.md', index.replace('\nGUIDES\n', '\n' + '\n'.join(pages['guides']) + '\n'), written)
    for p in library_notebooks():
        nb = stage_notebook(nbformat.read(p, as_version=4))
        _write(STAGE / 'library' / p.name, nbformat.writes(nb), written)
        pages['library'].append(f'library/{p.stem}')
    man_file = figures / 'manifest.json'
    man = json.loads(man_file.read_text()) if man_file.exists() else {}
    rows = []
    for src in sorted((ROOT / 'nbs' / 'experiments').glob('*.ipynb')):
        executed = published / src.name
        nb = nbformat.read(executed if executed.exists() else src, as_version=4)
        if not executed.exists():
            note = nbformat.v4.new_markdown_cell(
                ':::{note}\nThis experiment has not been published executed yet: the page shows its source. '
                '`make reproduce` runs it and `python tools/nb_outputs.py publish` commits its executed copy to '
                f'`figures/notebooks/{src.name}`.\n:::')
            nb.cells.insert(1, note)
        nb = stage_notebook(nb, link_rewrite=('](../', '](../figures/'))
        _write(STAGE / 'experiments' / src.name, nbformat.writes(nb), written)
        pages['experiments'].append(f'experiments/{src.stem}')
        e = man.get('notebooks', {}).get(src.stem, {})
        state = (f"executed (profile `{e.get('parameters', {}).get('profile', man.get('profile', '?'))}`, "
                 f"{e.get('wall_time_s', 0):.0f} s)" if executed.exists() else 'source only (not yet published)')
        rows.append(f'| [{_title(nb, src.stem)}](experiments/{src.stem}) | `nbs/experiments/{src.name}` | {state} |')
    created = f" of {man['created']}" if man.get('created') else ''
    _write(STAGE / 'experiments.md', '\n'.join([
        '# Experiments', '',
        'Every table and figure of the paper comes from one of these parameterized notebooks; `make reproduce` runs '
        f'them with papermill. Shown here: the executed copies of the last reproduction{created} '
        '(`figures/notebooks/`), whose figures are the committed files of `figures/`.', '',
        '| experiment | notebook | shown |', '|---|---|---|', *rows, '',
        '```{toctree}', ':hidden:', '', *pages['experiments'], '```', '']), written)
    claims = ('```{include} figures/claims.md\n:start-line: 1\n```' if (figures / 'claims.md').exists()
              else '*`figures/claims.md` appears here after `make reproduce`.*')
    _write(STAGE / 'claims.md', '\n'.join([
        '# Claims audit', '', "Each claim of the paper's abstract, the numbers that bear on it and the verdict the experiment "
        'notebooks compute (`figures/claims.md`, written by `make reproduce` from `nbs/experiments/99_claims.ipynb`).', '',
        claims, '']), written)
    owner = {o['file']: o['notebook'] for o in man.get('outputs', [])}
    figs = sorted(figures.glob('*.png'))
    gallery = ['# Figures', '', 'Every figure `make reproduce` writes to `figures/` (PNG here, PDF beside it), '
               'with the notebook that made it.', '']
    for f in figs:
        nbstem = owner.get(f.name)
        src = f' from [{nbstem}](experiments/{nbstem})' if nbstem and (ROOT / 'nbs' / 'experiments' / f'{nbstem}.ipynb').exists() else ''
        gallery += [f'## {f.stem}', '', f'`figures/{f.name}`{src}', '', f'![{f.stem}](figures/{f.name})', '']
    _write(STAGE / 'figures.md', '\n'.join(gallery), written)
    mods = modules()
    for m, names in mods.items():
        head = f'qkd_nb.{m}'
        _write(STAGE / 'api' / f'{m}.rst', '\n'.join([head, '=' * len(head), '', f'.. automodule:: qkd_nb.{m}',
                                                      '   :no-members:', '', *map(_api_entry, [m] * len(names), names)]), written)
        pages['api'].append(f'api/{m}')
    _write(STAGE / 'api' / 'index.md', '\n'.join([
        '# API reference', '', 'Every public name of `qkd_nb` (the `__all__` of each module nbdev exports), with '
        'the docstring it is exported with. Each module is the export of the library notebook of the same name.', '',
        '```{toctree}', ':maxdepth: 1', '', *[f'{m}' for m in mods], '```', '']), written)
    return dict(pages=pages, modules=mods)


def _prune(written: set):
    "Remove staged files no page source produces any more."
    for f in sorted(STAGE.rglob('*'), reverse=True):
        if f.is_file() and f not in written: f.unlink()
        elif f.is_dir() and not any(f.iterdir()): f.rmdir()


def missing_api(out: Path, mods: dict) -> list[str]:
    "Public names without an entry on their module's API page."
    miss = []
    for m, names in mods.items():
        page = out / 'api' / f'{m}.html'
        html = page.read_text(encoding='utf-8') if page.exists() else ''
        for n in names:
            home = _reexport_home(m, n)     # a re-export is shown on this page and indexed on its home page
            target = (out / 'api' / f'{home}.html').read_text(encoding='utf-8') if home and (out / 'api' / f'{home}.html').exists() else html
            if f'id="qkd_nb.{home or m}.{n}"' not in target or (home and f'>{n}<' not in html): miss.append(f'qkd_nb.{m}.{n}')
    return miss


def build(out=ROOT / '_site', clean=False, figures=ROOT / 'figures') -> tuple[bool, str]:
    "Stage and build the site into `out`; returns (ok, report)."
    t0 = time.time()
    if clean: shutil.rmtree(ROOT / 'docs' / '_build', ignore_errors=True)
    for d in (HTML, out): shutil.rmtree(d, ignore_errors=True)   # Sphinx never removes pages whose source went away
    written = set()
    try: summary = stage(written, Path(figures))
    except RuntimeError as e: return False, f'cannot build the site: {e}'
    _prune(written)
    warn_file = ROOT / 'docs' / '_build' / 'warnings.txt'
    r = subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-E', '--keep-going', '-d', str(DOCTREES),
                        '-w', str(warn_file), str(STAGE), str(HTML)], cwd=ROOT, capture_output=True, text=True)
    if r.returncode == 0: shutil.copytree(HTML, out)      # Sphinx builds in docs/_build (myst-nb writes beside its outdir)
    warnings = [l for l in (warn_file.read_text() if warn_file.exists() else '').splitlines()
                if re.search(r'\b(WARNING|ERROR|CRITICAL|SEVERE)\b', l)]
    fatal = [w for w in warnings if FATAL.search(w) or re.search(r'\b(CRITICAL|SEVERE)\b', w)
             or ('ERROR' in w and '[docutils]' not in w)]                  # docstring markup errors: not fatal
    miss = missing_api(out, summary['modules']) if r.returncode == 0 else []
    n = sum(len(v) for v in summary['pages'].values()) + 5
    lines = [f'site in {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: {n} pages '
             f"({len(summary['pages']['guides'])} user guide pages, {len(summary['pages']['library'])} library notebooks, {len(summary['pages']['experiments'])} experiments, "
             f"{len(summary['pages']['api'])} API modules, {sum(map(len, summary['modules'].values()))} public names), "
             f'{len(warnings)} warnings ({len(fatal)} fatal), {time.time() - t0:.0f}s']
    if r.returncode: lines.append(f'sphinx failed (exit {r.returncode}):\n{r.stdout[-3000:]}{r.stderr[-3000:]}')
    lines += [f'  fatal: {w}' for w in fatal[:40]]
    if miss: lines.append(f'  public names missing from the API reference: {", ".join(miss)}')
    if warnings and not fatal: lines.append(f'  (other warnings, e.g. docstring formatting, in {warn_file.relative_to(ROOT)})')
    return r.returncode == 0 and not fatal and not miss, '\n'.join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=str(ROOT / '_site'), help='output folder (default: _site/)')
    ap.add_argument('--clean', action='store_true', help='rebuild from scratch')
    ap.add_argument('--figures', default=str(ROOT / 'figures'), help='the figures folder (default: figures/)')
    a = ap.parse_args(argv)
    ok, report = build(Path(a.out).resolve(), a.clean, Path(a.figures).resolve())
    print(('' if ok else 'FAILED: ') + report, flush=True)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
