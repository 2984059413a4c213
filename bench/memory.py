"""The agent memory benchmark: MiniLM embedding speed, add throughput, retrieval latency.

Everything runs in embedded local Qdrant mode in a temporary folder, with the real
MiniLM embedder (agents/embedding.py):

1. embedding: one text at a time (median, p99 over `--texts` game-like lines) and
   batched (ms per text for a few batch sizes);
2. adds: memories per second through `QdrantMemory.add` for several `batch_size`s
   (upserts of 1 vs. many points), with the vectors embedded beforehand so that
   the store's own cost shows (embedding is item 1);
3. retrieval: one agent holding `--memories` memories (10,000 by default),
   `--queries` distinct queries (200): median, p90 and p99 of `retrieve(k=5)`,
   the whole path (query embedding, Qdrant query, ranking, last-access update).

    python -m bench.memory
    python -m bench.memory --memories 10000 --queries 200 --json-out memory.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.embedding import MiniLMEmbedder, Vectors
from agents.memory import MemoryConfig, QdrantMemory

MOBS = ("grey wolf", "forest bear", "goblin scout", "giant rat", "cave troll", "bandit",
        "skeleton", "wild boar", "spider", "kobold", "orc warrior", "water snake")
PLACES = ("the dark forest", "the village square", "the old mill", "the river bank",
          "the mountain pass", "the crypt", "the tavern", "the temple", "the swamp",
          "the wheat fields", "the mine", "the castle gate")
ITEMS = ("a rusty sword", "a leather cap", "a healing potion", "a wooden shield",
         "an iron helm", "a torch", "a silver ring", "a bag of coins", "a longbow",
         "a chain shirt", "a scroll of recall", "a loaf of bread")
PEOPLE = ("Bob", "Mira", "the baker", "the smith", "the priest", "the guard captain",
          "the mayor", "a hooded stranger")
TEMPLATES = (
    "I killed {mob} in {place} and got {n} experience.",
    "{mob} hit me for {n} damage in {place}.",
    "I fled from {mob} near {place}.",
    "I found {item} in {place}.",
    "I bought {item} from {person} for {n} gold.",
    "{person} said the road to {place} is dangerous.",
    "I entered {place} for the first time.",
    "I rested in {place} until my wounds healed.",
    "{person} asked me to hunt {mob} near {place}.",
    "I sold {item} to {person} for {n} gold.",
    "I died to {mob} in {place}.",
    "I reached level {n}.",
)
QUESTIONS = (
    "where did I fight {mob}?", "who sells {item}?", "what happened in {place}?",
    "is {place} dangerous?", "what did {person} tell me?", "how strong is {mob}?",
    "where can I find {item}?", "what do I know about {place} and {mob}?",
    "did {person} mention {place}?", "should I bring {item} to {place}?",
    "is {mob} afraid of {item}?", "what does {person} think of {mob}?",
)


def game_lines(n: int, seed: int, templates: Sequence[str] = TEMPLATES) -> list[str]:
    """`n` game-like memory lines from a seeded RNG."""
    rng = random.Random(seed)
    return [rng.choice(templates).format(mob=rng.choice(MOBS), place=rng.choice(PLACES),
                                         item=rng.choice(ITEMS), person=rng.choice(PEOPLE),
                                         n=rng.randint(1, 60)) for _ in range(n)]


def _ms(values: Sequence[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s))) - 1))] * 1000.0


class Precomputed:
    """An embedder that answers from vectors computed beforehand (store-only timings)."""

    def __init__(self, texts: Sequence[str], vectors: Vectors, fallback: MiniLMEmbedder) -> None:
        self._table = {t: vectors[i] for i, t in enumerate(texts)}
        self._fallback = fallback

    @property
    def dim(self) -> int:
        return self._fallback.dim

    @property
    def name(self) -> str:
        return self._fallback.name

    def embed(self, texts: Sequence[str]) -> Vectors:
        missing = [t for t in texts if t not in self._table]
        if missing:
            for t, v in zip(missing, self._fallback.embed(missing), strict=True):
                self._table[t] = v
        return np.stack([self._table[t] for t in texts]) if texts else np.zeros((0, self.dim),
                                                                                 np.float32)


def bench_embedding(model: MiniLMEmbedder, texts: Sequence[str]) -> dict[str, Any]:
    """Single-text latency and batched cost per text."""
    for t in texts[:5]:
        model.embed([t])
    single, cpu = [], []
    for t in texts:
        start, start_cpu = time.perf_counter(), time.process_time()
        model.embed([t])
        single.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    out: dict[str, Any] = {
        "texts": len(texts),
        "mean_tokens": round(float(np.mean([model.tokenize([t])[1].sum() for t in texts])), 1),
        "single_median_ms": round(_ms(single, 50), 2),
        "single_p99_ms": round(_ms(single, 99), 2),
        "single_cpu_median_ms": round(_ms(cpu, 50), 2),
        "single_min_ms": round(min(single) * 1000, 2),
        "batched_ms_per_text": {},
    }
    saved = model.batch_size
    for size in (8, 32, 64):
        model.batch_size = size
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            model.embed(texts)
            runs.append((time.perf_counter() - start) / len(texts))
        out["batched_ms_per_text"][str(size)] = round(statistics.median(runs) * 1000, 2)
    model.batch_size = saved
    return out


def bench_adds(root: Path, embedder: Precomputed, texts: Sequence[str],
               sizes: Sequence[int], wal: bool) -> dict[str, float]:
    """Memories per second through `add` + final flush, per batch size (fresh store each)."""
    out: dict[str, float] = {}
    for size in sizes:
        n = min(len(texts), 200 if size == 1 else 2000)
        store = QdrantMemory.open(root / f"adds-{size}-{wal}", embedder=embedder,
                                  config=MemoryConfig(batch_size=size, auto_reflect=False,
                                                      maintain_every=10**9, local_wal=wal))
        start = time.perf_counter()
        for i in range(n):
            store.add("bench", texts[i], "observation", 0.5, now=float(i))
        store.flush()
        out[str(size)] = round(n / (time.perf_counter() - start), 1)
        store.close()
    return out


def bench_retrieval(root: Path, model: MiniLMEmbedder, embedder: Precomputed,
                    texts: Sequence[str], queries: Sequence[str], layout: str,
                    others: int) -> dict[str, Any]:
    """Build one agent with len(texts) memories (plus `others` for another agent in the
    shared layout), then time `queries` retrievals."""
    config = MemoryConfig(batch_size=512, auto_reflect=False, maintain_every=10**9,
                          capacity=10**6, layout="shared" if layout == "shared" else "per_agent")
    store = QdrantMemory.open(root / f"retrieval-{layout}", embedder=embedder, config=config)
    rng = random.Random(3)
    start = time.perf_counter()
    for i, text in enumerate(texts):
        store.add("hero", text, "observation", round(rng.random(), 2), now=float(i) * 30)
    for i in range(others):
        store.add("other", texts[i % len(texts)], "observation", 0.5, now=float(i))
    store.flush()
    build_s = time.perf_counter() - start
    store.embedder = model  # queries go through the real embedder
    now = float(len(texts)) * 30
    for q in queries[:5]:
        store.retrieve("hero", q + " (warm-up)", now=now, k=5)
    times, cpu_times, embed_times = [], [], []
    for i, q in enumerate(queries):
        t0 = time.perf_counter()
        model.embed([q + " (timing)"])
        embed_times.append(time.perf_counter() - t0)
        t0, c0 = time.perf_counter(), time.process_time()
        found = store.retrieve("hero", q, now=now + i, k=5)
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
        assert len(found) == 5
    count = store.count("hero")
    store.close()
    return {
        "layout": layout, "memories": count, "others": others, "queries": len(queries),
        "build_s": round(build_s, 1),
        "median_ms": round(_ms(times, 50), 2), "p90_ms": round(_ms(times, 90), 2),
        "p99_ms": round(_ms(times, 99), 2),
        "cpu_median_ms": round(_ms(cpu_times, 50), 2),
        "min_ms": round(min(times) * 1000, 2),
        "query_embedding_median_ms": round(_ms(embed_times, 50), 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--memories", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--texts", type=int, default=200, help="texts for the embedding timing")
    parser.add_argument("--layouts", default="per_agent",
                        help="comma-separated: per_agent, shared (shared adds as many "
                             "memories of another agent)")
    parser.add_argument("--skip-adds", action="store_true")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)

    model = MiniLMEmbedder()
    report: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()}
    print(f"{os.cpu_count()} CPUs, load average {report['load_before'][0]:.2f}", flush=True)
    emb = bench_embedding(model, game_lines(args.texts, seed=11))
    report["embedding"] = emb
    print(f"embedding: {emb['texts']} texts of ~{emb['mean_tokens']} tokens: single "
          f"median {emb['single_median_ms']} ms (CPU {emb['single_cpu_median_ms']} ms), "
          f"p99 {emb['single_p99_ms']} ms, min {emb['single_min_ms']} ms; batched "
          + ", ".join(f"{k}: {v} ms/text" for k, v in emb["batched_ms_per_text"].items()),
          flush=True)

    texts = [f"{line} (#{i})" for i, line in enumerate(game_lines(args.memories, seed=5))]
    start = time.perf_counter()
    model.batch_size = 32
    vectors = model.embed(texts)
    embed_s = time.perf_counter() - start
    report["embed_all"] = {"texts": len(texts), "seconds": round(embed_s, 1),
                           "ms_per_text": round(embed_s / len(texts) * 1000, 2)}
    print(f"embedded {len(texts)} memories in {embed_s:.1f} s "
          f"({embed_s / len(texts) * 1000:.2f} ms/text, batches of 32)", flush=True)
    pre = Precomputed(texts, vectors, model)

    with tempfile.TemporaryDirectory(prefix="aegent-bench-memory-") as tmp:
        root = Path(tmp)
        if not args.skip_adds:
            for wal in (True, False):
                adds = bench_adds(root, pre, texts, (1, 64, 512), wal)
                report[f"adds_per_s_{'wal' if wal else 'default_sqlite'}"] = adds
                print(f"adds/s ({'WAL + synchronous=NORMAL' if wal else 'SQLite defaults'}), "
                      "by batch size: " + ", ".join(f"{k}: {v}" for k, v in adds.items()),
                      flush=True)
        queries = sorted(set(game_lines(args.queries * 4, seed=17, templates=QUESTIONS)))
        random.Random(1).shuffle(queries)
        queries = queries[: args.queries]
        if len(queries) < args.queries:
            print(f"note: only {len(queries)} distinct queries", flush=True)
        report["retrieval"] = []
        for layout in args.layouts.split(","):
            others = len(texts) if layout == "shared" else 0
            r = bench_retrieval(root, model, pre, texts, queries, layout, others)
            report["retrieval"].append(r)
            print(f"retrieval ({layout}, {r['memories']} memories"
                  + (f" + {others} of another agent" if others else "")
                  + f", {r['queries']} queries, k=5): median {r['median_ms']} ms, "
                  f"p90 {r['p90_ms']} ms, p99 {r['p99_ms']} ms, min {r['min_ms']} ms, "
                  f"CPU median {r['cpu_median_ms']} ms "
                  f"(query embedding alone: median {r['query_embedding_median_ms']} ms; "
                  f"build {r['build_s']} s)", flush=True)
    report["load_after"] = os.getloadavg()
    print(f"load average {report['load_after'][0]:.2f} at the end", flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
