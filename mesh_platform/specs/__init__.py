"""Load and validate a domain's YAML: domain.yaml, product descriptors, ODCS contracts."""
