#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb (markdown cells as they are, code cells fenced, text
outputs shown). nbdev 2's own `nbdev_readme` needs Quarto, which is not a pip package."""
import re
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parents[1]


def render(nb):
    out = ['<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file. -->\n']
    for c in nb.cells:
        src = c.source.strip('\n')
        if c.cell_type == 'markdown': out.append(src.replace('](../figures/', '](figures/') + '\n')   # paths from nbs/ -> from the root
        elif c.cell_type == 'code':
            if any(l.strip() in ('#| hide', '#|hide') for l in src.splitlines()): continue
            lines = [l for l in src.splitlines() if not l.startswith('#|')]
            if not lines: continue
            out.append('```python\n' + '\n'.join(lines) + '\n```\n')
            for o in c.get('outputs', []):
                text = o.get('text') or o.get('data', {}).get('text/markdown') or o.get('data', {}).get('text/plain')
                if text: out.append(('' if 'text/markdown' in o.get('data', {}) else '    ') +
                                    (text if 'text/markdown' in o.get('data', {}) else text.replace('\n', '\n    ')) + '\n')
    return re.sub(r'<!-- include: (\S+) -->', _include, '\n'.join(out))


def _include(m):
    "The Markdown file a `<!-- include: figures/X.md -->` marker names (its title line dropped), as it is now."
    f = ROOT / m.group(1)
    if not f.exists(): return f'*(`{m.group(1)}` appears here after `make reproduce`)*'
    text = f.read_text().strip()
    return text.split('\n', 1)[1].strip() if text.startswith('# ') else text


if __name__ == '__main__':
    nb = nbformat.read(ROOT / 'nbs' / 'index.ipynb', as_version=4)
    new = render(nb)
    p = ROOT / 'README.md'
    if not p.exists() or p.read_text() != new: p.write_text(new)
