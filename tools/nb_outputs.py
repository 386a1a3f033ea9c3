#!/usr/bin/env python
"""Notebooks committed with their outputs: execute them in place, check the committed outputs, publish
the executed experiments.

    python tools/nb_outputs.py execute [NB ...]      execute library notebooks in place (default: all of nbs/,
                                                     experiments excepted), slow cells included, then nbdev_clean
    python tools/nb_outputs.py check [NB ...]        execute and compare with the committed outputs (what
                                                     `make test` does on the run it already makes), no writes
    python tools/nb_outputs.py publish [--run-dir R] copy the executed experiment notebooks of a reproduction
                                                     (default: the run named in figures/manifest.json) to
                                                     figures/notebooks/ (tracked; `make reproduce` runs this),
                                                     each figure the notebook wrote shown as a link to its
                                                     committed PNG in figures/, never embedded a second time

How a notebook is executed: exactly as nbdev's `test_nb` does it (execnb's in-process `CaptureShell`, in the
notebook's folder, cells flagged with a `tst_flags` flag skipped unless forced, `eval: false` cells and
`nbdev_export()` cells skipped), so the test command's own run yields the outputs it compares.

What "current" means (`compare`): for every code cell that ran, the committed outputs and the fresh ones,
each reduced to a list of comparable items, must match:
- stdout (consecutive stream chunks joined), `text/markdown` or else `text/plain` of results and displays,
  error names; an image counts as one `image` item (its bytes depend on fonts and library versions);
- ignored: stderr (warnings, progress bars), HTML-only outputs (fastprogress bars), `text/html` beside a
  `text/plain` (pandas' HTML differs across versions), display updates;
- in text: runs of spaces and tabs count as one space and lines are stripped (a masked value must not carry
  its width: a column padded to a duration, or a table whose widths follow a volatile value); memory addresses, temporary paths, the checkout's absolute path, durations (a number followed by
  a time unit: `0.41 s`, `12 ms`, `3.2 it/s`), speed-ups (`12.3x`) and ISO timestamps are masked; integers
  must be equal, and numbers with a decimal point or exponent agree to one unit of their last printed digit,
  or to a relative 1e-4, or to an absolute 1e-6 (float32 results differ slightly across CPUs and BLAS
  builds: 0.1235 on one may print 0.1234 on another, 1.3481540 as 1.3481537);
- a cell marked `#| volatile` is not compared (say why in the notebook).
A cell that produces output and has none committed is reported as missing; a committed output the run no
longer produces, or one that differs, as stale. Either way: run `execute` and commit.
"""
from __future__ import annotations
import argparse, hashlib, json, os, re, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIX = 'python tools/nb_outputs.py execute {nb}   (then commit the notebook)'


# ------------------------------------------------------------------ executing (as nbdev's test_nb)
def _skip_flags(force_flags=()) -> set:
    from nbdev.config import get_config
    return set(get_config().tst_flags.split()) - set(force_flags)


THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'NUMEXPR_NUM_THREADS')


def pin_threads():
    """Every execution (the check and `execute`) runs on ONE thread, whatever the environment says: float32
    training results depend on the thread count (summation order), and outputs are compared to the printed
    digit. The variables are overwritten (not defaulted), so processes a notebook starts (Dask workers,
    papermill kernels) inherit one thread too, and the pools already loaded are limited at run time
    (threadpoolctl: OpenBLAS/MKL under numpy and scipy). A notebook that times more threads asks for them
    explicitly (the benchmark's `threads`); such outputs are masked as timings."""
    for k in THREAD_VARS: os.environ[k] = '1'
    import torch; torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError: pass


