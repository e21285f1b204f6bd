"""The detection AI: laws, shipped weights, matching, truth (a package: its module names
must not clash with tests/ai/)."""
