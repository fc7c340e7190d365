"""A flood from one client hits the per-client rate limit (429) while the burst passes."""

import collections

N = 150


def test_a_flood_is_limited(host, address):
    urls = "\n".join(f'url = "https://litigation.court.test/flood/{i}"\noutput = "/dev/null"'
                     for i in range(N))
    host.run(f"cat > /tmp/flood.curl <<'EOF'\n{urls}\nEOF")
    out = host.check_output(
        f"curl -s --parallel --parallel-max 30 --resolve litigation.court.test:443:{address} "
        f"--cacert /etc/courtcloud/pki/ca.crt -w '%{{http_code}}\\n' -K /tmp/flood.curl")
    codes = collections.Counter(out.split())
    assert sum(codes.values()) == N
    assert codes["429"] >= N // 3, codes
    assert codes["200"] >= 40, codes  # the burst and the steady rate still pass
    assert set(codes) <= {"200", "429"}, codes


def test_the_refusals_are_logged(host):
    lines = host.check_output("grep -c '\"status\":429' /var/log/nginx/access.json")
    assert int(lines) >= N // 3
