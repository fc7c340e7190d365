"""The lab: the whole estate on one machine. Podman networks stand in for the zones'
Neutron networks, systemd containers for the VMs, a package proxy on the host side for
the Debian archive. Everything created carries the label `io.courtcloud.lab`."""
