"""Route: which station owns each suspect (`service`: gather evidence, decide, store; `routing`: the pure rule)."""
