#!/usr/bin/env python3
"""Writes src/api/openapi.json, the OpenAPI 3.1 document agynd serves at /api/v1/openapi.json.

The document is generated from the compact tables below so it stays readable; the C unit test
tests/unit/test_openapi.c fails when a route in src/api/routes.c is missing here or a path here
has no route. Run: python3 scripts/gen_openapi.py
With --check it writes nothing and exits 1 when src/api/openapi.json differs from what it would
write (the CTest openapi_generated runs this).
"""
import json
import os
import sys

ORG = "/api/v1/organizations/{org}"

def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}

STR = {"type": "string"}
UUID = {"type": "string", "format": "uuid"}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_UUID = {"type": ["string", "null"], "format": "uuid"}

def obj(props, required=(), extra=None):
    schema = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    if extra:
        schema.update(extra)
    return schema

META = {"id": UUID, "organization_id": UUID, "created_at": TIME, "updated_at": TIME}

# What a container runs; absent or null: the image's own entrypoint, command and environment.
RUN = {
    "command": {"type": ["array", "null"], "items": {"type": "string", "maxLength": 4096},
                "maxItems": 256, "description": "Replaces the image's entrypoint."},
    "args": {"type": ["array", "null"], "items": {"type": "string", "maxLength": 4096},
             "maxItems": 256, "description": "Replaces the image's command (arguments)."},
    "env": {"type": ["object", "null"], "maxProperties": 256,
            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]{0,255}$"},
            "additionalProperties": {"type": "string", "maxLength": 4096},
            "description": "Plain environment variables, shown to every member: never put "
                           "secrets here. command, args and env together hold at most 64 KiB."},
}
RESTART_POLICY = {"enum": ["never", "on-failure", "always"], "description":
                  "What happens when a container ends (docker runtime): never (default), "
                  "on-failure (restarted after a non-zero exit or an OOM kill) or always; "
                  "restarts wait --crash-backoff-initial, doubling to --crash-backoff-max "
                  "(reason CrashLoopBackOff), and the workload stays running meanwhile."}
SHORT_LIVED_FIELDS = {
    "password_source": {"enum": ["inline", "secret", "remote", "ecr", "plugin"], "description":
                        "Optional for inline, secret and remote (implied by the fields given); "
                        "required for ecr and plugin."},
    "plugin": {"type": "string", "description":
               "A configured credential-provider plugin's name "
               "(GET /api/v1/credential-provider-plugins); with password_source plugin."}}

