#!/usr/bin/env python
"""The benchmark on a GPU: forward + backward of the student's circuit (qkd_nb.bench.student_pqc) on CUDA for
the native simulator and the torch-based peers (TorchQuantum, pyqtorch, tensorcircuit-ng), each checked against
native float64 (on the CPU where n <= --cpu-max-qubits, else on CUDA). A peer that cannot run on CUDA is
reported with its error, not fatal. Needs a CUDA device; the project never depends on one.
Usage: python tools/cuda_bench.py [--qubits 16 18 20] [--batches 1024] [--peers ...] [--out FILE.json]"""
import argparse, json, sys
from pathlib import Path
import numpy as np, torch
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from qkd_nb.bench import student_pqc, make_layer, make_data, step_fn, time_step

GPU_PEERS = ['native-f32', 'native-f64', 'torchquantum', 'pyqtorch', 'tensorcircuit-torch']   # (the jax peer: CPU wheels)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--qubits', type=int, nargs='+', default=[16, 18, 20])
    ap.add_argument('--batches', type=int, nargs='+', default=[1024])
    ap.add_argument('--peers', nargs='+', default=GPU_PEERS)
    ap.add_argument('--cpu-max-qubits', type=int, default=12, help='larger references run on CUDA in float64')
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--out', default=None)
    a = ap.parse_args(argv)
    if not torch.cuda.is_available(): raise SystemExit('no CUDA device: tools/cuda_bench.py needs one')
    rows = []
    for n in a.qubits:
        pqc = student_pqc(n)
        for B in a.batches:
            x0, w0 = make_data(pqc.n_inputs, pqc.n_weights, B)
            ref_dev = 'cpu' if n <= a.cpu_max_qubits else 'cuda'
            ref = [t.detach().double().cpu().numpy() for t in
                   step_fn(make_layer('native-f64', pqc, weight=w0, device=ref_dev), x0)()]
            for peer in a.peers:
                row = dict(n=n, B=B, peer=peer, reference=ref_dev)
                try:
                    torch.cuda.reset_peak_memory_stats()
                    step = step_fn(make_layer(peer, pqc, weight=w0, device='cuda'), x0)
                    r = time_step(lambda: (step(), torch.cuda.synchronize())[0], a.repeats)
                    out = [t.detach().double().cpu().numpy() for t in r.pop('out')]
                    row.update(r, max_abs_err=max(float(np.abs(o - f).max()) for o, f in zip(out, ref)),
                               cuda_peak_mib=torch.cuda.max_memory_allocated() / 2 ** 20)
                except Exception as e:          # report and go on: a peer without CUDA support
                    row.update(status='error', note=f'{type(e).__name__}: {e}'[:300])
                rows.append(row); print(json.dumps(row), flush=True)
    if a.out: Path(a.out).write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == '__main__':
    main()
