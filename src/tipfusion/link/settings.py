"""Everything linking decides by, in one dataclass saved with each run (`link_runs.settings`).

A unit changes it in the `[link]` table of its settings file (`tipfusion.tuning`); weights and caps are keyed by
identifier kind name (`[link.weights] phone = 9`), merged over these defaults one kind at a time."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Annotated, Any

from annotated_types import Ge, Gt, Lt

from tipfusion.normalise.registry import link_defaults

Count = Annotated[int, Ge(1)]

# The identity document an ISP names a subscriber by: the strongest evidence there is, and not an identifier kind.
ISP_EVIDENCE_WEIGHTS = {"subscriber_id": 10.0}
ISP_EVIDENCE_CAPS = {"subscriber_id": 6}


@dataclass(frozen=True)
class LinkSettings:
    # identity evidence, in bits (log2 of how much likelier a shared value is between one person's accounts than
    # between strangers'): weight of one shared value (before the frequency discount) and the cap above which
    # a value is held by too many distinct accounts to say anything (it is suppressed and listed). The defaults are
    # the identifier kinds' own (tipfusion.normalise.registry), plus what an ISP answer names (not a kind).
    weights: dict[str, float] = field(default_factory=lambda: {**link_defaults()[0], **ISP_EVIDENCE_WEIGHTS})
    caps: dict[str, Count] = field(default_factory=lambda: {**link_defaults()[1], **ISP_EVIDENCE_CAPS})
    verified_bonus: float = 1.0  # both sides' value verified by the ESP
    # real names (`tipfusion.link.names`): a shared name weighs log2(name_m / u) bits, u its share of the store's named
    # accounts, never below `same_name` nor above `name_bound` (below the threshold: a name alone never joins); a name
    # held by at most `name_cap` accounts is compared on its own, and an age agreeing with it adds up to `age_bound`
    same_name: float = 2.0  # both accounts name the same person (the least a shared name is worth)
    name_m: Annotated[float, Gt(0), Lt(1)] = 0.9  # one person's two named accounts give the same name
    name_bound: float = 4.0
    name_cap: Count = 20
    age_m: Annotated[float, Gt(0), Lt(1)] = 0.9  # one person's two stated ages lie within the tolerance
    age_bound: Annotated[float, Ge(0)] = 3.0
    age_tolerance: Annotated[int, Ge(0)] = 1  # years: ages stated a year apart may both be true
    different_name: float = -6.0  # both name a person, and never the same one
    threshold: float = 6.0  # a pair of accounts is one suspect at or above this score (bits)
    # contradictions (`tipfusion.link.evidence`): per kind, how often one person's two accounts agree on it when both
    # show one (m: a prior here, measured on the store's sure pairs below); two accounts showing the kind and sharing
    # none lose log2((1 - m) / (1 - u)) bits, u measured on the store, never more than the bound: a person with two
    # phones is common. Priors: most people keep one phone number across services (0.9), fewer one handset (0.8),
    # half reuse a display name (0.5)
    agreement_m: dict[str, Annotated[float, Ge(0), Lt(1)]] = field(
        default_factory=lambda: {"phone": 0.9, "device": 0.8, "display_name": 0.5}
    )
    disagreement_bound: Annotated[float, Ge(0)] = 4.0
    # m is measured on the store's sure pairs: accounts whose shared values of the other kinds add up to `sure_bits`
    # (two strong values), the prior counting as `agreement_prior` such pairs: a small store keeps the prior, a large
    # one measures
    sure_bits: float = 12.0
    agreement_prior: Annotated[float, Gt(0)] = 20.0
    # networks
    group_weight: float = 3.0
    recipient_weight: float = 3.0
    # one file in common. A network standing on files alone needs `min_rare_files` files no one outside it holds
    # (two strangers holding two files a handful of others hold too are no ring); a suspect joining a network through
    # a file weighs it as rare as the suspects outside the network holding it (full up to 3, nothing at `file_cap`)
    rare_file_weight: float = 1.0
    min_rare_files: Count = 2  # files alone link two suspects only from this many rare files in common
    lead_weight: float = 2.0
    # two suspects on one fixed-line address on the same day: a household is one address and maybe several people,
    # so this only adds to other evidence between them, never links them alone
    colocation_weight: float = 2.0
    colocation_cap: Count = 4
    # two suspects wrote to one account neither of them is (a ring's account the store knows only as a recipient),
    # discounted as more suspects wrote to it, nothing above the cap; like a colocation, never a link alone
    contact_weight: float = 1.5
    contact_cap: Count = 12
    group_cap: Count = 60  # a group shared by more suspects is noise (a public channel)
    file_cap: Count = 8  # a file held by more suspects is circulating material, not a ring's own
    edge_threshold: float = 2.0
    # a suspect in no network joins one through weaker ties (one file, a contact, a line) only when they reach this
    # many of its members and add up to `edge_threshold`, each value counted once however many members it reaches
    attach_members: Count = 2
    # two parts of a connected component are one network when the ties between them hold more than this many bits
    # for every pair of suspects across them (Leiden's constant Potts model, each component on its own): a message
    # (3 bits) between two rings of eight, 64 pairs, leaves them apart; between two rings of four, 16 pairs, joins
    min_density: Annotated[float, Gt(0)] = 0.1
    seed: int = 20261129

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
