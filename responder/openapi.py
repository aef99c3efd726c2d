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
        "match",
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
        "match": {
            "enum": ["strong", "possible", "weak"],
            "description": "How surely the clues pick this person. `strong` only "
            "when the evidence singles out one person (a name with a date of birth "
            "or a place); at most one result is strong, and only the first. "
            "`possible`: the clues fit but could fit others. `weak`: a loose fit.",
        },
        "reasons": {
            "type": "array",
            "items": {"type": "string"},
            "description": "What matched, in the words typed or as a kind of "
            'plan text ("a crisis behaviour", "a crisis location 320 m '
            'away"); never plan text, which shows only once a plan is opened.',
        },
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
                            "name": "offset",
                            "description": "Results to skip: pass `next_offset` "
                            "for the next page.",
                            "in": "query",
                            "required": False,
                            "schema": {
                                "type": "integer",
                                "minimum": 0,
                                "maximum": 10000,
                                "default": 0,
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
                                        "required": [
                                            "results",
                                            "total",
                                            "offset",
                                            "next_offset",
                                            "note",
                                        ],
                                        "properties": {
                                            "results": {
                                                "type": "array",
                                                "items": {"$ref": RESULT_REF},
                                            },
                                            "total": {
                                                "type": "integer",
                                                "description": "People matching "
                                                "at least one clue, beyond this "
                                                "page too.",
                                            },
                                            "total_is_lower_bound": {
                                                "type": "boolean",
                                                "description": "True when more "
                                                "people match than were ranked.",
                                            },
                                            "offset": {"type": "integer"},
                                            "next_offset": {
                                                "type": ["integer", "null"],
                                                "description": "Offset of the "
                                                "next page; null on the last.",
                                            },
                                            "area_first": {
                                                "type": "boolean",
                                                "description": "With no position, "
                                                "people in the responder's own "
                                                "area were ranked first.",
                                            },
                                            "note": {
                                                "type": ["string", "null"],
                                                "description": "Set when no "
                                                "result is a strong match: the "
                                                "person may have no plan.",
                                            },
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
            "/api/v1/plans/{ref}/fhir": {
                "get": {
                    "operationId": "planFhirBundle",
                    "summary": "A live plan as a FHIR R4 (4.0.1) collection Bundle",
                    "description": "For a plan team's system account (a mentor's or "
                    "lead clinician's token): UK Core profiles, CarePlan category "
                    "SNOMED CT 736253002, security label V. Audited as an export.",
                    "parameters": [
                        {
                            "name": "ref",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The Bundle",
                            "content": {
                                "application/fhir+json": {"schema": {"type": "object"}}
                            },
                        },
                        "401": _error_response("Missing or invalid token"),
                        "403": _error_response(
                            "The token's account may not fetch bundles"
                        ),
                        "404": _error_response("No live plan in the account's teams"),
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
