"""Pure logic of tenant-storage: naming rules, policy documents, the tenant registry and stack settings.

Nothing in this package imports Pulumi, so every rule here is unit-tested directly.
"""

# What `--stack` takes for every stack, so never the name of one: here, where the command line can read it
# without loading the rest.
ALL_STACKS = "all"
