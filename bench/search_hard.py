"""Generate the hard search set: queries asked the way responders really ask.

    .venv/bin/python bench/search_hard.py            # writes bench/data/search-hard/

Two parts, each over its own 2,000 synthetic plans from `responder.demo` (seeds in
the manifest) and its own random seed:

- `dev`: tune on this one (look at its misses);
- `held`: never tuned on. Its responder phrasings come from a separate table
  (`HELD_WORDS`), so a paraphrase added to the synonyms because a dev query
  missed does not lift the held score by construction.

Kinds (answers come from plain rules, never from the ranker):

- `behaviour_words_near`: a behaviour in responder words, near a crisis location;
- `behaviour_town`: a behaviour in responder words with the town (no position);
- `home_address`: house number and street, perhaps abbreviated, perhaps a town;
- `postcode`: a full postcode, or an outward code with a surname;
- `place_typed`: a crisis location typed with a sex word, the responder's team
  area known but no position;
- `text_style`: misspelt names with a short date of birth, or clipped words
  ("f od bus stn") with the town;
- `wrong_detail`: a unique name with a wrong age, town or decade;
- `partial_dob`: a surname with a birth year or age ("born 87", "aged 38");
- `no_plan`: realistic people who have no plan (scored on how often anything is
  labelled `strong`; there is no right answer).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plans.search.geo import haversine_m  # noqa: E402
from responder.demo import generate_documents  # noqa: E402

OUT = ROOT / "bench" / "data" / "search-hard"
TODAY = dt.date(2026, 12, 1)
PLANS = 2000
PARTS = {
    # part: (plans seed, query seed, people-without-a-plan seed)
    "dev": (1401, 71, 5501),
    "held": (2402, 83, 6602),
}
PER_KIND = 40
NO_PLAN = 60

# Behaviour classes, recognised in plan text by plain patterns (first match wins).
CLASSES: tuple[tuple[str, str], ...] = (
    ("jump", r"jump"),
    ("railway", r"railway line|onto the railway|level crossing at"),
    ("cliff", r"cliff edge"),
    ("road", r"in the road"),
    ("hide", r"\bhides\b"),
    ("water", r"into the (?:sea|water)"),
    ("fire", r"fires"),
    ("overdose", r"overdose"),
    ("ligature", r"ligature"),
    ("objects", r"swallows"),
    ("cutting", r"cutting|self-harm"),
    ("calls", r"calls 999"),
    ("aggression", r"aggressive"),
    ("abscond", r"absconds|leaves the ward"),
    ("missing", r"goes missing"),
    ("drunk", r"intoxicated"),
    ("headbang", r"bangs head"),
)

DEV_WORDS: dict[str, tuple[str, ...]] = {
    "jump": ("threatening to jump", "jumper", "wants to jump off", "on the edge"),
    "railway": ("on the train tracks", "on the tracks", "trespasser on the line"),
    "cliff": ("on the cliff edge", "cliff top", "edge of the cliff"),
    "road": ("lying in the road", "in the middle of the road", "laid in road"),
    "hide": ("hiding in a tunnel", "refusing to come out", "barricaded in"),
    "water": ("walking into the sea", "in the water", "gone in the sea"),
    "fire": ("setting fires", "arson", "started a fire"),
    "overdose": ("od", "overdosed", "taken tablets", "took too many pills"),
    "ligature": ("ligature", "tied something round neck", "noose"),
    "objects": ("swallowed razor blades", "ingested objects", "swallowing things"),
    "cutting": ("cutting arms", "self harming", "slashed arms"),
    "calls": ("repeat 999 caller", "keeps ringing 999", "frequent caller"),
    "aggression": ("violent to staff", "kicking off at nurses", "assaulting staff"),
    "abscond": ("awol from ward", "absconded from hospital", "missing from ward"),
    "missing": ("missing person", "missing for days", "misper"),
    "drunk": ("drunk and distressed", "intoxicated", "very drunk"),
    "headbang": ("banging head on wall", "headbanging"),
}
HELD_WORDS: dict[str, tuple[str, ...]] = {
    "jump": ("going to jump", "threatening to throw self off", "jumping"),
    "railway": ("walking on the railway", "on the line", "trespassing on railway"),
    "cliff": ("at the edge of the cliffs", "on the clifftop"),
    "road": ("lying down in traffic", "in the carriageway", "lying on the road"),
    "hide": ("hiding and wont come out", "hiding in the culvert"),
    "water": ("walked into the sea", "in the sea", "into the water"),
    "fire": ("lighting fires", "fire setting"),
    "overdose": ("OD", "overdose", "taken an overdose", "taken paracetamol"),
    "ligature": ("ligaturing", "hanging attempt", "tied a ligature"),
    "objects": ("swallowing batteries", "ingesting sharp objects"),
    "cutting": ("cutting", "self harm", "cut arms"),
    "calls": ("calling 999 repeatedly", "999 caller"),
    "aggression": ("aggressive", "violent", "fighting with staff"),
    "abscond": ("absconder", "left the ward", "escaped from ward"),
    "missing": ("reported missing", "gone missing"),
    "drunk": ("intox", "drunk"),
    "headbang": ("head banging", "hitting head against wall"),
}
# Clipped words of text messages: plan word -> what a responder thumbs in.
CLIPS = {
    "station": "stn", "road": "rd", "street": "st", "centre": "ctr",
    "hospital": "hosp", "promenade": "prom", "avenue": "ave", "car park": "cp",
    "multi-storey": "multi storey", "bridge": "brdg", "seafront": "sea front",
}  # fmt: skip
SHORT_CLASS = {
    "overdose": "od", "cutting": "sh", "ligature": "lig", "aggression": "aggro",
    "missing": "misper", "drunk": "intox", "abscond": "awol", "jump": "jumper",
    "calls": "999 caller",
}  # fmt: skip
SEX_SHORT = {"female": ("f", "fem", "female", "woman"), "male": ("m", "male", "man")}


def classes_of(document: dict[str, Any]) -> set[str]:
    """Return the behaviour classes of a plan."""
    found: set[str] = set()
    for behaviour in document["plan"].get("behaviours") or ():
        text = behaviour.get("description", "").lower()
        for name, pattern in CLASSES:
            if re.search(pattern, text):
                found.add(name)
                break
    return found


def town_of(document: dict[str, Any]) -> str:
    """Return the town of the person's home address."""
    return str(document["person"]["address"]["address"]).rsplit(",", 1)[1].strip()


