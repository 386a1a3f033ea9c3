#!/usr/bin/env python
"""Tests of the documentation and notebook-outputs tools (tools/nb_outputs.py, build_docs.py, check_site.py).

Run by the test command (a step of tools/run_tests.py) or alone: `python tools/test_docs_tools.py`. Each test
builds its own small inputs (notebooks, PNGs, a site) in a temporary folder; none needs the network or Chromium.
"""
from __future__ import annotations
import io, json, sys, tempfile, traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import nbformat
from fastcore.test import test_eq, test_fail
import nb_outputs as no
import build_docs as bd
import check_site as cs


def _cell(source, outputs=(), id=None):
    c = nbformat.v4.new_code_cell(source)
    c.outputs = [nbformat.from_dict(o) for o in outputs]
    if id: c.id = id
    return c


def _stdout(text): return dict(output_type='stream', name='stdout', text=text)
def _display(**data): return dict(output_type='display_data', data=data, metadata={})


def test_normalize_masks_volatile_parts():
    normalize = no.normalize_text
    test_eq(normalize(f'took 0.41 s, 12 ms, 3.2 it/s at 0x7f3a9c0d1e20 in /tmp/qkd-nb-x1/out {no.ROOT}/nbs'),
            'took <duration>, <duration>, <duration> at 0x? in <tmp> <root>/nbs')
    test_eq(normalize('created 2026-12-01T08:07:46+00:00  \n'), 'created <timestamp>')
    # numbers that are not durations stay, so the comparison sees them
    test_eq(normalize('accuracy 0.8150, 24 weights'), 'accuracy 0.8150, 24 weights')
    test_eq(normalize('native is 12.3x faster, 4x4 blocks'), 'native is <duration> faster, 4x4 blocks')


def test_masked_values_carry_no_width():
    # the failure of a fresh clone (issue 23): a duration printed padded to a column is one character shorter on
    # a slower run; the masked field must not keep its padding, nor may a table whose widths follow it
    committed = 'qiskit losses [13.05933778 13.82653381 12.52005971]    0.41 s  14784 circuit evaluations'
    now = 'qiskit losses [13.05933778 13.82653381 12.52005971]   12.41 s  14784 circuit evaluations'
    test_eq(no.normalize_text(committed), no.normalize_text(now))
    table_a = 'peer      time  evals\nnative  0.3 ms     96\ntq      2.1 ms     96'
    table_b = 'peer        time  evals\nnative  10.37 ms     96\ntq       2.1 ms     96'
    test_eq(no.normalize_text(table_a), no.normalize_text(table_b))
    # but a change of a counted value is still seen, and words stay separated
    assert not no._same_text(no.normalize_text(table_a), no.normalize_text(table_b.replace(' 96', ' 97')))
    test_eq(no.normalize_text('a \t b  '), 'a b')


def test_threads_pinned_whatever_the_environment():
    import os, torch
    old = {k: os.environ.get(k) for k in no.THREAD_VARS}
    os.environ['OMP_NUM_THREADS'] = '2'; torch.set_num_threads(2)
    try:
        no.pin_threads()
        test_eq(torch.get_num_threads(), 1)
        test_eq([os.environ[k] for k in no.THREAD_VARS], ['1'] * len(no.THREAD_VARS))   # inherited by subprocesses
    finally:
        for k, v in old.items():
            if v is None: os.environ.pop(k, None)
            else: os.environ[k] = v


def test_same_text_tolerates_last_digit_only():
    assert no._same_text('loss 0.1235', 'loss 0.1234')          # one unit of the last printed digit
    assert not no._same_text('loss 0.1235', 'loss 0.1233')      # two units: a real change
    assert not no._same_text('4 qubits', '3 qubits')             # integers must be equal
    assert no._same_text('x = 1.5e-03', 'x = 1.6e-03')
    assert not no._same_text('x = 1.5e-03', 'x = 1.5e-02')
    assert not no._same_text('shape (4, 10)', 'shape (4, 10, 1)')
    assert no._same_text("'align': 1.348154067993164", "'align': 1.3481537103652954")   # float32 noise: 3e-7 relative
    assert not no._same_text("'align': 1.348154067993164", "'align': 1.1594940423965454")
    assert no._same_text('error 3.2e-09', 'error 8.1e-08')                               # below the absolute 1e-6


