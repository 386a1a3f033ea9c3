#!/usr/bin/env python
"""The project's test command (`make test`): sync checks, then every notebook's cells.

1. `nbdev_export`, `nbdev_clean` and the README generator must leave the git tree unchanged
   (the library is the notebooks' export, notebooks are clean, README.md is index.ipynb).
2. Every notebook under nbs/ (experiments excepted) is executed as nbdev's own test runner does it
   (tools/nb_outputs.py `run_nb`, which keeps the outputs), in parallel, cells flagged with `--flags` included.
3. The notebooks of step 2 must be committed with their outputs, current (tools/nb_outputs.py compares
   the outputs of step 2's run with the committed ones, volatile parts masked).
4. The benchmark's smoke profile runs every peer of qkd_nb.bench (all must be installed and agree).
5. Every experiment notebook (nbs/experiments) runs through the reproduction runner (papermill)
   with its `smoke` profile, into a temporary folder (figures/ is left alone).
6. The documentation site builds (tools/build_docs.py) and every page opens in headless Chromium without
   a broken link, a missing image or an empty page (tools/check_site.py).
Ends with one line `N passed, M failed` (checks and notebooks) and a non-zero exit on failure.
"""
import argparse, os, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _git_status():
    r = subprocess.run(['git', 'status', '--porcelain', '--', 'qkd_nb', 'nbs', 'README.md'],
                       cwd=ROOT, capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


def sync_check():
    "The library, notebooks and README must be what the tools regenerate."
    before = _git_status()
    if before is None: return True, 'not a git checkout: sync check skipped'
    for cmd in ([str(BIN / 'nbdev_export')], [str(BIN / 'nbdev_clean')], [sys.executable, 'tools/make_readme.py']):
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if r.returncode: return False, f'{cmd[-1]} failed:\n{r.stdout}{r.stderr}'
    after = _git_status()
    if after != before:
        diff = subprocess.run(['git', 'diff', '--stat'], cwd=ROOT, capture_output=True, text=True).stdout
        return False, ('nbdev_export / nbdev_clean / make_readme changed files; run `make export` '
                       f'and commit:\n{after}\n{diff}')
    return True, 'library, notebooks and README in sync'


def _run_nb(args):
    fn, flags = args
    from nb_outputs import check_nb          # nbdev's test_nb, keeping the outputs to compare with the committed ones
    from nbdev.config import get_config
    skip = [f for f in get_config().tst_flags.split() if f not in flags]
    ok, t, stale = check_nb(Path(fn), skip_flags=skip, force_flags=flags, basepath=str(ROOT))
    return fn, ok, t, stale


def outputs_step(results):
    "Committed outputs step: every notebook that ran (and passed) has its outputs committed and current."
    bad = {fn: p for fn, ok, _, p in results if ok and p}
    if not bad: return True, f'{sum(ok for _, ok, *_ in results)} notebooks committed with current outputs'
    lines = [f'{len(bad)} notebooks committed without their outputs or with stale ones; for each, run '
             '`.venv/bin/python tools/nb_outputs.py execute nbs/NAME.ipynb` and commit it (an output that changes '
             'on every run comes from unseeded randomness: seed the cell, or mark it `#| volatile` and say why):']
    for fn, p in bad.items():
        lines += [f'    {Path(fn).relative_to(ROOT)}'] + [f'      {x}' for x in p[:5]] + ([f'      ... {len(p) - 5} more'] if len(p) > 5 else [])
    return False, '\n'.join(lines)


def docs_steps():
    """Docs steps, [(ok, line)]: the tools' own tests (tools/test_docs_tools.py); then the site builds
    (tools/build_docs.py) and every page opens in headless Chromium (tools/check_site.py, which installs
    Debian's chromium where it is missing and we are root)."""
    r = subprocess.run([sys.executable, 'tools/test_docs_tools.py'], cwd=ROOT, capture_output=True, text=True)
    last = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ''
    steps = [(r.returncode == 0, f'docs tools: {last}' + ('' if r.returncode == 0 else f'\n{r.stdout[-3000:]}{r.stderr[-2000:]}'))]
    t0 = time.time()
    try:
        from build_docs import build
        from check_site import check, install_chromium
        ok, report = build(ROOT / '_site')
        if ok:
            ok, shots = check(ROOT / '_site', ROOT / 'docs' / '_build' / 'screenshots', install_chromium())
            report += '\n' + shots
    except Exception as e:
        ok, report = False, f'{type(e).__name__}: {e} (are the docs requirements installed? `make env`)'
    steps.append((ok, f'docs: site built and every page opened in headless Chromium ({time.time() - t0:.0f}s)\n    '
                      + report.replace('\n', '\n    ')))
    return steps


def smoke_experiments(workers):
    "Run every experiment notebook with profile 'smoke' into a temporary folder; (passed, failed)."
    import tempfile
    from qkd_nb.reproduce import reproduce, find_experiments, default_experiments_dir
    if not find_experiments(default_experiments_dir()): return 0, 0
    with tempfile.TemporaryDirectory(prefix='qkd_smoke_') as tmp:
        print(f'running the experiment notebooks (profile smoke) in {tmp}', flush=True)
        man = reproduce(profile='smoke', figures_dir=Path(tmp) / 'figures', run_dir=Path(tmp) / 'runs',
                        workers=workers, progress=False)
        ok = 0
        for stem in man.ran:
            n = man.notebooks[stem]
            good = n['status'] == 'ok'
            ok += good
            print(f"[{'PASS' if good else 'FAIL'}] experiments/{stem} (smoke, {n['wall_time_s']:.1f}s)"
                  + ('' if good else f"\n    {n.get('error')}"), flush=True)
        return ok, len(man.ran) - ok


def bench_smoke():
    """The benchmark's smoke profile with EVERY peer (qkd_nb.bench, into a temporary folder): each must be
    installed, run, and agree with native float64. Returns (ok, message)."""
    import tempfile
    import numpy as np
    from qkd_nb.bench import run_benchmark, PEERS, REFERENCE
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix='qkd_bench_smoke_') as tmp:
        res = run_benchmark('smoke', out_dir=tmp, log=lambda s: None)
    df = res['results']
    bad = [f"{r.peer}: {r.status} {r.note if isinstance(r.note, str) else ''}".strip() for r in df.itertuples()
           if r.status != 'ok' or (r.peer != REFERENCE and not (isinstance(r.agree, (bool, np.bool_)) and r.agree))]
    bad += [f'{p}: not installed ({why})' for p, why in res['missing'].items()]
    msg = f'{len(set(df.peer))} of {len(PEERS)} peers ({time.time() - t0:.1f}s)'
    return not bad, msg + ('' if not bad else ':\n    ' + '\n    '.join(bad))


