"""Ranked search for live plans: parse what a responder typed, fetch, rank, explain.

The ranking (`rank`) is a pure function over `Candidate`s; `plans.search.index`
keeps one compact search row per person with a live plan and fetches a bounded
candidate set per database backend.
"""

from __future__ import annotations

from plans.search.candidate import Candidate, Place, candidate_from_document
from plans.search.index import (
    SearchEntry,
    SearchPlace,
    SearchResult,
    SearchResults,
    install_search_backend,
    rebuild_index,
    refresh_people,
    refresh_person,
    search,
    team_area,
)
from plans.search.query import ParsedQuery, parse_query
from plans.search.rank import Scored, rank

__all__ = [
    "Candidate",
    "ParsedQuery",
    "Place",
    "Scored",
    "SearchEntry",
    "SearchPlace",
    "SearchResult",
    "SearchResults",
    "candidate_from_document",
    "install_search_backend",
    "parse_query",
    "rank",
    "rebuild_index",
    "refresh_people",
    "refresh_person",
    "search",
    "team_area",
]
