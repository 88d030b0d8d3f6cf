"""Running the real program without AWS credentials or the Pulumi CLI, under the SDK's mock monitor."""
