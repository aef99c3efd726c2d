"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "required": ["error", "status"],
    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
}

RESULT_REF = "#/components/schemas/SearchResult"

SEARCH_RESULT = {
    "type": "object",
    "required": [
        "ref",
        "name",
        "age",
        "town",
        "team",
        "score",
        "reasons",
        "review_overdue",
    ],
    "properties": {
        "ref": {"type": "string"},
        "name": {"type": "string"},
        "age": {"type": ["integer", "null"]},
        "town": {"type": ["string", "null"]},
        "team": {"type": "string"},
        "score": {"type": "number"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "review_overdue": {"type": "boolean"},
    },
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
        },
    }


def document() -> dict[str, Any]:
    """Return the OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Responder API",
            "version": "1",
            "description": "Find a person's live crisis response plan. Results carry "
            "minimal identity only; plans advise and never withhold care.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR, "SearchResult": SEARCH_RESULT},
        },
        "paths": {
            "/api/v1/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Rank live plans against words and position",
                    "security": [{"bearer": []}],
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 200},
                        },
                        {
                            "name": "lat",
                            "description": "Where the responder stands; "
                            "give lat and lon together.",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "number", "minimum": -90, "maximum": 90},
                        },
                        {
                            "name": "lon",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "number",
                                "minimum": -180,
                                "maximum": 180,
                            },
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 50,
                                "default": 10,
                            },
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "Results, best first",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["results"],
                                        "properties": {
                                            "results": {
                                                "type": "array",
                                                "items": {"$ref": RESULT_REF},
                                            }
                                        },
                                    }
                                }
                            },
                        },
                        "400": _error_response("Bad parameters"),
                        "401": _error_response("Missing or invalid token"),
                        "403": _error_response("The token's account may not search"),
                        "429": _error_response("Too many requests"),
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Say whether the database is reachable",
                    "responses": {
                        "200": {
                            "description": "Healthy",
                            "content": {
                                "application/json": {"schema": {"type": "object"}}
                            },
                        },
                        "503": _error_response("Database unreachable"),
                    },
                }
            },
        },
    }
