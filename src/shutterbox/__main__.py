"""`python -m shutterbox`: the same command as `shutterbox`."""

from shutterbox.entrypoints.cli import main

main()