def age_on(born: str, day: dt.date) -> int:
    """Return the age in whole years on a day."""
    b = dt.date.fromisoformat(born)
    return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


def points(document: dict[str, Any]) -> list[tuple[float, float]]:
    """Return home and crisis location points."""
    places = [document["person"].get("address") or {}]
    places += list(document["plan"].get("crisis_locations") or ())
    return [(p["lat"], p["lon"]) for p in places if "lat" in p]


def slip(name: str, rnd: random.Random) -> str:
    """Spell a name as it sounds, the way it is thumbed into a phone."""
    lower = name.lower()
    rules = [
        ("ph", "f"), ("th", "f"), ("ck", "k"), ("ie", "y"), ("y", "i"),
        ("ll", "l"), ("tt", "t"), ("ss", "s"), ("ou", "ow"), ("ee", "ea"),
        ("c", "k"), ("z", "s"), ("ey", "y"), ("mm", "m"), ("nn", "n"),
    ]  # fmt: skip
    rnd.shuffle(rules)
    for old, new in rules:
        if old in lower[1:]:
            index = lower.index(old, 1)
            return lower[:index] + new + lower[index + len(old) :]
    if lower.endswith("e") and len(lower) > 4:
        return lower[:-1]
    return lower


def short_date(born: str, rnd: random.Random) -> str:
    """Write a date of birth the short ways people text it."""
    b = dt.date.fromisoformat(born)
    yy = b.year % 100
    return rnd.choice(
        (
            f"{b.day}/{b.month}/{yy:02d}",
            f"dob {b.day}/{b.month}/{yy:02d}",
            f"dob {b.day:02d}{b.month:02d}{yy:02d}",
            f"{b.day}.{b.month}.{yy:02d}",
            f"d.o.b {b.day}-{b.month}-{b.year}",
        )
    )


def clip(text: str, rnd: random.Random) -> str:
    """Clip plan words the way text messages do."""
    text = text.lower()
    for long, short in CLIPS.items():
        if long in text and rnd.random() < 0.8:
            text = text.replace(long, short)
    return text


