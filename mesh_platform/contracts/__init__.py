"""Contracts as checks: ODCS -> check specs -> pandera (ibis backend) -> outcomes.

`model` (CheckSpec, Threshold, CheckOutcome, Status), `registry` (one RuleKind per rule),
`compiler` (ODCS -> specs), `measure`, `judge`, `explain`, `runner` (the three in order),
`bigquery` (the same checks as BigQuery SQL), `sql_rules` / `sql_sandbox` (`type: sql`),
`pandera_schemas` (the row-by-row reference form the fast path is tested against).
"""
