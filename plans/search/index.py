"""The persistent search index: one compact row per person with a live plan.

`search_entries` holds each live person's candidate as compact JSON beside the
columns candidate fetching needs (name keys, text keys, date of birth); the places
a person is known at (home, crisis locations) sit in `search_places` for the
bounding-box prefilter. Candidates are fetched per backend, bounded in number, and
ranked by the pure ranker:

- SQLite: an FTS5 table over the keys, kept in step by triggers;
- PostgreSQL: `simple` tsvector GIN indexes over the keys plus a pg_trgm GIN index
  over the folded names for typos the keys miss.

Typed text reaches SQL only as bound parameters, and full-text syntax only as
quoted tokens of letters and digits.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    bindparam,
    delete,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from plans.db import Base, after_create
from plans.models import Person, PlanVersion, Team
from plans.search.candidate import Candidate, candidate_from_document
from plans.search.geo import bounding_box, haversine_m
from plans.search.keys import names_keys, query_terms, text_keys
from plans.search.query import ParsedQuery, parse_query
from plans.search.rank import Scored, rank
from plans.versions import on_live_change

logger = logging.getLogger(__name__)

# Candidate budgets: each source is bounded so ranking cost does not grow with
# the number of plans.
TEXT_LIMIT = 200
NEAR_TEXT_LIMIT = 200
NEAR_LIMIT = 250
NEAR_MIN = 60
DOB_LIMIT = 200
NEAR_RADII_M = (1_000.0, 3_000.0, 10_000.0, 30_000.0, 100_000.0)
TEXT_RADII_M = (3_000.0, 15_000.0, 60_000.0)
MAX_TERMS = 160


class SearchEntry(Base):
    """The search row of one person with a live plan."""

    __tablename__ = "search_entries"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    ref: Mapped[str] = mapped_column(String(64), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date, index=True)
    review_by: Mapped[dt.date | None] = mapped_column(Date)
    # Folded name words (given, family, preferred, aliases) for trigram matching.
    names: Mapped[str] = mapped_column(Text, default="")
    # Name keys (plans.search.keys) and text keys (stems, concepts).
    name_keys: Mapped[str] = mapped_column(Text, default="")
    text_keys: Mapped[str] = mapped_column(Text, default="")
    # The candidate as compact JSON (Candidate.to_row), read back without parsing
    # the plan document.
    candidate: Mapped[str] = mapped_column(Text)


class SearchPlace(Base):
    """A point a live person is known at, for the near-me prefilter."""

    __tablename__ = "search_places"
    __table_args__ = (Index("ix_search_places_lat_lon", "lat", "lon", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("search_entries.person_id", ondelete="CASCADE"), index=True
    )
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class SearchResult:
    """One ranked person: minimal identity, why they matched, plan review state."""

    ref: str
    name: str
    age: int | None
    town: str | None
    team: str
    score: float
    reasons: tuple[str, ...]
    review_overdue: bool
    distance_m: float | None = None
    person_id: int | None = None


def result_of(scored: Scored, today: dt.date) -> SearchResult:
    """Return the minimal-identity result for a scored candidate."""
    candidate = scored.candidate
    return SearchResult(
        ref=candidate.ref,
        name=candidate.name,
        age=candidate.age_on(today),
        town=candidate.town,
        team=candidate.team_name,
        score=scored.score,
        reasons=scored.reasons,
        review_overdue=candidate.review_overdue(today),
        distance_m=scored.distance_m,
        person_id=candidate.person_id,
    )


# --- Database objects -------------------------------------------------------------

_SQLITE_OBJECTS = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
        name_keys, text_keys,
        content='search_entries', content_rowid='person_id',
        tokenize='unicode61', prefix='2 3 4')""",
    """CREATE TRIGGER IF NOT EXISTS search_entries_fts_insert
    AFTER INSERT ON search_entries BEGIN
        INSERT INTO search_fts (rowid, name_keys, text_keys)
        VALUES (new.person_id, new.name_keys, new.text_keys);
    END""",
    """CREATE TRIGGER IF NOT EXISTS search_entries_fts_delete
    AFTER DELETE ON search_entries BEGIN
        INSERT INTO search_fts (search_fts, rowid, name_keys, text_keys)
        VALUES ('delete', old.person_id, old.name_keys, old.text_keys);
    END""",
    """CREATE TRIGGER IF NOT EXISTS search_entries_fts_update
    AFTER UPDATE ON search_entries BEGIN
        INSERT INTO search_fts (search_fts, rowid, name_keys, text_keys)
        VALUES ('delete', old.person_id, old.name_keys, old.text_keys);
        INSERT INTO search_fts (rowid, name_keys, text_keys)
        VALUES (new.person_id, new.name_keys, new.text_keys);
    END""",
)

