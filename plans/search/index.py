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
import itertools
import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from plans import clock, nhs_numbers
from plans.db import Base, after_create, chunks
from plans.models import Person, PlanVersion, Team
from plans.search.candidate import Candidate, candidate_from_document
from plans.search.geo import bounding_box
from plans.search.keys import (
    RowRater,
    TermGroup,
    address_keys,
    names_keys,
    query_groups,
    text_keys,
)
from plans.search.query import MAX_QUERY_CHARS, ParsedQuery, parse_query
from plans.search.rank import Scored, rank

logger = logging.getLogger(__name__)

# Candidate budgets: each source is bounded so ranking cost does not grow with
# the number of plans.
TEXT_LIMIT = 200  # best text matches by bm25 / ts_rank
TEXT_MIN = 5  # fewer than this matching every word: also take any word
LEAVE_ONE_OUT_MIN = 20  # fewer than this: also every word but one, in turn
NEAR_POOL = 400  # nearest people considered when words are typed too
NEAR_ONLY = 100  # nearest people considered when no words are typed
NEAR_MIN = 150  # widen the near-me box until it holds this many people
NEAR_RADII_M = (500.0, 1_500.0, 5_000.0, 15_000.0, 50_000.0, 200_000.0)
DOB_LIMIT = 200
MAX_RANKED = 60  # candidates handed to the ranker at most
MAX_GROUPS = 12


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
    # "strong", "possible" or "weak": how surely the clues pick this person.
    match: str = "weak"


class SearchResults(list[SearchResult]):
    """A page of ranked results, and how many matched in all.

    A list, so callers that only iterate keep working; `total` and `more` say
    what the page does not show, so nothing is hidden.
    """

    def __init__(
        self,
        results: Iterable[SearchResult] = (),
        *,
        total: int = 0,
        offset: int = 0,
        at_least: bool = False,
        area_first: bool = False,
    ) -> None:
        super().__init__(results)
        self.total = total  # people matching at least one clue
        self.offset = offset
        self.at_least = at_least  # the candidate budget cut the count
        self.area_first = area_first  # the responder's area was ranked first

    @property
    def more(self) -> bool:
        """Say whether more results follow this page."""
        return self.offset + len(self) < self.total

    @property
    def any_strong(self) -> bool:
        """Say whether any result singles one person out."""
        return any(result.match == "strong" for result in self)


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
        match=scored.match,
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
    """CREATE INDEX IF NOT EXISTS ix_search_entries_keys_tsv ON search_entries
    USING gin (to_tsvector('simple', name_keys || ' ' || text_keys))""",
    """CREATE INDEX IF NOT EXISTS ix_search_entries_name_keys_tsv ON search_entries
    USING gin (to_tsvector('simple', name_keys))""",
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


def _search_document(
    document: dict[str, Any],
    review_by: dt.date | None,
    person: Person,
    team: Team | None,
) -> dict[str, Any]:
    """Return a live version as the search sees it: the recorded review date wins."""
    plan = dict(document.get("plan") or {})
    if review_by is not None:
        plan["review_by"] = review_by.isoformat()
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
        "text_keys": " ".join(
            part
            for part in (
                text_keys(texts),
                address_keys(candidate.address, candidate.town, candidate.postcode),
            )
            if part
        ),
        "candidate": json.dumps(candidate.to_row(), separators=(",", ":")),
    }


def _place_values(person_id: int, candidate: Candidate) -> list[dict[str, Any]]:
    return [
        {"person_id": person_id, "lat": place.lat, "lon": place.lon}
        for place in candidate.places
    ]


def refresh_person(session: Session, person: Person) -> None:
    """Rebuild the person's search row from their live plan, or drop it if none."""
    refresh_people(session, [person])


def refresh_people(session: Session, people: Sequence[Person]) -> None:
    """Rebuild the search rows of many people in a few statements."""
    session.flush()
    by_id = {person.id: person for person in people}
    entries: list[dict[str, Any]] = []
    places: list[dict[str, Any]] = []
    for chunk in chunks(sorted(by_id)):
        session.execute(delete(SearchPlace).where(SearchPlace.person_id.in_(chunk)))
        session.execute(delete(SearchEntry).where(SearchEntry.person_id.in_(chunk)))
        live = session.execute(
            select(
                PlanVersion.person_id, PlanVersion.document, PlanVersion.review_by
            ).where(PlanVersion.person_id.in_(chunk), PlanVersion.status == "live")
        )
        for person_id, document, review_by in live:
            person = by_id[person_id]
            team = session.get(Team, person.team_id)
            candidate = candidate_from_document(
                _search_document(document, review_by, person, team),
                person_id=person_id,
            )
            entries.append(_entry_values(person_id, person.team_id, candidate))
            places.extend(_place_values(person_id, candidate))
    _flush_rows(session, entries, places)


