"""Readable labels for parameter keys, for figures and tables (no matplotlib here)."""

from __future__ import annotations

PARAM_LABELS = {
    "assurance": "security assurance on the table (0–1)",
    "relief": "sanctions relief on the table (0–1)",
    "detect_prob": "P(imagery catches hedging) per round",
    "false_alarm_prob": "P(false alarm) per round",
    "detection_response": "USA's urge to escalate after a detection",
    "stalemate_cost": "cost of stalemate (ripeness)",
    "rationality": "rationality (logit precision)",
    "enforcement": "sanctions enforcement (0–1)",
    "regime": "sequencing regime",
    "scenario": "scenario",
}


def axis_label(key: str) -> str:
    """A readable axis label, with units, for a parameter key."""
    return PARAM_LABELS.get(key, key.replace("_", " ").replace(".", " › "))