SCHEMAS = {
    "Error": obj({"error": obj({
        "code": STR, "message": STR, "field": STR,
        "errors": {"type": "array", "description":
                   "In a 422 of a request body: every field error of the body, one per field, "
                   "in the order the fields are checked (the first is field and message).",
                   "items": obj({"field": STR, "message": STR}, ["field", "message"])}},
        ["code", "message"])}, ["error"]),
    "Organization": obj({"id": UUID, "name": STR, "created_at": TIME, "updated_at": TIME}),
    "OrganizationCreate": obj({"name": STR}, ["name"]),
    "Me": obj({"role": {"enum": ["admin", "owner", "member"]}, "token_id": UUID,
               "organization_id": NULLABLE_UUID}),
    "Token": obj({**META, "organization_id": NULLABLE_UUID, "name": STR,
                  "role": {"enum": ["owner", "member"]}, "token_prefix": STR,
                  "token": {"type": "string", "description": "Only in the create response."}}),
    "TokenCreate": obj({"name": STR, "role": {"enum": ["owner", "member"]}}, ["name", "role"]),
    "Agent": obj({**META, "name": STR, "image": STR, "description": STR, **RUN}),
    "AgentCreate": obj({"name": STR, "image": STR, "description": STR, **RUN},
                       ["name", "image"]),
    "AgentUpdate": obj({"name": STR, "image": STR, "description": STR, **RUN}),
    "Mcp": obj({**META, "agent_id": UUID, "name": STR, "image": STR, "description": STR,
                **RUN}),
    "McpCreate": obj({"agent_id": UUID, "name": STR, "image": STR, "description": STR, **RUN},
                     ["agent_id", "name", "image"]),
    "McpUpdate": obj({"name": STR, "image": STR, "description": STR, "agent_id": UUID, **RUN}),
    "Hook": obj({**META, "agent_id": UUID, "event": STR, "image": STR, "description": STR,
                 **RUN}),
    "HookCreate": obj({"agent_id": UUID, "event": STR, "image": STR, "description": STR,
                       **RUN}, ["agent_id", "event", "image"]),
    "HookUpdate": obj({"event": STR, "image": STR, "description": STR, "agent_id": UUID,
                       **RUN}),
    "Health": obj({"status": STR}),
    "Session": obj({"role": STR, "token_id": UUID, "organization_id": NULLABLE_UUID,
                    "csrf_token": {"type": "string", "description":
                                   "Send as X-CSRF-Token on POST, PATCH and DELETE."}}),
    "SessionCreate": obj({"token": {"type": "string", "writeOnly": True}}, ["token"]),
    "SecretProvider": obj({**META, "name": STR, "type": {"enum": ["vault", "aws-secrets-manager"]},
                           "config": {"type": "object", "description":
                                      "Public config; credential fields are never returned."},
                           "secret_fields_set": {"type": "array", "items": STR}}),
    "SecretProviderCreate": obj({"name": STR, "type": {"enum": ["vault", "aws-secrets-manager"]},
                                 "config": {"oneOf": [ref("VaultConfig"), ref("AwsConfig")]}},
                                ["name", "type", "config"]),
    "SecretProviderUpdate": obj({"name": STR, "type": STR, "config": {"type": "object"}}),
    "VaultConfig": obj({"address": STR, "token": {"type": "string", "writeOnly": True},
                        "namespace": STR}, ["address", "token"]),
    "AwsConfig": obj({"region": STR, "access_key_id": STR,
                      "secret_access_key": {"type": "string", "writeOnly": True},
                      "session_token": {"type": "string", "writeOnly": True},
                      "endpoint_url": STR,
                      "ecr_endpoint_url": {"type": "string", "description":
                                           "ECR endpoint for password_source ecr (default "
                                           "https://api.ecr.<region>.amazonaws.com)."},
                      "role_arn": {"type": "string", "description":
                                   "IAM role assumed (STS AssumeRole) before calling ECR."},
                      "sts_endpoint_url": {"type": "string", "description":
                                           "STS endpoint (default "
                                           "https://sts.<region>.amazonaws.com)."}},
                     ["region", "access_key_id", "secret_access_key"]),
    "ProviderTest": obj({"ok": {"type": "boolean"}, "message": STR}),
    "Secret": obj({**META, "name": STR, "description": STR,
                   "value_source": {"enum": ["inline", "remote"]}, "provider_id": NULLABLE_UUID,
                   "remote_path": {"type": ["string", "null"]}, "value_updated_at": TIME}),
    "SecretCreate": obj({"name": STR, "description": STR,
                         "value": {"type": "string", "writeOnly": True},
                         "provider_id": UUID, "remote_path": STR}, ["name"]),
    "SecretUpdate": obj({"name": STR, "description": STR,
                         "value": {"type": "string", "writeOnly": True},
                         "provider_id": UUID, "remote_path": STR}),
    "ImagePullSecret": obj({**META, "name": STR, "description": STR,
                            "registry": {"type": "string", "description":
                                         "Normalized host[:port][/path]; '*' globs one label."},
                            "username": STR,
                            "password_source": {"enum": ["inline", "secret", "remote", "ecr",
                                                         "plugin"]},
                            "password_secret_id": NULLABLE_UUID, "provider_id": NULLABLE_UUID,
                            "remote_path": {"type": ["string", "null"]},
                            "plugin": {"type": ["string", "null"]},
                            "password_updated_at": TIME,
                            "attachment_id": {"type": "string", "format": "uuid", "description":
                                              "Only in the attached-secrets lists."},
                            "attached_at": TIME,
                            "matches_image": {"type": "boolean", "description":
                                              "Only in the attached-secrets lists: whether the "
                                              "registry matches the image."},
                            "try_order": {"type": ["integer", "null"], "minimum": 1,
                                          "description":
                                          "Only in the attached-secrets lists: the 1-based "
                                          "position in which the runner tries this secret for "
                                          "the image (more specific first, then attachment "
                                          "order); null when it does not match."}}),
    "ImagePullSecretCreate": obj({"name": STR, "description": STR, "registry": STR,
                                  "username": STR,
                                  "password": {"type": "string", "writeOnly": True},
                                  "password_secret_id": UUID, "provider_id": UUID,
                                  "remote_path": STR, **SHORT_LIVED_FIELDS}, ["name", "registry"],
                                 {"description": "Exactly one of password, password_secret_id, "
                                                 "provider_id with remote_path, "
                                                 "password_source ecr with provider_id (an "
                                                 "aws-secrets-manager provider), or "
                                                 "password_source plugin with plugin. username "
                                                 "is required except with ecr and plugin, where "
                                                 "it must not be given."}),
    "ImagePullSecretUpdate": obj({"name": STR, "description": STR, "registry": STR,
                                  "username": STR,
                                  "password": {"type": "string", "writeOnly": True},
                                  "password_secret_id": UUID, "provider_id": UUID,
                                  "remote_path": STR, **SHORT_LIVED_FIELDS}),
    "CredentialProviderPlugins": obj({"items": {"type": "array", "items": obj({"name": STR})}}),
    "DockerConfig": {"type": "object", "properties": {"auths": {"type": "object"}},
                     "required": ["auths"]},
    "ImportResult": obj({"created": {"type": "array", "items": ref("ImagePullSecret")},
                         "errors": {"type": "array", "items": obj({"key": STR,
                                                                   "error": {"type": "object"}})}}),
    "Container": obj({"name": STR, "role": {"enum": ["main", "mcp", "hook"]}, "image": STR,
                      "image_digest": {"type": ["string", "null"]},
                      "status": {"enum": ["waiting", "running", "terminated"]},
                      "reason": {"type": ["string", "null"], "description":
                                 "ContainerCreating, ErrImagePull, ImagePullBackOff, "
                                 "EngineUnavailable, CreateContainerError, RunContainerError, "
                                 "Completed, Error, OOMKilled, ContainerMissing, Stopped, "
                                 "CrashLoopBackOff"},
                      "restart_count": {"type": "integer", "description":
                                        "Times the container was restarted (restart_policy)."},
                      "restart_at": {"type": "string", "format": "date-time", "description":
                                     "When a container in CrashLoopBackOff is started again."},
                      **RUN,
                      "exit_code": {"type": "integer", "description":
                                    "The process's exit code once terminated (docker runtime)."},
                      "container_id": {"type": "string", "description":
                                       "The engine's container id (docker runtime)."},
                      "pull_progress": obj({"bytes_done": {"type": "integer"},
                                            "bytes_total": {"type": "integer"}}),
                      "message": {"type": ["string", "null"]},
                      "credential": {"type": ["object", "null"], "properties": {
                          "image_pull_secret_id": UUID, "name": STR}},
                      "agent_id": UUID, "mcp_id": UUID, "hook_id": UUID,
                      "started_at": {"type": ["string", "null"]},
                      "finished_at": {"type": ["string", "null"]}}),
    "Workload": obj({**META, "agent_id": UUID,
                     "status": {"enum": ["starting", "running", "stopping", "stopped",
                                         "succeeded", "failed"]},
                     "failure_reason": {"type": ["string", "null"]},
                     "failure_message": {"type": ["string", "null"]},
                     "restart_policy": RESTART_POLICY,
                     "containers": {"type": "array", "items": ref("Container")}}),
    "WorkloadCreate": obj({"agent_id": UUID, "restart_policy": RESTART_POLICY}, ["agent_id"]),
    "VerifyResult": obj({"ok": {"type": "boolean"}, "message": STR}),
    "Attachment": obj({**META, "image_pull_secret_id": UUID, "agent_id": NULLABLE_UUID,
                       "mcp_id": NULLABLE_UUID, "hook_id": NULLABLE_UUID}),
    "AttachmentCreate": obj({"image_pull_secret_id": UUID, "agent_id": UUID, "mcp_id": UUID,
                             "hook_id": UUID}, ["image_pull_secret_id"],
                            {"description": "Exactly one of agent_id, mcp_id, hook_id."}),
}

