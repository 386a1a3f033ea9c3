#!/usr/bin/env python
"""Speed benchmark: qkd_nb's native simulator against the peers that train the same student.

What is timed: one forward + backward pass (``y.sum().backward()``, gradients to the inputs AND
the weights) of the student's PQC, ``pauli_feature_map(n, reps=2, paulis=["Z","ZZ"])`` composed
with ``efficient_su2(n, reps=2)``, one ``Z_i`` observable per qubit (Qiskit little-endian), on a
batch of ``B`` random inputs in [0, pi] and random weights in [-pi, pi] (numpy ``default_rng`` seeded
by ``(seed, n, B)``: every peer sees the same numbers).

Peers (``PEERS``):
  native-f32 / native-f64          qkd_nb native simulator (``QuantumLayer(backend="torch")`` when
                                   qkd_nb.quantum exists, else ``simulator.CompiledCircuit``), CPU
  native-f32-cuda / native-f64-cuda the same on the GPU (only where ``torch.cuda.is_available()``)
  qiskit                           qiskit-machine-learning ``EstimatorQNN`` (``StatevectorEstimator``,
                                   ``default_precision=0.0``, ``input_gradients=True``, its default
                                   parameter-shift gradient) + ``TorchConnector``: exact. This is what
                                   users write today; qkd_nb's ``backend="qiskit"`` runs the same
                                   EstimatorQNN through its own float64 autograd bridge (same cost).
  aer                              the same with qiskit-aer's ``EstimatorV2`` (circuit transpiled for Aer)
  pl-default                       PennyLane ``default.qubit``, ``diff_method="backprop"``, torch
                                   interface, float64, parameter broadcasting over the batch
  pl-lightning                     PennyLane ``lightning.qubit``, ``diff_method="adjoint"``, torch
                                   interface, float64 (PennyLane splits a broadcast batch into tapes)
PennyLane runs THE SAME Qiskit circuit: ``to_pennylane`` translates it gate by gate (after
``transpile`` to a basis of standard gates), evaluating parameter expressions with torch ops so the
gradients flow to inputs and weights; Qiskit qubit i is PennyLane wire i, ``Z_i`` is
``qml.PauliZ(i)``. (PennyLane's ``default.qubit`` computes in complex128 whatever the parameter
dtype, so a float32 PennyLane run would not be cheaper; we time float64.)

How: every (peer, n, B) runs in a fresh subprocess (imports, circuit build and compilation are not
timed). One warm-up call, then up to ``repeats`` timed calls (fewer when one call is long: the timed
calls stop at about ``time_cap_s``); the table reports the median. If the warm-up call alone takes
longer than ``time_cap_s`` it is the single measurement ("over cap"), and the peer skips every larger
configuration (larger-or-equal n and B): "skipped (cap)". A subprocess that runs past its hard
timeout is killed: the time its first call had run is a lower bound ("timeout"). The target
configuration (n=4, B=64) is never skipped. ``threads`` sets torch's and OpenMP's threads for every peer
(default: each library's own default, i.e. all cores); the report states it. Memory: the subprocess resets the kernel's peak-RSS counter (``/proc/self/clear_refs``)
just before the warm-up call; ``mem_peak_mib`` is the process's peak resident set during warm-up and
timed calls and ``mem_delta_mib`` that peak minus the resident set right before the warm-up (what
running the circuit costs on top of the imported libraries and the built model). On CUDA it is
``torch.cuda.max_memory_allocated`` above the allocation before the warm-up.

Correctness: every peer's outputs and gradients (inputs and weights) are compared with native
float64 on the same inputs; ``max_abs_err`` is the largest absolute difference over all three.
The native float64 reference itself is checked against ``qiskit.quantum_info.Statevector`` on the
first rows of the batch (``ref_vs_statevector``).

End to end (``end_to_end``): one epoch of KD training (``qkd_nb.train.fit``) of the default
``qkd_nb.quantum.HybridStudent`` on digits, native vs ``backend="qiskit"``; the Qiskit epoch is
extrapolated from a few optimizer steps.

Targets (printed and written to the report, never asserted in a test): at n=4, B=64 native float32
is >= 10,000x faster than TorchConnector and >= 10x faster than PennyLane default.qubit backprop,
and it is ahead of every peer at every measured (n, B).

Outputs (written atomically into ``out_dir``): benchmark.csv (one row per peer/n/B),
benchmark.md (targets, wide time table with ratios, full table, end-to-end epoch), benchmark.png
and benchmark.pdf (time vs n, one line per peer, one panel per B, log y).

Usage:  .venv/bin/python tools/benchmark.py [--profile quick|full] [--out-dir figures] [--seed 0]
                                             [--qubits 2 4 ...] [--batches 1 64 ...] [--repeats R]
                                             [--time-cap-s S] [--peers native-f32 qiskit ...]
                                             [--threads T] [--no-e2e] [--dataset digits] [--selftest]
``make bench`` runs the quick profile (qubits 2..8, B in {1, 64}); ``--profile full`` (the reproduction's)
qubits 2..14 with B in {1, 64}; ``--profile grid`` runs qubits 2..16 with B in {1, 64, 1024}. The notebook nbs/experiments/benchmark.ipynb calls
``run_benchmark`` with the same code (papermill parameters).
"""
from __future__ import annotations

import argparse, contextlib, io, json, math, os, platform, statistics, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))     # this checkout's qkd_nb first

def _log(msg: str) -> None:
    print(msg, flush=True)


PROFILES = {
    'smoke': dict(qubits=[2, 3], batches=[2], repeats=1, time_cap_s=5.0, e2e_qiskit_steps=1,
                  peers=['native-f32', 'native-f64', 'qiskit', 'pl-default'], e2e=False),   # seconds: the tests
    'quick': dict(qubits=[2, 4, 6, 8], batches=[1, 64], repeats=3, time_cap_s=15.0,
                  e2e_qiskit_steps=1, peers=None, e2e=True),
    'full': dict(qubits=[2, 4, 6, 8, 10, 12, 14], batches=[1, 64], repeats=5, time_cap_s=20.0,
                 e2e_qiskit_steps=1, peers=None, e2e=True),     # the reproduction's (n = 16: 'grid'; 30-minute budget)
    'grid': dict(qubits=[2, 4, 6, 8, 10, 12, 14, 16], batches=[1, 64, 1024], repeats=7, time_cap_s=60.0,
                 e2e_qiskit_steps=3, peers=None, e2e=True),     # everything, B = 1024 too (make bench PROFILE=grid)
}
#: peer name -> (label, family, dtype, device)
PEERS = {
    'native-f32': ('qkd_nb native float32 (CPU)', 'native', 'float32', 'cpu'),
    'native-f64': ('qkd_nb native float64 (CPU)', 'native', 'float64', 'cpu'),
    'native-f32-cuda': ('qkd_nb native float32 (CUDA)', 'native', 'float32', 'cuda'),
    'native-f64-cuda': ('qkd_nb native float64 (CUDA)', 'native', 'float64', 'cuda'),
    'qiskit': ('EstimatorQNN + TorchConnector (Statevector, param-shift)', 'qiskit', 'float64', 'cpu'),
    'aer': ('EstimatorQNN + TorchConnector (Aer EstimatorV2, param-shift)', 'aer', 'float64', 'cpu'),
    'pl-default': ('PennyLane default.qubit backprop (torch, broadcast)', 'pennylane', 'float64', 'cpu'),
    'pl-lightning': ('PennyLane lightning.qubit adjoint (torch)', 'pennylane', 'float64', 'cpu'),
}
REFERENCE = 'native-f64'
BASELINE = 'native-f32'
TARGET_CONFIG = (4, 64)          # (n, B) where the speed-up targets are checked
TARGETS = {'qiskit': 1e4, 'pl-default': 10.0}   # native-f32 must be at least this many times faster
SV_CHECK_ROWS = 2                # rows of the reference checked against Statevector


