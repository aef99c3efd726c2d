"""Measure proposed matches across four agencies' lists with known answers.

    .venv/bin/python bench/cases_matching.py [--people N] [--seeds 1,2,3] [--json PATH]

A synthetic High Intensity User group: N people, each on one to four of the
police, ambulance, Emergency Department and mental-health lists, every row
written the way that agency might write it. The variations are the generator's
own and independent of the issue's examples and of the app's name tables:

- given names: a nickname or short form from this file's own list (some of which
  the app's table does not know), a typing slip, or a phonetic respelling;
- family names: a typing slip, a respelling, half of a double-barrelled name;
- dates of birth: day and month swapped, or one digit wrong;
- given and family names the other way round; NHS numbers on some rows only;
- people who are not the same: twins (same family name and birthday), people
  with the same common name and another birthday, neighbours in age.

`plans.cases.matching.propose` runs over all rows (rows of one list are never
compared); a proposal is right when both rows belong to one person. Prints
precision and recall per seed and overall, and the time per row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plans.cases import matching  # noqa: E402

AGENCIES = ("police", "ambulance", "emergency_department", "mental_health")
# How often each agency knows the NHS number.
NHS_KNOWN = {
    "police": 0.1,
    "ambulance": 0.5,
    "emergency_department": 0.8,
    "mental_health": 0.9,
}

# The generator's own short forms: written for this benchmark, not copied from
# plans/data/nicknames.txt, so names that table lacks count against recall.
SHORT_FORMS: dict[str, tuple[str, ...]] = {
    "Alexander": ("Alex", "Sandy", "Xander"),
    "Anthony": ("Tony", "Ant"),
    "Benjamin": ("Ben", "Benji"),
    "Charles": ("Charlie", "Chas"),
    "Christopher": ("Chris", "Kit"),
    "Daniel": ("Dan", "Danny"),
    "David": ("Dave", "Davey"),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Frederick": ("Fred", "Freddie"),
    "Gareth": ("Gaz",),
    "James": ("Jim", "Jamie", "Jimmy"),
    "Jonathan": ("Jon", "Jonny"),
    "Joseph": ("Joe", "Joey"),
    "Kenneth": ("Ken", "Kenny"),
    "Lawrence": ("Larry", "Laurie"),
    "Matthew": ("Matt",),
    "Michael": ("Mike", "Mick", "Micky"),
    "Nicholas": ("Nick", "Nicky"),
    "Patrick": ("Pat", "Paddy"),
    "Peter": ("Pete",),
    "Richard": ("Rich", "Rick", "Dick"),
    "Samuel": ("Sam", "Sammy"),
    "Stephen": ("Steve", "Stevie"),
    "Terence": ("Terry", "Tel"),
    "Thomas": ("Tom", "Tommy"),
    "William": ("Will", "Bill", "Billy", "Liam"),
    "Abigail": ("Abi", "Abby"),
    "Catherine": ("Cath", "Cathy", "Kate"),
    "Christine": ("Chris", "Chrissie"),
    "Deborah": ("Debbie", "Deb"),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty"),
    "Jacqueline": ("Jackie",),
    "Jennifer": ("Jen", "Jenny"),
    "Katherine": ("Kath", "Katie"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Patricia": ("Pat", "Trish", "Tricia"),
    "Rebecca": ("Becky", "Becca"),
    "Samantha": ("Sam", "Sammie"),
    "Susan": ("Sue", "Suzy"),
    "Victoria": ("Vicky", "Tori"),
    "Kimberley": ("Kim",),
    "Natalie": ("Nat",),
}
PLAIN_GIVEN = (
    "Adam", "Aidan", "Callum", "Connor", "Dylan", "Ethan", "Gavin", "Harvey",
    "Jordan", "Kyle", "Lee", "Mark", "Neil", "Owen", "Paul", "Ryan", "Scott",
    "Shane", "Wayne", "Amy", "Chloe", "Claire", "Donna", "Emma", "Gemma", "Hayley",
    "Joanne", "Karen", "Kelly", "Laura", "Leanne", "Lisa", "Louise", "Nicola",
    "Sarah", "Sharon", "Stacey", "Tracey", "Zoe", "Siobhan", "Niamh", "Rhys",
    "Aled", "Dafydd", "Bethan", "Ffion", "Priya", "Aisha", "Tariq", "Imran",
)  # fmt: skip
FAMILY = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson",
    "Thomas", "Johnson", "Roberts", "Robinson", "Thompson", "Wright", "Walker",
    "White", "Edwards", "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke",
    "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward",
    "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan",
    "Allen", "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price",
    "Bennett", "Young", "Griffiths", "Mitchell", "Kelly", "Cook", "Carter",
    "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox",
    "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams",
    "Singh", "Begum", "Wilkinson", "Foster", "Chapman", "Powell", "Webb", "Rogers",
    "Gray", "Mason", "Ali", "Hunt", "Hussain", "Campbell", "Matthews", "Owen",
    "Palmer", "Holmes", "Mills", "Barnes", "Knight", "Lloyd", "Butler", "Russell",
    "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey",
    "O'Brien", "McDonald", "MacKenzie", "Fitzgerald", "Pritchard", "Llewellyn",
)  # fmt: skip
RESPELL = (
    ("ph", "f"), ("y", "i"), ("ie", "y"), ("ck", "k"), ("ll", "l"), ("nn", "n"),
    ("tt", "t"), ("ey", "y"), ("c", "k"), ("s", "z"), ("ou", "ow"), ("Mc", "Mac"),
    ("th", "t"), ("ee", "ea"),
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    """One true person of the synthetic group."""

    number: int
    given: str
    family: str
    born: dt.date
    nhs: str


def nhs_number(serial: int) -> str:
    """Return a valid NHS number in the 999 synthetic test range."""
    while True:
        digits = f"999{serial % 1_000_000:06d}"
        total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check != 10:
            return digits + str(check)
        serial += 1


def slip(rng: random.Random, word: str) -> str:
    """Make one typing slip: a swap, a dropped, doubled or wrong letter."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("swap", "drop", "double", "wrong"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice("aeiounrstl") + word[i + 1 :]


