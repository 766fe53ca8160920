"""Link: reports into suspects (entity resolution) and suspects into networks, with every link explained.

Stages, each a function over plain records: extract (store → evidence keys) → suspects (weighted,
frequency-aware evidence between accounts) → networks (a weighted suspect graph, Leiden communities) →
identities (stable IDs) → store. The settings used are saved with every run.
"""