def run_nb(fn, skip_flags=None, force_flags=(), basepath=None, showerr=True):
    """Execute notebook `fn` as `nbdev.test.test_nb` does; returns (ok, seconds, cells, ran).

    `cells` are the executed code cells (nbdev's processed notebook, outputs attached), `ran` the ids (or
    code-cell positions) of those that were executed. `skip_flags=None` means nbdev's `tst_flags` minus
    `force_flags`."""
    from fastcore.basics import str2bool
    from fastcore.xtras import working_directory
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.test import IN_NOTEBOOK
    from execnb.shell import CaptureShell
    pin_threads()
    fn = Path(fn)
    if basepath: sys.path.insert(0, str(basepath))
    if not IN_NOTEBOOK: os.environ['IN_TEST'] = '1'
    flags = (set(skip_flags) if skip_flags is not None else _skip_flags(force_flags)) - set(force_flags)
    nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb
    code = [c for c in nb.cells if c.cell_type == 'code']
    if str2bool(getattr(nb, 'frontmatter_', {}).get('skip_exec', False)): return True, 0.0, code, set()
    ran = set()

    def _no_eval(cell):
        if cell.cell_type != 'code': return True
        if 'nbdev_export' + '(' in cell.source: return True
        direc = getattr(cell, 'directives_', {}) or {}
        if direc.get('eval:', [''])[0].lower() == 'false': return True
        if flags & direc.keys(): return True
        ran.add(_cell_key(cell, code))
        return False

    t0 = time.time()
    k = CaptureShell(fn)
    try:
        with working_directory(fn.parent):
            k.run_all(nb, exc_stop=True, preproc=_no_eval)
        ok = True
    except BaseException:
        if showerr: sys.stderr.write(k.prettytb(fname=fn) + '\n')
        ok = False
    return ok, time.time() - t0, code, ran


def _cell_key(cell, code_cells):
    "A code cell's id (nbformat >= 4.5), else its position among the code cells."
    return cell.get('id') or code_cells.index(cell)


# ------------------------------------------------------------------ comparing
_ADDR = re.compile(r'0x[0-9a-fA-F]{6,}')
_TMP = re.compile(r'(/private)?/(tmp|var/folders)/[^\s\'"<>)]*')
_ISO = re.compile(r'\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:?\d\d|Z)?')
_PORT = re.compile(r'(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\]):\d+')   # a local server's port (Dask's dashboard)
_NUM = r'[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?'
_DUR = re.compile(rf'{_NUM}\s*(?:s|sec|secs|seconds?|ms|µs|us|ns|min|minutes?|h|hours?|it/s|s/it)(?![\w/])'
                  rf'|\d+\.\d+\s*[x×](?![\w])')                     # durations, and speed-ups such as 12.3x
_NUMBER = re.compile(_NUM)
_SPACES = re.compile(r'[ \t]+')


def normalize_text(text: str) -> str:
    "Mask the volatile parts of an output text (see the module docstring); numbers are left for `_same_text`."
    text = text.replace(str(ROOT), '<root>')
    for rx, sub in ((_TMP, '<tmp>'), (_ADDR, '0x?'), (_ISO, '<timestamp>'), (_PORT, r'\1:<port>'), (_DUR, '<duration>')):
        text = rx.sub(sub, text)
    # runs of spaces and tabs compare as one: a masked field must not carry its width (a duration printed
    # padded to a column, or a table whose column width follows its widest, volatile value)
    return '\n'.join(_SPACES.sub(' ', l).strip() for l in text.strip('\n').splitlines())


def _text(v) -> str: return ''.join(v) if isinstance(v, list) else (v or '')


def output_items(outputs) -> list[tuple[str, str]]:
    "Reduce a cell's outputs to comparable (kind, normalized text) items (see the module docstring)."
    items = []
    for o in outputs or []:
        t = o.get('output_type')
        if t == 'stream':
            if o.get('name') != 'stdout': continue
            if items and items[-1][0] == 'stdout': items[-1] = ('stdout', items[-1][1] + _text(o.get('text')))
            else: items.append(('stdout', _text(o.get('text'))))
        elif t in ('execute_result', 'display_data'):
            d = o.get('data', {})
            if any(k.startswith('image/') for k in d): items.append(('image', ''))
            elif 'text/markdown' in d: items.append(('markdown', _text(d['text/markdown'])))
            elif 'text/plain' in d and 'text/html' in d and '<progress' in _text(d['text/html']): continue
            elif 'text/plain' in d: items.append(('text', _text(d['text/plain'])))
            elif 'text/latex' in d: items.append(('latex', _text(d['text/latex'])))
        elif t == 'error': items.append(('error', o.get('ename', '')))
    return [(k, normalize_text(v)) for k, v in items if k != 'stdout' or v.strip()]