def respell(rng: random.Random, word: str) -> str:
    """Respell a name the way it sounds, if one of the rules applies."""
    options = [(a, b) for a, b in RESPELL if a in word] + [
        (b, a) for a, b in RESPELL if b in word
    ]
    if not options:
        return slip(rng, word)
    a, b = rng.choice(options)
    return word.replace(a, b, 1)


def population(rng: random.Random, size: int) -> list[Person]:
    """Return `size` people, with twins and namesakes among them."""
    given_pool = [*SHORT_FORMS, *PLAIN_GIVEN]
    people: list[Person] = []
    while len(people) < size:
        number = len(people)
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 55))
        person = Person(
            number,
            rng.choice(given_pool),
            rng.choice(FAMILY)
            if rng.random() > 0.04
            else f"{rng.choice(FAMILY)}-{rng.choice(FAMILY)}",
            born,
            nhs_number(number * 7919 + 13),
        )
        people.append(person)
        roll = rng.random()
        if roll < 0.08 and len(people) < size:  # a twin: same family and birthday
            other = rng.choice([g for g in given_pool if g != person.given])
            people.append(
                Person(
                    len(people),
                    other,
                    person.family,
                    born,
                    nhs_number(len(people) * 7919 + 13),
                )
            )
        elif roll < 0.16 and len(people) < size:  # a namesake, another birthday
            people.append(
                Person(
                    len(people),
                    person.given,
                    person.family,
                    born + dt.timedelta(days=rng.randrange(200, 4000)),
                    nhs_number(len(people) * 7919 + 13),
                )
            )
        elif roll < 0.22 and len(people) < size:  # same birthday, unrelated
            people.append(
                Person(
                    len(people),
                    rng.choice(given_pool),
                    rng.choice(FAMILY),
                    born,
                    nhs_number(len(people) * 7919 + 13),
                )
            )
    return people