def page_of(name):
    return obj({"items": {"type": "array", "items": ref(name)}, "next_page_token": STR})

PAGE_PARAMS = [
    {"name": "page_size", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                    "maximum": 100, "default": 50}},
    {"name": "page_token", "in": "query", "schema": STR},
]

ERRORS = {code: {"description": text, "content": {"application/json": {"schema": ref("Error")}}}
          for code, text in [("400", "Malformed request"), ("401", "Missing or invalid token"),
                             ("403", "The token's role does not allow this"),
                             ("404", "Not found (or in another organization)"),
                             ("409", "Conflict"), ("413", "Body larger than 1 MiB"),
                             ("415", "Body is not application/json"),
                             ("422", "Invalid field value")]}

def op(summary, access, ok, schema=None, body=None, params=(), paged=False):
    operation = {"summary": summary, "x-agyn-access": access, "responses": {}}
    if access != "public":
        operation["security"] = [{"bearer": []}]
    content = {"application/json": {"schema": schema}} if schema else None
    operation["responses"][str(ok)] = {"description": summary, **({"content": content}
                                                                  if content else {})}
    operation["responses"].update(ERRORS)
    parameters = list(params) + (PAGE_PARAMS if paged else [])
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": ref(body)}}}
    return operation

def crud(path, name, noun, filters=(), writer="owner"):
    query = [{"name": f, "in": "query", "schema": UUID} for f in filters]
    return {
        path: {
            "post": op(f"Create {noun}", writer, 201, ref(name), f"{name}Create"),
            "get": op(f"List {noun}s", "member", 200, page_of(name), params=query, paged=True),
        },
        path + "/{id}": {
            "get": op(f"Get {noun}", "member", 200, ref(name)),
            "patch": op(f"Update {noun}", writer, 200, ref(name), f"{name}Update"),
            "delete": op(f"Delete {noun}", writer, 204),
        },
    }

