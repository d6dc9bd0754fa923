"""Use cases: orchestrate the domain through its ports, one transaction each."""
