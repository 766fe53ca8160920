"""Triage: what comes first. Explicit, configurable factors, each shown with its contribution."""
