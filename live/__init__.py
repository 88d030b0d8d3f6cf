"""Commands that talk to the live world: AWS (check-names) and the Pulumi CLI and its backend (credentials)."""
