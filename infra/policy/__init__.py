"""The graded-protection policy pack (GB/T 22239-2019 level 3, the rules visible in IaC).

The policies live in `infra.policy.rules` so that tests and `courtcloud plan` can call them;
only `__main__.py` builds the PolicyPack (constructing one starts the analyzer server)."""
