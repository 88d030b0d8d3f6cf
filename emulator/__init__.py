"""The AWS emulator holding exactly what a stack declares: the replay of an offline plan, and the third-party
security scan (Prowler) run against it."""
