"""Import and export of plans in the response-plan exchange format (v2; v1 upgraded)."""

from __future__ import annotations

from plans.exchange.landing import (
    OUTCOMES,
    DocumentOutcome,
    GuardrailResult,
    ImportReport,
    ensure_teams,
    guardrail_result,
    import_documents,
)
from plans.exchange.reading import (
    ImportProblem,
    ParsedDocument,
    check_document,
    read_documents,
    read_file,
    read_text,
    schema,
    schema_problems,
    validator,
    with_file_checks,
)
from plans.exchange.upgrade import FORMAT, FORMATS, upgrade_document
from plans.exchange.writing import (
    EXPORT_FORMATS,
    current_versions,
    document_for,
    export_documents,
    write_documents,
)

__all__ = [
    "EXPORT_FORMATS",
    "FORMAT",
    "FORMATS",
    "OUTCOMES",
    "DocumentOutcome",
    "GuardrailResult",
    "ImportProblem",
    "ImportReport",
    "ParsedDocument",
    "check_document",
    "current_versions",
    "document_for",
    "ensure_teams",
    "export_documents",
    "guardrail_result",
    "import_documents",
    "read_documents",
    "read_file",
    "read_text",
    "schema",
    "schema_problems",
    "upgrade_document",
    "validator",
    "with_file_checks",
    "write_documents",
]