# ----------------------------------------------------------------------------------------------
# The circuit
# ----------------------------------------------------------------------------------------------
def build_pqc(n: int):
    """The student's PQC on `n` qubits: `(circuit, input_params, weight_params, observables)`.

    `pauli_feature_map(n, reps=2, paulis=["Z","ZZ"])` then `efficient_su2(n, reps=2)`; one
    `SparsePauliOp` `Z_i` per qubit i (Qiskit little-endian: qubit 0 is the rightmost label letter).
    Qiskit's default entanglement: 'full' in the feature map (n(n-1)/2 ZZ terms per repetition), the
    heavier choice; `qkd_nb.circuits.PQCConfig` defaults to 'linear' for the student."""
    from qiskit.circuit.library import pauli_feature_map, efficient_su2
    from qiskit.quantum_info import SparsePauliOp
    if not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f'n must be an int >= 2 (the ZZ feature map needs two qubits), got {n!r}')
    fm = pauli_feature_map(int(n), reps=2, paulis=['Z', 'ZZ'])
    an = efficient_su2(int(n), reps=2)
    circ = fm.compose(an)
    obs = [SparsePauliOp.from_sparse_list([('Z', [i], 1.0)], num_qubits=int(n)) for i in range(int(n))]
    return circ, list(fm.parameters), list(an.parameters), obs


def make_data(n: int, B: int, n_weights: int, seed: int = 0):
    "Inputs `(B, n)` uniform in [0, pi] and weights `(n_weights,)` uniform in [-pi, pi], float64, seeded by (seed, n, B)."
    rng = np.random.default_rng([int(seed), int(n), int(B)])
    return rng.uniform(0, np.pi, (int(B), int(n))), rng.uniform(-np.pi, np.pi, int(n_weights))


# ----------------------------------------------------------------------------------------------
# Qiskit -> PennyLane translation (no pennylane-qiskit)
# ----------------------------------------------------------------------------------------------
#: Qiskit gate name -> (PennyLane op name, number of parameters)
PL_GATES = {
    'h': ('Hadamard', 0), 'x': ('PauliX', 0), 'y': ('PauliY', 0), 'z': ('PauliZ', 0),
    's': ('S', 0), 't': ('T', 0), 'sx': ('SX', 0), 'sdg': ('S', 0), 'tdg': ('T', 0),
    'cx': ('CNOT', 0), 'cy': ('CY', 0), 'cz': ('CZ', 0), 'ch': ('CH', 0), 'swap': ('SWAP', 0),
    'ccx': ('Toffoli', 0), 'cswap': ('CSWAP', 0),
    'p': ('PhaseShift', 1), 'rx': ('RX', 1), 'ry': ('RY', 1), 'rz': ('RZ', 1),
    'u': ('U3', 3), 'rzz': ('IsingZZ', 1), 'rxx': ('IsingXX', 1), 'ryy': ('IsingYY', 1),
    'crx': ('CRX', 1), 'cry': ('CRY', 1), 'crz': ('CRZ', 1), 'cp': ('ControlledPhaseShift', 1),
}
_ADJOINT = {'sdg', 'tdg'}


def _torch_angle(param, index: dict):
    """A function `(x, w) -> angle` for one gate parameter: a float, `x[:, i]` (shape (B,)),
    `w[j]`, or a parameter expression evaluated with torch ops (so autograd sees it)."""
    import sympy, torch
    from qiskit.circuit import Parameter, ParameterExpression
    if not isinstance(param, ParameterExpression):
        v = float(param)
        return lambda x, w: v
    if not param.parameters:
        v = float(param.numeric() if hasattr(param, 'numeric') else param)
        return lambda x, w: v
    if isinstance(param, Parameter):
        kind, i = index[param]
        return (lambda x, w: x[..., i]) if kind == 'x' else (lambda x, w: w[i])
    ps = sorted(param.parameters, key=lambda p: p.name)
    syms = [sympy.Symbol(p.name) for p in ps]
    expr = param.sympify()
    fns = {'sin': torch.sin, 'cos': torch.cos, 'tan': torch.tan, 'exp': torch.exp, 'log': torch.log,
           'sqrt': torch.sqrt, 'asin': torch.asin, 'acos': torch.acos, 'atan': torch.atan, 'Abs': torch.abs,
           'pi': math.pi, 'E': math.e}
    f = sympy.lambdify(syms, expr, modules=[fns, 'math'], dummify=True)
    getters = [(index[p][0], index[p][1]) for p in ps]
    def angle(x, w):
        return f(*[x[..., i] if k == 'x' else w[i] for k, i in getters])
    return angle


def _pl_observable(op, qml):
    "A SparsePauliOp as a PennyLane observable (Qiskit qubit i = wire i)."
    terms = []
    for label, coeff in op.to_list():
        if abs(complex(coeff).imag) > 1e-12:
            raise ValueError(f'observable term {label} has a complex coefficient {coeff}: not Hermitian')
        factors = [getattr(qml, 'Pauli' + c)(q) for q, c in enumerate(reversed(label)) if c != 'I']
        P = qml.Identity(0) if not factors else factors[0] if len(factors) == 1 else qml.prod(*factors)
        terms.append((float(complex(coeff).real), P))
    if len(terms) == 1 and terms[0][0] == 1.0: return terms[0][1]
    return qml.Hamiltonian([c for c, _ in terms], [P for _, P in terms])


