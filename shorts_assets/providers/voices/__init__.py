"""Narration with word timings: espeak-ng in-process, and the HTTP voice APIs."""