def test_masked_paths_compare_equal():
    "Committed outputs show no machine path, and still compare equal to fresh ones that do."
    import nbformat
    fresh = [nbformat.v4.new_output('stream', name='stdout', text=f'{no.ROOT}/x.py and /tmp/tmpab12/out.csv\n'),
             nbformat.v4.new_output('stream', name='stderr', text=f'{no.ROOT}/.venv/lib/w.py:3: Warning\n')]
    committed = no.masked_paths(json.loads(json.dumps(fresh)))
    test_eq([o['text'] for o in committed], ['<root>/x.py and <tmp>\n', '<root>/.venv/lib/w.py:3: Warning\n'])
    test_eq(no.output_items(committed), no.output_items(fresh))


def test_output_items():
    outs = [_stdout('a\n'), _stdout('b\n'), dict(output_type='stream', name='stderr', text='warning'),
            _display(**{'text/plain': 'df', 'text/html': '<table/>'}), _display(**{'image/png': 'AAAA', 'text/plain': '<Figure>'}),
            _display(**{'text/html': '<progress value=3>', 'text/plain': 'bar'}), _display(**{'text/markdown': '**C1**'})]
    test_eq(no.output_items([nbformat.from_dict(o) for o in outs]),
            [('stdout', 'a\nb'), ('text', 'df'), ('image', ''), ('markdown', '**C1**')])


def test_compare_reports_missing_stale_and_volatile():
    committed = [_cell('print(1)', [_stdout('1\n')], 'a'), _cell('print(2)', [], 'b'), _cell('x', [_stdout('old\n')], 'c'),
                 _cell('#| volatile\nprint(t)', [_stdout('7\n')], 'd'), _cell('y', [_stdout('kept\n')], 'e')]
    fresh = [_cell('print(1)', [_stdout('1\n')], 'a'), _cell('print(2)', [_stdout('2\n')], 'b'),
             _cell('x', [_stdout('new\n')], 'c'), _cell('#| volatile\nprint(t)', [_stdout('8\n')], 'd'), _cell('y', [], 'e')]
    probs = no.compare(committed, fresh, ran={'a', 'b', 'c', 'd'})           # 'e' did not run (a skipped slow cell)
    test_eq(len(probs), 2)
    assert 'code cell 2 (b): produces output (stdout) but none is committed' in probs[0], probs
    assert "code cell 3 (c): stdout output is stale, line 1: committed 'old', now 'new'" in probs[1], probs
    test_eq(no.compare(committed, committed, ran={'a', 'b', 'c', 'd', 'e'}), [])
    # an output the run no longer produces is stale too
    assert 'committed outputs' in no.compare([_cell('x', [_stdout('1\n')], 'a')], [_cell('x', [], 'a')], {'a'})[0]


def _png(dpi, shift=0.0):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1, 2], [0 + shift, 1, 0.5 - shift], lw=4); ax.set_title('a figure')
    b = io.BytesIO(); fig.savefig(b, format='png', dpi=dpi); plt.close(fig)
    return b.getvalue()


def test_matching_figure_across_resolutions():
    figures = {'fig_a.png': _png(150), 'fig_b.png': _png(150, shift=0.8)}
    test_eq(no.matching_figure(_png(72), figures), 'fig_a.png')                 # same picture, other dpi
    test_eq(no.matching_figure(_png(72, shift=0.8), figures), 'fig_b.png')
    test_eq(no.matching_figure(_png(72), {'other.png': _png(150, shift=-3)}), None)