def _refresh_on_live_change(
    session: Session, changes: Sequence[tuple[Person, str]]
) -> None:
    refresh_people(session, [person for person, _event in changes])


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
        candidate = candidate_from_document(
            _search_document(document, review_by, person, team),
            person_id=person.id,
        )
        entries.append(_entry_values(person.id, person.team_id, candidate))
        places.extend(_place_values(person.id, candidate))
        count += 1
        if len(entries) >= batch_size:
            _flush_rows(session, entries, places)
    _flush_rows(session, entries, places)
    if session.get_bind().dialect.name == "sqlite":
        # Dropping and refilling every row leaves the full-text index in many
        # segments full of deletions; merged, each lookup reads one.
        session.execute(text("INSERT INTO search_fts (search_fts) VALUES ('optimize')"))
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


def _fts_group(group: TermGroup, names_only: bool = False) -> str | None:
    # Keys are letters and digits only (see plans.search.keys); quoting them
    # anyway means no key can ever be read as FTS5 syntax.
    keys = group.name_keys if names_only else group.name_keys | group.text_keys
    terms = [f'"{key}"' for key in sorted(keys)]
    terms += [f'"{prefix}"*' for prefix in sorted(group.prefixes)]
    return "(" + " OR ".join(terms) + ")" if terms else None


def _ts_group(group: TermGroup, names_only: bool = False) -> str | None:
    terms = sorted(group.name_keys if names_only else group.name_keys | group.text_keys)
    terms += [f"{prefix}:*" for prefix in sorted(group.prefixes)]
    return "(" + " | ".join(terms) + ")" if terms else None


def _match_expression(
    dialect: str,
    groups: Sequence[TermGroup],
    *,
    every: bool,
    names_only: bool = False,
) -> str | None:
    if dialect == "postgresql":
        parts = [_ts_group(group, names_only) for group in groups]
        joiner = " & " if every else " | "
    else:
        parts = [_fts_group(group, names_only) for group in groups]
        joiner = " AND " if every else " OR "
    present = [part for part in parts if part]
    if not present:
        return None
    expression = joiner.join(present[:MAX_GROUPS])
    if names_only and dialect != "postgresql":
        expression = f"name_keys : ({expression})"
    return expression


_TSVECTOR = "to_tsvector('simple', name_keys || ' ' || text_keys)"
_NAMES_TSVECTOR = "to_tsvector('simple', name_keys)"


def _text_ids(
    session: Session,
    groups: Sequence[TermGroup],
    limit: int,
    *,
    every: bool,
    names_only: bool = False,
) -> list[int]:
    """Return the best text matches: every group matched, or any one of them.

    With `names_only` only name keys count: when the responder's position is
    known, behaviour and description words are looked up among the people near
    them rather than across the country.
    """
    dialect = session.get_bind().dialect.name
    match = _match_expression(dialect, groups, every=every, names_only=names_only)
    if match is None:
        return []
    if dialect == "postgresql":
        # No ts_rank: it rebuilds each matching row's tsvector, which for a common
        # surname at 100,000 plans cost most of the search. The key prefilter
        # orders what comes back, so take twice as many rows instead. The
        # materialised CTE keeps the planner on the GIN index: a bare LIMIT
        # tempts it into a sequential scan that stops early, or never does.
        vector = _NAMES_TSVECTOR if names_only else _TSVECTOR
        sql = (
            "WITH found AS MATERIALIZED (SELECT person_id FROM search_entries "
            f"WHERE {vector} @@ to_tsquery('simple', :match)) "
            "SELECT person_id FROM found LIMIT :limit"
        )
        limit *= 2
    else:
        sql = (
            "SELECT rowid FROM search_fts WHERE search_fts MATCH :match "
            "ORDER BY bm25(search_fts, 2.0, 1.0) LIMIT :limit"
        )
    return list(
        session.execute(text(sql), {"match": match, "limit": limit}).scalars().all()
    )