def to_pennylane(circuit, input_params, weight_params, observables, device: str = 'default.qubit',
                 diff_method: str = 'backprop'):
    """Translate a parameterized Qiskit circuit into a torch-interface PennyLane QNode.

    Returns `f(x, w) -> (B, len(observables))` for `x` of shape `(B, len(input_params))` and `w` of
    shape `(len(weight_params),)`; inputs enter as broadcast parameters. The circuit is first
    transpiled (optimization_level=0) to the gates in `PL_GATES`; a global phase is dropped (it does
    not change expectation values)."""
    import pennylane as qml, torch
    from qiskit import transpile
    params = set(circuit.parameters)
    index = {p: ('x', i) for i, p in enumerate(input_params)}
    index.update({p: ('w', j) for j, p in enumerate(weight_params)})
    missing = params - set(index)
    if missing:
        raise ValueError(f'circuit parameters {sorted(p.name for p in missing)} are neither inputs nor weights')
    tc = transpile(circuit, basis_gates=sorted(PL_GATES), optimization_level=0)
    if tc.num_qubits != circuit.num_qubits:
        raise ValueError('transpile changed the number of qubits; pass a circuit without ancillas')
    qidx = {q: i for i, q in enumerate(tc.qubits)}
    ops = []
    for inst in tc.data:
        name = inst.operation.name
        if name == 'barrier': continue
        if name not in PL_GATES:
            raise ValueError(f'gate {name!r} has no PennyLane translation here (supported: {sorted(PL_GATES)})')
        cls, npar = getattr(qml, PL_GATES[name][0]), PL_GATES[name][1]
        angles = [_torch_angle(p, index) for p in inst.operation.params[:npar]]
        ops.append((cls, [qidx[q] for q in inst.qubits], angles, name in _ADJOINT))
    n = circuit.num_qubits
    obs = list(observables)

    def circuit_fn(x, w):
        for cls, wires, angles, adj in ops:
            if adj: qml.adjoint(cls(wires=wires))
            else: cls(*[_as_t(a(x, w), x) for a in angles], wires=wires)
        return [qml.expval(_pl_observable(o, qml)) for o in obs]

    def _as_t(a, like):      # constants as tensors: PennyLane cannot mix floats and tensors in one op
        return a if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=like.dtype)

    dev = qml.device(device, wires=n)
    qnode = qml.QNode(circuit_fn, dev, interface='torch', diff_method=diff_method)

    def f(x, w):
        out = qnode(x, w)
        out = torch.stack([torch.as_tensor(o) for o in out], dim=-1)
        return out.reshape(x.shape[0], len(obs))
    f.qnode = qnode
    return f


def check_translation(n_circuits: int = 5, n_qubits: int = 3, seed: int = 0, batch: int = 3) -> float:
    """Translate random parameterized circuits (random gates from `PL_GATES`, expressions of inputs
    and weights) and the student's PQC to PennyLane; return the largest |difference| of the
    expectation values from `qiskit.quantum_info.Statevector`. Used by `--selftest` and the notebook."""
    import torch
    from qiskit import QuantumCircuit
    from qiskit.circuit import ParameterVector
    from qiskit.quantum_info import Statevector, SparsePauliOp
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(n_circuits):
        xs, ws = ParameterVector('x', n_qubits), ParameterVector('w', 2 * n_qubits)
        qc = QuantumCircuit(n_qubits)
        for _ in range(4 * n_qubits):
            name = rng.choice(sorted(PL_GATES))
            nq = 3 if name in ('ccx', 'cswap') else 2 if (name.startswith('c') or name in ('swap', 'rzz', 'rxx', 'ryy')) else 1
            qs = [int(q) for q in rng.choice(n_qubits, nq, replace=False)]
            npar = PL_GATES[name][1]
            choices = [lambda: xs[rng.integers(n_qubits)], lambda: ws[rng.integers(2 * n_qubits)],
                       lambda: 2 * (np.pi - xs[rng.integers(n_qubits)]) * (np.pi - xs[rng.integers(n_qubits)]),
                       lambda: float(rng.uniform(-3, 3)), lambda: 0.5 * ws[rng.integers(2 * n_qubits)] + xs[0]]
            pars = [choices[rng.integers(len(choices))]() for _ in range(npar)]
            getattr(qc, name)(*pars, *qs)
        obs = [SparsePauliOp.from_sparse_list([('Z', [i], 1.0)], num_qubits=n_qubits) for i in range(n_qubits)]
        obs.append(SparsePauliOp.from_list([('XY' + 'I' * (n_qubits - 2), 0.7), ('Z' * n_qubits, -0.3)]))
        inp = [p for p in xs]; wts = [p for p in ws]
        cases.append((qc, inp, wts, obs))
    c, inp, wts, obs = build_pqc(n_qubits)
    cases.append((c, inp, wts, obs))
    worst = 0.0
    for qc, inp, wts, obs in cases:
        # parameters that the random circuit happened not to use are still inputs/weights
        f = to_pennylane(qc, inp, wts, obs)
        x = rng.uniform(0, np.pi, (batch, len(inp))); w = rng.uniform(-np.pi, np.pi, len(wts))
        y = f(torch.tensor(x), torch.tensor(w)).detach().numpy()
        for b in range(batch):
            bind = {**dict(zip(inp, x[b])), **dict(zip(wts, w))}
            bound = qc.assign_parameters({p: v for p, v in bind.items() if p in set(qc.parameters)})
            sv = Statevector(bound)
            ref = np.array([sv.expectation_value(o).real for o in obs])
            worst = max(worst, float(np.abs(y[b] - ref).max()))
    return worst


# ----------------------------------------------------------------------------------------------
# Peers: each builds `step() -> (y, grad_x, grad_w)` (tensors) for fixed inputs and weights
# ----------------------------------------------------------------------------------------------
def _native(n, x0, w0, dtype_name, device):
    import torch
    circ, inp, wts, obs = build_pqc(n)
    dtype = getattr(torch, dtype_name)
    via = None
    try:
        from qkd_nb.quantum import QuantumLayer
        layer = QuantumLayer(circ, inp, wts, obs, backend='torch', gradient='backprop', dtype=dtype, device=device)
        with torch.no_grad(): layer.weight.copy_(torch.as_tensor(w0, dtype=dtype, device=device))
        wparam, fwd, via = layer.weight, layer, 'QuantumLayer'
    except ImportError:
        from qkd_nb.simulator import CompiledCircuit
        sim = CompiledCircuit(circ, inp, wts, obs, dtype=dtype, device=device)
        wparam = torch.nn.Parameter(torch.as_tensor(w0, dtype=dtype, device=device))
        fwd, via = (lambda x: sim(x, wparam)), 'CompiledCircuit'
    xt = torch.as_tensor(x0, dtype=dtype, device=device)

    def step():
        x = xt.clone().requires_grad_(True)
        wparam.grad = None
        y = fwd(x)
        y.sum().backward()
        return y, x.grad, wparam.grad
    return step, via


