"""PDQ near matching: every (file, list entry) pair within Hamming distance 31 of 256 bits, exactly.

Multi-index hashing (Norouzi et al.) with the flexible pigeonhole principle: cut the 256 bits into m chunks and give
chunk i a radius t_i. If two hashes differ in at most d bits and every chunk differed in more than t_i bits, they
would differ in at least Σ(t_i + 1) bits; so when Σ(t_i + 1) > d, some chunk is within its radius, and probing
each chunk's table with every value within t_i of the query's chunk finds every pair (candidates are then checked
on all 256 bits). Nothing is approximate.

For large banks the layout (`DEFAULT`) cuts each 64-bit word into 22 + 21 + 21 bits (12 chunks, no chunk crosses
a word) with radius 2 on eight chunks and 1 on four: Σ(t_i + 1) = 32 > 31. Per query that is about 2,000 table
probes and, against a bank of 1 M random hashes, about 760 candidates. The layouts the brief suggested cost more
there: 8 chunks of 32 bits at radius 3 probe 43,912 values per query; 16 chunks of 16 bits at radius 1 probe 272
but check about 4,400 candidates (for a small bank, where few candidates share a 16-bit chunk, that layout is the
cheaper one and `choose` takes it). `benchmarks/hashlists.py` measures all three and brute force.

Memory is bounded: one chunk's table at a time (2^22 + 1 offsets, 16 MB, plus the bank's order, 4 bytes a hash),
the bank and queries (32 bytes a hash), and the probes of one block of queries (`work` keys, 8 bytes each, a few
arrays of that size).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

RADIUS = 31
Hashes = npt.NDArray[np.uint64]  # (n, 4): the 256 bits as four big-endian 64-bit words


@dataclass(frozen=True, slots=True)
class Chunk:
    word: int  # which 64-bit word
    shift: int  # the chunk is (word >> shift) & (2**bits - 1)
    bits: int
    radius: int  # probe every value within this many bits


def _layout(widths: Sequence[int], radii: Sequence[int]) -> tuple[Chunk, ...]:
    chunks: list[Chunk] = []
    for word in range(4):
        shift = 64
        for width in widths:
            shift -= width
            chunks.append(Chunk(word, shift, width, 0))
    return tuple(Chunk(c.word, c.shift, c.bits, r) for c, r in zip(chunks, radii, strict=True))


# 12 chunks of 22/21/21 bits: radius 2 on the 22-bit chunks and on one 21-bit chunk a word, 1 on the other
DEFAULT = _layout((22, 21, 21), (2, 2, 1) * 4)
# the alternatives the benchmark compares against
EIGHT_BY_32 = _layout((32, 32), (3, 3) * 4)
SIXTEEN_BY_16 = _layout((16, 16, 16, 16), (1, 1, 1, 1) * 4)


def estimated_ns(layout: Sequence[Chunk], queries: int, bank: int) -> float:
    """A rough cost model, fitted on this matcher: table slots and bank sort per chunk, then per query a random probe
    per pattern (≈ 60 ns) and a 256-bit check per candidate (≈ 300 ns; candidates ≈ probes × bank / 2^bits)."""
    total = 0.0
    for chunk in layout:
        probes = queries * sum(math.comb(chunk.bits, i) for i in range(chunk.radius + 1))
        total += (1 << chunk.bits) * 20 + bank * 150 + probes * (60 + 300 * bank / (1 << chunk.bits))
    return total


def choose(queries: int, bank: int) -> tuple[Chunk, ...]:
    """The cheapest exact layout for these sizes: 12 chunks for large banks, 16 small ones for small banks."""
    return min((DEFAULT, SIXTEEN_BY_16, EIGHT_BY_32), key=lambda layout: estimated_ns(layout, queries, bank))


def is_exact(layout: Sequence[Chunk], radius: int = RADIUS) -> bool:
    """The pigeonhole condition: every pair within `radius` shares a chunk within that chunk's radius."""
    return sum(c.radius + 1 for c in layout) > radius and sum(c.bits for c in layout) == 256


def from_hex(values: Iterable[str]) -> Hashes:
    """64-hex-digit PDQ hashes → (n, 4) uint64 (raises ValueError on anything else)."""
    joined = "".join(values)
    if len(joined) % 64:
        raise ValueError("a PDQ hash is 64 hex digits")
    return np.frombuffer(bytes.fromhex(joined), dtype=">u8").astype(np.uint64).reshape(-1, 4)