PATHS = {
    "/healthz": {"get": op("Liveness", "public", 200, ref("Health"))},
    "/readyz": {"get": op("Readiness (database reachable)", "public", 200, ref("Health"))},
    "/api/v1/openapi.json": {"get": op("This document", "public", 200, {"type": "object"})},
    "/api/v1/me": {"get": op("The calling token's role and organization", "token", 200,
                             ref("Me"))},
    "/api/v1/credential-provider-plugins": {"get": op(
        "Names of the kubelet credential-provider plugins the operator configured", "token", 200,
        ref("CredentialProviderPlugins"))},
    "/api/v1/session": {
        "post": op("Console sign-in: exchange an API token for an HttpOnly session cookie",
                   "public", 201, ref("Session"), "SessionCreate"),
        "get": op("The Console session of this request, with its CSRF token", "token", 200,
                  ref("Session")),
        "delete": op("Sign out", "token", 204)},
    "/api/v1/organizations": {
        "post": op("Create an organization", "admin", 201, ref("Organization"),
                   "OrganizationCreate"),
        "get": op("List organizations (a token of one organization sees only it)", "token", 200,
                  page_of("Organization"), paged=True),
    },
    ORG: {"get": op("Get an organization", "member", 200, ref("Organization")),
          "patch": op("Rename an organization", "owner", 200, ref("Organization"),
                      "OrganizationCreate"),
          "delete": op("Delete an organization and everything in it", "admin", 204)},
    ORG + "/tokens": {
        "post": op("Create an API token (its value is returned only here)", "owner", 201,
                   ref("Token"), "TokenCreate"),
        "get": op("List API tokens", "owner", 200, page_of("Token"), paged=True),
    },
    ORG + "/tokens/{id}": {"delete": op("Revoke an API token", "owner", 204)},
}
PATHS.update(crud(ORG + "/agents", "Agent", "agent"))
PATHS.update(crud(ORG + "/mcps", "Mcp", "MCP server", ["agent_id"]))
PATHS.update(crud(ORG + "/hooks", "Hook", "hook", ["agent_id"]))
for part, noun in [("agents", "agent"), ("mcps", "MCP server"), ("hooks", "hook")]:
    PATHS[f"{ORG}/{part}/{{id}}/image-pull-secrets"] = {
        "get": op(f"Image pull secrets attached to the {noun}, in attachment order, each with "
                  "matches_image and try_order for the image", "member", 200,
                  page_of("ImagePullSecret"),
                  params=[{"name": "image", "in": "query", "schema": STR, "description":
                           f"The image to match (default: the {noun}'s own image); 400 "
                           "naming image when it is not an image reference."}])}
PATHS.update(crud(ORG + "/secret-providers", "SecretProvider", "secret provider"))
OUTBOUND_NOTE = (" Runs in agynd's outbound pool with a deadline (--outbound-timeout, default "
                 "15 s): a target that does not answer in time gives ok=false saying so. 429 "
                 "(with Retry-After) when the organization already has too many such checks "
                 "waiting.")
