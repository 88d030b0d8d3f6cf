"""What the project knows about each resource type it declares, in one place.

`resource_types` holds the data (plain Python: no Pulumi, no boto3): per type its inputs, which of them
force a replacement, whether it holds or unlocks data, what `audit` calls it, and the AWS API actions the
provider calls for it. Every consumer reads it: the offline plan refuses a type it lacks, the review's
diff and effects take replacements and data loss from it, the emulator's replay and `audit` read each
type back with its reader (`catalogue.readers`), and the CI roles are derived from its actions.
"""

from catalogue.resource_types import (
    COMPONENT_TYPES,
    RESOURCE_TYPES,
    ResourceType,
    UnknownResourceType,
    resource_type,
)

__all__ = ["COMPONENT_TYPES", "RESOURCE_TYPES", "ResourceType", "UnknownResourceType", "resource_type"]
