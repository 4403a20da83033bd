"""What every HTTP adapter shares: the client policy (retries, redaction), API client construction, prices and the daily budget."""
