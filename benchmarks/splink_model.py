"""A competent Splink model of the same question tipfusion's suspects answer: which reports are one person.

Used by `benchmarks/link_quality.py` side by side with tipfusion (Splink is a benchmark-only dependency:
`pip install -e .[bench]`). It reads the same evidence tipfusion reads (`tipfusion.link.extract.load_input`: the
canonical values, IPs only where enrichment says they attribute a person), so the comparison is of the models, not of
the extraction:

- one record per report; arrays for emails, phones, devices, profile URLs, cited reports, CGNAT address+port+second;
- array-overlap comparisons for those; home lines (fixed IPs and IPv6 /64s) with a rare-line level (a line held by
  at most 3 accounts) above the any-line level;
- the ESP account exactly; the real name, screen and display names exactly with term-frequency adjustment;
- u by random sampling, m by EM (blocked on the account, then on the name), λ from the account as a deterministic rule;
- the match-weight threshold chosen on a calibration batch (another seed), never on the batch scored.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from sqlalchemy import Engine

from tipfusion.link.extract import load_input

ARRAYS = {
    "emails": ("email",),
    "phones": ("phone",),
    "devices": ("device",),
    "urls": ("url",),
    "cited": ("prior_report",),
    "cgnat": ("ip_cgnat_port",),
    "lines": ("ip_fixed", "ip_v6_prefix"),
}
SCALARS = {"esp_user": "esp_user", "screen_name": "screen_name", "display_name": "display_name"}
RARE_LINE = 3  # a home line held by at most this many accounts
THRESHOLDS = [float(w) for w in range(-10, 21, 2)]  # match weights tried on the calibration batch


def records(engine: Engine) -> list[dict[str, Any]]:
    """One row per report, missing values as NULL (Splink's null level)."""
    with engine.connect() as conn:
        data = load_input(conn)
    values: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for report, kind, key in data.identity:
        values[report][kind].add(key)
    for report in data.reports:  # its own number, which linking's input now holds only where another report cites it
        values[report]["prior_report"].add(str(report))
    accounts_on: dict[str, set[str]] = defaultdict(set)
    for report, kind, key in data.identity:
        if kind in ARRAYS["lines"]:
            accounts_on[key].add(min(values[report]["esp_user"], default=str(report)))
    rows = []
    for report in data.reports:
        held = values[report]
        row: dict[str, Any] = {"unique_id": report}
        for column, kinds in ARRAYS.items():
            found = sorted(set().union(*(held[k] for k in kinds)))
            row[column] = found or None
        rare = [line for line in row["lines"] or () if len(accounts_on[line]) <= RARE_LINE]
        row["rare_lines"] = rare or None
        for column, kind in SCALARS.items():
            row[column] = min(held[kind]) if held[kind] else None
        names = sorted(f"{first} {last}" for first, last in data.names.get(report, ()))
        row["full_name"] = names[0] if names else None
        rows.append(row)
    return rows


def _linker(rows: list[dict[str, Any]]) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    arrays = [c for c in ARRAYS if c != "lines"]
    lines = cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel("lines"),
            cll.ArrayIntersectLevel("rare_lines", min_intersection=1),
            cll.ArrayIntersectLevel("lines", min_intersection=1),
            cll.ElseLevel(),
        ],
        output_column_name="lines",
    )
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.ExactMatch("esp_user"),
            *(cl.ArrayIntersectAtSizes(c, [1]) for c in arrays),
            lines,
            cl.ExactMatch("full_name").configure(term_frequency_adjustments=True),
            cl.ExactMatch("screen_name").configure(term_frequency_adjustments=True),
            cl.ExactMatch("display_name").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("esp_user"),
            *(block_on(c, arrays_to_explode=[c]) for c in [*arrays, "lines"]),
            block_on("full_name"),
            block_on("screen_name"),
            block_on("display_name"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    db = DuckDBAPI()
    linker = Linker(db.register(rows), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match([block_on("esp_user")], recall=0.5)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    for rule in (block_on("esp_user"), block_on("full_name")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule, record_sample_proportion=1.0)
    return linker


def predictions(rows: list[dict[str, Any]]) -> Any:
    """The trained model's scored pairs (everything above a low weight): cluster them at any threshold."""
    linker = _linker(rows)
    return linker, linker.inference.predict(threshold_match_weight=min(THRESHOLDS))


def clusters(linker: Any, predicted: Any, threshold: float) -> dict[int, int]:
    """Report → Splink's cluster at this match weight."""
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(predicted, threshold_match_weight=threshold)
    return {int(r["unique_id"]): hash(r["cluster_id"]) for r in clustered.as_record_list()}
