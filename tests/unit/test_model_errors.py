"""Bad stack files: every problem names the file, the line, the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from courtcloud.model import ModelError, validate_file


def problems_of(path: Path) -> list:
    with pytest.raises(ModelError) as caught:
        validate_file(path)
    return caught.value.problems


def only(problems: list, field: str):
    matching = [p for p in problems if p.field == field]
    assert matching, f"no problem at {field}: {[str(p) for p in problems]}"
    return matching[0]


def site(config: dict) -> dict:
    return config["courtcloud:sites"][0]


def test_the_project_stacks_are_valid(project_copy):
    for name in ("Pulumi.primary.yaml", "Pulumi.standby.yaml", "Pulumi.miyun.yaml",
                 "Pulumi.lab.yaml"):
        estate = validate_file(project_copy / name)
        assert estate.sites


def test_overlapping_cidrs_across_sites(edit_stack):
    def overlap(config):
        site(config)["zones"][1]["cidr"] = "10.10.0.0/22"  # standby app onto primary edge

    path = edit_stack("Pulumi.standby.yaml", overlap)
    problem = only(problems_of(path), "courtcloud:sites[0].zones[1].cidr")
    assert problem.file == "Pulumi.standby.yaml"
    assert "overlaps 10.10.0.0/22 of primary/edge" in problem.message
    assert problem.line is not None
    assert "address range" in problem.fix


def test_zone_used_but_not_defined(edit_stack):
    path = edit_stack("Pulumi.primary.yaml",
                      lambda c: site(c)["computePools"][0].update(zones=["mgmt", "dmz"]))
    problem = only(problems_of(path), "courtcloud:sites[0].computePools[0].zones[1]")
    assert "zone 'dmz' is used but not defined" in problem.message
    assert "mgmt" in problem.fix  # lists the zones that exist


def test_app_on_a_site_without_a_cluster(edit_stack):
    def no_cluster(config):
        site(config)["kubernetes"] = []

    path = edit_stack("Pulumi.miyun.yaml", no_cluster)
    problem = only(problems_of(path), "courtcloud:sites[0].apps[0].cluster")
    assert "has no Kubernetes cluster" in problem.message


def test_app_on_an_unknown_cluster(edit_stack):
    path = edit_stack("Pulumi.primary.yaml",
                      lambda c: site(c)["apps"][0].update(cluster="nowhere"))
    problem = only(problems_of(path), "courtcloud:sites[0].apps[0].cluster")
    assert "'nowhere' is not defined" in problem.message
    assert "primary-k8s" in problem.fix


def test_replicas_below_the_level(edit_stack):
    path = edit_stack("Pulumi.primary.yaml", lambda c: site(c)["apps"][1].update(replicas=1))
    problem = only(problems_of(path), "courtcloud:sites[0].apps[1].replicas")
    assert "level 3 demands at least 2" in problem.message
    assert problem.fix == "set replicas to 2 or more"


def test_replicas_may_be_one_at_level_two(edit_stack):
    def level_two(config):
        config["courtcloud:securityLevel"] = 2
        site(config)["apps"][1]["replicas"] = 1

    for name in ("Pulumi.standby.yaml", "Pulumi.miyun.yaml"):
        edit_stack(name, lambda c: c.update({"courtcloud:securityLevel": 2}))
    path = edit_stack("Pulumi.primary.yaml", level_two)
    assert validate_file(path).security_level == 2


def test_redundant_role_with_one_host(edit_stack):
    path = edit_stack("Pulumi.primary.yaml",
                      lambda c: site(c)["computePools"][9].update(count=1))  # database
    problem = only(problems_of(path), "courtcloud:sites[0].computePools[9].count")
    assert "'database'" in problem.message and "at least 2" in problem.message


def test_unencrypted_storage(edit_stack):
    path = edit_stack("Pulumi.primary.yaml",
                      lambda c: site(c)["storagePools"][0].update(encrypted=False))
    problem = only(problems_of(path), "courtcloud:sites[0].storagePools[0].encrypted")
    assert "8.1.4.8" in problem.message


def test_backup_target_must_be_a_dr_site(edit_stack):
    path = edit_stack("Pulumi.primary.yaml",
                      lambda c: site(c)["backup"].update(targetSite="standby"))
    problem = only(problems_of(path), "courtcloud:sites[0].backup.targetSite")
    assert "role standby, not dr" in problem.message


def test_peer_site_must_exist(edit_stack):
    path = edit_stack("Pulumi.primary.yaml",
                      lambda c: site(c)["replication"]["database"].update(peerSite="tianjin"))
    problem = only(problems_of(path), "courtcloud:sites[0].replication.database.peerSite")
    assert "'tianjin' is not defined" in problem.message


def test_internet_may_reach_only_the_edge(edit_stack):
    added = []

    def open_database(config):
        flows = site(config)["flows"]
        added.append(len(flows))
        flows.append(
            {"name": "oops", "source": "internet", "destination": "database", "ports": [5432]})

    path = edit_stack("Pulumi.primary.yaml", open_database)
    problem = only(problems_of(path), f"courtcloud:sites[0].flows[{added[0]}].source")
    assert "may not reach 'database'" in problem.message


def test_exchange_gateway_needs_both_sides(edit_stack):
    def drop_intranet(config):
        zones = site(config)["zones"]
        site(config)["zones"] = [z for z in zones if z["kind"] != "exchange-intranet"]
        for pool in site(config)["computePools"]:
            pool["zones"] = [z for z in pool["zones"] if z != "exch-intra"] or ["app"]

    path = edit_stack("Pulumi.primary.yaml", drop_intranet)
    problem = only(problems_of(path), "courtcloud:sites[0].zones")
    assert "no exchange-intranet zone" in problem.message


def test_zone_too_small_for_its_hosts(edit_stack):
    path = edit_stack("Pulumi.primary.yaml",
                      lambda c: site(c)["zones"][1].update(cidr="10.10.4.0/26"))
    problem = only(problems_of(path), "courtcloud:sites[0].zones[1].cidr")
    assert "holds 53 hosts" in problem.message


def test_cidr_with_host_bits_is_named(edit_stack):
    path = edit_stack("Pulumi.primary.yaml",
                      lambda c: site(c)["zones"][0].update(cidr="10.10.0.5/22"))
    problem = only(problems_of(path), "courtcloud:sites[0].zones[0].cidr")
    assert "not a network address" in problem.message


def test_unknown_field_and_wrong_enum(edit_stack):
    def typos(config):
        site(config)["zones"][0]["kindd"] = "edge"
        site(config)["role"] = "backup"

    path = edit_stack("Pulumi.primary.yaml", typos)
    problems = problems_of(path)
    assert "spelling" in only(problems, "courtcloud:sites[0].zones[0].kindd").fix
    role = only(problems, "courtcloud:sites[0].role")
    assert "'primary', 'standby' or 'dr'" in role.message


def test_ports_out_of_range(edit_stack):
    path = edit_stack("Pulumi.primary.yaml",
                      lambda c: site(c)["flows"][0].update(ports=[70000, "7300-6800"]))
    problems = problems_of(path)
    assert "outside 1-65535" in only(problems, "courtcloud:sites[0].flows[0].ports[0]").message
    assert "backwards" in only(problems, "courtcloud:sites[0].flows[0].ports[1]").message


def test_stacks_of_one_estate_must_agree_on_the_level(edit_stack):
    path = edit_stack("Pulumi.standby.yaml", lambda c: c.update({"courtcloud:securityLevel": 4}))
    problems = problems_of(path)
    assert any(p.field == "courtcloud:securityLevel" and "differs" in p.message
               for p in problems)


def test_broken_yaml_names_the_line(project_copy):
    path = project_copy / "Pulumi.primary.yaml"
    lines = path.read_text().splitlines()
    lines[9] = "\t" + lines[9]  # a tab may not indent YAML
    path.write_text("\n".join(lines))
    problem = only(problems_of(path), "(yaml)")
    assert problem.line == 10
    assert "syntax" in problem.fix


def test_missing_and_unknown_keys(project_copy):
    path = project_copy / "Pulumi.primary.yaml"
    text = path.read_text().replace("courtcloud:securityLevel", "courtcloud:securitylevel")
    path.write_text(text)
    problems = problems_of(path)
    assert only(problems, "courtcloud:securityLevel").message == "is missing"
    assert "known:" in only(problems, "courtcloud:securitylevel").fix


def test_a_file_that_is_not_a_stack(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("- just\n- a list\n")
    assert only(problems_of(path), "config").fix.startswith("put the courtcloud")
    with pytest.raises(ModelError, match="not a Pulumi stack file name"):
        validate_file(tmp_path / "stack.yaml")


def test_problem_text_names_file_line_field_and_fix(edit_stack):
    path = edit_stack("Pulumi.primary.yaml", lambda c: site(c)["apps"][0].update(replicas=1))
    text = str(only(problems_of(path), "courtcloud:sites[0].apps[0].replicas"))
    assert text.startswith("Pulumi.primary.yaml:")
    assert "courtcloud:sites[0].apps[0].replicas" in text and "fix: set replicas" in text


def test_a_zone_may_not_overlap_the_lab_bench(edit_stack):
    path = edit_stack("Pulumi.lab.yaml", lambda c: c["courtcloud:sites"][2]["zones"][0].update(
        cidr="172.30.63.0/24"))
    problem = only(problems_of(path), "courtcloud:sites[2].zones[0].cidr")
    assert "overlaps the lab's bench" in problem.message


def test_a_flow_from_another_site_must_name_what_exists(edit_stack):
    path = edit_stack("Pulumi.lab.yaml", lambda c: c["courtcloud:sites"][2]["flows"][0].update(
        source="primary/nothing"))
    problem = only(problems_of(path), "courtcloud:sites[2].flows[0].source")
    assert "names no pool or zone" in problem.message


def test_an_address_block_smaller_than_its_pool_is_named(edit_stack):
    def shrink(config):
        worker = next(p for p in site(config)["computePools"] if p["name"] == "k8s-worker")
        worker["addressBlock"] = 10

    path = edit_stack("Pulumi.primary.yaml", shrink)
    pools = [p["name"] for p in validate_raw_pools(path)]
    problem = only(problems_of(path),
                   f"courtcloud:sites[0].computePools[{pools.index('k8s-worker')}].addressBlock")
    assert "keeps 10 addresses for 36 hosts" in problem.message
    assert "36 or more" in problem.fix


def test_address_blocks_count_against_the_zone(edit_stack):
    def huge(config):
        worker = next(p for p in site(config)["computePools"] if p["name"] == "k8s-worker")
        worker["addressBlock"] = 1000

    problem = only(problems_of(edit_stack("Pulumi.primary.yaml", huge)),
                   "courtcloud:sites[0].zones[1].cidr")
    assert "addresses are kept for pools in zone 'app'" in problem.message


def test_a_pool_grown_within_its_block_moves_no_other_host(project_copy):
    """The addresses every other host keeps when k8s-worker gains a host."""
    import yaml

    from courtcloud.model import site_hosts

    before = {h.name: h.addresses for h in site_hosts(
        validate_file(project_copy / "Pulumi.primary.yaml").site("primary"))}
    path = project_copy / "Pulumi.primary.yaml"
    data = yaml.safe_load(path.read_text())
    worker = next(p for p in data["config"]["courtcloud:sites"][0]["computePools"]
                  if p["name"] == "k8s-worker")
    worker["count"] += 1
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    after = {h.name: h.addresses for h in site_hosts(validate_file(path).site("primary"))}
    assert set(after) - set(before) == {"primary-k8s-worker-37"}
    assert all(after[name] == addresses for name, addresses in before.items())


def validate_raw_pools(path: Path) -> list[dict]:
    import yaml

    return yaml.safe_load(path.read_text())["config"]["courtcloud:sites"][0]["computePools"]
