"""The benchmarks: modules run from the repository root as `python -m bench.<name>`."""
