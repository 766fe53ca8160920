"""Documents the unit sends: fonts that render Hindi, Word styling, PDFs, and sealed (BagIt) packages a recipient can
verify with common tools (`fonts`, `render`, `blocks`, `manifest`, `staging`). The package imports nothing itself: a
command that checks a manifest does not load the Word and PDF writers."""
