"""Running the court's Pulumi program without a cloud: the engine mocked, charts rendered
for real, the policy pack applied to what was declared. Used by `courtcloud plan`, the
tests under `tests/infra` and `benchmarks/pulumi_bench.py`.

Import this package only where Pulumi is wanted: it imports pulumi."""