def _qiskit_ml(n, x0, w0, aer: bool):
    import torch
    from qiskit_machine_learning.neural_networks import EstimatorQNN
    from qiskit_machine_learning.connectors import TorchConnector
    circ, inp, wts, obs = build_pqc(n)
    if aer:
        from qiskit_aer import AerSimulator
        from qiskit_aer.primitives import EstimatorV2
        from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager
        threads = int(os.environ.get('OMP_NUM_THREADS', '0') or 0)
        est = EstimatorV2(options={'default_precision': 0.0,
                                   'backend_options': {'max_parallel_threads': threads}})
        pm = generate_preset_pass_manager(optimization_level=0, backend=AerSimulator())
        qnn = EstimatorQNN(circuit=circ, estimator=est, observables=obs, input_params=inp, weight_params=wts,
                           input_gradients=True, default_precision=0.0, pass_manager=pm)
    else:
        from qiskit.primitives import StatevectorEstimator
        qnn = EstimatorQNN(circuit=circ, estimator=StatevectorEstimator(default_precision=0.0), observables=obs,
                           input_params=inp, weight_params=wts, input_gradients=True, default_precision=0.0)
    model = TorchConnector(qnn, initial_weights=np.asarray(w0))
    xt = torch.as_tensor(x0, dtype=torch.float32)

    def step():
        x = xt.clone().requires_grad_(True)
        model.zero_grad(set_to_none=True)
        y = model(x)
        y.sum().backward()
        return y, x.grad, model.weight.grad
    return step, 'TorchConnector'


def _pennylane(n, x0, w0, lightning: bool):
    import torch
    circ, inp, wts, obs = build_pqc(n)
    f = to_pennylane(circ, inp, wts, obs, device='lightning.qubit' if lightning else 'default.qubit',
                     diff_method='adjoint' if lightning else 'backprop')
    xt = torch.as_tensor(x0, dtype=torch.float64)
    wt = torch.as_tensor(w0, dtype=torch.float64)

    def step():
        x = xt.clone().requires_grad_(True); w = wt.clone().requires_grad_(True)
        y = f(x, w)
        y.sum().backward()
        return y, x.grad, w.grad
    return step, 'qml.QNode'


def make_peer(peer: str, n: int, x0, w0):
    "Build `peer` for an n-qubit PQC: returns `(step, via)` with `step() -> (y, grad_x, grad_w)`."
    if peer not in PEERS: raise ValueError(f'unknown peer {peer!r}; choose from {list(PEERS)}')
    _, fam, dt, dev = PEERS[peer]
    if fam == 'native': return _native(n, x0, w0, dt, dev)
    if fam in ('qiskit', 'aer'): return _qiskit_ml(n, x0, w0, aer=fam == 'aer')
    return _pennylane(n, x0, w0, lightning=peer == 'pl-lightning')


def peer_available(peer: str) -> tuple[bool, str]:
    "Whether `peer` can run here, and why not."
    import importlib.util
    fam, dev = PEERS[peer][1], PEERS[peer][3]
    if fam == 'native':
        if importlib.util.find_spec('qkd_nb.simulator') is None and importlib.util.find_spec('qkd_nb.quantum') is None:
            return False, 'qkd_nb.simulator not available'
        if dev == 'cuda':
            import torch
            if not torch.cuda.is_available(): return False, 'no CUDA device'
    if fam == 'pennylane':
        mod = 'pennylane_lightning' if peer == 'pl-lightning' else 'pennylane'
        if importlib.util.find_spec(mod) is None:
            return False, f'{mod} not installed (pip install -e ".[bench]")'
    if fam == 'aer' and importlib.util.find_spec('qiskit_aer') is None: return False, 'qiskit-aer not installed'
    return True, ''


# ----------------------------------------------------------------------------------------------
# The child process: one (peer, n, B)
# ----------------------------------------------------------------------------------------------
def _proc_status(key: str) -> float:
    "A `/proc/self/status` field in MiB (NaN where there is no procfs)."
    try:
        for line in open('/proc/self/status'):
            if line.startswith(key + ':'): return int(line.split()[1]) / 1024
    except OSError: pass
    return float('nan')


def _reset_peak_rss() -> bool:
    try:
        with open('/proc/self/clear_refs', 'w') as f: f.write('5')
        return True
    except OSError:
        return False


def _np(t):
    "A tensor as a float64 numpy array (an empty one for a missing gradient)."
    import torch
    return np.zeros(0) if t is None else t.detach().to('cpu', torch.float64).numpy()


def run_one(spec: dict) -> dict:
    """Run one (peer, n, B) in this process and return its measurements (see the module docstring).
    `spec`: peer, n, B, seed, repeats, time_cap_s, threads, out_npz."""
    import torch
    threads = int(spec.get('threads') or 0)
    if threads: torch.set_num_threads(threads)
    peer, n, B = spec['peer'], int(spec['n']), int(spec['B'])
    cap, repeats = float(spec['time_cap_s']), int(spec['repeats'])
    dev = PEERS[peer][3]
    circ, inp, wts, obs = build_pqc(n)
    x0, w0 = make_data(n, B, len(wts), spec['seed'])
    t0 = time.perf_counter()
    step, via = make_peer(peer, n, x0, w0)
    setup_s = time.perf_counter() - t0
    sync = torch.cuda.synchronize if dev == 'cuda' else (lambda: None)
    if dev == 'cuda':
        torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(); base = torch.cuda.memory_allocated()
    rss0 = _proc_status('VmRSS'); reset = _reset_peak_rss()
    Path(spec['out_npz'] + '.started').write_text(repr(time.time()))   # the parent's lower bound on a timeout
    t0 = time.perf_counter(); y, gx, gw = step(); sync(); first = time.perf_counter() - t0
    times, status = [], 'ok'
    if first > cap:
        times, status = [first], 'over cap'
    else:
        spent = 0.0
        for _ in range(max(1, repeats)):
            t0 = time.perf_counter(); y, gx, gw = step(); sync(); dt = time.perf_counter() - t0
            times.append(dt); spent += dt
            if spent + dt > cap: break
    if dev == 'cuda':
        peak = torch.cuda.max_memory_allocated() / 2**20; delta = peak - base / 2**20; mem_kind = 'cuda_allocated'
    else:
        peak = _proc_status('VmHWM'); delta = peak - rss0 if reset else float('nan'); mem_kind = 'rss'
    np.savez(spec['out_npz'], y=_np(y), gx=_np(gx), gw=_np(gw))
    return dict(peer=peer, n=n, B=B, via=via, status=status, time_s=statistics.median(times),
                min_s=min(times), first_s=first, runs=len(times), setup_s=setup_s,
                mem_peak_mib=peak, mem_delta_mib=delta, mem_kind=mem_kind, threads=torch.get_num_threads())