def notebooks(pattern=None):
    nbs = sorted(p for p in (ROOT / 'nbs').rglob('*.ipynb')
                 if 'experiments' not in p.relative_to(ROOT / 'nbs').parts
                 and not any(s.startswith(('_', '.')) for s in p.relative_to(ROOT / 'nbs').parts))
    if pattern: nbs = [p for p in nbs if pattern in p.name]
    return nbs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--flags', default='', help='space-separated test flags to run (e.g. "slow")')
    ap.add_argument('--only', default=None, help='run only notebooks whose name contains this')
    ap.add_argument('--workers', type=int, default=int(os.environ.get('QKD_TEST_WORKERS', 2)))
    ap.add_argument('--no-sync', action='store_true', help='skip the export/clean sync check')
    ap.add_argument('--no-experiments', action='store_true', help='skip the smoke runs of the experiment notebooks')
    ap.add_argument('--no-docs', action='store_true', help='skip building the site and its browser test')
    ap.add_argument('--no-bench', action='store_true', help='skip the benchmark smoke run (every peer)')
    a = ap.parse_args()
    flags = a.flags.split()
    passed = failed = 0
    t0 = time.time()
    if not a.no_sync:
        ok, msg = sync_check()
        print(f"[{'PASS' if ok else 'FAIL'}] sync: {msg}", flush=True)
        passed += ok; failed += not ok
    nbs = notebooks(a.only)
    print(f'running {len(nbs)} notebooks with flags {flags or "none"} on {a.workers} workers', flush=True)
    # one fresh process per notebook: nbdev's shell replaces __main__ and leaves state behind, so the
    # worker function is taken from this module by name and no process runs two notebooks
    import multiprocessing as mp
    sys.path.insert(0, str(Path(__file__).parent))
    from run_tests import _run_nb as run_nb
    results = []
    with ProcessPoolExecutor(a.workers, mp_context=mp.get_context('spawn'), max_tasks_per_child=1) as ex:
        for fn, ok, t, stale in ex.map(run_nb, [(str(p), flags) for p in nbs]):
            print(f"[{'PASS' if ok else 'FAIL'}] {Path(fn).relative_to(ROOT)} ({t:.1f}s)", flush=True)
            passed += ok; failed += not ok
            results.append((fn, ok, t, stale))
    if nbs:
        ok, msg = outputs_step(results)
        print(f"[{'PASS' if ok else 'FAIL'}] outputs: {msg}", flush=True)
        passed += ok; failed += not ok
    if not a.no_bench and not a.only:
        try: ok, msg = bench_smoke()
        except Exception as e: ok, msg = False, f'{type(e).__name__}: {e}'
        print(f"[{'PASS' if ok else 'FAIL'}] bench smoke: {msg}", flush=True)
        passed += ok; failed += not ok
    if not a.no_experiments and not a.only:
        p, f = smoke_experiments(a.workers)
        passed += p; failed += f
    if not a.no_docs and not a.only:
        for ok, msg in docs_steps():
            print(f"[{'PASS' if ok else 'FAIL'}] {msg}", flush=True)
            passed += ok; failed += not ok
    print(f'total time {time.time() - t0:.0f}s')
    print(f'{passed} passed, {failed} failed')
    sys.exit(1 if failed or not (passed) else 0)


if __name__ == '__main__':
    main()
