"""Contracts as checks: ODCS -> check specs -> pandera (ibis backend) -> outcomes."""