_POSTGRES_OBJECTS = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE INDEX IF NOT EXISTS ix_search_entries_name_keys_tsv
    ON search_entries USING gin (to_tsvector('simple', name_keys))""",
    """CREATE INDEX IF NOT EXISTS ix_search_entries_text_keys_tsv
    ON search_entries USING gin (to_tsvector('simple', text_keys))""",
    """CREATE INDEX IF NOT EXISTS ix_search_entries_names_trgm
    ON search_entries USING gin (names gin_trgm_ops)""",
)


@after_create
def install_search_backend(connection: Connection) -> None:
    """Create the search tables and the backend's full-text objects (idempotent)."""
    for table in (SearchEntry.__table__, SearchPlace.__table__):
        table.create(connection, checkfirst=True)  # type: ignore[attr-defined]
    if connection.dialect.name == "postgresql":
        statements: Sequence[str] = _POSTGRES_OBJECTS
    else:
        statements = _SQLITE_OBJECTS
    for statement in statements:
        connection.execute(text(statement))


# --- Keeping the index in step ----------------------------------------------------


def _live_document(session: Session, person: Person) -> dict[str, Any] | None:
    version = session.scalar(
        select(PlanVersion).where(
            PlanVersion.person_id == person.id, PlanVersion.status == "live"
        )
    )
    if version is None:
        return None
    plan = dict(version.document.get("plan") or {})
    if version.review_by is not None:
        plan["review_by"] = version.review_by.isoformat()
    team = session.get(Team, person.team_id)
    return {
        "team": team.exchange_dict() if team else {"code": "", "name": ""},
        "person": person.exchange_dict(),
        "plan": plan,
    }


def _entry_values(person_id: int, team_id: int, candidate: Candidate) -> dict[str, Any]:
    name_words = [
        token for form in candidate.name_forms for token in form.tokens if token
    ]
    texts = [candidate.description_features]
    texts += [features for _, features in candidate.behaviour_features]
    texts += [features for _, features in candidate.place_features]
    return {
        "person_id": person_id,
        "ref": candidate.ref,
        "team_id": team_id,
        "date_of_birth": candidate.date_of_birth,
        "review_by": candidate.review_by,
        "names": " ".join(dict.fromkeys(name_words)),
        "name_keys": names_keys(name_words),
        "text_keys": text_keys(texts),
        "candidate": json.dumps(candidate.to_row(), separators=(",", ":")),
    }


def _place_values(person_id: int, candidate: Candidate) -> list[dict[str, Any]]:
    return [
        {"person_id": person_id, "lat": place.lat, "lon": place.lon}
        for place in candidate.places
    ]


def refresh_person(session: Session, person: Person) -> None:
    """Rebuild the person's search row from their live plan, or drop it if none."""
    session.flush()
    session.execute(delete(SearchPlace).where(SearchPlace.person_id == person.id))
    session.execute(delete(SearchEntry).where(SearchEntry.person_id == person.id))
    document = _live_document(session, person)
    if document is None:
        return
    candidate = candidate_from_document(document, person_id=person.id)
    session.execute(
        insert(SearchEntry), [_entry_values(person.id, person.team_id, candidate)]
    )
    places = _place_values(person.id, candidate)
    if places:
        session.execute(insert(SearchPlace), places)


@on_live_change
def _refresh_on_live_change(session: Session, person: Person, _event: str) -> None:
    refresh_person(session, person)


def rebuild_index(session: Session, *, batch_size: int = 2000) -> int:
    """Rebuild every search row from the live plans; return how many there are."""
    session.flush()
    session.execute(delete(SearchPlace))
    session.execute(delete(SearchEntry))
    rows = session.execute(
        select(PlanVersion.document, PlanVersion.review_by, Person, Team)
        .join(Person, Person.id == PlanVersion.person_id)
        .join(Team, Team.id == Person.team_id)
        .where(PlanVersion.status == "live")
        .order_by(Person.id)
        .execution_options(yield_per=batch_size)
    )
    count = 0
    entries: list[dict[str, Any]] = []
    places: list[dict[str, Any]] = []
    for document, review_by, person, team in rows:
        plan = dict(document.get("plan") or {})
        if review_by is not None:
            plan["review_by"] = review_by.isoformat()
        candidate = candidate_from_document(
            {
                "team": team.exchange_dict(),
                "person": person.exchange_dict(),
                "plan": plan,
            },
            person_id=person.id,
        )
        entries.append(_entry_values(person.id, person.team_id, candidate))
        places.extend(_place_values(person.id, candidate))
        count += 1
        if len(entries) >= batch_size:
            _flush_rows(session, entries, places)
    _flush_rows(session, entries, places)
    return count


