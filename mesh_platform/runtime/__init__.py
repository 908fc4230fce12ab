"""What keeps runs safe at run time: one writer per domain, and recovery from dead runs."""
