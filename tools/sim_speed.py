#!/usr/bin/env python
"""Speed of the native simulator (qkd_nb.simulator.CompiledCircuit) on the student's circuit.

What is timed: forward + backward (gradients to the inputs AND the weights) of
``qkd_nb.circuits.build_pqc(n_qubits=n)`` (``pauli_feature_map(n, reps=2, ["Z","ZZ"], linear)`` +
``efficient_su2(n, reps=2)``, Z on every qubit), float32, batch B, ONE torch thread unless
``--threads``; median of many repetitions after warm-up. Also: torch-profiler op counts of one step,
the machine's memory bandwidth (a torch copy benchmark), and the peak resident memory of compiling
the circuit (in a fresh subprocess per n).

``--ref DIR`` times a second checkout's simulator (e.g. the main branch) in the same process,
alternating with this one, so "before" and "after" see the same machine load.

Usage:
  python tools/sim_speed.py time [--qubits 2 4 8 12 14 16] [--batch 64] [--ref /work/main]
  python tools/sim_speed.py ops [--qubits 4]
  python tools/sim_speed.py bandwidth
  python tools/sim_speed.py compile-memory [--qubits 16 18 20]
  python tools/sim_speed.py crossover [--qubits 2 4 6 8 10 12] [--batches 1 4 16 64 256 1024] [--out F.csv]
      the compiled kernels against the torch paths (kernels='compiled' / 'torch'), per (n, B), alternating
  python tools/sim_speed.py peers --qubits 8 --batch 1 [--ref /work/main] [--peers qulacs tensorcircuit ...]
      the benchmark's step (qkd_nb.bench.step_fn) of native float32 (this checkout, and --ref's simulator inside the
      same QuantumLayer) and of peers at their best, alternating rounds, this process's CPU time (every thread: fair
      to a peer that runs its own threads); set XLA_FLAGS as qkd_nb.bench._child_env does for one-thread jax
"""
import argparse, importlib.util, json, os, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load_simulator(root=None):
    "The simulator module of checkout `root` (default: this one), loaded under its own name."
    if root is None:
        sys.path.insert(0, str(ROOT))
        import qkd_nb.simulator as m
        return m
    path = Path(root) / 'qkd_nb' / 'simulator.py'
    spec = importlib.util.spec_from_file_location(f'_ref_simulator_{abs(hash(str(path)))}', path)
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m


def student(n):
    sys.path.insert(0, str(ROOT))
    from qkd_nb.circuits import build_pqc
    return build_pqc(n_qubits=n)


def make_step(sim_mod, n, B, dtype=None, device='cpu', seed=0, kernels=None):
    "A closure running one forward + backward; returns (step, sim). `kernels`: the simulator's path choice."
    import torch, numpy as np
    dtype = dtype or torch.float32
    p = student(n)
    sim = sim_mod.CompiledCircuit(p.circuit, p.input_params, p.weight_params, p.observables, dtype=dtype, device=device)
    if kernels: sim.kernels = kernels
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.uniform(0, np.pi, (B, n)), dtype=dtype, device=device, requires_grad=True)
    w = torch.tensor(rng.uniform(-np.pi, np.pi, sim.n_weights), dtype=dtype, device=device, requires_grad=True)

    with torch.no_grad(): ws = [w.detach().clone(), torch.nextafter(w.detach(), torch.tensor(float('inf'), dtype=dtype, device=device))]
    calls = [0]

    def step():      # as in training, the weights change every call (by one ulp: nothing built from them is reused)
        with torch.no_grad(): w.copy_(ws[calls[0] % 2])
        calls[0] += 1
        x.grad = w.grad = None
        sim(x, w).sum().backward()
        if device != 'cpu': torch.cuda.synchronize()
    return step, sim


CLOCK = time.perf_counter


def median_time(step, min_reps=20, budget_s=3.0):
    "Median seconds of `step` (after two warm-up calls) on `CLOCK`: wall time, or with `--clock thread` this thread's CPU time."
    step(); step()
    times, t_end = [], time.perf_counter() + budget_s
    while len(times) < min_reps or time.perf_counter() < t_end:
        t0 = CLOCK(); step(); times.append(CLOCK() - t0)
        if len(times) >= 2000: break
    return statistics.median(times), len(times)


