"""B-cubed precision, recall and F1, and the naive baseline every correlator starts from."""

from __future__ import annotations

from collections import Counter, defaultdict

from tipfusion.link.suspects import components


def bcubed(predicted: dict[int, object], truth: dict[int, object]) -> tuple[float, float, float]:
    """Per item: precision = share of its predicted cluster that truly belongs with it; recall likewise."""
    items = [i for i in truth if i in predicted]
    if not items:
        return 0.0, 0.0, 0.0
    pair = Counter((predicted[i], truth[i]) for i in items)
    pred_size = Counter(predicted[i] for i in items)
    true_size = Counter(truth[i] for i in items)
    precision = sum(pair[(predicted[i], truth[i])] / pred_size[predicted[i]] for i in items) / len(items)
    recall = sum(pair[(predicted[i], truth[i])] / true_size[truth[i]] for i in items) / len(items)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def naive_baseline(reports: list[int], values: list[tuple[int, str, str]]) -> dict[int, int]:
    """Union of every exact shared value (MISP-style, no caps, no weights, no time): report → cluster."""
    holders: dict[tuple[str, str], list[int]] = defaultdict(list)
    for report, kind, key in values:
        holders[(kind, key)].append(report)
    return components(reports, ((rs[0], r) for rs in holders.values() for r in rs[1:]))
