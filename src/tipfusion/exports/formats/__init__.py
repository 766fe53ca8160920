"""One module per export format, each defining `RENDERER` (see `tipfusion.exports.registry`)."""