def cmd_time(a):
    import torch
    torch.set_num_threads(a.threads)
    mods = [('this', _load_simulator())] + ([('ref', _load_simulator(a.ref))] if a.ref else [])
    rows = []
    for n in a.qubits:
        steps = {name: make_step(m, n, a.batch, device=a.device)[0] for name, m in mods}
        res = {name: [] for name in steps}
        budget = a.budget if n < 14 else max(a.budget, 4.0)
        for _ in range(a.rounds):                       # alternate: same load for both
            for name, s in steps.items(): res[name].append(median_time(s, min_reps=5 if n >= 14 else 20, budget_s=budget / a.rounds)[0])
        row = dict(n=n, B=a.batch, threads=a.threads, clock=a.clock, **{f'{k}_ms': 1e3 * statistics.median(v) for k, v in res.items()})
        if a.ref: row['speedup'] = row['ref_ms'] / row['this_ms']
        rows.append(row); print(json.dumps(row), flush=True)
    return rows


def op_count(sim_mod, n, B=64):
    "Number of torch operator calls (forward + backward) in one step, and the 8 most frequent."
    import torch
    from torch.profiler import profile, ProfilerActivity
    torch.set_num_threads(1)
    step, _ = make_step(sim_mod, n, B)
    step(); step()
    with profile(activities=[ProfilerActivity.CPU]) as prof: step()
    ev = [e for e in prof.events() if e.name.startswith('aten::') and e.cpu_parent is None or
          (e.name.startswith('aten::') and e.cpu_parent is not None and not e.cpu_parent.name.startswith('aten::'))]
    from collections import Counter
    c = Counter(e.name for e in ev)
    return len(ev), c.most_common(8)


def cmd_ops(a):
    mods = [('this', _load_simulator())] + ([('ref', _load_simulator(a.ref))] if a.ref else [])
    for n in a.qubits:
        for name, m in mods:
            k, top = op_count(m, n, a.batch)
            print(json.dumps(dict(n=n, B=a.batch, which=name, top_level_aten_ops=k, most_common=top)), flush=True)


def bandwidth(mib=256, reps=10):
    "Memory bandwidth in GB/s from a torch copy (read + write counted) of a `mib` MiB buffer, one thread."
    import torch
    torch.set_num_threads(1)
    src = torch.ones(mib * 2 ** 20 // 4); dst = torch.empty_like(src)
    dst.copy_(src)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); dst.copy_(src); ts.append(time.perf_counter() - t0)
    return 2 * src.numel() * 4 / min(ts) / 1e9


def cmd_bandwidth(a):
    print(json.dumps(dict(copy_GBps_1thread=bandwidth())))


def _compile_peak(n, root):
    code = f"""
import resource, sys, os
sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(root)!r})
from qkd_nb.circuits import build_pqc
import importlib.util
spec = importlib.util.spec_from_file_location('simref', os.path.join({str(root)!r}, 'qkd_nb', 'simulator.py'))
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
import torch
p = build_pqc(n_qubits={n})
def rss(): return int(open('/proc/self/statm').read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20
open('/proc/self/clear_refs', 'w').write('5')
before = rss()
sim = m.CompiledCircuit(p.circuit, p.input_params, p.weight_params, p.observables, dtype=torch.float32)
peak = [float(l.split()[1]) / 1024 for l in open('/proc/self/status') if l.startswith('VmHWM')][0]
print(peak - before)
"""
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    if out.returncode: return f'error: {out.stderr.strip().splitlines()[-1]}'
    return float(out.stdout.strip().splitlines()[-1])


def cmd_compile_memory(a):
    roots = [('this', ROOT)] + ([('ref', Path(a.ref))] if a.ref else [])
    for n in a.qubits:
        row = dict(n=n, state_MiB_B1=2 ** n * 8 / 2 ** 20)
        for name, r in roots: row[f'{name}_compile_peak_MiB'] = _compile_peak(n, r)
        print(json.dumps(row), flush=True)