def make_queries(
    documents: Sequence[dict[str, Any]],
    outsiders: Sequence[dict[str, Any]],
    *,
    seed: int,
    phrasings: dict[str, tuple[str, ...]],
    per_kind: int = PER_KIND,
    no_plan: int = NO_PLAN,
) -> list[dict[str, Any]]:
    """Make queries of each hard kind, answers by plain rules."""
    rnd = random.Random(seed)
    by_ref = {doc["person"]["ref"]: doc for doc in documents}
    classes = {ref: classes_of(doc) for ref, doc in by_ref.items()}
    towns = {ref: town_of(doc) for ref, doc in by_ref.items()}
    centre: dict[str, tuple[float, float]] = {}
    homes: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for ref, doc in by_ref.items():
        address = doc["person"]["address"]
        homes[towns[ref]].append((address["lat"], address["lon"]))
    for town, spots in homes.items():
        centre[town] = (
            sum(a for a, _ in spots) / len(spots),
            sum(b for _, b in spots) / len(spots),
        )
    full_names = defaultdict(list)
    for ref, doc in by_ref.items():
        p = doc["person"]
        full_names[(p["given_name"].lower(), p["family_name"].lower())].append(ref)

    def sex_word(doc: dict[str, Any]) -> str:
        return rnd.choice(SEX_SHORT.get(doc["person"].get("sex") or "", ("",)))

    def same_sex(ref: str, doc: dict[str, Any]) -> bool:
        return by_ref[ref]["person"].get("sex") == doc["person"].get("sex")

    def distance(ref: str, lat: float, lon: float) -> float:
        return min(haversine_m(lat, lon, a, b) for a, b in points(by_ref[ref]))

    def one(refs: list[str], doc: dict[str, Any]) -> bool:
        return refs == [doc["person"]["ref"]]

    def behaviour_words_near(doc: dict[str, Any]) -> dict[str, Any] | None:
        mine = sorted(classes[doc["person"]["ref"]])
        crisis = doc["plan"].get("crisis_locations") or []
        if not mine or not crisis:
            return None
        chosen = rnd.choice(mine)
        spot = rnd.choice(crisis)
        lat = spot["lat"] + rnd.uniform(-0.002, 0.002)
        lon = spot["lon"] + rnd.uniform(-0.002, 0.002)
        said = sex_word(doc) if rnd.random() < 0.5 else ""
        holders = [
            ref
            for ref in by_ref
            if chosen in classes[ref] and (not said or same_sex(ref, doc))
        ]
        expect = min(holders, key=lambda ref: (distance(ref, lat, lon), ref))
        q = f"{said} {rnd.choice(phrasings[chosen])}".strip()
        return {"q": q, "lat": lat, "lon": lon, "expect": expect}

    def behaviour_town(doc: dict[str, Any]) -> dict[str, Any] | None:
        ref = doc["person"]["ref"]
        mine = sorted(classes[ref])
        if not mine or doc["person"].get("sex") not in SEX_SHORT:
            return None
        chosen = rnd.choice(mine)
        said = sex_word(doc)
        decade = age_on(doc["person"]["date_of_birth"], TODAY) // 10 * 10
        holders = [
            other
            for other in by_ref
            if chosen in classes[other]
            and towns[other] == towns[ref]
            and same_sex(other, doc)
        ]
        extra = ""
        if not one(holders, doc):
            holders = [
                other
                for other in holders
                if age_on(by_ref[other]["person"]["date_of_birth"], TODAY) // 10 * 10
                == decade
            ]
            extra = f"{decade}s" if decade >= 20 else "teenager"
        if not one(holders, doc):
            return None
        words = [said, rnd.choice(phrasings[chosen]), extra, towns[ref]]
        if rnd.random() < 0.5:
            words = [towns[ref], said, extra, rnd.choice(phrasings[chosen])]
        return {"q": " ".join(w for w in words if w)}

    def home_address(doc: dict[str, Any]) -> dict[str, Any] | None:
        address = doc["person"]["address"]["address"]
        street = address.split(",")[0]
        holders = [
            ref
            for ref, other in by_ref.items()
            if other["person"]["address"]["address"].split(",")[0] == street
        ]
        q = street if rnd.random() < 0.6 else clip(street, rnd)
        if not one(holders, doc):
            holders = [r for r in holders if towns[r] == towns[doc["person"]["ref"]]]
            q = f"{q} {towns[doc['person']['ref']]}"
            if not one(holders, doc):
                return None
        elif rnd.random() < 0.3:
            q = f"{sex_word(doc)} {q}"
        return {"q": q}

    def postcode(doc: dict[str, Any]) -> dict[str, Any] | None:
        code = doc["person"]["address"].get("postcode")
        if not code:
            return None
        outward = code.split()[0]
        family = doc["person"]["family_name"]
        if rnd.random() < 0.5:
            holders = [
                r
                for r, o in by_ref.items()
                if o["person"]["address"].get("postcode") == code
            ]
            form = rnd.choice((code, code.replace(" ", "").lower(), code.lower()))
            q = form if rnd.random() < 0.5 else f"{sex_word(doc)} {form}"
        else:
            holders = [
                r
                for r, o in by_ref.items()
                if (o["person"]["address"].get("postcode") or " ").split()[0] == outward
                and o["person"]["family_name"] == family
            ]
            q = f"{family} {outward}" if rnd.random() < 0.5 else f"{outward} {family}"
        return {"q": q} if one(holders, doc) else None

    def decade_of(ref: str) -> int:
        return age_on(by_ref[ref]["person"]["date_of_birth"], TODAY) // 10 * 10

    def place_typed(doc: dict[str, Any]) -> dict[str, Any] | None:
        ref = doc["person"]["ref"]
        crisis = doc["plan"].get("crisis_locations") or []
        if not crisis or doc["person"].get("sex") not in SEX_SHORT:
            return None
        place = rnd.choice(crisis)["name"]
        holders = [
            other
            for other in by_ref
            if towns[other] == towns[ref]
            and same_sex(other, doc)
            and any(
                c["name"] == place
                for c in by_ref[other]["plan"].get("crisis_locations") or ()
            )
        ]
        extra = ""
        if not one(holders, doc):
            holders = [other for other in holders if decade_of(other) == decade_of(ref)]
            extra = f"{decade_of(ref)}s" if decade_of(ref) >= 20 else "teenager"
        if not one(holders, doc):
            return None
        typed = place.replace(towns[ref], "").strip()
        if rnd.random() < 0.4:
            typed = clip(typed, rnd)
        words = [typed, sex_word(doc)] if rnd.random() < 0.6 else [sex_word(doc), typed]
        words.append(extra)
        lat, lon = centre[towns[ref]]
        return {"q": " ".join(w for w in words if w), "area_lat": lat, "area_lon": lon}

    def text_style(doc: dict[str, Any]) -> dict[str, Any] | None:
        person = doc["person"]
        ref = person["ref"]
        if rnd.random() < 0.5:
            holders = full_names[
                (person["given_name"].lower(), person["family_name"].lower())
            ]
            same_born = [
                r
                for r in holders
                if by_ref[r]["person"]["date_of_birth"] == person["date_of_birth"]
            ]
            if not one(same_born, doc):
                return None
            given = slip(person["given_name"], rnd)
            family = slip(person["family_name"], rnd)
            return {"q": f"{given} {family} {short_date(person['date_of_birth'], rnd)}"}
        mine = sorted(classes[ref])
        crisis = doc["plan"].get("crisis_locations") or []
        if not mine or not crisis or person.get("sex") not in SEX_SHORT:
            return None
        chosen = rnd.choice(mine)
        place = rnd.choice(crisis)["name"]
        holders = [
            other
            for other in by_ref
            if chosen in classes[other]
            and same_sex(other, doc)
            and towns[other] == towns[ref]
            and any(
                c["name"] == place
                for c in by_ref[other]["plan"].get("crisis_locations") or ()
            )
        ]
        if not one(holders, doc):
            return None
        short = SHORT_CLASS.get(chosen) or rnd.choice(phrasings[chosen])
        typed = clip(place.replace(towns[ref], "").strip(), rnd)
        sex = rnd.choice(SEX_SHORT.get(person.get("sex") or "", ("",))[:2])
        return {"q": f"{sex} {short} {typed} {towns[ref].lower()}".strip()}

    def wrong_detail(doc: dict[str, Any]) -> dict[str, Any] | None:
        person = doc["person"]
        ref = person["ref"]
        if (
            len(
                full_names[
                    (person["given_name"].lower(), person["family_name"].lower())
                ]
            )
            != 1
        ):
            return None
        name = f"{person['given_name']} {person['family_name']}"
        if person.get("preferred_name") and rnd.random() < 0.4:
            name = f"{person['preferred_name']} {person['family_name']}"
        age = age_on(person["date_of_birth"], TODAY)
        wrong_age = age + rnd.choice((-1, 1)) * rnd.randint(7, 14)
        other_town = rnd.choice(sorted(set(towns.values()) - {towns[ref]}))
        detail = rnd.choice(
            (
                f"about {max(18, wrong_age)}",
                f"{max(18, wrong_age)}ish",
                other_town,
                f"from {other_town}",
                f"in {'his' if person.get('sex') == 'male' else 'her'} "
                f"{max(20, (wrong_age // 10) * 10)}s",
            )
        )
        return {"q": f"{name} {detail}"}

    def partial_dob(doc: dict[str, Any]) -> dict[str, Any] | None:
        person = doc["person"]
        family = person["family_name"]
        born = dt.date.fromisoformat(person["date_of_birth"])
        age = age_on(person["date_of_birth"], TODAY)
        if rnd.random() < 0.5:
            holders = [
                r
                for r, o in by_ref.items()
                if o["person"]["family_name"] == family
                and o["person"]["date_of_birth"][:4] == str(born.year)
            ]
            form = rnd.choice(
                (
                    f"born {born.year % 100:02d}",
                    f"b.{born.year}",
                    f"dob {born.year % 100:02d}",
                    f"born in {born.year}",
                )
            )
        else:
            holders = [
                r
                for r, o in by_ref.items()
                if o["person"]["family_name"] == family
                and abs(age_on(o["person"]["date_of_birth"], TODAY) - age) <= 3
            ]
            form = rnd.choice(
                (f"aged {age}", f"{age}yo", f"age {age}", f"{age} years old")
            )
        if not one(holders, doc):
            return None
        given = person["given_name"] if rnd.random() < 0.3 else ""
        return {"q": f"{given} {family} {form}".strip()}

    makers: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {
        "behaviour_words_near": behaviour_words_near,
        "behaviour_town": behaviour_town,
        "home_address": home_address,
        "postcode": postcode,
        "place_typed": place_typed,
        "text_style": text_style,
        "wrong_detail": wrong_detail,
        "partial_dob": partial_dob,
    }
    queries: list[dict[str, Any]] = []
    for kind, make in makers.items():
        made = 0
        for doc in rnd.sample(list(documents), len(documents)):
            if made >= per_kind:
                break
            query = make(doc)
            if query is None:
                continue
            query.setdefault("expect", doc["person"]["ref"])
            query.update(id=f"{kind[:3]}{len(queries):04d}", kind=kind)
            queries.append(query)
            made += 1
    # People with no plan: names and details from other synthetic people.
    made = 0
    for doc in outsiders:
        if made >= no_plan:
            break
        person = doc["person"]
        if (person["given_name"].lower(), person["family_name"].lower()) in full_names:
            continue
        name = f"{person['given_name']} {person['family_name']}"
        town = town_of(doc)
        form = rnd.choice(
            (
                name,
                f"{name} {short_date(person['date_of_birth'], rnd)}",
                f"{name} {town}",
                f"{name} aged {age_on(person['date_of_birth'], TODAY)}",
                f"{slip(person['given_name'], rnd)} {slip(person['family_name'], rnd)}",
                f"{person['family_name']} born {person['date_of_birth'][:4]}",
            )
        )
        queries.append(
            {
                "id": f"nop{len(queries):04d}",
                "kind": "no_plan",
                "q": form,
                "expect": None,
            }
        )
        made += 1
    return queries


def part_documents(part: str) -> list[dict[str, Any]]:
    """Return the plans of a part (regenerated from its seed)."""
    plans_seed = PARTS[part][0]
    return list(generate_documents(PLANS, seed=plans_seed, today=TODAY))


def main() -> int:
    """Write the queries of both parts and a manifest."""
    OUT.mkdir(parents=True, exist_ok=True)
    for part, (_plans_seed, query_seed, outsider_seed) in PARTS.items():
        documents = part_documents(part)
        outsiders = list(
            generate_documents(NO_PLAN * 3, seed=outsider_seed, today=TODAY)
        )
        words = DEV_WORDS if part == "dev" else HELD_WORDS
        queries = make_queries(documents, outsiders, seed=query_seed, phrasings=words)
        path = OUT / f"{part}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for query in queries:
                handle.write(json.dumps(query) + "\n")
        print(f"{part}: {len(queries)} queries over {len(documents)} plans -> {path}")
    manifest = {
        "today": TODAY.isoformat(),
        "plans": PLANS,
        "parts": {part: {"plans_seed": seeds[0]} for part, seeds in PARTS.items()},
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
