#!/usr/bin/env python3
"""Writes src/api/openapi.json, the OpenAPI 3.1 document agynd serves at /api/v1/openapi.json.

The document is generated from the compact tables below so it stays readable; the C unit test
tests/unit/test_openapi.c fails when a route in src/api/routes.c is missing here or a path here
has no route. Run: python3 scripts/gen_openapi.py
"""
import json
import os

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

SCHEMAS = {
    "Error": obj({"error": obj({"code": STR, "message": STR, "field": STR}, ["code", "message"])},
                 ["error"]),
    "Organization": obj({"id": UUID, "name": STR, "created_at": TIME, "updated_at": TIME}),
    "OrganizationCreate": obj({"name": STR}, ["name"]),
    "Me": obj({"role": {"enum": ["admin", "owner", "member"]}, "token_id": UUID,
               "organization_id": NULLABLE_UUID}),
    "Token": obj({**META, "organization_id": NULLABLE_UUID, "name": STR,
                  "role": {"enum": ["owner", "member"]}, "token_prefix": STR,
                  "token": {"type": "string", "description": "Only in the create response."}}),
    "TokenCreate": obj({"name": STR, "role": {"enum": ["owner", "member"]}}, ["name", "role"]),
    "Agent": obj({**META, "name": STR, "image": STR, "description": STR}),
    "AgentCreate": obj({"name": STR, "image": STR, "description": STR}, ["name", "image"]),
    "AgentUpdate": obj({"name": STR, "image": STR, "description": STR}),
    "Mcp": obj({**META, "agent_id": UUID, "name": STR, "image": STR, "description": STR}),
    "McpCreate": obj({"agent_id": UUID, "name": STR, "image": STR, "description": STR},
                     ["agent_id", "name", "image"]),
    "McpUpdate": obj({"name": STR, "image": STR, "description": STR, "agent_id": UUID}),
    "Hook": obj({**META, "agent_id": UUID, "event": STR, "image": STR, "description": STR}),
    "HookCreate": obj({"agent_id": UUID, "event": STR, "image": STR, "description": STR},
                      ["agent_id", "event", "image"]),
    "HookUpdate": obj({"event": STR, "image": STR, "description": STR, "agent_id": UUID}),
    "Health": obj({"status": STR}),
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
    "/api/v1/organizations": {
        "post": op("Create an organization", "admin", 201, ref("Organization"),
                   "OrganizationCreate"),
        "get": op("List organizations (a token of one organization sees only it)", "token", 200,
                  page_of("Organization"), paged=True),
    },
    ORG: {"get": op("Get an organization", "member", 200, ref("Organization"))},
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

for path, item in PATHS.items():
    params = []
    if "{org}" in path:
        params.append({"name": "org", "in": "path", "required": True, "schema": UUID})
    if "{id}" in path:
        params.append({"name": "id", "in": "path", "required": True, "schema": UUID})
    if params:
        item["parameters"] = params

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
    with open(out, "w") as f:
        json.dump(DOCUMENT, f, indent=1, sort_keys=False)
        f.write("\n")
