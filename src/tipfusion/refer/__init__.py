"""Refer: packages a station can act on — for a suspect or a network — with a manifest that proves them unaltered.

The stage's entry points are in `tipfusion.refer.service`; this package imports nothing itself, so a command that
reads one dossier helper does not load the PDF, Word and Excel writers.
"""