AREA_BOX_M = 15_000.0
AREA_LIMIT = 100


def _text_ids_in_area(
    session: Session, groups: Sequence[TermGroup], lat: float, lon: float
) -> list[int]:
    """Return the best text matches among people with a place in the area."""
    dialect = session.get_bind().dialect.name
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, AREA_BOX_M)
    box = {"a": min_lat, "b": max_lat, "c": min_lon, "d": max_lon}
    in_box = (
        "SELECT person_id FROM search_places WHERE lat BETWEEN :a AND :b "
        "AND lon BETWEEN :c AND :d"
    )  # PostgreSQL plans this well; SQLite gets its own join below
    found: list[int] = []
    for every in (True, False):
        match = _match_expression(dialect, groups, every=every)
        if match is None:
            return found
        if dialect == "postgresql":
            sql = (
                f"SELECT person_id FROM search_entries WHERE {_TSVECTOR} "
                f"@@ to_tsquery('simple', :match) AND person_id IN ({in_box}) "
                "LIMIT :limit"
            )
        else:
            # Text first, then each match's places by person: no bm25 sort
            # over every match, and no scan of every place in a city's box.
            sql = (
                "SELECT DISTINCT search_fts.rowid FROM search_fts "
                "CROSS JOIN search_places "
                "ON search_places.person_id = search_fts.rowid "
                "WHERE search_fts MATCH :match "
                "AND search_places.lat BETWEEN :a AND :b "
                "AND search_places.lon BETWEEN :c AND :d LIMIT :limit"
            )
        found += list(
            session.scalars(text(sql), {"match": match, "limit": AREA_LIMIT, **box})
        )
        if len(found) >= TEXT_MIN or len(groups) == 1:
            break
    return found


def _trigram_ids(session: Session, query: ParsedQuery, limit: int) -> list[int]:
    """Return names close to the typed words by trigrams (PostgreSQL only)."""
    typed = " ".join(query.words)
    if session.get_bind().dialect.name != "postgresql" or not typed:
        return []
    return list(
        session.scalars(
            text(
                "SELECT person_id FROM search_entries WHERE :typed <% names "
                "ORDER BY word_similarity(:typed, names) DESC LIMIT :limit"
            ),
            {"typed": typed, "limit": limit},
        )
    )


def _near_ids(session: Session, lat: float, lon: float, limit: int) -> list[int]:
    """Return the people known nearest a point, widening the box until enough.

    The database orders by a flat-earth distance (exact enough to choose a few
    hundred people; the ranker measures each one properly), so no place row
    reaches Python.
    """
    scale = math.cos(math.radians(lat)) ** 2
    wanted = max(limit, NEAR_MIN)
    found: list[int] = []
    for radius in NEAR_RADII_M:
        min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius)
        found = list(
            session.execute(
                _NEAR_SQL,
                {
                    "lat": lat,
                    "lon": lon,
                    "k": scale,
                    "a": min_lat,
                    "b": max_lat,
                    "c": min_lon,
                    "d": max_lon,
                    "n": wanted,
                },
            )
            .scalars()
            .all()
        )
        if len(found) >= NEAR_MIN:
            break
    return found[:limit]


_NEAR_SQL = text(
    "SELECT person_id FROM search_places "
    "WHERE lat BETWEEN :a AND :b AND lon BETWEEN :c AND :d "
    "GROUP BY person_id "
    "ORDER BY MIN((lat - :lat) * (lat - :lat) + (lon - :lon) * (lon - :lon) * :k), "
    "person_id LIMIT :n"
)


