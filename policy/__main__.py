"""Entry point of the policy pack: `pulumi preview --policy-pack policy`."""

from crossguard import policies
from pulumi_policy import PolicyPack

PolicyPack(name="tenant-storage", policies=policies())
