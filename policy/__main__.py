"""Entry point of the policy pack: `pulumi preview --policy-pack policy`."""

from crossguard import stack_policies
from pulumi_policy import PolicyPack

PolicyPack(name="tenant-storage", policies=stack_policies())
