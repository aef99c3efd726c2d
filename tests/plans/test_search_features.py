"""Features stored once at index time rank exactly as features worked out per query."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import plans.search.candidate as candidate_module
from plans.search import Candidate, candidate_from_document, parse_query, rank, search
from plans.search.index import SearchEntry, _entry_values, rebuild_index
from plans.search.keys import (
    RowRater,
    group_strength,
    query_groups,
)
from plans.search.text import fold, text_features
from tests.plans.test_search_hard import PEOPLE, landed  # noqa: F401

TODAY = dt.date(2026, 11, 23)
FEATURES = ("description_features", "behaviour_features", "place_features")


def stored(document: dict) -> Candidate:
    row = json.loads(json.dumps(candidate_from_document(document).to_row()))
    return Candidate.from_row(row)


@pytest.mark.parametrize("document", PEOPLE, ids=lambda d: d["person"]["ref"])
def test_a_row_carries_the_features_a_query_would_work_out(
    document: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh, read = candidate_from_document(document), stored(document)
    expected = {name: getattr(fresh, name) for name in FEATURES}

    def worked_out_again(text: str) -> None:
        raise AssertionError(f"features worked out again for {text!r}")

    # Read back from the row, not worked out again from the plan text.
    monkeypatch.setattr(candidate_module, "text_features", worked_out_again)
    monkeypatch.setattr(candidate_module, "_behaviour_features", worked_out_again)
    for name in FEATURES:
        assert name not in read.__dict__  # built only when the ranker asks
        assert getattr(read, name) == expected[name]
    assert read.address_features == fresh.address_features


@pytest.mark.parametrize("document", PEOPLE, ids=lambda d: d["person"]["ref"])
def test_text_mentions_answers_as_the_features_would(document: dict) -> None:
    fresh, read = candidate_from_document(document), stored(document)
    texts = [fresh.description_features]
    texts += [features for _, features in fresh.behaviour_features]
    texts += [features for _, features in fresh.place_features]
    own = sorted({term for t in texts for term in (*t.stems, *t.concepts)})
    assert own
    for terms in (frozenset(own[:1]), frozenset(own[-1:]), frozenset({"zzqx"})):
        expected = any(not terms.isdisjoint(t.stems | t.concepts) for t in texts)
        assert read.text_mentions(terms) == fresh.text_mentions(terms) == expected
    assert "description_features" not in read.__dict__


@pytest.mark.parametrize(
    "typed",
    ["57 Church Street", "jon smiff dob 3/4/87", "man on the train tracks carlisle"],
)
def test_stored_features_rank_exactly_as_worked_out_ones(typed: str) -> None:
    query = parse_query(typed, today=TODAY)
    fresh = rank(query, [candidate_from_document(d) for d in PEOPLE], today=TODAY)
    read = rank(query, [stored(d) for d in PEOPLE], today=TODAY)
    assert [(r.candidate.ref, r.score, r.reasons, r.match) for r in fresh] == [
        (r.candidate.ref, r.score, r.reasons, r.match) for r in read
    ]


def test_a_row_from_older_code_still_ranks() -> None:
    row = candidate_from_document(PEOPLE[0]).to_row()
    del row["x"]
    old = Candidate.from_row(row)
    assert old.description_features == text_features(PEOPLE[0]["person"]["description"])


def test_stem_pairs_are_worked_out_when_asked() -> None:
    features = text_features("Tattoo of a rose on the left forearm")
    assert ("rose", "tattoo") in features.pairs


@pytest.mark.parametrize("text", ["O'Brien", "Zoë", "Łukasz", "plain words"])
def test_folding_ascii_fast_matches_the_general_path(text: str) -> None:
    assert fold(text) == fold(text + "é")[:-1]


@pytest.mark.parametrize(
    "typed",
    [
        "smith",
        "jon smiff",
        "walks onto railway carlisle",
        "stev hall 40",
        "jonathan smithers dob 3/4/87",
        "57 church st",
    ],
)
def test_the_prefilter_rates_rows_as_the_sets_did(typed: str) -> None:
    query = parse_query(typed, today=TODAY)
    groups = query_groups(query)
    rater = RowRater(groups)
    rated = []
    for document in PEOPLE:
        row = _entry_values(0, 0, candidate_from_document(document))
        expected = sum(
            group_strength(
                group,
                set(row["name_keys"].split()),
                row["names"].split(),
                set(row["text_keys"].split()),
            )
            for group in groups
        )
        assert rater.rate(row["names"], row["text_keys"]) == expected
        rated.append(expected)
    assert any(rated)  # the typed words match someone: the test can fail


def test_rebuild_keeps_the_results(landed: Session) -> None:  # noqa: F811
    before = [r.ref for r in search(landed, "railway line", today=TODAY)]
    assert rebuild_index(landed) == len(PEOPLE)
    rows = landed.scalars(select(SearchEntry.candidate)).all()
    assert all('"x":' in row for row in rows)
    assert [r.ref for r in search(landed, "railway line", today=TODAY)] == before


def test_near_me_lists_the_nearest_first(landed: Session) -> None:  # noqa: F811
    results = search(landed, "", lat=50.3755, lon=-4.1427, today=TODAY)
    distances = [r.distance_m for r in results]
    assert distances and distances == sorted(distances)
