#!/usr/bin/env python
"""Browser test of the documentation site: build it, serve it on 127.0.0.1, open every page in headless
Chromium and fail on a broken internal link (page or #anchor), a missing image or internal resource
(stylesheet, script, font), a script error, a page that renders empty, or math left as raw TeX (`\\(`, `$$`,
`\\frac` ... visible in the rendered text once MathJax has typeset the page, or a MathJax error); save screenshots
of the home page and one experiment page.

    python tools/check_site.py [--site _site] [--no-build] [--shots docs/_build/screenshots]

Chromium is Debian's `chromium` package (tools/setup_env.sh installs it where it can, as root; `--install`
here does the same). It is driven through the DevTools protocol (tornado's websocket client: tornado comes
with ipykernel), one browser for all pages, where no host name but 127.0.0.1 resolves: the test
needs no network, and neither does the site: MathJax comes with it (tools/build_docs.py), so a page whose
math would need the network shows raw TeX here and fails.
"""
from __future__ import annotations
import argparse, asyncio, base64, functools, http.server, json, os, re, shutil, subprocess, sys, tempfile, threading, time
from pathlib import Path
from urllib.parse import urljoin, urlparse, unquote

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
         '--hide-scrollbars', '--mute-audio', '--remote-debugging-port=0', '--remote-allow-origins=*',
         '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1']        # no host but this one resolves
SHOTS = {'home.png': 'index.html', 'experiment.png': 'experiments/01_main_table.html'}
NOT_CONTENT = {'search.html', 'genindex.html', 'py-modindex.html'}   # pages that are (nearly) empty by design
SHOT_HEIGHT = 3000                                                    # screenshots: the page's top 3000 px
MIN_TEXT = 80                                                         # characters of article text a page must show

# math typeset? (MathJax 2: its queue empty once the page's math is done; pages without math have no MathJax)
MATH_DONE = r"""(() => !(window.MathJax && window.MathJax.Hub) ||
  (window.MathJax.isReady === true && window.MathJax.Hub.queue.pending === 0 && !window.MathJax.Hub.queue.running))()"""

# what the page reports once loaded: its text, headings, anchors, links, images and stylesheets, and its prose
# (code blocks, scripts and MathJax's own output left out) for the raw-TeX check
PROBE = r"""(() => {
  const main = document.querySelector('article, main, [role=main]') || document.body;
  const prose = main.cloneNode(true);
  prose.querySelectorAll('pre, code, script, style, .highlight, .MathJax, .MathJax_Display, .MathJax_Preview, .MathJax_SVG, ' +
                         '.cell_input, .output.text_plain, .output.stream').forEach(e => e.remove());
  const abs = (u) => { try { return new URL(u, location.href).href } catch (e) { return u } };
  return JSON.stringify({
    title: document.title,
    text: (main.innerText || '').trim().length,
    prose: (prose.textContent || ''),
    math_errors: document.querySelectorAll('.MathJax_Error, .merror').length,
    h1: document.querySelectorAll('h1').length,
    ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id)
           .concat(Array.from(document.querySelectorAll('a[name]')).map(e => e.name)),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => abs(a.getAttribute('href'))),
    images: Array.from(document.images).map(i => ({src: i.currentSrc || abs(i.getAttribute('src') || ''),
                                                   ok: i.complete && i.naturalWidth > 0})),
  });
})()"""


RAW_TEX = re.compile(r'\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\$[^$\n]*\\[a-zA-Z]+[^$\n]*\$|'
                     r'\\(?:langle|rangle|frac|sqrt|sum|prod|sigma|theta|alpha|beta|epsilon|omega|lambda|pi|psi|phi|'
                     r'mathrm|mathbf|text|left|right|cdot|otimes|le|ge|partial|nabla|infty)\b')


def raw_tex(text: str) -> list[str]:
    "Snippets of `text` (a page's rendered prose) that are TeX a reader sees raw: delimiters or commands."
    return [text[max(0, m.start() - 30):m.end() + 30].replace('\n', ' ').strip() for m in RAW_TEX.finditer(text)][:3]


def find_chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome', 'chrome'):
        p = shutil.which(name)
        if p: return p
    return None


def install_chromium():
    "Install Debian's chromium with apt-get (root only); returns its path or None."
    if find_chromium(): return find_chromium()
    if os.geteuid() != 0 or not shutil.which('apt-get'): return None
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    subprocess.run(['apt-get', 'update', '-qq'], env=env, capture_output=True)
    subprocess.run(['apt-get', 'install', '-y', '-qq', 'chromium'], env=env, capture_output=True)
    return find_chromium()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass


def serve(folder: Path):
    "Serve `folder` on 127.0.0.1 (a free port) in a thread; returns (server, base URL)."
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f'http://127.0.0.1:{srv.server_address[1]}/'


class CDP:
    "A minimal DevTools-protocol client for one page target (commands, and the events between them)."
    def __init__(self, ws): self.ws, self.n, self.events = ws, 0, []

    @classmethod
    async def connect(cls, url):
        from tornado.websocket import websocket_connect
        return cls(await websocket_connect(url, max_message_size=256 << 20))

    async def send(self, method, **params):
        self.n += 1
        me = self.n
        await self.ws.write_message(json.dumps(dict(id=me, method=method, params=params)))
        while True:
            msg = await self.ws.read_message()
            if msg is None: raise RuntimeError('chromium closed the DevTools connection')
            m = json.loads(msg)
            if m.get('id') == me:
                if 'error' in m: raise RuntimeError(f"{method}: {m['error']}")
                return m.get('result', {})
            if 'method' in m: self.events.append(m)

    async def wait_event(self, name, timeout):
        "Wait until event `name` arrives (or `timeout` s); events read meanwhile are kept."
        end = time.monotonic() + timeout
        while not any(e['method'] == name for e in self.events):
            left = end - time.monotonic()
            if left <= 0: return False
            try: msg = await asyncio.wait_for(self.ws.read_message(), left)
            except asyncio.TimeoutError: return False
            if msg is None: raise RuntimeError('chromium closed the DevTools connection')
            m = json.loads(msg)
            if 'method' in m: self.events.append(m)
        return True


