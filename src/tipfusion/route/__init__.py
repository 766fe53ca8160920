"""Route: which station owns each suspect, and what to ask ISPs so the suspect can be named."""
