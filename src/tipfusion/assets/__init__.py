"""Files shipped inside the package: fonts vendored from npm at build time (see the Makefile)."""
