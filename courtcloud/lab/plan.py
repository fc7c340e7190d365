"""What the lab is made of, derived from the site model alone (no podman needed):
one internal network per zone of each site, one systemd container per host."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import uuid
from dataclasses import dataclass

from ..model import Estate, HostRole, Site, estate_hosts, gateway
from ..model.addressing import site_hosts
from .podman import LABEL, RECIPE

BASE_IMAGE = "localhost/courtcloud/base:bookworm"
HOST_IMAGE = "localhost/courtcloud/host:bookworm"
# What every lab server boots: the host image with the packages all servers' roles install,
# baked by those roles (playbooks/server-image.yml).
SERVER_IMAGE = "localhost/courtcloud/server:bookworm"
PROXY_NAME = "courtcloud-apt-proxy"  # the name hosts use for the package proxy
PROXY_PORT = 3142


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    site: str
    zone: str
    subnet: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address
    estate: str

    @property
    def recipe(self) -> str:
        return _digest([str(self.subnet), str(self.gateway)])

    def create_args(self) -> list[str]:
        # --internal: no route out of the lab, as on a court intranet.
        return ["network", "create", "--internal", "--driver", "bridge",
                "--subnet", str(self.subnet), "--gateway", str(self.gateway),
                "--label", f"{LABEL}={self.estate}", "--label", f"{RECIPE}={self.recipe}",
                "--label", f"io.courtcloud.site={self.site}",
                "--label", f"io.courtcloud.zone={self.zone}", self.name]


@dataclass(frozen=True)
class HostSpec:
    container: str
    hostname: str
    site: str
    pool: str
    roles: tuple[str, ...]
    home_zone: str
    networks: tuple[tuple[str, str], ...]  # (network name, address), home zone first
    zone_addresses: tuple[tuple[str, str], ...]  # (zone name, address), the same order
    hosts_entries: tuple[tuple[str, str], ...]  # (name, address) written to /etc/hosts
    memory_mb: int
    estate: str
    image: str = SERVER_IMAGE

    @property
    def address(self) -> str:
        return self.networks[0][1]

    @property
    def machine_id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.hostname}.{self.estate}.lab"))

    def _spec_args(self) -> list[str]:
        args = ["--name", self.container, "--hostname", self.hostname,
                "--label", f"{LABEL}={self.estate}",
                "--label", f"io.courtcloud.site={self.site}",
                "--systemd", "always", "--stop-signal", "SIGRTMIN+3",
                "--memory", f"{self.memory_mb}m",
                # systemd takes the machine id from container_uuid; otherwise every host would
                # share the one it derives from this machine.
                "--env", f"container_uuid={self.machine_id}",
                # Firewalls and routes are per network namespace, so hosts may manage their own;
                # AIDE reads every file with DAC_READ_SEARCH. Not SYS_TIME nor AUDIT_CONTROL:
                # the clock and the kernel's audit rules are the machine's, shared by every host.
                "--cap-add", ",".join(self.capabilities),
                "--tmpfs", "/tmp", "--tmpfs", "/run", "--tmpfs", "/run/lock"]
        for network, address in self.networks:
            # A fixed MAC per address, as a VM's port keeps its own: a host remade (by `lab
            # up`, a drill) is found again at once by every neighbour's ARP cache.
            args += ["--network", f"{network}:ip={address},mac={mac_address(address)}"]
        for name, address in self.hosts_entries:
            args += ["--add-host", f"{name}:{address}"]
        return args

    @property
    def capabilities(self) -> tuple[str, ...]:
        caps = ("AUDIT_WRITE", "NET_ADMIN", "DAC_READ_SEARCH")
        if "edge" in self.roles:
            caps += ("NET_RAW",)  # VRRP and gratuitous ARP for the site's entry (keepalived)
        return caps

    @property
    def recipe(self) -> str:
        """A digest of everything the container is made with, but the image (tracked apart)."""
        return _digest(self._spec_args())

    def run_args(self, image_id: str) -> list[str]:
        return ["run", "-d", "--label", f"{RECIPE}={self.recipe}",
                "--label", f"io.courtcloud.image={image_id}", *self._spec_args(),
                self.image, "/sbin/init"]


@dataclass(frozen=True)
class BenchSpec:
    """The network role tests (molecule) run on: internal, routed nowhere, with the package
    proxy at its gateway. A tiny anchor container keeps its bridge, and so the gateway
    address the proxy listens on, up while no test runs."""

    network: NetworkSpec
    anchor: str
    anchor_address: str

    @property
    def recipe(self) -> str:
        return _digest([self.network.recipe, self.anchor_address, HOST_IMAGE])

    def run_args(self) -> list[str]:
        return ["run", "-d", "--name", self.anchor, "--hostname", self.anchor,
                "--label", f"{LABEL}={self.network.estate}",
                "--label", f"{RECIPE}={self.recipe}", "--memory", "32m",
                "--network", f"{self.network.name}:ip={self.anchor_address}",
                HOST_IMAGE, "sh", "-c", "trap exit TERM; while :; do sleep 3600 & wait; done"]


@dataclass(frozen=True)
class LabPlan:
    estate: str
    networks: tuple[NetworkSpec, ...]
    hosts: tuple[HostSpec, ...]
    bench: BenchSpec | None = None

    @property
    def all_networks(self) -> tuple[NetworkSpec, ...]:
        return self.networks + ((self.bench.network,) if self.bench else ())

    def network_for(self, site: str, zone: str) -> NetworkSpec:
        return next(n for n in self.networks if n.site == site and n.zone == zone)


def mac_address(address: str) -> str:
    """A locally administered unicast MAC that carries the IPv4 address (02:cc:a.b.c.d)."""
    octets = [int(o) for o in str(address).split(".")]
    return ":".join(["02", "cc", *(f"{o:02x}" for o in octets)])


def network_name(site: str, zone: str) -> str:
    return f"cc-{site}-{zone}"


# A lab host gets the memory its flavor asks for, capped: the whole lab must fit one machine.
LAB_MEMORY_CAP_MB = 2048


def lab_plan(estate: Estate) -> LabPlan:
    networks = tuple(
        NetworkSpec(network_name(site.name, zone.name), site.name, zone.name, zone.cidr,
                    gateway(zone), estate.name)
        for site in estate.sites for zone in site.zones
    )
    hosts = estate_hosts(estate)
    # Names resolve across every network of the lab: short name and FQDN, home address.
    entries: list[tuple[str, str]] = []
    for host in hosts:
        entries += [(host.name, str(host.address)),
                    (host.fqdn(estate.court.domain), str(host.address))]
    zones = {(s.name, z.name): z for s in estate.sites for z in s.zones}
    services = {site.name: service_entries(estate, site) for site in estate.sites}
    specs = []
    for host in hosts:
        home = zones[(host.site, host.home_zone)]
        own = [(PROXY_NAME, str(gateway(home)))]
        if HostRole.k8s_worker in host.roles:
            own += services[host.site]
        specs.append(HostSpec(
            container=f"cc-{host.name}", hostname=host.name, site=host.site, pool=host.pool,
            roles=tuple(str(r) for r in host.roles), home_zone=host.home_zone,
            networks=tuple((network_name(host.site, z), str(a)) for z, a in host.addresses.items()),
            zone_addresses=tuple((z, str(a)) for z, a in host.addresses.items()),
            hosts_entries=tuple(own + entries),
            memory_mb=min(host.flavor.memory_gb * 1024, LAB_MEMORY_CAP_MB),
            estate=estate.name))
    bench = None
    if estate.lab:
        cidr = estate.lab.bench_cidr
        bench = BenchSpec(
            NetworkSpec(f"cc-{estate.name}-bench", "bench", "bench", cidr, cidr[1], estate.name),
            anchor=f"cc-{estate.name}-bench", anchor_address=str(cidr[2]))
    return LabPlan(estate.name, networks, tuple(specs), bench)


def service_entries(estate: Estate, site: Site) -> list[tuple[str, str]]:
    """Names the apps' pods on a site's workers resolve (pods share their worker's
    /etc/hosts). A Service of the site (`<app>.<namespace>.svc`) is the replica on the same
    worker, at its loopback: every app runs one replica per worker, so the node-local one is
    always there (a cluster's kube-proxy with a node-local policy does the same). Another
    site's app (`<app>.<site>.<court domain>`) is that site's first worker's ingress."""
    from ..charts import chart_path, namespace_name, site_service_name

    entries = [(f"{app.name}.{namespace_name(app)}.svc", "127.0.0.1")
               for app in site.apps if chart_path(app) is not None]
    for other in estate.sites:
        clusters = {k.name: k for k in other.kubernetes}
        if other.name == site.name:
            continue
        for app in other.apps:
            cluster = clusters.get(app.cluster)
            if cluster is None or chart_path(app) is None:
                continue
            pool = other.pool(cluster.worker_pool)
            first = next(h for h in site_hosts(other) if h.pool == pool.name)
            entries.append((site_service_name(str(app.name), other, estate),
                            str(first.addresses[pool.home_zone])))
    return entries
