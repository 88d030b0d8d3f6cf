"""Reviewing a change offline: the plan of each stack, its diff against a git revision, and its renderings."""