def _unit(s: str) -> float:
    "One unit of the last printed digit of the number `s`."
    m = re.match(r'[-+]?(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?$', s)
    decimals = len(m.group(2) or '') if m else 0
    return 10.0 ** (-decimals + int(m.group(3) or 0) if m else 0)


RTOL, ATOL = 1e-4, 1e-6     # float32 results differ across CPUs and BLAS builds far below these


def _same_text(a: str, b: str) -> bool:
    "Equal text, except numbers with a point or exponent: equal to one printed digit, `RTOL` or `ATOL`."
    if a == b: return True
    pa, pb = _NUMBER.split(a), _NUMBER.split(b)
    if pa != pb: return False
    for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b)):
        if x == y: continue
        if not re.search(r'[.eE]', x + y): return False         # integers (counts, sizes) must be equal
        fx, fy = float(x), float(y)
        if abs(fx - fy) > max(1.01 * max(_unit(x), _unit(y)), RTOL * max(abs(fx), abs(fy)), ATOL):
            return False
    return True


def _first_difference(a: str, b: str) -> str:
    for i, (x, y) in enumerate(zip(a.splitlines() + [''] * 99, b.splitlines() + [''] * 99)):
        if not _same_text(x, y): return f'line {i + 1}: committed {x[:100]!r}, now {y[:100]!r}'
    return 'lengths differ'


def compare(committed_cells, fresh_cells, ran) -> list[str]:
    """Problems (empty: current) between committed code cells (nbformat) and freshly executed ones.

    Only the cells in `ran` (keys from `_cell_key`) are compared; a cell whose source carries `#| volatile`
    is not."""
    committed_cells = [c for c in committed_cells if c.get('cell_type') == 'code']
    fresh = {_cell_key(c, fresh_cells): c for c in fresh_cells}
    problems = []
    for i, c in enumerate(committed_cells):
        key = c.get('id') or i
        if key not in ran or key not in fresh: continue
        if re.search(r'^#\|\s*volatile\b', c.get('source', ''), re.M): continue
        old, new = output_items(c.get('outputs')), output_items(fresh[key].get('outputs'))
        where = f'code cell {i + 1} ({key})'
        if not old and new: problems.append(f'{where}: produces output ({new[0][0]}) but none is committed')
        elif [k for k, _ in old] != [k for k, _ in new]:
            problems.append(f'{where}: committed outputs {[k for k, _ in old]}, now {[k for k, _ in new]}')
        else:
            for (k, a), (_, b) in zip(old, new):
                if not _same_text(a, b):
                    problems.append(f'{where}: {k} output is stale, {_first_difference(a, b)}'); break
    return problems


def check_nb(fn, skip_flags=None, force_flags=(), basepath=None):
    """Execute `fn` (as `test_nb`) and compare with its committed outputs: (ok, seconds, problems)."""
    import nbformat
    committed = nbformat.read(fn, as_version=4).cells
    ok, t, cells, ran = run_nb(fn, skip_flags, force_flags, basepath)
    return ok, t, compare(committed, cells, ran) if ok else []


# ------------------------------------------------------------------ writing executed notebooks back
def write_text(path, text: str):
    "Write `text` to `path` atomically (qkd_nb.sweep's helper), keeping the file's mode (a new file: 0o644 less umask)."
    from qkd_nb.sweep import atomic_write_text
    path = Path(path)
    mask = os.umask(0); os.umask(mask)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644 & ~mask
    atomic_write_text(path, text)
    os.chmod(path, mode)


def _as_nbformat_outputs(outputs):
    import nbformat
    res = []
    for o in outputs or []:
        o = json.loads(json.dumps(o))                       # plain dicts, copies
        if o.get('output_type') in ('execute_result', 'display_data'):
            o.setdefault('metadata', {})
            if o['output_type'] == 'execute_result': o.setdefault('execution_count', None)
        if o.get('output_type') in ('update_display_data', 'clear_output'): continue
        res.append(nbformat.from_dict(o))
    return res