PATHS[ORG + "/secret-providers/{id}/test"] = {
    "post": op("Check the provider's connectivity and credentials", "owner", 200,
               ref("ProviderTest"))}
PATHS[ORG + "/secret-providers/{id}/test"]["post"]["description"] = OUTBOUND_NOTE.strip()
PATHS[ORG + "/secret-providers/{id}/test"]["post"]["responses"]["429"] = {
    "description": "Too many outbound checks of this organization in flight",
    "content": {"application/json": {"schema": ref("Error")}}}
PATHS.update(crud(ORG + "/secrets", "Secret", "secret"))
PATHS.update(crud(ORG + "/image-pull-secrets", "ImagePullSecret", "image pull secret",
                  ["provider_id", "password_secret_id"]))
PATHS[ORG + "/image-pull-secrets"]["get"]["parameters"].append(
    {"name": "registry", "in": "query", "schema": STR})
CASCADE_CONTENTS = {"type": "array", "items": obj({
    "kind": {"enum": ["agent", "mcp", "hook", "image_pull_secret", "image_pull_secret_attachment",
                      "secret", "secret_provider", "workload"]},
    "count": {"type": "integer"},
    "names": {"type": "array", "items": STR,
              "description": "At most 20, in creation order (attachments and workloads: ids)"}})}
SCHEMAS["DeleteConflict"] = obj({"error": obj({"code": {"enum": ["conflict"]}, "message": STR,
                                              "contents": CASCADE_CONTENTS},
                                             ["code", "message", "contents"])}, ["error"])
SCHEMAS["CascadeRemoved"] = obj({"id": UUID, "removed": CASCADE_CONTENTS}, ["id", "removed"])
for path, holds in [(ORG, "agents, MCP servers, hooks, image pull secrets, attachments, secrets, "
                          "secret providers or workloads (its tokens do not count)"),
                    (ORG + "/agents/{id}", "MCP servers, hooks or image pull secret attachments "
                                           "(its own and its MCP servers' and hooks')")]:
    delete = PATHS[path]["delete"]
    delete["description"] = (f"Refused with 409 (DeleteConflict: what would go, counted and "
                             f"named) while it holds {holds}, unless cascade=true; a cascading "
                             f"delete that removed something answers 200 with what it removed, "
                             f"else 204.")
    delete["parameters"] = [{"name": "cascade", "in": "query", "schema": {"type": "boolean"},
                             "description": "Delete with everything it holds, in one "
                                            "transaction."}]
    delete["responses"]["200"] = {"description": "Deleted with what it held",
                                  "content": {"application/json": {
                                      "schema": ref("CascadeRemoved")}}}
    delete["responses"]["409"] = {"description": "Not empty and cascade is not true",
                                  "content": {"application/json": {
                                      "schema": ref("DeleteConflict")}}}
PATHS[ORG]["delete"]["summary"] = "Delete an organization (with ?cascade=true, everything in it)"
PATHS[ORG + "/image-pull-secrets/{id}"]["delete"]["parameters"] = [
    {"name": "detach", "in": "query", "schema": {"type": "boolean"},
     "description": "Detach it everywhere and delete, in one transaction."}]
PATHS[ORG + "/image-pull-secrets/import"] = {
    "post": op("Create one image pull secret per entry of a Docker config.json", "owner", 201,
               ref("ImportResult"), "DockerConfig")}
PATHS[ORG + "/image-pull-secret-attachments"] = {
    "post": op("Attach an image pull secret", "member", 201, ref("Attachment"),
               "AttachmentCreate"),
    "get": op("List attachments", "member", 200, page_of("Attachment"),
              params=[{"name": f, "in": "query", "schema": UUID}
                      for f in ["image_pull_secret_id", "agent_id", "mcp_id", "hook_id"]],
              paged=True)}
PATHS[ORG + "/image-pull-secret-attachments/{id}"] = {
    "get": op("Get an attachment", "member", 200, ref("Attachment")),
    "delete": op("Detach", "member", 204)}

PATHS[ORG + "/image-pull-secrets/{id}/verify"] = {
    "post": op("Log in to the registry with this secret now", "member", 200,
               ref("VerifyResult"))}