def test_link_figures_and_dedupe():
    import base64
    nb = nbformat.v4.new_notebook()
    nb.cells = [_cell("save_figure(fig, f'{STEM}_accuracy', out); plt.show()", [], 'a'),
                _cell("save_figure(fig, 'main_curves', out_dir)", [_display(**{'image/png': base64.b64encode(_png(72)).decode(),
                                                                                  'text/plain': '<Figure>'})], 'b')]
    figures = {'noise_accuracy.png': _png(150, shift=0.8), 'main_curves.png': _png(150), 'orphan.png': _png(150, shift=-3)}
    test_eq(no.dedupe_images(nb, figures, '../'), ['main_curves.png'])
    test_eq(no.link_figures(nb, list(figures), '../'), ['noise_accuracy.png', 'main_curves.png', 'orphan.png'])
    md = lambda c: [o.data['text/markdown'].split('\n')[0] for o in c.outputs]
    test_eq(md(nb.cells[0]), ['![noise_accuracy](../noise_accuracy.png)'])
    test_eq(md(nb.cells[1]), ['![main_curves](../main_curves.png)'])        # the embedded copy became the link, once
    test_eq(md(nb.cells[2]), ['![orphan](../orphan.png)'])                  # unclaimed: a last cell
    assert not any('image/png' in o.get('data', {}) for c in nb.cells for o in c.outputs)


def test_publish_experiments(tmp: Path):
    import json
    figs, run = tmp / 'figures', tmp / 'runs' / 'r1'
    figs.mkdir(parents=True); run.mkdir(parents=True)
    (figs / 'main_accuracy.png').write_bytes(_png(150))
    nb = nbformat.v4.new_notebook(); nb.cells = [_cell("save_figure(fig, 'main_accuracy', out_dir)", [], 'a')]
    nb.cells[0].metadata['execution'] = {'iopub.status.busy': '2026-12-01T08:07:34Z'}
    nbformat.write(nb, run / '01_main_table.ipynb'); nbformat.write(nb, run / '02_failed.ipynb')
    (figs / 'manifest.json').write_text(json.dumps(dict(run_dir=str(run), notebooks={
        '01_main_table': dict(status='ok', outputs=['main_accuracy.png', 'main_accuracy.pdf']),
        '02_failed': dict(status='failed', outputs=[])})))
    test_eq(no.publish_experiments(figures_dir=figs), {'01_main_table': ['main_accuracy.png']})
    pub = nbformat.read(figs / 'notebooks' / '01_main_table.ipynb', as_version=4)
    test_eq(pub.cells[0].metadata, {})
    assert '![main_accuracy](../main_accuracy.png)' in pub.cells[0].outputs[0].data['text/markdown']
    assert not (figs / 'notebooks' / '02_failed.ipynb').exists()
    (figs / 'orphan.png').write_bytes(_png(150))                  # a figure no cell claims: a last cell ...
    m = json.loads((figs / 'manifest.json').read_text()); m['notebooks']['01_main_table']['outputs'].append('orphan.png')
    (figs / 'manifest.json').write_text(json.dumps(m))
    no.publish_experiments(figures_dir=figs); first = (figs / 'notebooks' / '01_main_table.ipynb').read_bytes()
    no.publish_experiments(figures_dir=figs)
    test_eq((figs / 'notebooks' / '01_main_table.ipynb').read_bytes(), first)   # ... with the same id every time


def test_execute_and_check_a_notebook(tmp: Path):
    "End to end on a two-cell notebook: execute writes outputs; check passes, then fails once the code changes."
    nb = nbformat.v4.new_notebook(); nb.cells = [_cell('print(6 * 7)', id='a'), _cell('#| slow\nprint("slow")', id='b')]
    fn = tmp / 'tiny.ipynb'; nbformat.write(nb, fn)
    ok, _ = no.execute_in_place(fn)
    assert ok
    got = nbformat.read(fn, as_version=4)
    test_eq([no.output_items(c.outputs) for c in got.cells], [[('stdout', '42')], [('stdout', 'slow')]])
    test_eq(no.check_nb(fn, force_flags=['slow'])[2], [])
    test_eq(no.check_nb(fn)[2], [])                                  # slow cell skipped: not compared
    got.cells[0].source = 'print(6 * 8)'; nbformat.write(got, fn)
    assert 'stale' in no.check_nb(fn)[2][0]


