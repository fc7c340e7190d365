"""Subcommands of `courtcloud`: each module defines one click command or group named
`command`, registered by `courtcloud.cli`. A module is one noun (`model`, `lab`, ...)."""
