"""Gatehouse domain: entities, value objects, session and token rules, ports. Standard library only."""