def test_stage_notebook_directives():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell('# T'), _cell('#| default_exp x'), _cell('#| hide\nimport secret'),
                _cell('#| export\ndef f(): pass'), _cell('show_doc(f)', [_display(**{'text/markdown': '### f'})]),
                _cell('#| echo: false\nprint(1)', [_stdout('1\n')]),
                _cell('display(Markdown("![a](../a.png)"))', [_display(**{'text/markdown': '![a](../a.png)'})])]
    out = bd.stage_notebook(nb, link_rewrite=('](../', '](../figures/'))
    test_eq([c.source for c in out.cells], ['# T', 'def f(): pass', 'show_doc(f)', 'print(1)', 'display(Markdown("![a](../a.png)"))'])
    test_eq([c.metadata.get('tags') for c in out.cells[1:4]], [None, ['remove-input'], ['remove-input']])
    test_eq(out.cells[4].outputs[0].data['text/markdown'], '![a](../figures/a.png)')
    test_eq(bd._md_output('---\n\n[source](https://x/y.py#L3){target="_blank" style="float:right"}\n\n### f\n\n---'),
            '[source](https://x/y.py#L3)\n\n### f\n\n---')


def test_reexports_not_indexed_twice():
    "A name re-exported by another module (qkd_nb.simulator from qkd_nb.sim_gates) is indexed on its home page only."
    test_eq(':no-index:' in bd._api_entry('simulator', 'AngleMap'), True)
    test_eq(':no-index:' in bd._api_entry('sim_gates', 'AngleMap'), False)
    test_eq(':no-index:' in bd._api_entry('simulator', 'CompiledCircuit'), False)     # defined there


def test_broken_links(tmp: Path):
    (tmp / 'a.html').write_text('x'); (tmp / 'sub').mkdir(); (tmp / 'sub' / 'b.html').write_text('y')
    base = 'http://127.0.0.1:1/'
    seen = {'a.html': dict(ids=['top'], links=[base + 'sub/b.html', base + 'missing.html', base + 'a.html#top',
                                               base + 'a.html#nowhere', 'https://github.com/x']),
            'sub/b.html': dict(ids=[], links=[base + 'a.html'])}
    test_eq(cs.broken_links(tmp, base, seen), ['a.html: broken anchor a.html#nowhere', 'a.html: broken link to missing.html'])


def test_browser_finds_broken_pages(tmp: Path):
    "Headless Chromium on a four-page site: the good page passes; a missing image, an empty page, a broken link fail."
    exe = cs.find_chromium()
    if exe is None:
        print('  (chromium not installed: browser self-test skipped; the docs step installs it)'); return
    from PIL import Image
    site = tmp / 'site'; (site / 'experiments').mkdir(parents=True)
    Image.new('RGB', (8, 8), 'red').save(site / 'ok.png')
    text = '<p>' + 'enough words to count as a page. ' * 5 + '</p>'
    page = lambda body: f'<!doctype html><html><head><title>t</title></head><body><article>{body}</article></body></html>'
    (site / 'index.html').write_text(page(f'<h1>Home</h1>{text}<img src="ok.png"><a href="experiments/01_main_table.html#top">x</a>'))
    (site / 'experiments' / '01_main_table.html').write_text(page(f'<h1 id="top">E</h1>{text}<img src="../gone.png">'))
    (site / 'empty.html').write_text(page('<h1>Nothing</h1>'))
    (site / 'links.html').write_text(page(f'<h1>L</h1>{text}<a href="nowhere.html">x</a><a href="index.html#no-such">y</a>'))
    ok, report = cs.check(site, tmp / 'shots', exe)
    assert not ok, report
    for want in ['experiments/01_main_table.html: 404', 'experiments/01_main_table.html: image not shown',
                 'empty.html: renders empty', 'links.html: broken link to nowhere.html', 'links.html: broken anchor index.html#no-such']:
        assert want in report, (want, report)
    assert 'index.html:' not in report.replace('links.html', '').replace('#no-such', ''), report
    assert (tmp / 'shots' / 'home.png').stat().st_size > 1000 and (tmp / 'shots' / 'experiment.png').exists()