def _flush_rows(
    session: Session, entries: list[dict[str, Any]], places: list[dict[str, Any]]
) -> None:
    if entries:
        session.execute(insert(SearchEntry), entries)
    if places:
        session.execute(insert(SearchPlace), places)
    entries.clear()
    places.clear()


# --- Fetching candidates ----------------------------------------------------------


def _quoted(tokens: Iterable[str]) -> list[str]:
    # Tokens are letters and digits only (see plans.search.keys); quoting them
    # anyway means no token can ever be read as FTS5 syntax.
    return [f'"{token}"' for token in tokens if token.isalnum()]


def _fts_query(query: ParsedQuery) -> str | None:
    name_terms, prefixes, text_terms = query_terms(query)
    parts = [f"name_keys : {term}" for term in _quoted(name_terms)]
    parts += [f"name_keys : {term}*" for term in _quoted(prefixes)]
    parts += [f"text_keys : {term}" for term in _quoted(text_terms)]
    if not parts:
        return None
    return " OR ".join(parts[:MAX_TERMS])


def _tsquery(terms: Iterable[str], *, prefix: bool = False) -> str:
    suffix = ":*" if prefix else ""
    return " | ".join(f"{term}{suffix}" for term in terms if term.isalnum())


def _box_clause(
    lat: float, lon: float, radius_m: float
) -> tuple[str, dict[str, float]]:
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_m)
    clause = (
        "SELECT person_id FROM search_places "
        "WHERE lat BETWEEN :min_lat AND :max_lat AND lon BETWEEN :min_lon AND :max_lon"
    )
    return clause, {
        "min_lat": min_lat,
        "max_lat": max_lat,
        "min_lon": min_lon,
        "max_lon": max_lon,
    }


def _text_ids_sqlite(
    session: Session,
    query: ParsedQuery,
    limit: int,
    box: tuple[str, dict[str, float]] | None,
) -> list[int]:
    match = _fts_query(query)
    if match is None:
        return []
    sql = "SELECT rowid FROM search_fts WHERE search_fts MATCH :match"
    params: dict[str, Any] = {"match": match, "limit": limit}
    if box is not None:
        sql += f" AND rowid IN ({box[0]})"
        params.update(box[1])
    sql += " ORDER BY bm25(search_fts, 2.0, 1.0) LIMIT :limit"
    return [row[0] for row in session.execute(text(sql), params)]


