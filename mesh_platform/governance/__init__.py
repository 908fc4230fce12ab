"""Federated computational governance: global policies as code, and the breaking-change gate."""
