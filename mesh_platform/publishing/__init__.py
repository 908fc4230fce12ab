"""Write-audit-publish: only relations that passed their blocking checks become visible."""
