"""Pulumi wiring: the TenantStorage component and the program's reading of stack config."""
