"""Synthetic tips with planted ground truth, for tests, benchmarks and the demo. Metadata only."""

from tipfusion.synth.generate import GenerateResult, generate
from tipfusion.synth.world import Noise

__all__ = ["GenerateResult", "Noise", "generate"]
