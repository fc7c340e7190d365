"""The lab's package proxy: index files stay fresh for a whole burst of host updates, and a
running proxy whose configuration is not the current one is restarted with it."""

from __future__ import annotations

from courtcloud.lab import proxy


def test_indexes_stay_fresh_for_a_burst_of_updates(tmp_path):
    text = proxy.PackageProxy(tmp_path)._config(["172.30.0.1"])
    assert "FreshIndexMaxAge: 600\n" in text and "BindAddress: 172.30.0.1\n" in text


def test_a_proxy_running_an_older_configuration_is_restarted(tmp_path, monkeypatch):
    p = proxy.PackageProxy(tmp_path)
    (tmp_path / "acng").mkdir()
    (tmp_path / "acng" / "acng.conf").write_text("# an older configuration\n")
    monkeypatch.setattr(proxy, "host_addresses", lambda: {"172.30.0.1"})
    monkeypatch.setattr(proxy.PackageProxy, "bound", lambda self: ["172.30.0.1"])
    pids = iter([4242, None, 4343])  # running; stopped; started again
    monkeypatch.setattr(proxy.PackageProxy, "pid", lambda self: next(pids))
    stopped, started = [], []
    monkeypatch.setattr(proxy.PackageProxy, "stop", lambda self: stopped.append(1) or True)
    monkeypatch.setattr(proxy.subprocess, "run",
                        lambda argv, **kw: started.append(argv) or proxy.subprocess
                        .CompletedProcess(argv, 0, "", ""))
    assert p.ensure(["172.30.0.1"]) is True
    assert stopped and started[0][0] == "apt-cacher-ng"
    assert "FreshIndexMaxAge" in (tmp_path / "acng" / "acng.conf").read_text()
