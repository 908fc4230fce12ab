"""`mesh`: the platform's command line."""