def _dob_ids(
    session: Session, query: ParsedQuery, groups: Sequence[TermGroup]
) -> list[int]:
    wanted = query.date_of_birth
    if wanted is None or wanted.year is None:
        return []
    born = SearchEntry.date_of_birth
    if wanted.month and wanted.day:
        days = [dt.date(wanted.year, wanted.month, wanted.day)]
        if wanted.swappable:
            days.append(dt.date(wanted.year, wanted.day, wanted.month))
        for year in (wanted.year - 1, wanted.year + 1):
            try:
                days.append(dt.date(year, wanted.month, wanted.day))
            except ValueError:
                pass
        condition: ColumnElement[bool] = born.in_(days)
    elif wanted.month:
        first = dt.date(wanted.year, wanted.month, 1)
        after = (first + dt.timedelta(days=32)).replace(day=1)
        condition = (born >= first) & (born < after)
    else:
        condition = born.between(
            dt.date(wanted.year, 1, 1), dt.date(wanted.year, 12, 31)
        )
    statement = select(SearchEntry.person_id).where(condition)
    dialect = session.get_bind().dialect.name
    match = _match_expression(dialect, groups, every=True) if groups else None
    if match is not None and not (wanted.month and wanted.day):
        # "smith born 1990": a year alone narrows the name, not the other way.
        if dialect == "postgresql":
            statement = statement.where(
                text(f"{_TSVECTOR} @@ to_tsquery('simple', :match)").bindparams(
                    match=match
                )
            )
        else:
            statement = statement.where(
                text(
                    "search_entries.person_id IN "
                    "(SELECT rowid FROM search_fts WHERE search_fts MATCH :match)"
                ).bindparams(match=match)
            )
    return list(session.scalars(statement.limit(DOB_LIMIT)))


def _rows_of(session: Session, columns: str, ids: Sequence[int]) -> list[Any]:
    """Return columns of the search rows of these people, in one statement.

    The ids are the database's own integers, written into the statement as
    numerals (int() of each, so nothing typed can reach it): a bound list makes
    the SQL layer name and render a parameter per id on every query, which cost
    more than reading the rows.
    """
    listed = ",".join(str(int(person_id)) for person_id in ids)
    # fetchall: one call to the driver for every row, not one per row.
    return list(
        session.connection()
        .exec_driver_sql(
            f"SELECT person_id, {columns} FROM search_entries "
            f"WHERE person_id IN ({listed})"
        )
        .fetchall()
    )


def _prefilter(
    session: Session, ids: Sequence[int], groups: Sequence[TermGroup], keep: set[int]
) -> list[int]:
    """Keep the ids whose keys best match the typed words, in fetch order on ties.

    Fetch order puts the nearest first when the responder's position is known, so
    among equally good matches the nearest reach the ranker.
    """
    if not groups:
        return list(ids)[:MAX_RANKED]
    rater = RowRater(groups)
    scored: list[tuple[int, int, int]] = []
    order = {person_id: index for index, person_id in enumerate(ids)}
    for chunk in chunks(list(ids), 900):
        rows = _rows_of(session, "names, text_keys", chunk)
        for person_id, names, row_text_keys in rows:
            matched = rater.rate(names, row_text_keys)
            if person_id in keep:
                matched += 10
            if matched:
                scored.append((-matched, order[person_id], person_id))
    scored.sort()
    return [person_id for _, _, person_id in scored[:MAX_RANKED]]