def _child_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):       # keep stdout for the one JSON line
        res = run_one(spec)
    sys.stderr.write(out.getvalue())
    print('RESULT ' + json.dumps(res))


def _spawn(spec: dict, timeout_s: float) -> dict:
    env = dict(os.environ)
    if spec.get('threads'):
        for k in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'): env[k] = str(spec['threads'])
    env.setdefault('PYTHONWARNINGS', 'ignore')
    cmd = [sys.executable, str(HERE), '--child', json.dumps(spec)]
    try:
        r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        killed = time.time()
        try: started = float(Path(spec['out_npz'] + '.started').read_text())
        except (OSError, ValueError):
            return dict(status='timeout', time_s=float('nan'), runs=0,
                        note=f'killed after {timeout_s:.0f} s while still importing/building (no timing)')
        return dict(status='timeout', time_s=killed - started, runs=0,
                    note=f'first call killed after {killed - started:.0f} s (process limit {timeout_s:.0f} s): a lower bound')
    lines = [l for l in r.stdout.splitlines() if l.startswith('RESULT ')]
    if r.returncode or not lines:
        err = (r.stderr or r.stdout).strip().splitlines()
        return dict(status='error', runs=0, note=(err[-1] if err else f'exit code {r.returncode}')[:300])
    return json.loads(lines[-1][len('RESULT '):])


# ----------------------------------------------------------------------------------------------
# The benchmark
# ----------------------------------------------------------------------------------------------
def _statevector_check(n, B, seed, ref_y) -> float:
    "Max |native-f64 - Statevector| over the first SV_CHECK_ROWS rows."
    from qiskit.quantum_info import Statevector
    circ, inp, wts, obs = build_pqc(n)
    x0, w0 = make_data(n, B, len(wts), seed)
    err = 0.0
    for b in range(min(SV_CHECK_ROWS, B)):
        sv = Statevector(circ.assign_parameters({**dict(zip(inp, x0[b])), **dict(zip(wts, w0))}))
        err = max(err, float(np.abs(np.array([sv.expectation_value(o).real for o in obs]) - ref_y[b]).max()))
    return err


def run_grid(qubits, batches, peers, repeats, time_cap_s, seed=0, threads=None, log=_log,
             hard_timeout_s=None):
    """Run every (peer, n, B) in fresh subprocesses; return a pandas DataFrame, one row each."""
    import pandas as pd
    hard = hard_timeout_s or (90 + 3 * time_cap_s)
    rows, over = [], {p: [] for p in peers}
    with tempfile.TemporaryDirectory(prefix='qkd_bench_') as tmp:
        for B in sorted(batches):
            for n in sorted(qubits):
                outs = {}
                for peer in peers:
                    base = dict(peer=peer, label=PEERS[peer][0], n=n, B=B)
                    if (n, B) != TARGET_CONFIG and any(n >= n2 and B >= B2 for n2, B2 in over[peer]):
                        rows.append({**base, 'status': 'skipped (cap)', 'runs': 0}); continue
                    npz = os.path.join(tmp, f'{peer}_{n}_{B}.npz')
                    spec = dict(peer=peer, n=n, B=B, seed=seed, repeats=repeats, time_cap_s=time_cap_s,
                                threads=threads, out_npz=npz)
                    res = {**base, **_spawn(spec, hard)}
                    if res['status'] in ('over cap', 'timeout'): over[peer].append((n, B))
                    if res['status'] in ('ok', 'over cap'): outs[peer] = dict(np.load(npz))
                    rows.append(res)
                    t = res.get('time_s', float('nan'))
                    log(f'  n={n:2d} B={B:4d} {peer:16s} {res["status"]:9s} '
                        + (f'{t * 1e3:12.3f} ms' if t == t else '') + (f'  {res.get("note", "")}' if res.get('note') else ''))
                # correctness against the float64 reference at this (n, B)
                ref = outs.get(REFERENCE)
                sv_err = _statevector_check(n, B, seed, ref['y']) if ref is not None else float('nan')
                for r in rows:
                    if r['n'] != n or r['B'] != B: continue
                    r['ref_vs_statevector'] = sv_err
                    o = outs.get(r['peer'])
                    if o is None or ref is None: r['max_abs_err'] = float('nan'); continue
                    for k in ('y', 'gx', 'gw'):
                        ok = o[k].shape == ref[k].shape and o[k].size
                        r[f'err_{k}'] = float(np.abs(o[k] - ref[k]).max()) if ok else float('nan')
                    r['max_abs_err'] = float(np.max([r['err_y'], r['err_gx'], r['err_gw']]))   # NaN if one is missing
                    r['ref_scale'] = float(max(np.abs(ref[k]).max() for k in ('y', 'gx', 'gw')))
    df = pd.DataFrame(rows)
    for c in ('time_s', 'min_s', 'first_s', 'setup_s', 'mem_peak_mib', 'mem_delta_mib', 'max_abs_err',
              'ref_scale', 'ref_vs_statevector', 'err_y', 'err_gx', 'err_gw', 'via', 'note', 'mem_kind', 'threads'):
        if c not in df: df[c] = np.nan
    base = df[df.peer == BASELINE].set_index(['n', 'B'])['time_s']
    measured = df.status.isin(['ok', 'over cap'])
    df['ratio_to_native_f32'] = [r.time_s / base.get((r.n, r.B), np.nan) if m else np.nan
                                 for r, m in zip(df.itertuples(), measured)]
    df['lower_bound'] = df.status.eq('timeout')
    return df


def speedups(df):
    """Per (n, B): native-f32 time, the fastest non-native peer and native's speed-up over it.
    A timed-out peer counts with its lower bound; a peer skipped for the cap is slower than its
    over-cap time at a smaller size, so it cannot be the fastest unless nothing else ran."""
    import pandas as pd
    out = []
    for (n, B), g in df.groupby(['n', 'B']):
        nat = g[g.peer == BASELINE]
        t_nat = float(nat.time_s.iloc[0]) if len(nat) and nat.status.iloc[0] in ('ok', 'over cap') else np.nan
        peers = g[(~g.peer.str.startswith('native')) & g.status.isin(['ok', 'over cap', 'timeout'])]
        if len(peers):
            best = peers.loc[peers.time_s.idxmin()]
            out.append(dict(n=n, B=B, native_f32_s=t_nat, fastest_peer=best.peer, fastest_peer_s=float(best.time_s),
                            speedup=float(best.time_s) / t_nat,
                            peer_lower_bound=bool(best.status == 'timeout')))
        else:
            out.append(dict(n=n, B=B, native_f32_s=t_nat, fastest_peer=None, fastest_peer_s=np.nan,
                            speedup=np.nan, peer_lower_bound=False))
    return pd.DataFrame(out)