def masked_paths(outputs):
    """`outputs` with this checkout's path shown as `<root>` and temporary paths as `<tmp>`, the masks `normalize_text`
    applies when comparing (so a committed output shows no machine path and still compares equal to a fresh one)."""
    mask = lambda t: _TMP.sub('<tmp>', t.replace(str(ROOT), '<root>'))
    fix = lambda v: [mask(x) for x in v] if isinstance(v, list) else mask(v) if isinstance(v, str) else v
    for o in outputs:
        if 'text' in o: o['text'] = fix(o['text'])
        for k in [k for k in o.get('data', {}) if k.startswith('text/')]: o['data'][k] = fix(o['data'][k])
        if 'traceback' in o: o['traceback'] = fix(o['traceback'])
    return outputs


def execute_in_place(fn, force_flags=None, basepath=ROOT) -> tuple[bool, float]:
    """Execute notebook `fn` (all `tst_flags` forced unless `force_flags` says otherwise) and write its
    outputs into it atomically; cells that did not run lose their outputs. Returns (ok, seconds).
    Nothing is written when a cell fails."""
    import nbformat
    from nbdev.config import get_config
    fn = Path(fn)
    force = get_config().tst_flags.split() if force_flags is None else list(force_flags)
    ok, t, cells, ran = run_nb(fn, force_flags=force, basepath=basepath)
    if not ok: return False, t
    nb = nbformat.read(fn, as_version=4)
    fresh = {_cell_key(c, cells): c for c in cells}
    for i, c in enumerate(c for c in nb.cells if c.cell_type == 'code'):
        key = c.get('id') or i
        c.outputs = masked_paths(_as_nbformat_outputs(fresh[key].get('outputs'))) if key in ran and key in fresh else []
        c.execution_count = None
    write_text(fn, nbformat.writes(nb))
    subprocess.run([str(Path(sys.executable).parent / 'nbdev_clean'), '--fname', str(fn)], check=True, cwd=ROOT)
    return True, t


def library_notebooks() -> list[Path]:
    "The notebooks under nbs/ the test command runs (experiments excepted), as tools/run_tests.py lists them."
    nbs = ROOT / 'nbs'
    return sorted(p for p in nbs.rglob('*.ipynb') if 'experiments' not in p.relative_to(nbs).parts
                  and not any(s.startswith(('_', '.')) for s in p.relative_to(nbs).parts))


# ------------------------------------------------------------------ executed experiments -> figures/notebooks
PUBLISHED = 'figures/notebooks'


def _png_size(data: bytes):
    import struct
    return struct.unpack('>II', data[16:24]) if data[:8] == b'\x89PNG\r\n\x1a\n' else None


def _ink(data: bytes, size=64):
    "Ink map (1 - grey level, a flat list) of a 64x64 thumbnail of PNG bytes: one picture at any resolution."
    import io
    from PIL import Image
    im = Image.open(io.BytesIO(data)).convert('L').resize((size, size), Image.BILINEAR)
    return [1 - v / 255 for v in im.tobytes()]


def _cosine(a, b) -> float:
    na, nb = sum(x * x for x in a) ** 0.5, sum(y * y for y in b) ** 0.5
    return sum(x * y for x, y in zip(a, b)) / (na * nb) if na and nb else float(na == nb)


def matching_figure(png: bytes, figures: dict, min_similarity=0.9):
    """The name of the figure in `figures` ({name: PNG bytes}) that `png` shows, or None: same aspect ratio
    to 3% and cosine similarity of the ink maps of 64x64 thumbnails >= `min_similarity` (the same matplotlib
    figure at 72 and 150 dpi scores about 0.99; two different plots of this project's style at most 0.75)."""
    sa = _png_size(png)
    if not sa: return None
    best, best_s, ia = None, min_similarity, _ink(png)
    for name, data in figures.items():
        sb = _png_size(data)
        if not sb or abs(sa[0] / sa[1] - sb[0] / sb[1]) > 0.03 * sb[0] / sb[1]: continue
        sim = _cosine(ia, _ink(data))
        if sim >= best_s: best, best_s = name, sim
    return best