PATHS[ORG + "/image-pull-secrets/{id}/verify"]["post"]["description"] = OUTBOUND_NOTE.strip()
PATHS[ORG + "/image-pull-secrets/{id}/verify"]["post"]["responses"]["429"] = \
    PATHS[ORG + "/secret-providers/{id}/test"]["post"]["responses"]["429"]
PATHS[ORG + "/workloads"] = {
    "post": op("Start a workload for an agent", "member", 201, ref("Workload"),
               "WorkloadCreate"),
    "get": op("List workloads", "member", 200, page_of("Workload"),
              params=[{"name": "agent_id", "in": "query", "schema": UUID},
                      {"name": "status", "in": "query", "schema": STR}], paged=True)}
PATHS[ORG + "/workloads/{id}"] = {"get": op("Get a workload", "member", 200, ref("Workload"))}
PATHS[ORG + "/workloads/{id}/stop"] = {
    "post": op("Stop a workload", "member", 200, ref("Workload"))}
PATHS[ORG + "/workloads/{id}/containers/{name}/logs"] = {
    "get": op("A container's stdout and stderr (text/plain; streamed while following). "
              "docker runtime only: 409 when the container has not run.", "member", 200,
              params=[{"name": "name", "in": "path", "required": True, "schema": STR},
                      {"name": "follow", "in": "query", "schema": {"type": "boolean"}},
                      {"name": "tail", "in": "query", "schema": STR,
                       "description": "Lines from the end (0..1000000) or all (default)."},
                      {"name": "timestamps", "in": "query", "schema": {"type": "boolean"}}])}
PATHS[ORG + "/events"] = {
    "get": op("Live events (text/event-stream): workload.created, workload.updated, "
              "workload.status_changed, image_pull_secret.*, attachment.*", "member", 200,
              params=[{"name": "last_event_id", "in": "query", "schema": {"type": "integer"}},
                      {"name": "Last-Event-ID", "in": "header", "schema": {"type": "integer"}}])}
PATHS["/metrics"] = {"get": op("Prometheus metrics (text)", "public", 200)}
PATHS["/metrics"]["get"]["description"] = (
    "Needs 'Authorization: Bearer' with the --metrics-token or the server-admin token; "
    "served without a token only on a separate --metrics-listen address when no "
    "--metrics-token is set.")
PATHS["/metrics"]["get"]["security"] = [{"bearer": []}]

for path, item in PATHS.items():
    params = []
    if "{org}" in path:
        params.append({"name": "org", "in": "path", "required": True, "schema": UUID})
    if "{id}" in path:
        params.append({"name": "id", "in": "path", "required": True, "schema": UUID})
    if params:
        item["parameters"] = params

# Creates bound by a per-organization quota answer 429 naming the flag (docs/configuration.md).
for path, what in ((ORG + "/secrets",
                    "the organization holds --max-secrets-per-org (default 1000) secrets"),
                   (ORG + "/image-pull-secrets",
                    "the organization holds --max-image-pull-secrets-per-org (default 1000) "
                    "image pull secrets"),
                   (ORG + "/image-pull-secret-attachments",
                    "the organization holds --max-attachments-per-org (default 10000) "
                    "attachments"),
                   (ORG + "/workloads",
                    "--max-active-workloads-per-org (default 100) workloads of this "
                    "organization are starting, running or stopping")):
    PATHS[path]["post"]["responses"]["429"] = {
        "description": f"Quota reached: {what}; the message names the flag",
        "content": {"application/json": {"schema": ref("Error")}}}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "agyn API", "version": "1.0.0",
             "description": "Image pull secrets for agents, MCP servers and hooks. Errors are "
                            "{\"error\":{\"code\",\"message\",\"field\"}}; lists are "
                            "{\"items\",\"next_page_token\"}."},
    "servers": [{"url": "/"}],
    "components": {"schemas": SCHEMAS,
                   "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "paths": PATHS,
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "api",
                       "openapi.json")
    text = json.dumps(DOCUMENT, indent=1, sort_keys=False) + "\n"
    if sys.argv[1:] == ["--check"]:
        with open(out) as f:
            if f.read() != text:
                sys.exit("src/api/openapi.json does not match scripts/gen_openapi.py: "
                         "run python3 scripts/gen_openapi.py and commit the result")
        sys.exit(0)
    with open(out, "w") as f:
        f.write(text)
