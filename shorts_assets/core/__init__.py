"""Value types, Protocols, arms, errors, clock and credential lookup: imported by everything, importing nothing of the project."""
