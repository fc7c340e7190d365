"""The program's body: load and validate the model, then build each of the stack's sites."""

from __future__ import annotations

from typing import Any

import pulumi

from courtcloud.model import ModelError, SiteRole

from . import model
from .openstack.site import CloudSettings, OpenStackSite, SiteArgs


class StackModelError(pulumi.RunError):
    """The stack's model is invalid: nothing was declared. `problems` name file, field, fix."""

    def __init__(self, error: ModelError):
        self.problems = error.problems
        super().__init__(str(error))


def main() -> None:
    stack = pulumi.get_stack()
    try:
        loaded = model.load(stack)
    except ModelError as error:
        raise StackModelError(error) from None
    cloud = CloudSettings.from_config()
    for site in loaded.sites:
        exports: dict[str, Any] = {"role": str(site.role)}
        built = OpenStackSite(site.name, SiteArgs(loaded.estate, site, cloud))
        exports.update(built.exports())
        if site.role is SiteRole.dr:
            pass
        pulumi.export(site.name, exports)
