#!/usr/bin/env python3
"""PyTorch CPU timing of one MMoE training step on census-shaped rows (dev-only: never a dependency).

The same math as shadertrain's `multitask --model mmoe` and bench/tfjs/multitask.ts: the experts'
layer and the gates' layer each read [one-hot categorical fields, continuous columns] as a dense
layer would, written as the sum of one weight row per field (nn.EmbeddingBag, mode 'sum', over one
packed table) plus nn.Linear over the continuous columns; 8 ReLU experts of 16 units, one softmax
gate per task, towers Linear(16, 8) -> ReLU -> Linear(8, 1), BCE with logits averaged over the rows
that have the task's label, summed over tasks; Adam at 1e-3. Weights are drawn as nn.Linear would
draw the one-hot layer's (uniform in +-1/sqrt(fan_in), fan_in = one-hot width + continuous columns).

Rows are synthetic and seeded (census-income's 33 categorical fields, 536 one-hot rows with the
unknown rows, 7 continuous columns), a fresh batch per step as in an epoch; they are made before
timing. Usage:

    /usr/bin/python3 bench/torch/multitask_step.py [--steps 78] [--batch 1024] [--warmup 5] [--threads N] [--json]

Debian's python3-torch (apt-get install python3-torch) serves Debian's own /usr/bin/python3, not
a pyenv or venv python found first on PATH.
"""
import argparse
import itertools
import json
import statistics
import time

import torch
from torch import nn

# Census-Income (KDD)'s categorical columns: distinct values per column, plus one unknown row each.
CENSUS_VOCAB = [n + 1 for n in (9, 52, 47, 17, 3, 7, 24, 15, 5, 10, 2, 3, 6, 8, 6, 6, 51, 38, 8, 10, 9, 10, 3, 4, 5, 43, 43, 43, 5, 3, 3, 3, 2)]
CONTINUOUS = 7


class OneHotLinear(nn.Module):
    """act(onehot(fields) @ W_c + x @ W_x + b) without the one-hot vector: one packed table, rows summed."""

    def __init__(self, vocab, continuous, width):
        super().__init__()
        bound = 1 / (sum(vocab) + continuous) ** 0.5
        self.table = nn.EmbeddingBag(sum(vocab), width, mode="sum")
        self.linear = nn.Linear(continuous, width)
        for p in (self.table.weight, self.linear.weight, self.linear.bias):
            nn.init.uniform_(p, -bound, bound)
        self.register_buffer("offsets", torch.tensor([0, *itertools.accumulate(vocab[:-1])], dtype=torch.long))

    def forward(self, categorical, continuous):
        # categorical: [B, F] indices within each field -> rows of the packed table; each row is one bag.
        return self.table(categorical + self.offsets) + self.linear(continuous)


class MMoE(nn.Module):
    def __init__(self, vocab, continuous, tasks=2, experts=8, expert_units=16, tower_units=8):
        super().__init__()
        self.tasks, self.experts, self.units = tasks, experts, expert_units
        self.expert_layer = OneHotLinear(vocab, continuous, experts * expert_units)
        self.gate_layer = OneHotLinear(vocab, continuous, tasks * experts)
        self.towers = nn.ModuleList(nn.Sequential(nn.Linear(expert_units, tower_units), nn.ReLU(), nn.Linear(tower_units, 1)) for _ in range(tasks))

    def forward(self, categorical, continuous):
        b = categorical.shape[0]
        experts = torch.relu(self.expert_layer(categorical, continuous)).view(b, self.experts, self.units)
        gates = torch.softmax(self.gate_layer(categorical, continuous).view(b, self.tasks, self.experts), dim=-1)
        mixed = torch.bmm(gates, experts)  # [B, T, U]: each task's gate-weighted sum of the experts
        return [tower(mixed[:, t]).squeeze(1) for t, tower in enumerate(self.towers)]


def masked_bce(logits, labels):
    """Mean BCE with logits over the rows that have a label (NaN marks a missing one)."""
    present = ~torch.isnan(labels)
    return nn.functional.binary_cross_entropy_with_logits(logits[present], labels[present])


def batches(steps, batch, seed):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(steps):
        cat = torch.stack([torch.randint(0, v, (batch,), generator=g) for v in CENSUS_VOCAB], dim=1)
        cont = torch.randn(batch, CONTINUOUS, generator=g)
        labels = (torch.rand(batch, 2, generator=g) < 1 / 3).float()
        out.append((cat, cont, labels))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=78, help="timed steps (78 x 1024 rows is about an epoch as the issue quotes it)")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = ap.parse_args()
    if args.steps < 1 or args.batch < 1 or args.warmup < 0:
        ap.error("--steps and --batch must be >= 1 and --warmup >= 0")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = MMoE(CENSUS_VOCAB, CONTINUOUS)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = batches(args.warmup + args.steps, args.batch, args.seed + 1)

    def step(cat, cont, labels):
        opt.zero_grad(set_to_none=True)
        outs = model(cat, cont)
        loss = sum(masked_bce(o, labels[:, t]) for t, o in enumerate(outs))
        loss.backward()
        opt.step()
        return loss.item()  # a training loop reads its loss: the step is finished when this returns

    for b in data[: args.warmup]:
        step(*b)
    times, losses = [], []
    start = time.perf_counter()
    for b in data[args.warmup :]:
        t = time.perf_counter()
        losses.append(step(*b))
        times.append((time.perf_counter() - t) * 1000)
    total = time.perf_counter() - start
    result = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "steps": args.steps,
        "ms_per_step_mean": total * 1000 / args.steps,
        "ms_per_step_median": statistics.median(times),
        "seconds_total": total,
        "first_loss": losses[0],
        "last_loss": losses[-1],
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"PyTorch {result['torch']} CPU, {result['threads']} threads: MMoE step (batch {args.batch}) "
            f"{result['ms_per_step_mean']:.2f} ms mean, {result['ms_per_step_median']:.2f} ms median over {args.steps} steps "
            f"after {args.warmup} warm-up; {total:.3f} s in all; loss {losses[0]:.4f} -> {losses[-1]:.4f}"
        )


if __name__ == "__main__":
    main()