def dedupe_images(nb, figures: dict, link_prefix: str) -> list[str]:
    """Replace each image output of `nb` that shows one of `figures` ({file name: PNG bytes}) by a Markdown
    output linking `link_prefix + name` (the committed file); returns the names replaced."""
    import base64, nbformat
    replaced = []
    for c in nb.cells:
        for j, o in enumerate(c.get('outputs', [])):
            png = o.get('data', {}).get('image/png') if o.get('output_type') in ('display_data', 'execute_result') else None
            if not png: continue
            name = matching_figure(base64.b64decode(_text(png)), figures)
            if name is None: continue
            stem = Path(name).stem
            c.outputs[j] = nbformat.v4.new_output('display_data', data={
                'text/markdown': f'![{stem}]({link_prefix}{name})\n\n*Figure `figures/{name}` (PNG and PDF), written by this notebook.*',
                'text/plain': f'<figures/{name}>'})
            replaced.append(name)
    return replaced


_SAVE_FIG = re.compile(r"""save_figure\(\s*[^,]+,\s*(f?)(['"])(.+?)\2""")


def _figure_output(name: str, link_prefix: str):
    import nbformat
    return nbformat.v4.new_output('display_data', data={
        'text/markdown': f'![{Path(name).stem}]({link_prefix}{name})\n\n*`figures/{name}` (PNG and PDF), written by this notebook.*',
        'text/plain': f'<figures/{name}>'})


def link_figures(nb, pngs, link_prefix: str) -> list[str]:
    """Show each figure of `pngs` (file names in figures/) in `nb` as a link to the committed file: below the
    cell that saves it (`save_figure(fig, 'stem' or f'{X}_stem', ...)`; an f-string's fields match anything),
    unless that cell already shows it; figures no cell claims go in a last cell. Returns the names linked."""
    import nbformat
    left, linked = sorted(pngs), []
    for c in nb.cells:
        if c.cell_type != 'code': continue
        shown = {o.get('data', {}).get('text/plain', '') for o in c.get('outputs', [])}
        for f, _, stem in _SAVE_FIG.findall(c.source):
            rx = re.compile(''.join('.+' if part.startswith('{') else re.escape(part)
                                    for part in re.split(r'(\{[^}]*\})', stem)) + r'\.png' if f else re.escape(stem) + r'\.png')
            for name in [n for n in left if rx.fullmatch(n)]:
                if f'<figures/{name}>' not in shown: c.outputs.append(_figure_output(name, link_prefix))
                left.remove(name); linked.append(name)
    if left:
        cell = nbformat.v4.new_code_cell('# figures this notebook wrote (linked, not embedded)')
        cell.id = hashlib.sha1(' '.join(left).encode()).hexdigest()[:8]   # the same id on every publish: no churn in git
        cell.outputs = [_figure_output(n, link_prefix) for n in left]
        nb.cells.append(cell); linked += left
    return linked


def portable_paths(text: str, roots=()) -> str:
    """`text` (a notebook's JSON) without machine paths: each checkout root in `roots` (and this one) removed from the
    paths below it (they become relative to the repository), a reproduction's scratch `.../qkd-nb-XXXX/out` shown as
    `<out_dir>`."""
    import re
    for r in sorted({str(ROOT), *map(str, roots)}, key=len, reverse=True):
        text = text.replace(r.rstrip('/') + '/', '')
    return re.sub(r'(?:/[^"\s\\/]+)*/qkd-nb-[A-Za-z0-9_]+/out', '<out_dir>', text)


def _run_root(nb, stem: str):
    "The checkout a run was made in, read from papermill's input_path (`<root>/nbs/experiments/<stem>.ipynb`), or None."
    ip = str(nb.metadata.get('papermill', {}).get('input_path') or '')
    tail = f'/nbs/experiments/{stem}.ipynb'
    return ip[:-len(tail)] if ip.startswith('/') and ip.endswith(tail) else None


