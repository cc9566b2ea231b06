"""The training step against the authors' PyTorch code, timed in the same run.

    python benchmarks/authors_step.py --authors-code DIR --authors-python PY
        [--networks 32,100] [--rounds 15] [--json PATH]

DIR is a checkout of the authors' code (https://github.com/neale/HyperGAN; not part of
this project) and PY a Python with PyTorch installed (for example a venv made with
`pip install torch numpy`; the authors' model code needs nothing else). A worker process
under PY builds their MNIST HyperGAN (`models/small.py`: target "small", mixer,
generators and discriminator, code width 64, their Adam with weight decay) and runs their
training step as `train_hypergan.py` does (discriminator update, generated weights, the K
networks evaluated one after another with their `eval_f`, mixer and generator update),
with the one change that current PyTorch needs: the discriminator's output on the codes
is recomputed after its optimizer step. As in their code, K (`--batch_size` there) is the
number of networks per step and the data batch is 100 images.

This process times the project's step on the same batch shape: the one-mode HyperGAN
(TrainConfig's defaults, the paper's model) in float32 and in bfloat16, and `train
--dataset mnist`'s recipe (8 modes, off-data term, `--precision auto`), all at the same K.
Rounds interleave one step of every configuration, the authors' included, so a change in
the machine's speed hits all of them alike. Prints medians and each one's speed-up over
the authors' step, and writes JSON (default benchmarks/results/authors_step.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

BATCH = 100  # images per step, as the authors' MNIST loader gives them


def authors_worker(code_dir: str) -> None:
    """Serve timing requests on stdin ("K" per line) with one authors' step each, answering
    its seconds on stdout. Runs under a Python with PyTorch; imports only the authors'
    `ops` and `models.small` (their data module needs torchvision and downloads)."""
    sys.path.insert(0, code_dir)
    import torch
    import torch.nn.functional as F

    import ops
    from models import small

    torch.manual_seed(1)
    built = {}

    def build(k):
        args = argparse.Namespace(z=64, s=256, bias=False, batch_size=k, lr=1e-4, wd=5e-4, beta=1,
                                  target="small", ngen=3, device="cpu")  # train_hypergan.py's defaults
        hypergan = small.HyperGAN(args)
        gens = hypergan.generator.as_list()
        optim_q = torch.optim.Adam(hypergan.mixer.parameters(), lr=args.lr, weight_decay=args.wd)
        optim_w = [torch.optim.Adam(g.parameters(), lr=args.lr, weight_decay=args.wd) for g in gens]
        optim_d = torch.optim.Adam(hypergan.discriminator.parameters(), lr=args.lr, weight_decay=args.wd)
        data = torch.randn(BATCH, 1, 28, 28)
        target = torch.randint(0, 10, (BATCH,))
        return args, hypergan, optim_q, optim_w, optim_d, data, target

    def step(args, hypergan, optim_q, optim_w, optim_d, data, target):
        mixer, generator, dz = hypergan.mixer, hypergan.generator, hypergan.discriminator
        s = torch.randn(args.batch_size, args.s)
        z = torch.randn(args.batch_size, args.z)
        codes = mixer(s)
        d_loss, _ = ops.calc_d_loss(args, dz, z, codes)
        d_loss = d_loss * args.beta
        optim_d.zero_grad()
        d_loss.backward(retain_graph=True)
        optim_d.step()
        d_q = dz(codes.view(-1, args.z))  # the fix for PyTorch >= 1.5 (their d_q predates the step)
        params = generator(codes)
        clf_loss = 0.0
        for layers in zip(*params):  # one network at a time, as theirs
            out = hypergan.eval_f(args, layers, data)
            loss = F.cross_entropy(out, target)
            pred = out.data.max(1, keepdim=True)[1]
            pred.eq(target.data.view_as(pred)).long().cpu().sum()
            clf_loss += loss
        one_qz = torch.ones((args.batch_size * args.ngen, 1), requires_grad=True)
        log_qz = ops.log_density(torch.ones(args.batch_size * args.ngen, 1), 2).view(-1, 1)
        q_loss = F.binary_cross_entropy_with_logits(d_q + log_qz, one_qz)
        (q_loss + clf_loss / args.batch_size).backward()
        optim_q.step()
        for optim in optim_w:
            optim.step()
        optim_q.zero_grad()
        for optim in optim_w:
            optim.zero_grad()

    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        k = int(line)
        if k not in built:
            built[k] = build(k)
            for _ in range(2):  # warm up
                step(*built[k])
        start = time.perf_counter()
        step(*built[k])
        print(time.perf_counter() - start, flush=True)


def fail(message: str) -> None:
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--authors-code", required=True, help="a checkout of https://github.com/neale/HyperGAN")
    parser.add_argument("--authors-python", default=sys.executable, help="a Python with PyTorch (default: this one)")
    parser.add_argument("--networks", default="32,100", help="comma-separated K values")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (one step of every configuration each)")
    parser.add_argument("--json", default=None, help="default benchmarks/results/authors_step.json")
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.authors_code, "models", "small.py")):
        fail(f"{args.authors_code} has no models/small.py: give a checkout of https://github.com/neale/HyperGAN")

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import dataclasses

    import numpy as np
    import tensorflow as tf

    from hypergan_tf.config import TrainConfig
    from hypergan_tf.samplers import build_sampler
    from results_io import RESULTS, write_result

    worker = subprocess.Popen([args.authors_python, os.path.abspath(__file__), "--worker", args.authors_code],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    first = worker.stdout.readline()
    if not first:
        fail(f"the authors' code did not start under {args.authors_python} (its error is above): give a Python with "
             "PyTorch with --authors-python")
    torch_info = json.loads(first)

    def authors_step(k: int) -> float:
        worker.stdin.write(f"{k}\n")
        worker.stdin.flush()
        return float(worker.stdout.readline())

    ours = {"one-mode float32": TrainConfig(precision="float32"), "one-mode bfloat16": TrainConfig(precision="bfloat16"),
            "mnist recipe": TrainConfig.for_dataset({"dataset": "mnist"})}
    rng = np.random.default_rng(0)
    images = tf.constant(rng.random((BATCH, 28, 28, 1), dtype=np.float32))
    labels = tf.constant(rng.integers(0, 10, BATCH).astype(np.int32))

    def our_step(config: TrainConfig, k: int):
        config = dataclasses.replace(config, networks_per_step=k, batch_size=BATCH, num_classes=10,
                                     input_mean=0.13, input_std=0.31)
        model = build_sampler(config, total_steps=config.steps or 1000)
        model.compile_from_config(config, config.steps or 1000)
        step = tf.function(model.train_step)
        for _ in range(3):  # trace and warm up
            step((images, labels))["g_loss"].numpy()

        def run() -> float:
            start = time.perf_counter()
            step((images, labels))["g_loss"].numpy()
            return time.perf_counter() - start
        return run, config.resolved_precision()

    rows = []
    print(f"{'K':>4} {'step':>22} {'precision':>10} {'median s':>9} {'authors / it':>13}")
    for k in [int(v) for v in args.networks.split(",")]:
        runs = {name: our_step(config, k) for name, config in ours.items()}
        authors_step(k)  # builds and warms up their model
        times = {name: [] for name in [*runs, "authors' PyTorch code"]}
        for _ in range(args.rounds):
            for name, (run, _) in runs.items():
                times[name].append(run())
            times["authors' PyTorch code"].append(authors_step(k))
        theirs = statistics.median(times["authors' PyTorch code"])
        for name, values in times.items():
            precision = runs[name][1] if name in runs else "float32"
            row = {"networks_per_step": k, "batch_size": BATCH, "step": name, "precision": precision,
                   "median_s": statistics.median(values), "speedup_over_authors": theirs / statistics.median(values),
                   "times_s": values}
            rows.append(row)
            print(f"{k:>4} {name:>22} {precision:>10} {row['median_s']:>9.3f} {row['speedup_over_authors']:>12.2f}x")
    worker.stdin.close()
    worker.wait()
    write_result(args.json or str(RESULTS / "authors_step.json"),
                 {"benchmark": "authors_step", "rounds": args.rounds, "authors_torch": torch_info,
                  "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "tensorflow": tf.__version__},
                  "results": rows})


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        authors_worker(sys.argv[2])
    else:
        main()
