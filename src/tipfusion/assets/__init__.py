"""Files shipped inside the package: the PDF fonts (Noto Sans, Noto Sans Devanagari; OFL, see fonts/README.txt)."""
