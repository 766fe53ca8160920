"""tipfusion: turn CyberTipline reports into suspects, networks and referrals — metadata only, offline."""

__version__ = "0.1.0"