def popcount(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """Set bits per row of 64-bit words (numpy ≥ 2 has it built in; older numpy counts bytes)."""
    if hasattr(np, "bitwise_count"):
        counted: npt.NDArray[np.int64] = np.bitwise_count(words).sum(axis=-1, dtype=np.int64)
        return counted
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
    by_byte: npt.NDArray[np.int64] = table[words.view(np.uint8)].reshape(*words.shape[:-1], -1).sum(axis=-1)
    return by_byte


def _patterns(bits: int, radius: int) -> npt.NDArray[np.int64]:
    out = [0]
    for flips in range(1, radius + 1):
        out.extend(sum(1 << b for b in combo) for combo in combinations(range(bits), flips))
    return np.array(out, dtype=np.int64)


def _chunk(hashes: Hashes, chunk: Chunk) -> npt.NDArray[np.int64]:
    return ((hashes[:, chunk.word] >> np.uint64(chunk.shift)) & np.uint64((1 << chunk.bits) - 1)).astype(np.int64)


class _Table:
    """One chunk of the bank, for lookups by value: dense offsets up to 24 bits, a sorted array above."""

    def __init__(self, values: npt.NDArray[np.int64], bits: int):
        index = np.int32 if len(values) < 2**31 else np.int64
        self.order = np.argsort(values, kind="stable").astype(index)
        self.dense = bits <= 24
        if self.dense:  # offsets of each value's run in `order`: one 4-byte gather per probe, mostly cached
            self.offsets = np.zeros((1 << bits) + 1, dtype=index)
            np.cumsum(np.bincount(values, minlength=1 << bits), out=self.offsets[1:])
        else:
            self.sorted = values[self.order]

    def ranges(self, keys: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        if self.dense:
            lo = self.offsets.take(keys)
            return lo.astype(np.int64), self.offsets.take(keys + 1).astype(np.int64)
        return np.searchsorted(self.sorted, keys, "left"), np.searchsorted(self.sorted, keys, "right")


def near_pairs(
    queries: Hashes,
    bank: Hashes,
    radius: int = RADIUS,
    layout: Sequence[Chunk] | None = None,
    work: int = 1 << 21,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(query index, bank index, distance) of every pair within `radius` bits, sorted, each pair once.

    `layout` None: the cheapest for these sizes (`choose`); any layout given must be exact for `radius`."""
    layout = choose(len(queries), len(bank)) if layout is None else layout
    if not is_exact(layout, radius):
        raise ValueError(f"layout does not guarantee every pair within {radius} bits is found")
    empty = np.zeros(0, dtype=np.int64)
    if len(queries) == 0 or len(bank) == 0:
        return empty, empty, empty
    found_q: list[npt.NDArray[np.int64]] = []
    found_b: list[npt.NDArray[np.int64]] = []
    for chunk in layout:
        table = _Table(_chunk(bank, chunk), chunk.bits)
        patterns = _patterns(chunk.bits, chunk.radius)
        query_values = _chunk(queries, chunk)
        block = max(1, work // len(patterns))
        for start in range(0, len(queries), block):
            values = query_values[start : start + block]
            keys = (values[:, None] ^ patterns[None, :]).ravel()
            lo, hi = table.ranges(keys)
            counts = hi - lo
            hit = np.flatnonzero(counts)
            if len(hit) == 0:
                continue
            lo, counts = lo[hit], counts[hit]
            total = int(counts.sum())
            # CSR expansion: for each probe that hit, every bank position in its range
            starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
            positions = starts + np.arange(total, dtype=np.int64)
            q = np.repeat(hit // len(patterns), counts) + start
            b = table.order[positions].astype(np.int64)
            close = popcount(queries[q] ^ bank[b]) <= radius
            found_q.append(q[close])
            found_b.append(b[close])
    if not found_q:
        return empty, empty, empty
    pair = np.unique(np.concatenate(found_q) * len(bank) + np.concatenate(found_b))
    q_idx, b_idx = pair // len(bank), pair % len(bank)
    return q_idx, b_idx, popcount(queries[q_idx] ^ bank[b_idx])


def brute_pairs(
    queries: Hashes, bank: Hashes, radius: int = RADIUS, block: int = 1 << 22
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The same answer by comparing every pair (the reference, and the baseline the benchmark prints)."""
    found_q, found_b, found_d = [], [], []
    rows = max(1, block // max(1, len(bank)))
    for start in range(0, len(queries), rows):
        part = queries[start : start + rows]
        distance = popcount(part[:, None, :] ^ bank[None, :, :])
        q, b = np.nonzero(distance <= radius)
        found_q.append(q + start)
        found_b.append(b)
        found_d.append(distance[q, b])
    if not found_q:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return (
        np.concatenate(found_q).astype(np.int64),
        np.concatenate(found_b).astype(np.int64),
        np.concatenate(found_d).astype(np.int64),
    )