def check_targets(df) -> list[dict]:
    "The issue's targets, each with `met` (True/False/None = not measured) and the numbers."
    res = []
    n, B = TARGET_CONFIG
    g = df[(df.n == n) & (df.B == B)].set_index('peer')
    t_nat = g.time_s.get(BASELINE, np.nan) if BASELINE in g.index and g.status.get(BASELINE) in ('ok', 'over cap') else np.nan
    for peer, need in TARGETS.items():
        if peer not in g.index or t_nat != t_nat or g.status[peer] not in ('ok', 'over cap', 'timeout'):
            res.append(dict(target=f'n={n}, B={B}: native-f32 >= {need:,.0f}x faster than {peer}', met=None,
                            value='not measured')); continue
        r = g.time_s[peer] / t_nat
        lb = g.status[peer] == 'timeout'
        met = True if r >= need else (None if lb else False)
        res.append(dict(target=f'n={n}, B={B}: native-f32 >= {need:,.0f}x faster than {peer}', met=met,
                        value=('>= ' if lb else '') + f'{r:,.0f}x'))
    sp = speedups(df)
    sp = sp[sp.native_f32_s.notna() & sp.fastest_peer.notna()]
    behind = sp[sp.speedup <= 1]
    what = f'native-f32 ahead of every peer at every measured (n, B) (n up to {int(df.n.max())})'
    if not len(sp):
        res.append(dict(target=what, met=None, value='not measured'))
    elif len(behind):
        res.append(dict(target=what, met=False, value='behind at ' + ', '.join(
            f'n={int(r.n)} B={int(r.B)} ({r.fastest_peer} {r.speedup:.2f}x)' for r in behind.itertuples())))
    else:
        lo = sp.loc[sp.speedup.idxmin()]
        res.append(dict(target=what, met=True, value=f'smallest speed-up {lo.speedup:,.1f}x (n={int(lo.n)}, '
                                                     f'B={int(lo.B)}, vs {lo.fastest_peer})'))
    return res


# ----------------------------------------------------------------------------------------------
# End to end: one epoch of KD training of the hybrid student on digits
# ----------------------------------------------------------------------------------------------
def end_to_end(backends=('torch', 'qiskit'), seed: int = 0, qiskit_steps: int = 1, batch_size: int = 32,
               dataset: str = 'digits', threads: int | None = None, log=_log) -> list[dict]:
    """Time one epoch of knowledge-distillation training of the hybrid student on `dataset` (digits), per backend.

    The student is `qkd_nb.quantum.HybridStudent` with its default circuit, trained by
    `qkd_nb.train.fit` with `DistillLoss(alpha=0.5, beta=0.5, align=FeatureAlign(..., 'mse'))` from the
    cached `get_teacher('digits')` (trained once, not timed), Adam, `batch_size`, no validation pass.
    A backend whose epoch would take too long (every one but 'torch') runs `qiskit_steps` optimizer
    steps (`fit(max_steps=...)`, after one untimed step) and the epoch time is extrapolated from the
    time per step (`status='estimated'`). Returns one dict per backend; 'not available' while the
    training API (qkd_nb.quantum / qkd_nb.train) is missing."""
    try:
        from qkd_nb.quantum import HybridStudent  # noqa: F401
        from qkd_nb.train import fit, get_teacher  # noqa: F401
        from qkd_nb.losses import DistillLoss, FeatureAlign  # noqa: F401
        from qkd_nb.data import load_dataset, make_loaders  # noqa: F401
    except ImportError as e:
        return [dict(backend=b, status='not available', note=f'{type(e).__name__}: {e}') for b in backends]
    import torch
    if threads: torch.set_num_threads(int(threads))
    out = []
    for b in backends:
        try:
            out.append(_epoch_time(b, seed, None if b == 'torch' else max(1, int(qiskit_steps)), batch_size, dataset))
        except Exception as e:       # report, do not lose the timing table
            out.append(dict(backend=b, status='error', note=f'{type(e).__name__}: {e}'[:300]))
        log(f'  end to end {b}: ' + ', '.join(f'{k}={v}' for k, v in out[-1].items() if k != 'backend'))
    base = next((r['epoch_s'] for r in out if r['backend'] == 'torch' and 'epoch_s' in r), None)
    for r in out:
        if base and 'epoch_s' in r: r['x_native_epoch'] = round(r['epoch_s'] / base, 1)
    return out


def _epoch_time(backend: str, seed: int, steps: int | None, batch_size: int, dataset: str = 'digits') -> dict:
    "One (possibly partial) KD epoch of the hybrid student with `backend`; see `end_to_end`."
    import torch
    from qkd_nb.quantum import HybridStudent
    from qkd_nb.train import fit, get_teacher
    from qkd_nb.losses import DistillLoss, FeatureAlign
    from qkd_nb.data import load_dataset, make_loaders
    splits = load_dataset(dataset)
    teacher, _ = get_teacher(dataset, seed=seed)
    train_dl, _, _ = make_loaders(splits, batch_size=batch_size, seed=seed)
    n_batches = len(train_dl)

    def run(max_steps):
        student = HybridStudent(splits.n_features, splits.n_classes, backend=backend, seed=seed)
        loss = DistillLoss(alpha=0.5, beta=0.5, align=FeatureAlign(student.feature_dim, teacher.feature_dim, 'mse'))
        t0 = time.perf_counter()
        fit(student, train_dl, None, epochs=1, lr=1e-2, teacher=teacher, loss=loss, seed=seed,
            progress=False, max_steps=max_steps)
        return time.perf_counter() - t0, sum(getattr(m, 'circuit_evals', 0) for m in student.modules())

    if steps is None or steps >= n_batches:
        run(1)                                   # warm-up (imports, compilation)
        t, evals = run(None)
        return dict(backend=backend, status='measured', epoch_s=round(t, 3), steps=n_batches,
                    s_per_step=round(t / n_batches, 5), circuit_evals=evals, batch_size=batch_size)
    t1, _ = run(1)
    tn, evals = run(steps + 1)
    per = (tn - t1) / steps if steps else t1
    return dict(backend=backend, status=f'estimated from {steps} step(s)', epoch_s=round(per * n_batches, 1),
                steps=n_batches, s_per_step=round(per, 4), circuit_evals=evals, batch_size=batch_size)


# ----------------------------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------------------------
def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix='.' + path.name + '.', suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp); os.replace(tmp, path)
    finally:
        if os.path.exists(tmp): os.remove(tmp)


def _fmt_t(t, status='ok'):
    if status == 'skipped (cap)': return 'skipped (cap)'
    if status in ('error', 'unavailable'): return status
    if t != t: return '-'
    s = f'{t * 1e6:.0f} µs' if t < 1e-3 else f'{t * 1e3:.1f} ms' if t < 1 else f'{t:.2f} s'
    return ('>= ' + s) if status == 'timeout' else (s + '*' if status == 'over cap' else s)


