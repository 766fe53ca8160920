"""Synthetic tips with planted ground truth, for tests, benchmarks and the demo. Metadata only."""

from tipfusion.synth.generate import GenerateResult, generate

__all__ = ["GenerateResult", "generate"]
