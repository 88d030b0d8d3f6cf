"""The tenant-storage policy pack: rules in `tenant_storage_rules`, the CrossGuard wiring in `crossguard`."""
