"""Pure logic of tenant-storage: naming rules, policy documents, the tenant registry and stack settings.

Nothing in this package imports Pulumi, so every rule here is unit-tested directly.
"""
