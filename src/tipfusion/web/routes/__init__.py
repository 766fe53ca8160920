"""Route modules: each defines `router` (and optionally `NAV`); `web.app` includes every one it finds here."""
