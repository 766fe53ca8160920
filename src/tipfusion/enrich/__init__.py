"""Enrich: who operates each IP and can they name the subscriber; what each phone and email is. Offline."""
