"""Asset checks: blocking quality gates on what the loop produces."""
