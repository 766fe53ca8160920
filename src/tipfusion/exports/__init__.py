"""Everything tipfusion writes for other tools: the spreadsheet writers that neutralise formulas, and the export
renderers (one per format)."""