def _text_ids_postgres(
    session: Session,
    query: ParsedQuery,
    limit: int,
    box: tuple[str, dict[str, float]] | None,
) -> list[int]:
    name_terms, prefixes, text_terms = query_terms(query)
    names_q = " | ".join(
        part for part in (_tsquery(name_terms), _tsquery(prefixes, prefix=True)) if part
    )
    text_q = _tsquery(text_terms)
    if not names_q and not text_q:
        return []
    conditions: list[str] = []
    rank_parts: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    if names_q:
        conditions.append(
            "to_tsvector('simple', name_keys) @@ to_tsquery('simple', :nq)"
        )
        rank_parts.append(
            "2 * ts_rank(to_tsvector('simple', name_keys), to_tsquery('simple', :nq))"
        )
        params["nq"] = names_q
    if text_q:
        conditions.append(
            "to_tsvector('simple', text_keys) @@ to_tsquery('simple', :tq)"
        )
        rank_parts.append(
            "ts_rank(to_tsvector('simple', text_keys), to_tsquery('simple', :tq))"
        )
        params["tq"] = text_q
    sql = "SELECT person_id FROM search_entries WHERE (" + " OR ".join(conditions) + ")"
    if box is not None:
        sql += f" AND person_id IN ({box[0]})"
        params.update(box[1])
    sql += " ORDER BY " + " + ".join(rank_parts) + " DESC LIMIT :limit"
    ids = [row[0] for row in session.execute(text(sql), params)]
    typed = " ".join(query.words)
    if typed and box is None:
        # Trigrams catch the typos the keys do not (two slips in a short name).
        trigram = session.execute(
            text(
                "SELECT person_id FROM search_entries WHERE :typed <% names "
                "ORDER BY word_similarity(:typed, names) DESC LIMIT :limit"
            ),
            {"typed": typed, "limit": limit // 2},
        )
        ids += [row[0] for row in trigram]
    return ids


def _text_ids(
    session: Session,
    query: ParsedQuery,
    limit: int,
    box: tuple[str, dict[str, float]] | None = None,
) -> list[int]:
    if session.get_bind().dialect.name == "postgresql":
        return _text_ids_postgres(session, query, limit, box)
    return _text_ids_sqlite(session, query, limit, box)


def _near_ids(session: Session, lat: float, lon: float) -> list[int]:
    """Return the people known nearest a point, widening the box until enough."""
    nearest: dict[int, float] = {}
    for radius in NEAR_RADII_M:
        clause, params = _box_clause(lat, lon, radius)
        rows = session.execute(
            text(clause.replace("SELECT person_id", "SELECT person_id, lat, lon")),
            params,
        )
        nearest = {}
        for person_id, place_lat, place_lon in rows:
            metres = haversine_m(lat, lon, place_lat, place_lon)
            if metres < nearest.get(person_id, float("inf")):
                nearest[person_id] = metres
        if len(nearest) >= NEAR_MIN:
            break
    return sorted(nearest, key=nearest.__getitem__)[:NEAR_LIMIT]


def _dob_ids(session: Session, query: ParsedQuery) -> list[int]:
    wanted = query.date_of_birth
    if wanted is None or wanted.year is None:
        return []
    days: list[dt.date] = []
    if wanted.month and wanted.day:
        days.append(dt.date(wanted.year, wanted.month, wanted.day))
        if wanted.swappable:
            days.append(dt.date(wanted.year, wanted.day, wanted.month))
        for year in (wanted.year - 1, wanted.year + 1):
            try:
                days.append(dt.date(year, wanted.month, wanted.day))
            except ValueError:
                pass
        statement = select(SearchEntry.person_id).where(
            SearchEntry.date_of_birth.in_(days)
        )
    else:
        first = dt.date(wanted.year, wanted.month or 1, 1)
        last = dt.date(wanted.year, wanted.month or 12, 28 if wanted.month else 31)
        if wanted.month:
            last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            last -= dt.timedelta(days=1)
        statement = select(SearchEntry.person_id).where(
            SearchEntry.date_of_birth.between(first, last)
        )
        if query.words:
            # "smith born 1990": the year narrows the name, not the other way.
            year_ids = set(session.scalars(statement.limit(20_000)))
            return [pid for pid in _text_ids(session, query, 2000) if pid in year_ids][
                :DOB_LIMIT
            ]
    return list(session.scalars(statement.limit(DOB_LIMIT)))


def fetch_candidates(session: Session, query: ParsedQuery) -> list[Candidate]:
    """Fetch a bounded set of candidates for a query from the index."""
    ids: dict[int, None] = {}
    if query.has_location:
        assert query.lat is not None and query.lon is not None
        ids.update(dict.fromkeys(_near_ids(session, query.lat, query.lon)))
        if query.words:
            for radius in TEXT_RADII_M:
                box = _box_clause(query.lat, query.lon, radius)
                found = _text_ids(session, query, NEAR_TEXT_LIMIT, box)
                ids.update(dict.fromkeys(found))
                if len(found) >= NEAR_TEXT_LIMIT // 4:
                    break
    if query.words:
        ids.update(dict.fromkeys(_text_ids(session, query, TEXT_LIMIT)))
    if query.date_of_birth:
        ids.update(dict.fromkeys(_dob_ids(session, query)))
    if not ids:
        return []
    rows = session.execute(
        select(SearchEntry.person_id, SearchEntry.candidate).where(
            SearchEntry.person_id.in_(bindparam("ids", expanding=True))
        ),
        {"ids": list(ids)},
    )
    return [
        Candidate.from_row(json.loads(payload), person_id=person_id)
        for person_id, payload in rows
    ]


def search(
    session: Session,
    text: str,
    *,
    lat: float | None = None,
    lon: float | None = None,
    limit: int = 10,
    today: dt.date | None = None,
) -> list[SearchResult]:
    """Rank live plans against what a responder typed and where they stand."""
    today = today or dt.date.today()
    query = parse_query(text, lat=lat, lon=lon, today=today)
    if query.is_empty and not query.has_location:
        return []
    candidates = fetch_candidates(session, query)
    ranked = rank(query, candidates, today=today, limit=limit)
    return [result_of(scored, today) for scored in ranked]


def load_documents_for_bench(
    session: Session, documents: Iterable[dict[str, Any]]
) -> None:
    """Land documents through the exchange import (benchmarks and tests)."""
    from plans.exchange.landing import import_documents

    report = import_documents(session, list(documents), actor=None, source="bench")
    logger.info("bench import: %s", report)
