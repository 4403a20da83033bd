"""The loop's software-defined assets, one module each."""
