"""`python -m accountwatch.flows.cli`: the command line."""

from accountwatch.flows.cli import main

main()