def written(
    rng: random.Random, person: Person, agency: str
) -> tuple[str, str, dt.date, str | None]:
    """Return the person as one agency wrote them down."""
    given, family, born = person.given, person.family, person.born
    roll = rng.random()
    if roll < 0.25 and given in SHORT_FORMS:
        given = rng.choice(SHORT_FORMS[given])
    elif roll < 0.33:
        given = slip(rng, given)
    elif roll < 0.38:
        given = respell(rng, given)
    roll = rng.random()
    if roll < 0.08:
        family = slip(rng, family)
    elif roll < 0.13:
        family = respell(rng, family)
    elif roll < 0.16 and "-" in family:
        family = rng.choice(family.split("-"))
    roll = rng.random()
    if roll < 0.07 and born.day <= 12 and born.day != born.month:
        born = dt.date(born.year, born.day, born.month)
    elif roll < 0.11:
        text = born.strftime("%Y%m%d")
        for _ in range(10):
            i = rng.choice((3, 5, 7))
            candidate = text[:i] + str(rng.randrange(10)) + text[i + 1 :]
            try:
                wrong = dt.datetime.strptime(candidate, "%Y%m%d").date()
            except ValueError:
                continue
            if wrong != born:
                born = wrong
                break
    if rng.random() < 0.03:
        given, family = family, given
    nhs = person.nhs if rng.random() < NHS_KNOWN[agency] else None
    return given, family, born, nhs


def dataset(seed: int, size: int) -> tuple[list[matching.Row], dict[int, int]]:
    """Return the four lists' rows and, for each row, its true person."""
    rng = random.Random(seed)
    rows: list[matching.Row] = []
    truth: dict[int, int] = {}
    for person in population(rng, size):
        count = rng.choices((1, 2, 3, 4), weights=(40, 30, 20, 10))[0]
        for agency in rng.sample(AGENCIES, count):
            given, family, born, nhs = written(rng, person, agency)
            key = len(rows)
            rows.append(matching.Row(key, given, family, born, nhs, agency))
            truth[key] = person.number
    return rows, truth


def measure(seed: int, size: int) -> dict[str, float]:
    """Return precision, recall and timing for one synthetic group."""
    rows, truth = dataset(seed, size)
    true_pairs = {
        (a.key, b.key)
        for a in rows
        for b in rows
        if a.key < b.key and a.group != b.group and truth[a.key] == truth[b.key]
    }
    started = time.perf_counter()
    proposals = matching.propose(rows)
    elapsed = time.perf_counter() - started
    found = {(min(p.key, p.other_key), max(p.key, p.other_key)) for p in proposals}
    right = found & true_pairs
    return {
        "seed": seed,
        "rows": len(rows),
        "true_pairs": len(true_pairs),
        "proposals": len(found),
        "right": len(right),
        "precision": len(right) / len(found) if found else 1.0,
        "recall": len(right) / len(true_pairs) if true_pairs else 1.0,
        "ms_per_row": 1000 * elapsed / len(rows),
    }


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = [measure(int(seed), args.people) for seed in args.seeds.split(",")]
    for result in results:
        print(
            f"seed {result['seed']}: {result['rows']} rows, "
            f"{result['true_pairs']} true pairs, {result['proposals']} proposals: "
            f"precision {result['precision']:.3f}, recall {result['recall']:.3f}, "
            f"{result['ms_per_row']:.2f} ms/row"
        )
    right = sum(r["right"] for r in results)
    found = sum(r["proposals"] for r in results)
    true = sum(r["true_pairs"] for r in results)
    overall = {"precision": right / found, "recall": right / true}
    print(
        f"overall: precision {overall['precision']:.3f}, recall {overall['recall']:.3f}"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"runs": results, "overall": overall}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