def test_raw_tex_found_in_prose():
    "The raw-TeX check: delimiters and commands a reader would see, not dollar amounts or plain backslashes."
    for raw in (r'the value \(\langle Z\rangle\) is', '$$x^2$$', r'the $\sigma$ of', r'\[ a \]', r'\frac{a}{b}',
                r'\begin{align} a \end{align}'):
        assert cs.raw_tex(raw), raw
    for fine in ('costs $5 and $10', 'a|b, C:\\path', 'set {a, b}', 'x = 2 * y', ''):
        test_eq(cs.raw_tex(fine), [])


def test_guides_ordered_and_apart(tmp: Path):
    "User guide pages: GUIDE_ORDER first, then the others by name; the library list leaves them out."
    import nbformat
    for name in ('zeta', 'migrate', 'alpha', 'your_circuit'):
        nbformat.write(nbformat.v4.new_notebook(), tmp / f'{name}.ipynb')
    test_eq([p.stem for p in bd.guide_notebooks(tmp)], ['your_circuit', 'migrate', 'alpha', 'zeta'])
    test_eq(bd.guide_notebooks(tmp / 'missing'), [])
    assert not any('guides' in p.parts for p in bd.library_notebooks())


def test_browser_flags_raw_tex(tmp: Path):
    "Headless Chromium: math typeset by the shipped MathJax passes; the same math without a renderer fails as raw TeX."
    import shutil
    exe, mj = cs.find_chromium(), bd.mathjax_dir()
    if exe is None or mj is None:
        print(f"  (chromium or jupyter-server-mathjax not installed: raw-TeX browser test skipped)"); return
    site = tmp / 'site'; (site / 'experiments').mkdir(parents=True)
    shutil.copytree(mj, site / '_static' / 'mathjax')
    text = '<p>' + 'enough words to count as a page. ' * 5 + '</p>'
    mathjax = ('<script>window.MathJax = {showMathMenu: false, messageStyle: "none", "HTML-CSS": {availableFonts: [], '
               'preferredFont: null, webFont: "STIX-Web", imageFont: null}, styles: {".MJX_Assistive_MathML *": '
               '{"font-family": "serif !important"}}};</script>'
               '<script src="_static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"></script>')
    page = lambda body, head='': (f'<!doctype html><html><head><title>t</title>{head}</head><body><article>{body}'
                                  '</article></body></html>')
    math = (r'<p>The mean <span class="math">\(\langle Z\rangle = \frac{1}{2}\)</span> and</p><div class="math">\[\sum_k c_k\]</div>'
            r'<p><span class="math">\(\mathbb{E}[Q] \lesssim \mathcal{O}(n)\)</span></p>')   # (AMS and script symbols)
    (site / 'index.html').write_text(page(f'<h1>Home</h1>{text}{math}<pre>raw \\(code\\) is fine</pre>', mathjax))
    (site / 'experiments' / '01_main_table.html').write_text(page(f'<h1>E</h1>{text}'))
    (site / 'raw.html').write_text(page(f'<h1>Raw</h1>{text}{math}'))              # no renderer: the TeX stays
    ok, report = cs.check(site, tmp / 'shots', exe)
    assert not ok and 'raw.html: raw TeX shown (math not rendered)' in report, report
    assert 'index.html:' not in report, report


def main():
    tests = [(n, f) for n, f in globals().items() if n.startswith('test_') and getattr(f, '__module__', None) == __name__]
    failed = 0
    for name, f in tests:
        try:
            with tempfile.TemporaryDirectory(prefix='qkd-docs-test-') as d:
                f(Path(d)) if f.__code__.co_argcount else f()
        except Exception:
            failed += 1
            print(f'FAIL {name}\n{traceback.format_exc()}', flush=True)
    print(f'{len(tests) - failed} of {len(tests)} tool tests passed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
