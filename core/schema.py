"""The OpenAPI schema's generator (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS).

Its own module: core.api is imported while DRF loads its settings,
before drf-spectacular's generator can be.
"""

from drf_spectacular import openapi


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, told which permissions admit anonymous callers.

    drf-spectacular marks an operation open to anonymous callers (an empty
    security requirement) only for DRF's AllowAny and IsAuthenticatedOrReadOnly.
    A permission class of ours that admits anonymous callers for some methods
    says so in `anonymous_methods`; an operation whose every permission admits
    its method is documented as open, so that clients (and schema fuzzers)
    know that credentials are optional there.
    """

    def get_auth(self):
        auths = super().get_auth()
        permissions = self.view.get_permissions()
        if (
            {} not in auths
            and permissions
            and all(
                self.method in getattr(permission, "anonymous_methods", ())
                for permission in permissions
            )
        ):
            auths.append({})
        return auths
