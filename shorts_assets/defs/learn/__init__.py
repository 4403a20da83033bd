"""Assets of the learn group: metrics, comments and strategy."""
