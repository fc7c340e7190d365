"""The lab's server image: baked from the roles' own package tasks, rebuilt when they change."""

from __future__ import annotations

from pathlib import Path

import yaml

from courtcloud.lab import images
from courtcloud.lab.plan import SERVER_IMAGE, lab_plan
from courtcloud.model import load_project_estate

PROJECT = Path(__file__).resolve().parents[2]


def _copy_tool(tmp_path: Path, monkeypatch) -> Path:
    """The playbook and the roles it includes, copied where a test may change them."""
    for role in ("pki", "baseline", "firewall", "observability_agent"):
        for sub in ("tasks", "defaults"):
            src = PROJECT / "roles" / role / sub
            dst = tmp_path / "roles" / role / sub
            dst.mkdir(parents=True)
            for f in src.glob("*.yml"):
                (dst / f.name).write_text(f.read_text())
    (tmp_path / "playbooks").mkdir()
    playbook = tmp_path / "playbooks" / "server-image.yml"
    playbook.write_text(images.SERVER_PLAYBOOK.read_text())
    monkeypatch.setattr(images, "TOOL_DIR", tmp_path)
    return playbook


def test_the_image_runs_only_package_tasks_of_roles_that_exist():
    play = yaml.safe_load(images.SERVER_PLAYBOOK.read_text())[0]
    included = [t["ansible.builtin.include_role"] for t in play["tasks"]]
    assert included, "the server image bakes nothing"
    for spec in included:
        assert spec["tasks_from"] == "packages"
        assert (PROJECT / "roles" / spec["name"] / "tasks" / "packages.yml").exists()
        # The role's own tasks install the same packages on a host without the image.
        main = (PROJECT / "roles" / spec["name"] / "tasks" / "main.yml").read_text()
        assert "packages.yml" in main, spec["name"]


def test_a_changed_package_list_makes_a_new_image(tmp_path, monkeypatch):
    playbook = _copy_tool(tmp_path, monkeypatch)
    before = images.server_recipe("hostimage1", playbook)
    assert images.server_recipe("hostimage1", playbook) == before
    assert images.server_recipe("hostimage2", playbook) != before
    packages = tmp_path / "roles" / "baseline" / "tasks" / "packages.yml"
    packages.write_text(packages.read_text().replace("aide,", "aide, tmux,"))
    assert images.server_recipe("hostimage1", playbook) != before


def test_a_changed_default_makes_a_new_image_but_other_task_files_do_not(tmp_path, monkeypatch):
    playbook = _copy_tool(tmp_path, monkeypatch)
    before = images.server_recipe("hostimage1", playbook)
    # A configuration task is not part of the image: changing it leaves the hosts alone.
    pam = tmp_path / "roles" / "baseline" / "tasks" / "pam.yml"
    pam.write_text(pam.read_text() + "\n")
    assert images.server_recipe("hostimage1", playbook) == before
    defaults = tmp_path / "roles" / "baseline" / "defaults" / "main.yml"
    defaults.write_text(defaults.read_text() + "baseline_forbidden_packages: [telnetd]\n")
    assert images.server_recipe("hostimage1", playbook) != before


def test_every_lab_server_boots_the_server_image():
    plan = lab_plan(load_project_estate(PROJECT, "lab"))
    assert plan.hosts and {h.image for h in plan.hosts} == {SERVER_IMAGE}
    assert all(h.run_args("abc")[-2] == SERVER_IMAGE for h in plan.hosts)


def test_a_failed_bake_names_the_log_and_leaves_no_builder_or_image(tmp_path, monkeypatch):
    calls: list[tuple[str, ...]] = []
    removed: list[str] = []
    monkeypatch.setattr(images, "image_id", lambda name: "hostimage1")
    monkeypatch.setattr(images, "image_recipe", lambda name: None)
    monkeypatch.setattr(images, "podman", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(images, "remove_containers", lambda *names: removed.extend(names))

    def playbook_fails(command, stdout, **kwargs):
        stdout.write("TASK [baseline : Install what the controls need]\n"
                     "fatal: [builder]: FAILED! => no package aide-common\n")
        return images.subprocess.CompletedProcess(command, 2)

    monkeypatch.setattr(images.subprocess, "run", playbook_fails)
    try:
        images.build_server("lab", lambda message: None, tmp_path / "log")
    except images.LabError as exc:
        message = str(exc)
    else:
        raise AssertionError("a failed playbook built an image")
    assert "no package aide-common" in message
    assert str(tmp_path / "log" / "server-image.log") in message
    assert not any(c[0] == "commit" for c in calls)
    # The builder is removed before (a leftover of a killed run) and after.
    assert removed == [images.SERVER_BUILDER, images.SERVER_BUILDER]
