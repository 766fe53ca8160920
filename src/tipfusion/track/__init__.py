"""Track: the case each referral opens, from acknowledgement to FIR, arrest, chargesheet and closure; operations."""