def fetch_candidates(
    session: Session, query: ParsedQuery
) -> tuple[list[Candidate], bool]:
    """Fetch a bounded set of candidates; say whether the budget cut the set."""
    groups = query_groups(query) if query.words or query.postcode else []
    ids: dict[int, None] = {}
    if query.has_location:
        assert query.lat is not None and query.lon is not None
        wanted = NEAR_POOL if groups else NEAR_ONLY
        ids.update(dict.fromkeys(_near_ids(session, query.lat, query.lon, wanted)))
    if groups and query.has_area:
        assert query.area_lat is not None and query.area_lon is not None
        # No position: the responder's own area first, then the country.
        ids.update(
            dict.fromkeys(
                _text_ids_in_area(session, groups, query.area_lat, query.area_lon)
            )
        )
    if groups:
        # Near the responder, behaviour words are looked up among the people
        # near them; an address or postcode is looked up everywhere.
        names_only = query.has_location and not (
            query.postcode or any(word.isdigit() for word in query.words)
        )
        found = _text_ids(
            session, groups, TEXT_LIMIT, every=True, names_only=names_only
        )
        # Near the responder, the nearest people stand in for the looser
        # country-wide lookups; without a position they are all we have.
        if len(found) < LEAVE_ONE_OUT_MIN and len(groups) >= 3 and not names_only:
            # "Derry man absconded from hospital": one word too many for any
            # plan. Every group but one, in turn, before any single word.
            subsets = [
                _text_ids(
                    session,
                    [g for i, g in enumerate(groups) if i != left_out],
                    TEXT_LIMIT // 2,
                    every=True,
                )
                for left_out in range(len(groups))
            ]
            # Interleaved, so that each subset's best reach the ranker.
            found += [
                person_id
                for row in itertools.zip_longest(*subsets)
                for person_id in row
                if person_id is not None
            ]
        if len(found) < TEXT_MIN and not names_only:
            if len(groups) > 1:
                found += _text_ids(
                    session, groups, TEXT_LIMIT, every=False, names_only=names_only
                )
            found += _trigram_ids(session, query, TEXT_LIMIT // 2)
        ids.update(dict.fromkeys(found))
    dob_ids = set(_dob_ids(session, query, groups)) if query.date_of_birth else set()
    ids.update(dict.fromkeys(dob_ids))
    if not ids:
        return [], False
    chosen = _prefilter(session, list(ids), groups, dob_ids)
    candidates: list[Candidate] = []
    for chunk in chunks(chosen, 900):
        rows = _rows_of(session, "candidate", chunk)
        candidates.extend(
            Candidate.from_row(json.loads(payload), person_id=person_id)
            for person_id, payload in rows
        )
    return candidates, len(chosen) >= MAX_RANKED


def team_area(session: Session, team_ids: Iterable[int]) -> tuple[float, float] | None:
    """Return the middle of where a responder's teams' people are known, or None.

    The team with the most places wins, so a responder in two teams gets one
    real area rather than a point halfway between two cities. Plan places are
    already in the index, so the area needs no column of its own.
    """
    wanted = sorted(set(team_ids))
    if not wanted:
        return None
    rows = session.execute(
        select(
            SearchEntry.team_id,
            func.count(SearchPlace.id),
            func.avg(SearchPlace.lat),
            func.avg(SearchPlace.lon),
        )
        .join(SearchPlace, SearchPlace.person_id == SearchEntry.person_id)
        .where(SearchEntry.team_id.in_(wanted))
        .group_by(SearchEntry.team_id)
    ).all()
    best = max(rows, key=lambda row: (row[1], -row[0]), default=None)
    if best is None or not best[1]:
        return None
    return float(best[2]), float(best[3])


def _by_nhs_number(
    session: Session, nhs_number: str, *, today: dt.date, offset: int
) -> SearchResults:
    """Return the one live person with this NHS number, or nobody.

    An NHS number names one person, so nothing else is ranked beside it: a
    near miss on a name must never sit next to an exact identifier.
    """
    row = session.execute(
        select(SearchEntry.person_id, SearchEntry.candidate)
        .join(Person, Person.id == SearchEntry.person_id)
        .where(Person.nhs_number == nhs_number)
    ).first()
    if row is None:
        return SearchResults()
    candidate = Candidate.from_row(json.loads(row.candidate), person_id=row.person_id)
    scored = Scored(candidate, 1.0, ("NHS number matches",), match="strong")
    page = [scored][offset:]
    return SearchResults(
        (result_of(item, today) for item in page), total=1, offset=offset
    )


def search(
    session: Session,
    text: str,
    *,
    lat: float | None = None,
    lon: float | None = None,
    limit: int = 10,
    today: dt.date | None = None,
    offset: int = 0,
    area: tuple[float, float] | None = None,
) -> SearchResults:
    """Rank live plans against what a responder typed and where they stand.

    `area` is the responder's own area (their team's, say): with no position,
    people known there rank first and say so. The result is a list of one page
    (`offset`, `limit`) that also carries how many matched in all.
    """
    today = today or clock.today()
    nhs_number, _rest = nhs_numbers.find_in_query(text[:MAX_QUERY_CHARS])
    if nhs_number is not None:
        return _by_nhs_number(session, nhs_number, today=today, offset=offset)
    query = parse_query(text, lat=lat, lon=lon, today=today, area=area)
    if query.is_empty and not query.has_location:
        return SearchResults()
    candidates, cut = fetch_candidates(session, query)
    ranked = rank(query, candidates, today=today)
    page = ranked[offset : offset + limit]
    return SearchResults(
        (result_of(scored, today) for scored in page),
        total=len(ranked),
        offset=offset,
        at_least=cut,
        area_first=query.has_area
        and bool(page)
        and "in your team's area" in page[0].reasons,
    )


def load_documents_for_bench(
    session: Session, documents: Iterable[dict[str, Any]]
) -> None:
    """Land documents through the exchange import (benchmarks and tests)."""
    from plans.exchange.landing import import_documents

    report = import_documents(session, list(documents), actor=None, source="bench")
    logger.info("bench import: %s", report)