def _md_table(header, rows):
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join('---' for _ in header) + '|']
    lines += ['| ' + ' | '.join(str(c) for c in r) + ' |' for r in rows]
    return '\n'.join(lines)


def machine_info(threads=None) -> dict:
    import torch
    info = dict(python=platform.python_version(), torch=torch.__version__, cpu=platform.processor() or platform.machine(),
                cores=os.cpu_count(), threads=threads or 'default',
                cuda=torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none')
    try:
        model = [l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')]
        if model: info['cpu'] = model[0]
    except OSError: pass
    try: info['load_avg'] = ' '.join(f'{v:.2f}' for v in os.getloadavg())
    except OSError: pass
    return info


def write_report(df, targets, e2e, out_dir, info, params) -> dict:
    """Write benchmark.csv / .md / .png / .pdf into `out_dir` (atomically); return their paths."""
    import pandas as pd
    out = Path(out_dir); out.mkdir(parents=True, exist_ok=True)
    paths = {k: out / f'benchmark.{k}' for k in ('csv', 'md', 'png', 'pdf')}
    cols = ['peer', 'label', 'n', 'B', 'status', 'time_s', 'min_s', 'runs', 'ratio_to_native_f32', 'lower_bound',
            'max_abs_err', 'err_y', 'err_gx', 'err_gw', 'ref_scale', 'ref_vs_statevector', 'mem_peak_mib', 'mem_delta_mib', 'mem_kind', 'first_s', 'setup_s',
            'via', 'threads', 'note']
    _atomic(paths['csv'], lambda p: df[cols].to_csv(p, index=False))

    sp = speedups(df)
    peers = [p for p in PEERS if p in set(df.peer)]
    wide = []
    for (n, B), g in df.groupby(['n', 'B']):
        g = g.set_index('peer')
        cells = []
        for p in peers:
            if p not in g.index: cells.append('-'); continue
            r = g.loc[p]
            c = _fmt_t(r.time_s, r.status)
            if p != BASELINE and r.ratio_to_native_f32 == r.ratio_to_native_f32 and r.status != 'skipped (cap)':
                c += f' ({"≥" if r.status == "timeout" else ""}{r.ratio_to_native_f32:,.1f}x)'
            cells.append(c)
        s = sp[(sp.n == n) & (sp.B == B)]
        spd = '-' if not len(s) or s.speedup.iloc[0] != s.speedup.iloc[0] else \
            f'{"≥" if s.peer_lower_bound.iloc[0] else ""}{s.speedup.iloc[0]:,.1f}x vs {s.fastest_peer.iloc[0]}'
        errs = g.max_abs_err[g.index != REFERENCE].dropna()
        wide.append([n, B] + cells + [spd, f'{errs.max():.1e}' if len(errs) else '-'])
    long_rows = [[r.peer, r.n, r.B, r.status, _fmt_t(r.time_s, r.status), r.runs if r.runs == r.runs else 0,
                  f'{r.ratio_to_native_f32:,.2f}' if r.ratio_to_native_f32 == r.ratio_to_native_f32 else '-',
                  ' / '.join(f'{e:.0e}' if e == e else '-' for e in (r.err_y, r.err_gx, r.err_gw)),
                  f'{r.mem_peak_mib:.0f}' if r.mem_peak_mib == r.mem_peak_mib else '-',
                  f'{r.mem_delta_mib:.1f}' if r.mem_delta_mib == r.mem_delta_mib else '-']
                 for r in df.sort_values(['B', 'n']).itertuples()]
    md = ['# Benchmark: forward + backward of the student PQC', '',
          'Generated by `tools/benchmark.py` (`make bench`). One forward + backward pass (`y.sum().backward()`, '
          'gradients to inputs and weights) of `pauli_feature_map(n, reps=2, paulis=["Z","ZZ"])` + '
          '`efficient_su2(n, reps=2)`, one Z observable per qubit; median of the timed runs after one warm-up, '
          'each (peer, n, B) in a fresh process. `*` = a single call longer than the time cap (the peer then '
          'skips larger sizes); `≥` = killed at the hard timeout, a lower bound. Ratios are time / native float32 '
          '(CPU) time: how many times slower the peer is. `max err` is the largest |difference| of outputs and '
          'both gradients from native float64.', '',
          'Machine: ' + ', '.join(f'{k}={v}' for k, v in info.items()), '',
          'Parameters: ' + ', '.join(f'{k}={v}' for k, v in params.items()), '',
          'Reference check: native float64 vs `qiskit.quantum_info.Statevector` (first '
          f'{SV_CHECK_ROWS} rows of every batch): max |error| = '
          + (f'{df.ref_vs_statevector.max():.1e}' if df.ref_vs_statevector.notna().any() else 'not run') + '.', '',
          '## Targets', '']
    md += [f'- {"MET" if t["met"] else "NOT MET" if t["met"] is False else "NOT MEASURED"}: {t["target"]} — {t["value"]}'
           for t in targets]
    md += ['', '## Time per forward + backward (ratio to native float32)', '',
           _md_table(['n', 'B'] + peers + ['native-f32 speed-up over fastest peer', 'max err'], wide), '',
           'Peers: ' + '; '.join(f'`{p}` = {PEERS[p][0]}' for p in peers), '',
           '## All measurements', '',
           'Memory: `peak MiB` is the subprocess\'s peak resident set (VmHWM, reset just before the warm-up) '
           'while running; `+MiB` is that peak minus the resident set before the warm-up (what the circuit '
           'runs cost beyond imports and the built model). On CUDA both are `torch.cuda.max_memory_allocated`.', '',
           _md_table(['peer', 'n', 'B', 'status', 'median', 'runs', 'ratio', 'err y / dx / dw', 'peak MiB', '+MiB'],
                     long_rows),
           '', '## End to end: one epoch of KD training of the hybrid student', '']
    if e2e:
        e2e_cols = sorted({k for r in e2e for k in r}, key=lambda k: (k != 'backend', k != 'status', k))
        md += ['One epoch of `qkd_nb.train.fit` (KD + feature alignment from the cached teacher) of the default '
               '`HybridStudent` (batch 32); `estimated` = extrapolated from the time per optimizer step; `x_native_epoch` = '
               'epoch time / native epoch time.', '',
               _md_table(e2e_cols, [[r.get(k, '') for k in e2e_cols] for r in e2e]), '']
    else:
        md += ['not run (e2e=False)', '']
    _atomic(paths['md'], lambda p: Path(p).write_text('\n'.join(md), encoding='utf-8'))

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt, seaborn as sns
    try:
        from qkd_nb.analysis import set_style    # the paper's one plotting style
        set_style()
    except ImportError:
        sns.set_theme(style='whitegrid', context='paper')
    d = df[df.status.isin(['ok', 'over cap', 'timeout'])].copy()
    Bs = sorted(df.B.unique())
    fig, axes = plt.subplots(1, len(Bs), figsize=(4.2 * len(Bs), 3.6), sharey=True, squeeze=False)
    pal = dict(zip(peers, sns.color_palette('tab10', len(peers))))
    for ax, B in zip(axes[0], Bs):
        for p in peers:
            g = d[(d.B == B) & (d.peer == p)].sort_values('n')
            if not len(g): continue
            ax.plot(g.n, g.time_s, marker='o', label=p, color=pal[p], ls='-' if p.startswith('native') else '--')
            lb = g[g.lower_bound.astype(bool)]
            if len(lb): ax.scatter(lb.n, lb.time_s, marker='^', s=60, color=pal[p], zorder=3)
        ax.set_yscale('log'); ax.set_title(f'batch B = {B}'); ax.set_xlabel('qubits n')
        if d[d.B == B].lower_bound.astype(bool).any():
            ax.text(0.02, 0.02, '^ = lower bound (killed)', transform=ax.transAxes, fontsize=6, color='0.4')
        ax.set_xticks(sorted(df.n.unique()))
    axes[0][0].set_ylabel('forward + backward time (s)')
    axes[0][-1].legend(fontsize=7, loc='upper left', bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    for k in ('png', 'pdf'):
        _atomic(paths[k], lambda p, k=k: fig.savefig(p, format=k, dpi=150, bbox_inches='tight'))
    plt.close(fig)
    return paths


def run_benchmark(profile: str = 'quick', out_dir='figures', seed: int = 0, qubits=None, batches=None,
                  repeats=None, time_cap_s=None, peers=None, threads=None, e2e: bool | None = None,
                  dataset: str = 'digits', e2e_qiskit_steps: int | None = None, log=_log) -> dict:
    """Run the benchmark and write the report into `out_dir`. Arguments left `None` come from
    `PROFILES[profile]` ('smoke': seconds, for tests; 'quick'; 'full': the whole grid).
    Returns dict(results=DataFrame, speedups=DataFrame, targets=list, e2e=list, paths=dict)."""
    if profile not in PROFILES: raise ValueError(f'profile must be one of {list(PROFILES)}, got {profile!r}')
    P = dict(PROFILES[profile])
    pick = lambda v, k: P[k] if v is None else v
    qubits, batches = [int(q) for q in pick(qubits, 'qubits')], [int(b) for b in pick(batches, 'batches')]
    repeats, time_cap_s = int(pick(repeats, 'repeats')), float(pick(time_cap_s, 'time_cap_s'))
    e2e, e2e_steps, peers = bool(pick(e2e, 'e2e')), int(pick(e2e_qiskit_steps, 'e2e_qiskit_steps')), pick(peers, 'peers')
    if not qubits or any(q < 2 for q in qubits): raise ValueError(f'qubits must be a non-empty list of ints >= 2, got {qubits}')
    if not batches or any(b < 1 for b in batches): raise ValueError(f'batches must be a non-empty list of ints >= 1, got {batches}')
    if time_cap_s <= 0 or repeats < 1: raise ValueError(f'time_cap_s must be > 0 and repeats >= 1, got {time_cap_s}, {repeats}')
    if threads is not None and (isinstance(threads, bool) or int(threads) < 1):
        raise ValueError(f'threads must be None (the libraries\' default) or an int >= 1, got {threads!r}')
    import pandas as pd
    chosen = list(peers) if peers else list(PEERS)
    bad = [p for p in chosen if p not in PEERS]
    if bad: raise ValueError(f'unknown peers {bad}; choose from {list(PEERS)}')
    ran, skipped = [], []
    for p in chosen:
        ok, why = peer_available(p)
        (ran if ok else skipped).append(p)
        if not ok: log(f'peer {p} not run: {why}')
    if REFERENCE not in ran: log(f'warning: {REFERENCE} is not run: no correctness reference')
    info = machine_info(threads)
    log(f'benchmark profile={profile} qubits={qubits} batches={batches} repeats={repeats} cap={time_cap_s}s '
        f'peers={ran} | ' + ', '.join(f'{k}={v}' for k, v in info.items()))
    df = run_grid(qubits, batches, ran, repeats, time_cap_s, seed=seed, threads=threads, log=log)
    if skipped:
        df = pd.concat([df, pd.DataFrame([dict(peer=p, label=PEERS[p][0], n=n, B=B, status='unavailable', runs=0,
                                               note=peer_available(p)[1])
                                          for p in skipped if not PEERS[p][3] == 'cuda'
                                          for n in qubits for B in batches])], ignore_index=True)
    targets = check_targets(df)
    e2e_res = end_to_end(seed=seed, qiskit_steps=e2e_steps, dataset=dataset, threads=threads, log=log) if e2e else []
    info['load_avg_end'] = ' '.join(f'{v:.2f}' for v in os.getloadavg())
    params = dict(profile=profile, qubits=qubits, batches=batches, repeats=repeats, time_cap_s=time_cap_s,
                  seed=seed, threads=threads)
    paths = write_report(df, targets, e2e_res, out_dir, info, params)
    for t in targets:
        log(f'target {"MET" if t["met"] else "NOT MET" if t["met"] is False else "NOT MEASURED"}: {t["target"]} ({t["value"]})')
    log('wrote ' + ', '.join(str(p) for p in paths.values()))
    return dict(results=df, speedups=speedups(df), targets=targets, e2e=e2e_res, paths=paths)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--profile', default='quick', choices=list(PROFILES))
    ap.add_argument('--out-dir', default=str(ROOT / 'figures'))
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--dataset', default='digits', help='dataset of the end-to-end training epoch')
    ap.add_argument('--qubits', type=int, nargs='+')
    ap.add_argument('--batches', type=int, nargs='+')
    ap.add_argument('--repeats', type=int)
    ap.add_argument('--time-cap-s', type=float)
    ap.add_argument('--peers', nargs='+', choices=list(PEERS))
    ap.add_argument('--threads', type=int, help='torch/OpenMP threads for every peer (default: the libraries\' default)')
    ap.add_argument('--no-e2e', action='store_true', help='skip the end-to-end training epoch')
    ap.add_argument('--selftest', action='store_true', help='only check the Qiskit -> PennyLane translation')
    ap.add_argument('--child', help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child: return _child_main(a.child)
    if a.selftest:
        err = check_translation()
        print(f'Qiskit -> PennyLane translation vs Statevector: max |error| = {err:.2e}')
        if err > 1e-10: raise SystemExit('translation check FAILED')
        return err
    return run_benchmark(a.profile, a.out_dir, a.seed, a.qubits, a.batches, a.repeats, a.time_cap_s, a.peers,
                         a.threads, False if a.no_e2e else None, a.dataset)


if __name__ == '__main__':
    main()