def publish_experiments(run_dir=None, figures_dir=ROOT / 'figures', dest=None) -> dict:
    """Copy the executed experiment notebooks of a reproduction run into `figures/notebooks/` (tracked), every
    figure the notebook wrote shown as a link to its committed PNG in `figures/` (an embedded image that
    duplicates one is replaced by the link): returns {stem: [figures linked]}.

    Each notebook's executed copy is the one its manifest entry names (else `run_dir`/<stem>.ipynb, `run_dir`
    defaulting to the run in `figures/manifest.json`); only notebooks whose status there is 'ok' are
    published (a failed run keeps the previously published copy)."""
    import nbformat
    figures_dir = Path(figures_dir)
    dest = Path(dest) if dest else figures_dir / 'notebooks'
    if not (figures_dir / 'manifest.json').exists():
        print(f'nothing to publish: no {figures_dir / "manifest.json"} (run `make reproduce` first)'); return {}
    man = json.loads((figures_dir / 'manifest.json').read_text())
    run_dir = Path(run_dir or man['run_dir'])
    if not run_dir.is_absolute(): run_dir = ROOT / run_dir
    dest.mkdir(parents=True, exist_ok=True)
    link = os.path.relpath(figures_dir, dest).replace(os.sep, '/') + '/'
    done = {}
    for stem, e in sorted(man.get('notebooks', {}).items()):
        src = Path(e['executed']) if e.get('executed') else run_dir / f'{stem}.ipynb'
        if not src.is_absolute(): src = ROOT / src
        if e.get('status') != 'ok' or not src.exists(): continue
        nb = nbformat.read(src, as_version=4)
        mine = {f: (figures_dir / f).read_bytes() for f in e.get('outputs', [])
                if f.endswith('.png') and (figures_dir / f).is_file()}
        dedupe_images(nb, mine, link)
        done[stem] = link_figures(nb, mine, link)
        for c in nb.cells:                                   # papermill's per-cell timestamps: noise in git
            c.metadata.pop('execution', None); c.metadata.pop('papermill', None)
        root = _run_root(nb, stem)                           # no machine paths in what is committed
        write_text(dest / f'{stem}.ipynb', portable_paths(nbformat.writes(nb), [root] if root else []))
    return done


# ------------------------------------------------------------------ command line
def _one(fn, mode, flags):
    "Run one notebook in a fresh interpreter (nbdev's shell replaces __main__): returns the parsed JSON result."
    r = subprocess.run([sys.executable, __file__, '_one', mode, str(fn), '--flags', ' '.join(flags)],
                       cwd=ROOT, capture_output=True, text=True)
    try: return json.loads(r.stdout.strip().splitlines()[-1])
    except Exception: return dict(ok=False, seconds=0, problems=[f'could not run: {r.stderr[-2000:]}'])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('cmd', choices=['execute', 'check', 'publish', '_one'])
    ap.add_argument('notebooks', nargs='*')
    ap.add_argument('--flags', default=None, help='test flags to run (default: every tst_flags flag, i.e. slow)')
    ap.add_argument('--workers', type=int, default=int(os.environ.get('QKD_TEST_WORKERS', 2)),
                    help='execute/check: notebooks run at once, each in its own process (default 2)')
    ap.add_argument('--run-dir', default=None, help='publish: the reproduction run (default: figures/manifest.json)')
    ap.add_argument('--figures-dir', default=str(ROOT / 'figures'), help='publish: the figures folder (default: figures/)')
    a = ap.parse_args(argv)
    from nbdev.config import get_config
    flags = get_config().tst_flags.split() if a.flags is None else a.flags.split()
    if a.cmd == '_one':
        mode, fn = a.notebooks
        if mode == 'execute': (ok, t), problems = execute_in_place(fn, flags), []
        else: ok, t, problems = check_nb(fn, force_flags=flags, basepath=ROOT)
        print(json.dumps(dict(ok=ok, seconds=t, problems=problems))); return 0
    if a.cmd == 'publish':
        for stem, figs in publish_experiments(a.run_dir, Path(a.figures_dir)).items():
            out = Path(a.figures_dir).resolve() / 'notebooks' / f'{stem}.ipynb'
            shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
            print(f'{shown}: figures linked to figures/: {", ".join(figs) or "none"}')
        return 0
    nbs = [Path(n).resolve() for n in a.notebooks] or library_notebooks()
    bad = 0
    rel = lambda p: p.relative_to(ROOT) if p.is_relative_to(ROOT) else p
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max(1, a.workers)) as ex:
        results = list(ex.map(lambda fn: _one(fn, a.cmd, flags), nbs))
    for fn, r in zip(nbs, results):
        good = r['ok'] and not r['problems']
        bad += not good
        print(f"[{'PASS' if good else 'FAIL'}] {a.cmd} {rel(fn)} ({r['seconds']:.1f}s)"
              + ''.join(f'\n    {p}' for p in r['problems']) + ('' if r['ok'] else '\n    a cell failed (see above)'), flush=True)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
