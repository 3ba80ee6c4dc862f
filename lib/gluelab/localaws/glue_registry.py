"""AWS Glue Schema Registry: compatibility really enforced.

``register_schema_version`` (and ``create_schema``) check the schema's Compatibility (NONE, DISABLED,
BACKWARD[_ALL], FORWARD[_ALL], FULL[_ALL]) for AVRO and JSON with the rules of :mod:`gluelab.registry`; an
incompatible version is stored with Status FAILURE and never becomes the latest; invalid AVRO definitions are
refused as on AWS. ``list_schema_versions``, which moto lacks, is answered at moto's Glue dispatch (oldest
first, paginated with MaxResults/NextToken).

Teardown deletes the lab's registries with their schemas; the guard checks ``RegistryId`` and ``SchemaId`` (a
schema is owned through its registry, as a table through its database).
"""
from __future__ import annotations

from moto.glue import exceptions as glue_exceptions
from moto.glue.exceptions import InvalidSchemaDefinitionException
from moto.glue.glue_schema_registry_utils import get_schema_version_if_definition_exists, validate_schema_id
from moto.glue.models import GlueBackend
from moto.glue.responses import GlueResponse

from .. import registry as _registry
from . import dispatch
from .hooks import hook
from .service import Owned, Service, glue_tags, paged

SERVICE = Service(
    "glue", guarded=("RegistryId", "SchemaId", "RegistryName"),
    operations=("CreateRegistry", "UpdateRegistry", "DeleteRegistry", "CreateSchema", "UpdateSchema",
                "DeleteSchema", "RegisterSchemaVersion", "DeleteSchemaVersions", "PutSchemaVersionMetadata",
                "RemoveSchemaVersionMetadata"),
    owned=(Owned("schema registry", paged("list_registries", "Registries", "RegistryName"),
                 lambda glue, name: glue.delete_registry(RegistryId={"RegistryName": name}),
                 tags=glue_tags("registry")),))


@hook(GlueBackend, "create_registry", ("registry_name",))
def _create_registry(original, backend, registry_name, description=None, tags=None, *args, **kwargs):
    """A registry's tags are readable with get_tags on its ARN, as on AWS (moto keeps them on the registry)."""
    result = original(backend, registry_name, description, tags, *args, **kwargs)
    if tags:
        backend.tag_resource(f"arn:aws:glue:{backend.region_name}:{backend.account_id}:registry/{registry_name}",
                             tags)
    return result



def _validate_definition(data_format: str, definition: str) -> None:
    try:
        _registry.validate(data_format, definition)
    except _registry.InvalidDefinition as exc:
        raise InvalidSchemaDefinitionException(data_format, exc) from None


@hook(GlueBackend, "create_schema", ("registry_id", "schema_name", "data_format", "compatibility",
                                     "schema_definition"))
def _create_schema(original, backend, registry_id, schema_name, data_format, compatibility, schema_definition,
                   *args, **kwargs):
    """The first version has nothing to be compatible with; it must still be a valid schema (AVRO is parsed)."""
    _validate_definition(data_format, schema_definition)
    return original(backend, registry_id, schema_name, data_format, compatibility, schema_definition,
                    *args, **kwargs)


@hook(GlueBackend, "register_schema_version", ("schema_id", "schema_definition"))
def _register_schema_version(original, backend, schema_id, schema_definition):
    """Check a new version against the schema's Compatibility (gluelab.registry.check). An incompatible version
    is kept with Status FAILURE (as AWS does); LatestSchemaVersion stays on the newest AVAILABLE version."""
    registry_name, schema_name, _ = validate_schema_id(schema_id, backend.registries)
    schema = backend.registries[registry_name].schemas[schema_name]
    if schema.compatibility == "DISABLED":
        return original(backend, schema_id, schema_definition)  # moto refuses it, with AWS's error
    _validate_definition(schema.data_format, schema_definition)
    versions = list(schema.schema_versions.values())
    if get_schema_version_if_definition_exists(versions, schema.data_format, schema_definition):
        return original(backend, schema_id, schema_definition)  # an existing version is returned as it is
    available = [(v.version_number, v.schema_definition) for v in versions if v.schema_version_status == "AVAILABLE"]
    problems = _registry.check(schema.data_format, schema.compatibility, schema_definition, available)
    result = original(backend, schema_id, schema_definition)
    if problems:
        version = schema.schema_versions[result["SchemaVersionId"]]
        version.schema_version_status = "FAILURE"
        version.gluelab_failure_reasons = problems  # AWS's API does not expose a reason; registry.explain does
        result["Status"] = "FAILURE"
    schema.latest_schema_version = max(v.version_number for v in schema.schema_versions.values()
                                       if v.schema_version_status == "AVAILABLE")
    return result


@dispatch.action(GlueResponse, "list_schema_versions")
def _list_schema_versions(response: GlueResponse) -> dict:
    """ListSchemaVersions (moto has none): every version of a schema, FAILURE ones included, oldest first, as
    ``{"SchemaArn", "SchemaVersionId", "VersionNumber", "Status", "CreatedTime"}``; ``MaxResults`` (1-100,
    default 100) and ``NextToken`` page through them."""
    params = dispatch.params(response)
    backend = response.glue_backend
    registry_name, schema_name, _ = validate_schema_id(params.get("SchemaId") or {}, backend.registries)
    versions = sorted(backend.registries[registry_name].schemas[schema_name].schema_versions.values(),
                      key=lambda v: v.version_number)
    limit = int(params.get("MaxResults") or 100)
    if not 1 <= limit <= 100:
        raise glue_exceptions.InvalidInputException("ListSchemaVersions", "MaxResults must be between 1 and 100")
    token = params.get("NextToken")
    start = int(token) if token and str(token).isdigit() else 0
    page = versions[start:start + limit]
    result = {"Schemas": [{"SchemaArn": v.schema_arn, "SchemaVersionId": v.schema_version_id,
                           "VersionNumber": v.version_number, "Status": v.schema_version_status,
                           "CreatedTime": str(v.created_time)} for v in page]}
    if start + limit < len(versions):
        result["NextToken"] = str(start + limit)
    return result
