#!/usr/bin/env python3
"""Loads a `shadertrain export --format pytorch` file into the PyTorch module a user would write
for its experiment, runs a batch, and compares with shadertrain's outputs (dev-only: never a
dependency; test/export-pytorch.node.test.ts runs it where Debian's python3-torch is installed).

    /usr/bin/python3 test/support/torch_reference.py CASE.json

CASE.json: {"file": the exported safetensors, "inputs": {...}, "expected": {name: [values]},
"tolerance": 1e-5, and for multitask "fields" (vocabularies), "shared" and "private" (indices of
the continuous columns)}. The module is built from the config in the file's metadata, loaded
with load_state_dict(strict=True), and each output must be within the tolerance of shadertrain's.
Prints one JSON line {"max_abs_diff": {output: value}, "ok": bool}; exits 1 if not ok.
"""
import json
import struct
import sys

import torch
from torch import nn

DTYPES = {"F32": torch.float32, "I32": torch.int32}


def load_safetensors(path):
    """The tensors and metadata of a safetensors file (the `safetensors` package where installed, else by hand)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    try:
        from safetensors.torch import load_file

        return load_file(path), meta
    except ImportError:
        pass
    data = raw[8 + n :]
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[b:end]), dtype=DTYPES[e["dtype"]])
        tensors[name] = t.reshape(e["shape"])
    return tensors, meta


def mlp(widths):
    """Linear layers `0`, `1`, … (ReLU between, applied in forward)."""
    return nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))


def run_mlp(layers, h, last=None):
    for i, layer in enumerate(layers):
        h = layer(h)
        if i + 1 < len(layers):
            h = torch.relu(h)
    return last(h) if last else h


# --- CS330 homework 0: the multi-task recommender -------------------------------------------
class UserItemTables(nn.Module):
    def __init__(self, users, items, dim):
        super().__init__()
        self.user_embeddings = nn.Embedding(users, dim)
        self.item_embeddings = nn.Embedding(items, dim)


class Recommender(nn.Module):
    def __init__(self, users, items, c):
        super().__init__()
        d = c["embeddingDim"]
        self.shared = c["sharedEmbeddings"]
        self.clip = c["clipPredictedRating"]
        if self.shared:
            self.user_embeddings = nn.Embedding(users, d)
            self.item_embeddings = nn.Embedding(items, d)
        else:
            self.factorization = UserItemTables(users, items, d)
            self.regression = UserItemTables(users, items, d)
        self.user_biases = nn.Embedding(users, 1)
        self.item_biases = nn.Embedding(items, 1)
        self.mlp = mlp(c["layerSizes"] + [1])

    def forward(self, user_ids, item_ids):
        f = self if self.shared else self.factorization
        r = self if self.shared else self.regression
        u, q = f.user_embeddings(user_ids), f.item_embeddings(item_ids)
        score = (u * q).sum(1) + self.user_biases(user_ids).squeeze(1) + self.item_biases(item_ids).squeeze(1)
        u, q = r.user_embeddings(user_ids), r.item_embeddings(item_ids)
        rating = run_mlp(self.mlp, torch.cat([u, q, u * q], 1)).squeeze(1)
        return {"score": score, "rating": torch.sigmoid(rating) * 5 if self.clip else rating}


# --- CS330 homework 1: the memory-augmented network ------------------------------------------
class MANN(nn.Module):
    def __init__(self, num_classes, hidden, pixels=784):
        super().__init__()
        self.layer1 = nn.LSTM(pixels + num_classes, hidden, batch_first=True)
        self.layer2 = nn.LSTM(hidden, num_classes, batch_first=True)

    def forward(self, x):
        """x [B, T, pixels + N] (images with their labels, the queries' zeroed) -> logits [B, T, N]."""
        h, _ = self.layer1(x)
        out, _ = self.layer2(h)
        return out


# --- multi-task models ------------------------------------------------------------------------
class OneHot(nn.Module):
    """[one-hot of each field (vocabularies back to back), continuous columns]."""

    def __init__(self, vocab):
        super().__init__()
        self.vocab = vocab
        self.register_buffer("offsets", torch.tensor([sum(vocab[:i]) for i in range(len(vocab))], dtype=torch.long), persistent=False)

    def forward(self, categorical, continuous):
        parts = []
        if self.vocab:
            parts.append(nn.functional.one_hot(categorical + self.offsets, sum(self.vocab)).sum(1).float())
        if continuous.shape[1]:
            parts.append(continuous)
        return torch.cat(parts, 1)


def tower(width, units):
    return mlp([width, units, 1])


class Multitask(nn.Module):
    def __init__(self, c, vocab, continuous, private, tasks):
        super().__init__()
        self.kind = c["model"]
        self.tasks = tasks
        self.onehot = OneHot(vocab)
        width = sum(vocab) + continuous
        if self.kind == "single":
            for t in tasks:
                net = nn.Module()
                net.bottom = nn.Linear(width, c["bottomUnits"] or 1)
                if c["bottomUnits"]:
                    net.tower = tower(c["bottomUnits"], c["towerUnits"])
                setattr(self, f"task_{t}", net)
        elif self.kind == "shared-bottom":
            self.bottom = nn.Linear(width, c["bottomUnits"])
            for t in tasks:
                setattr(self, f"tower_{t}", tower(c["bottomUnits"], c["towerUnits"]))
        elif self.kind in ("omoe", "mmoe"):
            self.gate_count = len(tasks) if self.kind == "mmoe" else 1
            self.e, self.u = c["experts"], c["expertUnits"]
            self.experts = nn.Linear(width, self.e * self.u)
            self.gates = nn.Linear(width, self.gate_count * self.e)
            for t in tasks:
                setattr(self, f"tower_{t}", tower(self.u, c["towerUnits"]))
        elif self.kind == "esmm":
            if vocab:
                self.embeddings = nn.Embedding(sum(vocab), c["embeddingDim"])
            w = len(vocab) * c["embeddingDim"] + continuous
            self.ctr = mlp([w, c["bottomUnits"], c["towerUnits"], 1])
            self.cvr = mlp([w, c["bottomUnits"], c["towerUnits"], 1])
        elif self.kind == "aux":
            self.shared = nn.Linear(width, 1)
            self.main = nn.Linear(1 + private, 1)
        if c.get("lossWeighting") == "uncertainty":
            self.log_vars = nn.Parameter(torch.zeros(len(tasks)))

    def logits(self, cat, cont, priv):
        x = lambda: self.onehot(cat, cont)
        if self.kind == "single":
            outs = []
            for t in self.tasks:
                net = getattr(self, f"task_{t}")
                outs.append(run_mlp(net.tower, torch.relu(net.bottom(x()))) if hasattr(net, "tower") else net.bottom(x()))
            return outs
        if self.kind == "shared-bottom":
            h = torch.relu(self.bottom(x()))
            return [run_mlp(getattr(self, f"tower_{t}"), h) for t in self.tasks]
        if self.kind in ("omoe", "mmoe"):
            experts = torch.relu(self.experts(x())).view(-1, self.e, self.u)
            gates = torch.softmax(self.gates(x()).view(-1, self.gate_count, self.e), -1)
            mixed = torch.bmm(gates, experts)
            return [run_mlp(getattr(self, f"tower_{t}"), mixed[:, 0 if self.gate_count == 1 else i]) for i, t in enumerate(self.tasks)]
        if self.kind == "esmm":
            parts = [self.embeddings(cat + self.onehot.offsets).flatten(1)] if self.onehot.vocab else []
            h = torch.cat(parts + ([cont] if cont.shape[1] else []), 1)
            return [run_mlp(self.ctr, h), run_mlp(self.cvr, h)]
        aux = self.shared(x())
        return [self.main(torch.cat([aux, priv], 1)), aux]

    def forward(self, cat, cont, priv, kinds):
        outs = [o.squeeze(1) for o in self.logits(cat, cont, priv)]
        if self.kind == "esmm":
            ctr, cvr = torch.sigmoid(outs[0]), torch.sigmoid(outs[1])
            return torch.stack([ctr, cvr, ctr * cvr], 1)
        return torch.stack([torch.sigmoid(o) if k == "binary" else o for o, k in zip(outs, kinds)], 1)


def main():
    case = json.load(open(sys.argv[1]))
    state, meta = load_safetensors(case["file"])
    c = json.loads(meta["config"])
    x = case["inputs"]
    with torch.no_grad():
        if meta["experiment"] == "recommender":
            model = Recommender(state["user_biases.weight"].shape[0], state["item_biases.weight"].shape[0], c)
            model.load_state_dict(state, strict=True)
            got = model(torch.tensor(x["users"]), torch.tensor(x["items"]))
        elif meta["experiment"] == "fewshot":
            n = c["numClasses"]
            model = MANN(n, c["hidden"], state["layer1.weight_ih_l0"].shape[1] - n)
            model.load_state_dict(state, strict=True)
            t, b = x["steps"], x["batch"]
            # shadertrain's rows are time-major [T·B, in]; the course's LSTMs are batch-first.
            seq = torch.tensor(x["x"]).view(t, b, -1).transpose(0, 1)
            got = {"logits": model(seq).transpose(0, 1).reshape(-1)}
        elif meta["experiment"] == "multitask":
            cont = torch.tensor(x["continuous"]).view(x["rows"], -1)
            model = Multitask(c, case["fields"], len(case["shared"]), len(case["private"]), case["tasks"])
            model.load_state_dict(state, strict=True)
            cat = torch.tensor(x["categorical"]).view(x["rows"], len(case["fields"]))
            got = {"outputs": model(cat, cont[:, case["shared"]], cont[:, case["private"]], case["kinds"]).reshape(-1)}
        else:
            raise SystemExit(f"{case['file']}: unknown experiment {meta['experiment']}")
    diffs = {k: float((v.reshape(-1).double() - torch.tensor(case["expected"][k], dtype=torch.float64)).abs().max()) for k, v in got.items()}
    ok = all(d <= case["tolerance"] for d in diffs.values())
    print(json.dumps({"max_abs_diff": diffs, "ok": ok, "torch": torch.__version__}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
