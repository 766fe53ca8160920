"""The input formats `tipfusion.ingest.registry` finds: one module per format, each defining `FORMAT` (and `ORDER`)."""
