"""The watch-name index scores exactly what a pair-by-pair loop over its candidates scored.

Watch names: the real SDN names of 2019-01; listed names: real SDN names of 2024-05 (so most
have a candidate and many are the same party). The reference is the loop the index replaced.
"""

from __future__ import annotations

import random
from collections import Counter

from rapidfuzz import fuzz

from tests.matching.test_matcher import ofac_rows
from watcher.matching.index import NameIndex, WatchName, score_names
from watcher.matching.normalize import normalize


def reference_scores(index: NameIndex, listed_name: str, cutoff: float) -> dict[int, float]:
    """The pre-index loop: every candidate, token-sort ratio of keys and ratio of compacts."""
    listed = normalize(listed_name)
    out: dict[int, float] = {}
    for i in index.candidates(listed):
        wn = index.names[i]
        score = max(
            fuzz.token_sort_ratio(listed.key, wn.norm.key, score_cutoff=cutoff),
            fuzz.ratio(listed.compact, wn.norm.compact, score_cutoff=cutoff),
        )
        if score >= cutoff:
            out[i] = score
    return out


def real_index() -> NameIndex:
    rows = ofac_rows("ofac_sdn/moov_sdn_2019-01.csv")
    names = [WatchName(n, row[1], normalize(row[1]), False) for n, row in enumerate(rows.values())]
    return NameIndex.build(names)


def test_bulk_scores_equal_pairwise_scores_on_real_names() -> None:
    index = real_index()
    listed = [row[1] for row in ofac_rows("ofac_sdn/sdn_2024-05-03.csv").values()]
    sample = random.Random(11).sample(listed, 400)
    compared = 0
    for name in sample:
        expected = reference_scores(index, name, 73.0)
        assert index.fuzzy_scores(normalize(name), 73.0) == expected
        compared += len(expected)
    assert compared > 200  # the sample really exercises fuzzy scoring


def test_oversized_blocking_keys_are_dropped() -> None:
    index = real_index()
    assert index.block_cap == max(64, len(index.names) // 50)
    assert all(len(posting.ids) <= index.block_cap for posting in index.blocks.values())
    counts = Counter(t for wn in index.names for t in set(wn.norm.tokens))
    common, n = counts.most_common(1)[0]
    assert n > index.block_cap and f"t:{common}" not in index.blocks


def test_exact_and_normalized_hits_come_first() -> None:
    index = real_index()
    hits = score_names(index, normalize("BANCO NACIONAL DE CUBA"), 73.0)
    assert hits[0].method == "exact" and hits[0].watch.raw == "BANCO NACIONAL DE CUBA"
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))
