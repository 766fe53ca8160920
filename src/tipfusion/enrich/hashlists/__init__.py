"""Known-content hash lists: the unit's hash sets (CSV, Project VIC VICS JSON) imported, and every file matched.

Hashes only, never media: a VICS record's thumbnail (`Miniature`), file names, EXIF and comments are never read
into the store. A file on a list is known, circulating content (linking does not take it as evidence of a ring);
a file on no list, where lists are loaded, is new, unknown content — possibly ongoing abuse — and triage raises it.
"""
