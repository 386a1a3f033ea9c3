#!/usr/bin/env python
"""Native simulator on CUDA vs CPU: forward + backward time of the student's PQC and agreement with
CPU float64. Usage: python tools/cuda_bench.py [--qubits 4 8 12 16 20] [--batches 64 1024] [--out FILE]"""
import argparse, json, statistics, sys, time
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from qiskit.circuit.library import pauli_feature_map, efficient_su2
from qkd_nb.simulator import CompiledCircuit, StateTooLargeError


def timed(f, sync, repeats=5):
    f(); sync()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); f(); sync(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--qubits', type=int, nargs='+', default=[4, 8, 12, 16, 20])
    ap.add_argument('--batches', type=int, nargs='+', default=[64, 1024])
    ap.add_argument('--cpu-max-qubits', type=int, default=12, help='larger circuits run on CUDA only')
    ap.add_argument('--out', default=None)
    a = ap.parse_args(argv)
    cuda = torch.cuda.is_available()
    rows = []
    for n in a.qubits:
        fm, an = pauli_feature_map(n, reps=2, paulis=['Z', 'ZZ']), efficient_su2(n, reps=2)
        qc = fm.compose(an)
        for B in a.batches:
            g = torch.Generator().manual_seed(0)
            x = torch.rand(B, n, generator=g, dtype=torch.float64) * torch.pi
            w = torch.rand(len(an.parameters), generator=g, dtype=torch.float64) * 2 * torch.pi
            row = dict(n=n, B=B)
            ref = None
            devs = (['cpu'] if n <= a.cpu_max_qubits or not cuda else []) + (['cuda'] if cuda else [])
            for dev in devs:
                for dt in (torch.float64, torch.float32):
                    key = f'{dev}-{str(dt)[-7:]}'
                    try:
                        sim = CompiledCircuit(qc, fm.parameters, an.parameters, dtype=dt, device=dev)
                        xd = x.to(dev, dt).requires_grad_(); wd = w.to(dev, dt).requires_grad_()
                        sync = torch.cuda.synchronize if dev == 'cuda' else (lambda: None)
                        row[key + '_ms'] = 1e3 * timed(lambda: sim(xd, wd).sum().backward(), sync)
                        y = sim(xd, wd).detach().double().cpu()
                        if ref is None and dt == torch.float64: ref = y   # CPU float64 where it ran, else CUDA's
                        if ref is not None: row[key + '_err'] = (y - ref).abs().max().item()
                    except (StateTooLargeError, RuntimeError) as e:
                        row[key + '_ms'] = None; row[key + '_error'] = type(e).__name__
            rows.append(row); print(json.dumps(row), flush=True)
    if a.out: Path(a.out).write_text(json.dumps(rows, indent=1))


if __name__ == '__main__':
    main()
