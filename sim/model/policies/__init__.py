"""Decision policies, registered by name (see ``docs/model.md`` §7.3)."""

POLICIES = ("logit", "tit_for_tat", "grit", "scripted")