def cmd_crossover(a):
    "Thread CPU ms per step of the compiled kernels and of the torch paths (fused node or op by op) per (n, B)."
    import torch
    torch.set_num_threads(a.threads)
    m = _load_simulator()
    rows = []
    for n in a.qubits:
        for B in a.batches:
            if B * 2 ** n > a.max_amplitudes: continue
            steps = {k: make_step(m, n, B, kernels=k)[0] for k in ('compiled', 'torch')}
            res = {k: [] for k in steps}
            for _ in range(a.rounds):
                for k, s in steps.items(): res[k].append(median_time(s, min_reps=5, budget_s=a.budget / a.rounds)[0])
            row = dict(n=n, B=B, threads=a.threads, clock=a.clock, **{f'{k}_ms': 1e3 * statistics.median(v) for k, v in res.items()})
            row['torch_over_compiled'] = row['torch_ms'] / row['compiled_ms']
            rows.append(row); print(json.dumps(row), flush=True)
    if a.out:
        import pandas as pd
        pd.DataFrame(rows).to_csv(a.out, index=False)
    return rows


def cmd_peers(a):
    "Process CPU ms per benchmark step: native (this checkout, --ref's simulator) and peers, alternating rounds."
    import torch
    torch.set_num_threads(a.threads)
    sys.path.insert(0, str(ROOT))
    from qkd_nb.bench import student_pqc, make_layer, make_data, step_fn
    clock = time.process_time
    rows = []
    for n in a.qubits:
        p = student_pqc(n); x0, w0 = make_data(p.n_inputs, p.n_weights, a.batch)
        layers = {'native': make_layer('native-f32', p, weight=w0)}
        if a.ref:
            layers['ref'] = make_layer('native-f32', p, weight=w0)
            layers['ref'].sim = _load_simulator(a.ref).CompiledCircuit(*p.layer_args(), dtype=torch.float32)
        for q in a.peers or []: layers[q] = make_layer(q, p, weight=w0)
        steps = {k: step_fn(L, x0) for k, L in layers.items()}
        for s in steps.values(): s(); s()                    # (warm-up: a jitting peer compiles here)
        res = {k: [] for k in steps}
        for _ in range(a.rounds):
            for k, s in steps.items():
                calls, t0 = 0, clock()
                while clock() - t0 < a.budget / a.rounds: s(); calls += 1
                res[k].append((clock() - t0) / calls)
        row = dict(n=n, B=a.batch, clock='process', **{f'{k}_ms': 1e3 * statistics.median(v) for k, v in res.items()})
        rows.append(row); print(json.dumps(row), flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('what', choices=['time', 'ops', 'bandwidth', 'compile-memory', 'crossover', 'peers'])
    ap.add_argument('--peers', nargs='*', default=None, help="peers: qkd_nb.bench peer names timed beside native")
    ap.add_argument('--qubits', type=int, nargs='+', default=None)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--batches', type=int, nargs='+', default=[1, 4, 16, 64, 256, 1024])
    ap.add_argument('--max-amplitudes', type=int, default=2 ** 20, help='crossover: skip (n, B) with B * 2^n above this')
    ap.add_argument('--out', default=None, help='crossover: write the rows as CSV')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--ref', default=None, help='another checkout whose simulator is timed alongside')
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--budget', type=float, default=3.0, help='seconds of timed calls per (n, implementation)')
    ap.add_argument('--clock', choices=['wall', 'thread'], default='wall',
                    help="'thread': CPU time of this thread (time.thread_time), robust to other processes on a busy machine")
    a = ap.parse_args(argv)
    global CLOCK
    CLOCK = time.thread_time if a.clock == 'thread' else time.perf_counter
    if a.qubits is None: a.qubits = {'time': [2, 4, 8, 12, 14, 16], 'ops': [4], 'compile-memory': [16, 18, 20],
                                     'crossover': [2, 4, 6, 8, 10, 12], 'peers': [2, 4, 8]}.get(a.what, [])
    {'time': cmd_time, 'ops': cmd_ops, 'bandwidth': cmd_bandwidth, 'compile-memory': cmd_compile_memory,
     'crossover': cmd_crossover, 'peers': cmd_peers}[a.what](a)


if __name__ == '__main__':
    main()
