"""Assets of the publish group: one publications asset per platform."""