def start_chromium(exe):
    "Start headless Chromium with a fresh profile; returns (process, profile dir, DevTools HTTP port)."
    prof = tempfile.mkdtemp(prefix='qkd-chromium-')
    p = subprocess.Popen([exe, *FLAGS, f'--user-data-dir={prof}', 'about:blank'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = Path(prof) / 'DevToolsActivePort'
    for _ in range(300):
        if port_file.exists() and port_file.read_text().strip(): return p, prof, int(port_file.read_text().split()[0])
        if p.poll() is not None: break
        time.sleep(0.1)
    p.kill(); shutil.rmtree(prof, ignore_errors=True)
    raise RuntimeError(f'chromium did not start ({exe})')


def pages(site: Path) -> list[str]:
    "Every HTML page of the site, relative to it (theme assets excepted)."
    return sorted(p.relative_to(site).as_posix() for p in site.rglob('*.html') if '_static' not in p.parts)


async def visit(cdp, url, timeout=30):
    "Open `url`; returns (probe dict, failed internal requests, script errors)."
    cdp.events.clear()
    await cdp.send('Page.navigate', url=url)
    if not await cdp.wait_event('Page.loadEventFired', timeout):
        return None, [f'page did not load in {timeout} s'], []
    await asyncio.sleep(0.05)
    end = time.monotonic() + timeout                 # let MathJax typeset the page (it loads its parts on demand)
    while time.monotonic() < end:
        r = await cdp.send('Runtime.evaluate', expression=MATH_DONE, returnByValue=True)
        if r.get('result', {}).get('value', True): break
        await asyncio.sleep(0.1)
    r = await cdp.send('Runtime.evaluate', expression=PROBE, returnByValue=True)
    probe = json.loads(r['result']['value'])
    origin = urlparse(url).netloc
    reqs = {e['params']['requestId']: e['params']['request']['url'] for e in cdp.events if e['method'] == 'Network.requestWillBeSent'}
    failed = []
    for e in cdp.events:
        p = e['params']
        if e['method'] == 'Network.responseReceived' and urlparse(p['response']['url']).netloc == origin \
                and p['response']['status'] >= 400 and urlparse(p['response']['url']).path != '/favicon.ico':
            failed.append(f"{p['response']['status']} {p['response']['url']}")
        if e['method'] == 'Network.loadingFailed' and not p.get('blockedReason') \
                and urlparse(reqs.get(p['requestId'], '')).netloc == origin:
            failed.append(f"{p.get('errorText')} {reqs.get(p['requestId'])}")
    errors = [e['params']['exceptionDetails'].get('exception', {}).get('description')
              or e['params']['exceptionDetails'].get('text') for e in cdp.events if e['method'] == 'Runtime.exceptionThrown']
    errors = [(x or '').splitlines()[0] for x in errors]
    return probe, failed, errors


async def _check(site: Path, base: str, exe: str, shots: Path):
    import urllib.request
    proc, prof, port = start_chromium(exe)
    problems, seen = [], {}
    try:
        req = urllib.request.Request(f'http://127.0.0.1:{port}/json/new?about:blank', method='PUT')
        target = json.loads(urllib.request.urlopen(req, timeout=10).read())
        cdp = await CDP.connect(target['webSocketDebuggerUrl'])
        for m in ('Page.enable', 'Network.enable', 'Runtime.enable'): await cdp.send(m)
        await cdp.send('Emulation.setDeviceMetricsOverride', width=1280, height=1000, deviceScaleFactor=1, mobile=False)
        for rel in pages(site):
            probe, failed, errors = await visit(cdp, base + rel)
            where = rel
            problems += [f'{where}: {f}' for f in failed] + [f'{where}: script error: {e}' for e in errors]
            if probe is None: continue
            seen[rel] = probe
            problems += [f"{where}: image not shown: {i['src']}" for i in probe['images'] if not i['ok']]
            problems += [f"{where}: raw TeX shown (math not rendered): ...{t}..." for t in raw_tex(probe['prose'])]
            if probe['math_errors']: problems.append(f"{where}: {probe['math_errors']} MathJax error(s) in the page's math")
            if rel not in NOT_CONTENT and rel.split('/')[0] != '_modules' and (probe['text'] < MIN_TEXT or not probe['h1']):
                problems.append(f"{where}: renders empty ({probe['text']} characters of text, {probe['h1']} headings)")
            name = next((k for k, v in SHOTS.items() if v == rel), None)
            if name:
                h = min(SHOT_HEIGHT, int((await cdp.send('Page.getLayoutMetrics'))['cssContentSize']['height']))
                shot = await cdp.send('Page.captureScreenshot', format='png', captureBeyondViewport=True,
                                      clip=dict(x=0, y=0, width=1280, height=max(h, 600), scale=1))
                shots.mkdir(parents=True, exist_ok=True)
                (shots / name).write_bytes(base64.b64decode(shot['data']))
        await cdp.ws.close() if asyncio.iscoroutinefunction(cdp.ws.close) else cdp.ws.close()
    finally:
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill()
        shutil.rmtree(prof, ignore_errors=True)
    problems += broken_links(site, base, seen)
    missing_shots = [f'screenshot {n}: page {p} not found' for n, p in SHOTS.items() if p not in seen]
    return problems + missing_shots, len(seen)


def broken_links(site: Path, base: str, seen: dict) -> list[str]:
    "Internal links (and #anchors) of the pages seen whose target page or anchor does not exist."
    bad = set()
    for rel, probe in seen.items():
        for href in probe['links']:
            u = urlparse(href)
            if not href.startswith(base): continue
            path = unquote(u.path[len(urlparse(base).path):]) or 'index.html'
            if path.endswith('/'): path += 'index.html'
            target = site / path
            if not target.exists():
                bad.add(f'{rel}: broken link to {path}'); continue
            if u.fragment and path in seen and unquote(u.fragment) not in seen[path]['ids']:
                bad.add(f'{rel}: broken anchor {path}#{u.fragment}')
    return sorted(bad)


def check(site: Path, shots: Path, exe=None) -> tuple[bool, str]:
    "Open every page of the built `site` in headless Chromium; returns (ok, report)."
    exe = exe or find_chromium()
    if not exe: return False, 'chromium not found: apt-get install chromium (as root), or run with --install'
    t0 = time.time()
    srv, base = serve(site)
    try: problems, n = asyncio.run(_check(site, base, exe, shots))
    finally: srv.shutdown()
    head = (f'{n} pages opened in headless Chromium, {len(problems)} problems, {time.time() - t0:.0f}s; '
            f'screenshots in {shots.relative_to(ROOT) if shots.is_relative_to(ROOT) else shots}: {", ".join(SHOTS)}')
    return not problems and n > 0, '\n'.join([head] + [f'  {p}' for p in problems[:60]])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--site', default=str(ROOT / '_site'))
    ap.add_argument('--no-build', action='store_true', help='check the site as it is (default: build it first)')
    ap.add_argument('--shots', default=str(ROOT / 'docs' / '_build' / 'screenshots'))
    ap.add_argument('--install', action='store_true', help='apt-get install chromium where missing (root)')
    ap.add_argument('--figures', default=str(ROOT / 'figures'), help='build from this figures folder (default: figures/)')
    a = ap.parse_args(argv)
    site = Path(a.site).resolve()
    if not a.no_build:
        sys.path.insert(0, str(ROOT / 'tools'))
        from build_docs import build
        ok, report = build(site, figures=Path(a.figures).resolve())
        print(('' if ok else 'FAILED: ') + report, flush=True)
        if not ok: return 1
    ok, report = check(site, Path(a.shots).resolve(), install_chromium() if a.install else None)
    print(('' if ok else 'FAILED: ') + report, flush=True)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
