#!/usr/bin/python3
"""Ansible module: ensure a Ceph pool (replica count, placement groups, application) through
the rados binding's mon_command, with JSON in and out. Runs on a host with the admin keyring."""

from __future__ import annotations

import json

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: ceph_pool
short_description: Ensure a replicated Ceph pool through rados mon_command
description:
  - Creates the pool if missing, sets size and min_size, and enables an application on it.
options:
  name: {description: Pool name., type: str, required: true}
  size: {description: Replicas kept of each object., type: int, required: true}
  min_size: {description: Replicas needed to serve I/O (default size - size // 2)., type: int}
  pg_num: {description: Placement groups of a new pool., type: int, default: 8}
  application: {description: Application tag (rbd, rgw, cephfs)., type: str}
  cluster: {description: Cluster name., type: str, default: ceph}
"""


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "size": {"type": "int", "required": True},
            "min_size": {"type": "int"},
            "pg_num": {"type": "int", "default": 8},
            "application": {"type": "str"},
            "cluster": {"type": "str", "default": "ceph"},
        },
        supports_check_mode=True,
    )
    try:
        import rados  # Debian's python3-rados, for /usr/bin/python3
    except ImportError:
        module.fail_json(msg="python3-rados is not installed for this interpreter; "
                             "install it or set ansible_python_interpreter=/usr/bin/python3")
    p = module.params
    size = p["size"]
    min_size = p["min_size"] or max(1, size - size // 2)
    changes: list[str] = []

    conf = f"/etc/ceph/{p['cluster']}.conf"
    with rados.Rados(conffile=conf, name="client.admin",
                     conf={"keyring": f"/etc/ceph/{p['cluster']}.client.admin.keyring"}) as cluster:

        def command(prefix: str, **args) -> object:
            ret, out, err = cluster.mon_command(
                json.dumps({"prefix": prefix, "format": "json", **args}), b"", timeout=60)
            if ret != 0:
                module.fail_json(msg=f"ceph {prefix} {args} failed ({ret}): {err}")
            return json.loads(out) if out else None

        pools = {pool["pool_name"]: pool for pool in command("osd pool ls", detail="detail")}
        current = pools.get(p["name"])
        if current is None:
            changes.append("created")
            if not module.check_mode:
                command("osd pool create", pool=p["name"], pg_num=p["pg_num"],
                        pgp_num=p["pg_num"], pool_type="replicated")
                current = {pool["pool_name"]: pool
                           for pool in command("osd pool ls", detail="detail")}[p["name"]]
        if current is not None:
            if current["size"] != size:
                changes.append(f"size {current['size']} -> {size}")
                if not module.check_mode:
                    extra = {"yes_i_really_mean_it": True} if size == 1 else {}
                    command("osd pool set", pool=p["name"], var="size", val=str(size), **extra)
            if current["min_size"] != min_size:
                changes.append(f"min_size {current['min_size']} -> {min_size}")
                if not module.check_mode:
                    command("osd pool set", pool=p["name"], var="min_size", val=str(min_size))
            apps = current.get("application_metadata", {})
            if p["application"] and p["application"] not in apps:
                changes.append(f"application {p['application']}")
                if not module.check_mode:
                    command("osd pool application enable", pool=p["name"], app=p["application"],
                            yes_i_really_mean_it=True)
    module.exit_json(changed=bool(changes), changes=changes, pool=p["name"], size=size,
                     min_size=min_size)


if __name__ == "__main__":
    main()
