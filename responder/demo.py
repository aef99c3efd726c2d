"""Synthetic response-plan/2 documents for demos, load tests and search tuning.

Every person here is invented. Phone numbers come from Ofcom's ranges reserved for
drama (07700 900xxx for mobiles, 01632 960xxx and the city 496 ranges for
landlines), so none of them reaches a real subscriber. Towns, stations, bridges
and hospitals are real places with approximate coordinates, because responders
recognise them and the search ranks by distance.

NHS numbers come from the synthetic range (starting with 9) that the `nhs-number`
package generates and no live system issues (`plans.nhs_numbers`).

Wording rule: advice, boundaries and summaries never withhold care, never threaten
sanctions and never stigmatise. `tests/plans/test_demo.py` checks thousands of
generated documents against a list of phrases that must not appear.
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from plans import clock
from plans.exchange.upgrade import FORMAT
from plans.nhs_numbers import SYNTHETIC_SERIALS, synthetic_nhs_number
from plans.publish_rules import risk_level


@dataclass(frozen=True)
class Landmark:
    """A real place a responder would know, with approximate coordinates."""

    name: str
    kind: str
    lat: float
    lon: float


@dataclass(frozen=True)
class Town:
    """A real UK town with its demo team and the places the demo plans use."""

    code: str
    town: str
    lat: float
    lon: float
    phone_prefix: str
    postcode_area: str
    landmarks: tuple[Landmark, ...]
    streets: tuple[str, ...] = ()

    @property
    def team_name(self) -> str:
        """Return the demo team's name."""
        return f"{self.town} High Intensity Team (demo)"


def _l(name: str, kind: str, lat: float, lon: float) -> Landmark:
    return Landmark(name, kind, lat, lon)


# Landmark kinds: station, hospital, bridge, cliff, car_park, water, centre, park.
# fmt: off
TOWNS: tuple[Town, ...] = (
    Town("DEMO-SOTON", "Southampton", 50.9097, -1.4044, "+44 1632 960", "SO14", (
        _l("Southampton Central station", "station", 50.9077, -1.4136),
        _l("Southampton General Hospital", "hospital", 50.933, -1.435),
        _l("Itchen Bridge", "bridge", 50.898, -1.388),
        _l("West Quay multi-storey car park", "car_park", 50.905, -1.407),
        _l("Mayflower Park waterfront", "water", 50.899, -1.412),
    )),
    Town("DEMO-PORTS", "Portsmouth", 50.8198, -1.088, "+44 1632 960", "PO1", (
        _l("Portsmouth and Southsea station", "station", 50.7985, -1.0905),
        _l("Queen Alexandra Hospital", "hospital", 50.851, -1.07),
        _l("Spinnaker Tower", "bridge", 50.7955, -1.1085),
        _l("Southsea seafront by Clarence Pier", "water", 50.787, -1.098),
        _l("Cascades multi-storey car park", "car_park", 50.799, -1.085),
    )),
    Town("DEMO-BRIGHTON", "Brighton", 50.8225, -0.1372, "+44 1632 960", "BN1", (
        _l("Brighton station", "station", 50.829, -0.141),
        _l("Royal Sussex County Hospital", "hospital", 50.819, -0.118),
        _l("Palace Pier", "water", 50.816, -0.1365),
        _l("Churchill Square car park", "car_park", 50.824, -0.147),
        _l("Brighton Marina cliffs", "cliff", 50.813, -0.1),
    )),
    Town("DEMO-EBOURNE", "Eastbourne", 50.768, 0.2905, "+44 1632 960", "BN21", (
        _l("Eastbourne station", "station", 50.7695, 0.281),
        _l("Eastbourne District General Hospital", "hospital", 50.783, 0.269),
        _l("Beachy Head", "cliff", 50.735, 0.245),
        _l("Eastbourne Pier", "water", 50.766, 0.292),
        _l("Beacon multi-storey car park", "car_park", 50.769, 0.283),
    )),
    Town("DEMO-BRISTOL", "Bristol", 51.4545, -2.5879, "+44 117 496 0", "BS1", (
        _l("Bristol Temple Meads station", "station", 51.4491, -2.5813),
        _l("Bristol Royal Infirmary", "hospital", 51.4585, -2.597),
        _l("Clifton Suspension Bridge", "bridge", 51.4549, -2.6278),
        _l("Trenchard Street car park", "car_park", 51.456, -2.6),
        _l("Harbourside by the M Shed", "water", 51.448, -2.598),
    )),
    Town("DEMO-CARDIFF", "Cardiff", 51.4816, -3.1791, "+44 29 2018 0", "CF10", (
        _l("Cardiff Central station", "station", 51.476, -3.179),
        _l("University Hospital of Wales", "hospital", 51.507, -3.19),
        _l("Cardiff Bay Barrage", "water", 51.45, -3.165),
        _l("Clarence Road bridge", "bridge", 51.465, -3.172),
        _l("St David's multi-storey car park", "car_park", 51.479, -3.174),
    )),
    Town("DEMO-SWANSEA", "Swansea", 51.6214, -3.9436, "+44 1632 960", "SA1", (
        _l("Swansea station", "station", 51.6255, -3.9415),
        _l("Morriston Hospital", "hospital", 51.685, -3.93),
        _l("Mumbles Pier", "water", 51.568, -3.975),
        _l("Sail Bridge", "bridge", 51.619, -3.932),
        _l("Quadrant multi-storey car park", "car_park", 51.618, -3.945),
    )),
    Town("DEMO-BHAM", "Birmingham", 52.4862, -1.8904, "+44 121 496 0", "B1", (
        _l("Birmingham New Street station", "station", 52.4778, -1.899),
        _l("Queen Elizabeth Hospital Birmingham", "hospital", 52.453, -1.94),
        _l("Bullring multi-storey car park", "car_park", 52.477, -1.893),
        _l("Gas Street canal basin", "water", 52.476, -1.906),
        _l("Spaghetti Junction footbridge", "bridge", 52.514, -1.866),
    )),
    Town("DEMO-MCR", "Manchester", 53.4808, -2.2426, "+44 161 496 0", "M1", (
        _l("Manchester Piccadilly station", "station", 53.4774, -2.2309),
        _l("Manchester Royal Infirmary", "hospital", 53.4625, -2.226),
        _l("Trinity Bridge over the Irwell", "bridge", 53.484, -2.252),
        _l("Arndale multi-storey car park", "car_park", 53.485, -2.239),
        _l("Piccadilly Gardens", "centre", 53.481, -2.237),
    )),
    Town("DEMO-LPOOL", "Liverpool", 53.4084, -2.9916, "+44 151 496 0", "L1", (
        _l("Liverpool Lime Street station", "station", 53.4075, -2.978),
        _l("Royal Liverpool University Hospital", "hospital", 53.41, -2.966),
        _l("Pier Head waterfront", "water", 53.404, -2.996),
        _l("Liverpool ONE car park", "car_park", 53.402, -2.987),
        _l("Sefton Park", "park", 53.382, -2.937),
    )),
    Town("DEMO-LEEDS", "Leeds", 53.8008, -1.5491, "+44 113 496 0", "LS1", (
        _l("Leeds station", "station", 53.795, -1.5475),
        _l("Leeds General Infirmary", "hospital", 53.802, -1.552),
        _l("Crown Point Bridge", "bridge", 53.793, -1.537),
        _l("Merrion Centre car park", "car_park", 53.803, -1.543),
        _l("Leeds Liverpool canal towpath", "water", 53.796, -1.556),
    )),
    Town("DEMO-SHEF", "Sheffield", 53.3811, -1.4701, "+44 114 496 0", "S1", (
        _l("Sheffield station", "station", 53.3781, -1.462),
        _l("Northern General Hospital", "hospital", 53.409, -1.46),
        _l("Park Hill flats", "car_park", 53.38, -1.458),
        _l("Don Valley canal towpath", "water", 53.39, -1.45),
        _l("Lady's Bridge", "bridge", 53.386, -1.465),
    )),
    Town("DEMO-NCL", "Newcastle upon Tyne", 54.9783, -1.6178, "+44 191 498 0", "NE1", (
        _l("Newcastle Central station", "station", 54.9686, -1.6174),
        _l("Royal Victoria Infirmary", "hospital", 54.98, -1.622),
        _l("Tyne Bridge", "bridge", 54.968, -1.606),
        _l("Quayside", "water", 54.969, -1.602),
        _l("Eldon Square car park", "car_park", 54.976, -1.617),
    )),
    Town("DEMO-BORO", "Middlesbrough", 54.5742, -1.235, "+44 1632 960", "TS1", (
        _l("Middlesbrough station", "station", 54.579, -1.235),
        _l("James Cook University Hospital", "hospital", 54.552, -1.215),
        _l("Transporter Bridge", "bridge", 54.585, -1.227),
        _l("Hill Street car park", "car_park", 54.576, -1.233),
        _l("Albert Park", "park", 54.564, -1.235),
    )),
    Town("DEMO-HULL", "Hull", 53.7676, -0.3274, "+44 1632 960", "HU1", (
        _l("Hull Paragon Interchange", "station", 53.744, -0.346),
        _l("Hull Royal Infirmary", "hospital", 53.744, -0.358),
        _l("Humber Bridge", "bridge", 53.707, -0.45),
        _l("Hull Marina", "water", 53.74, -0.335),
        _l("St Stephen's car park", "car_park", 53.745, -0.347),
    )),
    Town("DEMO-NOTTM", "Nottingham", 52.9548, -1.1581, "+44 115 496 0", "NG1", (
        _l("Nottingham station", "station", 52.947, -1.146),
        _l("Queen's Medical Centre", "hospital", 52.944, -1.186),
        _l("Trent Bridge", "bridge", 52.938, -1.132),
        _l("Victoria Centre car park", "car_park", 52.957, -1.147),
        _l("Nottingham canal towpath", "water", 52.949, -1.15),
    )),
    Town("DEMO-LEICS", "Leicester", 52.6369, -1.1398, "+44 116 496 0", "LE1", (
        _l("Leicester station", "station", 52.632, -1.125),
        _l("Leicester Royal Infirmary", "hospital", 52.627, -1.136),
        _l("Haymarket multi-storey car park", "car_park", 52.638, -1.133),
        _l("Grand Union canal at Mile Straight", "water", 52.628, -1.143),
        _l("Abbey Park", "park", 52.647, -1.134),
    )),
    Town("DEMO-NORWICH", "Norwich", 52.6309, 1.2974, "+44 1632 960", "NR1", (
        _l("Norwich station", "station", 52.627, 1.306),
        _l("Norfolk and Norwich University Hospital", "hospital", 52.618, 1.219),
        _l("Foundry Bridge", "bridge", 52.628, 1.304),
        _l("Castle Mall car park", "car_park", 52.628, 1.296),
        _l("River Wensum path", "water", 52.633, 1.3),
    )),
    Town("DEMO-PLYM", "Plymouth", 50.3755, -4.1427, "+44 1632 960", "PL1", (
        _l("Plymouth station", "station", 50.378, -4.143),
        _l("Derriford Hospital", "hospital", 50.416, -4.113),
        _l("Plymouth Hoe", "cliff", 50.364, -4.142),
        _l("Tamar Bridge", "bridge", 50.408, -4.204),
        _l("Theatre Royal car park", "car_park", 50.37, -4.144),
    )),
    Town("DEMO-BPOOL", "Blackpool", 53.8175, -3.0357, "+44 1632 960", "FY1", (
        _l("Blackpool North station", "station", 53.822, -3.049),
        _l("Blackpool Victoria Hospital", "hospital", 53.821, -3.011),
        _l("North Pier", "water", 53.819, -3.057),
        _l("Bonny Street car park", "car_park", 53.812, -3.054),
        _l("Bispham cliffs", "cliff", 53.85, -3.05),
    )),
    Town("DEMO-BRADFORD", "Bradford", 53.795, -1.7594, "+44 1632 960", "BD1", (
        _l("Bradford Interchange", "station", 53.791, -1.75),
        _l("Bradford Royal Infirmary", "hospital", 53.808, -1.795),
        _l("Sharpe Street car park", "car_park", 53.789, -1.756),
        _l("Lister Park", "park", 53.81, -1.772),
        _l("Leeds Liverpool canal at Shipley", "water", 53.833, -1.772),
    )),
    Town("DEMO-GLASGOW", "Glasgow", 55.8642, -4.2518, "+44 141 496 0", "G1", (
        _l("Glasgow Central station", "station", 55.859, -4.258),
        _l("Queen Elizabeth University Hospital", "hospital", 55.862, -4.34),
        _l("Kingston Bridge", "bridge", 55.855, -4.27),
        _l("Erskine Bridge", "bridge", 55.919, -4.464),
        _l("Clyde walkway", "water", 55.856, -4.25),
    )),
    Town("DEMO-EDINBURGH", "Edinburgh", 55.9533, -3.1883, "+44 131 496 0", "EH1", (
        _l("Edinburgh Waverley station", "station", 55.952, -3.189),
        _l("Royal Infirmary of Edinburgh", "hospital", 55.922, -3.135),
        _l("North Bridge", "bridge", 55.952, -3.187),
        _l("Salisbury Crags", "cliff", 55.947, -3.164),
        _l("Dean Bridge", "bridge", 55.953, -3.216),
    )),
    Town("DEMO-DUNDEE", "Dundee", 56.462, -2.9707, "+44 1632 960", "DD1", (
        _l("Dundee station", "station", 56.457, -2.97),
        _l("Ninewells Hospital", "hospital", 56.464, -3.038),
        _l("Tay Road Bridge", "bridge", 56.456, -2.955),
        _l("Greenmarket car park", "car_park", 56.458, -2.972),
        _l("Broughty Ferry beach", "water", 56.466, -2.872),
    )),
    Town("DEMO-ABDN", "Aberdeen", 57.1497, -2.0943, "+44 1632 960", "AB10", (
        _l("Aberdeen station", "station", 57.143, -2.098),
        _l("Aberdeen Royal Infirmary", "hospital", 57.154, -2.137),
        _l("Aberdeen beach esplanade", "water", 57.155, -2.078),
        _l("Union Square car park", "car_park", 57.143, -2.096),
        _l("Bridge of Dee", "bridge", 57.126, -2.117),
    )),
    Town("DEMO-BELFAST", "Belfast", 54.5973, -5.9301, "+44 28 9649 6", "BT1", (
        _l("Lanyon Place station", "station", 54.595, -5.918),
        _l("Royal Victoria Hospital", "hospital", 54.594, -5.955),
        _l("Queen's Bridge", "bridge", 54.599, -5.92),
        _l("Cave Hill", "cliff", 54.647, -5.948),
        _l("Victoria Square car park", "car_park", 54.599, -5.926),
    )),
    Town("DEMO-DERRY", "Derry", 54.9966, -7.3086, "+44 28 9649 6", "BT48", (
        _l("Derry~Londonderry station", "station", 54.998, -7.311),
        _l("Altnagelvin Area Hospital", "hospital", 54.997, -7.28),
        _l("Peace Bridge", "bridge", 54.998, -7.315),
        _l("Craigavon Bridge", "bridge", 54.992, -7.318),
        _l("Quayside car park", "car_park", 54.999, -7.32),
    )),
)

STREETS: tuple[str, ...] = (
    "Station Road", "High Street", "Church Street", "Victoria Road", "Park Road",
    "Mill Lane", "Queen Street", "King Street", "Albert Road", "Grove Road",
    "Chapel Street", "Windsor Road", "Springfield Road", "New Road", "Manor Road",
    "Clarence Street", "Princes Avenue", "Hawthorn Close", "Beech Crescent",
    "Oakfield Drive", "Wellington Terrace", "Brunswick Street", "Heol y Felin",
    "Glebe Street", "Burnside Place",
)

# Given names by heritage; each entry is (female, male). Spread deliberately so
# the search is tuned on the names UK responders actually meet.
GIVEN_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "english": (
        (
            "Sarah", "Emma", "Rebecca", "Charlotte", "Victoria", "Hannah", "Jessica",
            "Laura", "Katherine", "Elizabeth", "Margaret", "Susan", "Deborah", "Jade",
            "Chelsea", "Amy", "Stacey", "Kayleigh", "Natalie", "Samantha",
        ),
        (
            "James", "Thomas", "Daniel", "Matthew", "Christopher", "William", "Robert",
            "Michael", "Anthony", "Stephen", "Steven", "Jonathan", "Richard", "Lee",
            "Craig", "Dean", "Nathan", "Jamie", "Alexander", "Benjamin",
        ),
    ),
    "scottish": (
        (
            "Ailsa", "Morag", "Isla", "Kirsty", "Fiona", "Eilidh", "Catriona", "Mhairi",
            "Shona", "Iona",
        ),
        (
            "Callum", "Hamish", "Euan", "Fraser", "Alasdair", "Ruaridh", "Angus",
            "Duncan", "Gregor", "Lachlan",
        ),
    ),
    "irish": (
        (
            "Siobhan", "Niamh", "Aoife", "Saoirse", "Caoimhe", "Róisín", "Orla",
            "Sinead", "Grainne", "Clodagh",
        ),
        (
            "Seán", "Ciaran", "Padraig", "Declan", "Eoin", "Cathal", "Oisin", "Ronan",
            "Colm", "Niall",
        ),
    ),
    "welsh": (
        (
            "Cerys", "Angharad", "Bethan", "Eleri", "Ffion", "Carys", "Nia", "Rhiannon",
            "Sioned", "Gwenllian",
        ),
        (
            "Rhys", "Dafydd", "Gareth", "Iwan", "Owain", "Gethin", "Llŷr", "Emyr",
            "Huw", "Bryn",
        ),
    ),
    "south_asian": (
        (
            "Priya", "Aisha", "Fatima", "Anjali", "Sana", "Nusrat", "Harpreet",
            "Rukhsana", "Deepa", "Zainab",
        ),
        (
            "Mohammed", "Imran", "Arjun", "Rajesh", "Amir", "Harjit", "Tariq",
            "Sandeep", "Bilal", "Kamran",
        ),
    ),
    "polish": (
        (
            "Agnieszka", "Katarzyna", "Małgorzata", "Joanna", "Magdalena", "Zofia",
        ),
        (
            "Piotr", "Krzysztof", "Tomasz", "Paweł", "Łukasz", "Grzegorz",
        ),
    ),
    "caribbean": (
        (
            "Shanice", "Keisha", "Marcia", "Jacqueline", "Tanisha", "Beverley",
        ),
        (
            "Delroy", "Winston", "Leroy", "Marlon", "Tyrone", "Clive",
        ),
    ),
    "west_african": (
        (
            "Adaeze", "Chiamaka", "Folake", "Abena", "Ngozi", "Yetunde",
        ),
        (
            "Oluwaseun", "Chinedu", "Kwame", "Emeka", "Tunde", "Kofi",
        ),
    ),
    "other": (
        (
            "Elena", "Maria", "Ana", "Leyla", "Mei", "Hodan",
        ),
        (
            "Andrei", "Mehmet", "Luca", "Ahmed", "Wei", "Abdi",
        ),
    ),
}

FAMILY_NAMES: dict[str, tuple[str, ...]] = {
    "english": (
        "Smith", "Jones", "Taylor", "Brown", "Wilson", "Johnson", "Walker", "Wright",
        "Robinson", "Thompson", "Hughes", "Green", "Hall", "Wood", "Harris", "Clarke",
        "Jackson", "Turner", "Hill", "Moore", "Cooper", "Ward", "Parker", "Griffiths",
        "Bennett", "Holmes", "Fletcher",
    ),
    "scottish": (
        "MacDonald", "Campbell", "Stewart", "Robertson", "Fraser", "McLeod", "Murray",
        "Ross", "Cameron", "Mackenzie", "Sinclair",
    ),
    "irish": (
        "Murphy", "O'Brien", "Kelly", "O'Sullivan", "Byrne", "Doherty", "McLaughlin",
        "Gallagher", "Quinn", "Ní Bhriain", "O'Neill",
    ),
    "welsh": (
        "Evans", "Davies", "Williams", "Morgan", "Price", "Pritchard", "Llewellyn",
        "Rees", "Powell", "Prosser",
    ),
    "south_asian": (
        "Khan", "Patel", "Hussain", "Ahmed", "Singh", "Kaur", "Begum", "Sharma",
        "Iqbal", "Chaudhry", "Mahmood", "Gill",
    ),
    "polish": (
        "Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowska",
        "Zielińska", "Szymański",
    ),
    "caribbean": (
        "Campbell", "Francis", "Thomas", "Grant", "Reid", "Brown", "Samuels", "Clarke",
    ),
    "west_african": (
        "Okafor", "Adeyemi", "Mensah", "Boateng", "Okonkwo", "Adebayo", "Asante", "Eze",
    ),
    "other": (
        "Popescu", "Yılmaz", "Rossi", "Ali", "Chen", "Mohamed",
    ),
}

# Weights by heritage: most plans are of white British people, as in the services.
HERITAGE_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("english", 46), ("scottish", 9), ("irish", 8), ("welsh", 7), ("south_asian", 10),
    ("polish", 5), ("caribbean", 5), ("west_african", 5), ("other", 5),
)

# Preferred names and nicknames; also the spelling a police record may have used.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Elizabeth": ("Liz", "Beth", "Lizzie"), "Margaret": ("Maggie", "Peggy"),
    "Katherine": ("Kate", "Kath", "Kathy"), "Rebecca": ("Becky", "Becca"),
    "Victoria": ("Vicky", "Tori"), "Samantha": ("Sam", "Sammy"),
    "Deborah": ("Debbie", "Debs"), "Susan": ("Sue", "Suzy"), "Jessica": ("Jess",),
    "Charlotte": ("Charlie", "Lottie"), "Natalie": ("Nat",), "Kayleigh": ("Kay",),
    "Stacey": ("Stace",), "James": ("Jim", "Jimmy", "Jamie"),
    "Thomas": ("Tom", "Tommy"), "Daniel": ("Dan", "Danny"), "Matthew": ("Matt",),
    "Christopher": ("Chris", "Kit"), "William": ("Will", "Billy", "Bill"),
    "Robert": ("Rob", "Bob", "Robbie"), "Michael": ("Mike", "Mikey", "Mick"),
    "Anthony": ("Tony", "Ant"), "Stephen": ("Steve", "Stevie"),
    "Steven": ("Steve", "Stevie"), "Jonathan": ("Jon", "Jonny"),
    "Richard": ("Rich", "Ricky", "Dick"), "Alexander": ("Alex", "Sandy"),
    "Benjamin": ("Ben", "Benji"), "Nathan": ("Nate",), "Alasdair": ("Ali", "Alec"),
    "Catriona": ("Cat", "Trina"), "Siobhan": ("Shiv", "Shiv O"),
    "Padraig": ("Paddy", "Pat"), "Seán": ("Shaun",), "Ciaran": ("Kieran",),
    "Gwenllian": ("Gwen",), "Angharad": ("Haz",), "Dafydd": ("Dai", "Dave"),
    "Rhiannon": ("Rhi",), "Mohammed": ("Mo",), "Oluwaseun": ("Seun", "Shaun"),
    "Chiamaka": ("Amaka",), "Małgorzata": ("Gosia",), "Katarzyna": ("Kasia",),
    "Krzysztof": ("Kris",), "Grzegorz": ("Greg",), "Agnieszka": ("Aga",),
    "Łukasz": ("Luke",), "Jacqueline": ("Jackie",), "Beverley": ("Bev",),
    "Adaeze": ("Ada",), "Alexandra": ("Lexi",), "Lachlan": ("Lachie",),
    "Hamish": ("Hamie",),
}

# How the name is often written by people who have only heard it.
SPELLING_VARIANTS: dict[str, tuple[str, ...]] = {
    "Siobhan": ("Shivaun", "Shevaun"), "Niamh": ("Neve", "Neeve"),
    "Aoife": ("Eefa", "Ifa"), "Saoirse": ("Seersha",), "Caoimhe": ("Keeva",),
    "Róisín": ("Roisin", "Rosheen"), "Sinead": ("Shinade",), "Grainne": ("Grania",),
    "Seán": ("Sean", "Shawn"), "Eoin": ("Owen",), "Oisin": ("Osheen",),
    "Padraig": ("Padraic",), "Cathal": ("Cahal",), "Stephen": ("Steven",),
    "Steven": ("Stephen",), "Rhys": ("Reece", "Rees"), "Dafydd": ("David",),
    "Llŷr": ("Llyr",), "Mhairi": ("Vari", "Mhari"), "Eilidh": ("Ailey", "Eilly"),
    "Ruaridh": ("Rory",), "Mohammed": ("Muhammad", "Mohamed"),
    "Małgorzata": ("Malgorzata",), "Łukasz": ("Lukasz",), "Paweł": ("Pawel",),
    "Kayleigh": ("Kaylee", "Kayley"), "Jade": ("Jayde",), "Zainab": ("Zaynab",),
    "Lachlan": ("Lochlan",), "Chelsea": ("Chelsey",),
}
# fmt: on

# (sex weights) female, male, other, unknown
SEXES: tuple[str, ...] = ("female", "male", "other", "unknown")
SEX_WEIGHTS: tuple[int, ...] = (52, 44, 3, 1)

HEIGHTS = ("short", "of average height", "tall", "very tall", "petite")
BUILDS = ("slim", "thin", "stocky", "heavy build", "athletic", "medium build", "wiry")
HAIR = (
    "short brown hair",
    "long dark hair",
    "shaved head",
    "bleached blonde hair",
    "ginger hair in a ponytail",
    "grey receding hair",
    "black braids",
    "curly black hair",
    "dyed pink hair",
    "long red hair",
    "mousy hair in a bun",
    "dark hair with an undercut",
    "grey beard and short hair",
    "locs",
)
MARKS = (
    "scar through the left eyebrow",
    "healed scars on both forearms",
    "a limp on the right leg",
    "a lisp",
    "several missing front teeth",
    "nose piercing",
    "glasses with thick black frames",
    "hearing aid in the left ear",
    "burn scar on the back of the right hand",
    "freckles",
)
TATTOOS = (
    "a rose on the left forearm",
    "a swallow on the neck",
    "'MUM' across the right knuckles",
    "a Celtic knot on the right wrist",
    "a dragon on the left calf",
    "a child's name on the chest",
    "a semicolon on the wrist",
    "a Welsh dragon on the right shoulder",
    "a thistle behind the left ear",
    "stars on the left hand",
)
CLOTHES = (
    "a grey hoodie and trackies",
    "a long black coat",
    "a denim jacket",
    "a football shirt",
    "a yellow raincoat",
    "pyjamas and slippers",
    "a puffer jacket",
    "hospital scrubs",
    "a school-style blazer",
    "work boots and hi-vis",
    "a parka with a fur hood",
    "a red beanie",
)


@dataclass(frozen=True)
class Behaviour:
    """A behaviour template: what happens, where, why and what helps."""

    key: str
    description: str
    place_kinds: tuple[str, ...]
    triggers: tuple[str, ...]
    advice: tuple[str, ...]
    location_note: str


BEHAVIOURS: tuple[Behaviour, ...] = (
    Behaviour(
        "jump",
        "Threatens to jump from {place}",
        ("bridge", "car_park", "cliff"),
        (
            "Arguments with a partner",
            "Anniversary of a bereavement",
            "Being told a benefit claim has been stopped",
            "Alcohol",
        ),
        (
            "One person talks, the others stay back out of sight. Use {name}'s "
            "preferred name and ask about {pet}; talking about the pet has brought "
            "{them} back from the edge before.",
            "Keep a calm distance and let {them} set the pace. {They} usually "
            "comes away from the edge within an hour when listened to.",
        ),
        "Usually on the side facing the water",
    ),
    Behaviour(
        "overdose",
        "Takes overdoses of paracetamol, then calls 999",
        ("centre", "park"),
        (
            "Loneliness at night",
            "Contact with an ex-partner",
            "Court dates",
            "Money worries at the end of the month",
        ),
        (
            "Ask when the tablets were taken and how many. Paracetamol harm is "
            "delayed, so {they} needs blood tests in ED even when {they} feels well.",
            "{They} is usually honest about what was taken; take the packets with "
            "you to hospital.",
        ),
        "Often found on a bench here",
    ),
    Behaviour(
        "ligature",
        "Uses ligatures made from clothing or cables",
        ("park", "centre"),
        ("Feeling ignored or dismissed", "Flashbacks", "Nights without sleep"),
        (
            "Ask early and directly about ligatures and check the neck. {They} will "
            "usually hand them over when asked calmly.",
            "Have ligature cutters ready; explain each step before you do it.",
        ),
        "Has been found in the trees here",
    ),
    Behaviour(
        "cutting",
        "Self-harms by cutting arms and legs",
        ("centre",),
        (
            "Voices telling {them} {they} is worthless",
            "Crowds and noise",
            "Contact with family",
        ),
        (
            "Treat wounds as you would for anyone. {They} prefers wound care without "
            "comment about the number of scars.",
            "Offer a female clinician where possible; ask before touching.",
        ),
        "Sometimes waits here after harming",
    ),
    Behaviour(
        "calls",
        "Calls 999 many times in a night when distressed",
        ("centre",),
        ("Being alone overnight", "Alcohol", "Hearing voices"),
        (
            "Each call is assessed on its content. Let {them} know the plan and read "
            "out the crisis line number; {they} calms when reminded of the mentor's "
            "name.",
            "A short, kind call-back from the same call handler helps; offer the "
            "crisis line as well as help.",
        ),
        "Calls are often made from here",
    ),
    Behaviour(
        "missing",
        "Goes missing for days and is found near {place}",
        ("station", "water", "park"),
        (
            "Discharge from hospital",
            "Changes of staff at the supported flat",
            "Anniversaries",
        ),
        (
            "{They} is usually found cold and hungry; offer food and a warm drink "
            "and let {them} choose who to call.",
            "Search the places listed first; {they} has always been found near them.",
        ),
        "Usually found here",
    ),
    Behaviour(
        "railway",
        "Walks onto the railway line at {place}",
        ("station",),
        ("Voices telling {them} to go", "Losing a job", "Arguments at home"),
        (
            "Ask control to contact Network Rail for the line to be stopped. Speak "
            "from the platform; {they} responds to a quiet voice.",
            "{They} follows instructions from one calm person.",
        ),
        "At the far end of the platform",
    ),
    Behaviour(
        "sea",
        "Walks into the water at {place}",
        ("water",),
        ("Feeling trapped", "Alcohol", "Winter nights"),
        (
            "Bring a foil blanket; {they} gets very cold quickly. {They} will come "
            "back to the shore if someone waits and talks.",
            "Check for hypothermia and ask about tablets taken as well.",
        ),
        "Near the steps down to the water",
    ),
    Behaviour(
        "objects",
        "Swallows batteries or sharp objects",
        ("hospital", "centre"),
        ("Feeling unsafe on the ward", "Being moved between services"),
        (
            "Ask what was swallowed and when; batteries need an X-ray promptly.",
            "Stay with {them}; {they} finds being left alone in a cubicle frightening.",
        ),
        "Sometimes waits here after swallowing",
    ),
    Behaviour(
        "intoxication",
        "Becomes very distressed when intoxicated",
        ("centre", "station"),
        ("Weekends", "Payday", "Bad news from the housing office"),
        (
            "Check for head injury; {they} falls often when drunk. A quiet space and "
            "a hot drink help more than questions.",
            "Capacity can change with intoxication; reassess once sober.",
        ),
        "Often found here late at night",
    ),
    Behaviour(
        "absconds",
        "Leaves the ward and walks to {place}",
        ("station", "bridge"),
        ("Being refused leave", "Feeling unheard in ward rounds"),
        (
            "Phone the ward; staff will come and walk back with {them}. {They} "
            "usually agrees to go back when offered a lift.",
            "Ask what happened on the ward; {they} wants to be heard.",
        ),
        "Usually sits here",
    ),
    Behaviour(
        "head_banging",
        "Bangs head against walls when overwhelmed",
        ("hospital", "centre"),
        ("Sensory overload", "Changes to routine", "Loud sirens"),
        (
            "Turn off blue lights and sirens on approach. Reduce noise, give space "
            "and time; {they} settles with ear defenders.",
            "Check for head injury once calm.",
        ),
        "Loud places nearby make this more likely",
    ),
)

PETS = (
    "the dog, Bramble",
    "the cat, Pickle",
    "the dog, Tyson",
    "the budgie",
    "the grandchildren",
    "the allotment",
    "the football",
    "the dog, Luna",
    "fishing",
    "the horse at the riding school",
)

DIAGNOSES: tuple[tuple[str, str], ...] = (
    (
        "Complex PTSD",
        "Past trauma means everyday stresses can feel like danger; "
        "feeling safe and in control matters most.",
    ),
    (
        "Emotionally unstable personality disorder",
        "Emotions can become overwhelming very quickly and also settle quickly "
        "with the right support.",
    ),
    (
        "Bipolar affective disorder",
        "Mood can swing between very low and very high; "
        "when high, thoughts race and sleep stops.",
    ),
    (
        "Schizophrenia",
        "Can hear voices others cannot; the voices may be frightening "
        "and tell the person to do things.",
    ),
    (
        "Recurrent depressive disorder",
        "Long periods of very low mood when the future feels hopeless.",
    ),
    (
        "Autism spectrum condition with anxiety",
        "Noise, crowds and change can be overwhelming; clear, literal language helps.",
    ),
    (
        "Alcohol dependence with depression",
        "Drinks to cope with low mood; "
        "withdrawal can be dangerous and needs medical care.",
    ),
    (
        "ADHD and emotional dysregulation",
        "Acts on feelings quickly; short, clear choices help.",
    ),
    (
        "First-episode psychosis",
        "May believe things that are not true and feel "
        "watched; arguing about the beliefs does not help, listening does.",
    ),
    ("Anorexia nervosa", "Physically frail; check observations and blood sugar."),
    (
        "Mild learning disability and anxiety",
        "Needs simple words and time to "
        "answer; may agree to things without understanding.",
    ),
)

RELATIONSHIPS = (
    "mother",
    "father",
    "sister",
    "brother",
    "partner",
    "friend",
    "support worker",
    "daughter",
    "son",
    "grandmother",
    "aunt",
    "key worker",
    "neighbour",
)
FAMILY_RELATIONSHIPS = frozenset(
    {"mother", "father", "sister", "brother", "daughter", "son", "grandmother", "aunt"}
)

BOUNDARIES: tuple[tuple[str, str], ...] = (
    (
        "Has agreed to call the crisis line before 999 unless in immediate danger",
        "No blame: answer and assess as usual, then remind {them} of the crisis line. "
        "Let the mentor know the next working day.",
    ),
    (
        "Has agreed to go to the crisis cafe rather than wait in ED when not injured",
        "Offer the crisis cafe or a call with the mentor. Always assess and treat any "
        "injury.",
    ),
    (
        "Has agreed to hand over tablets to {their} support worker each week",
        "Talk it through kindly with {them}; tell the team so they can review the "
        "support.",
    ),
    (
        "Has agreed to text {their} sister when going out at night",
        "No blame; the sister is happy to be called and often knows where {they} is.",
    ),
    (
        "Has agreed to meet the mentor weekly rather than attend ED for reassurance",
        "Assess as usual; let the mentor know so they can offer an extra session.",
    ),
)

ADVICE_POLICE = (
    "Use {name}'s first name, keep numbers low and voices calm; {they} responds to "
    "being listened to.",
    "One officer to lead the conversation; {they} finds uniforms frightening at "
    "first, so explain who you are.",
    "Consider the health-based place of safety before a cell; the plan lists it.",
    "Call the mentor line in hours; out of hours the crisis team knows {them} well.",
)
ADVICE_AMBULANCE = (
    "Assess physical health first, including blood sugar and observations.",
    "Check for overdose and ask about timings; convey for bloods if paracetamol "
    "was taken.",
    "{They} is reassured by a clear explanation of each step.",
    "Offer the crisis cafe as an option when there is no physical need for ED.",
)
ADVICE_ED = (
    "Triage as for anyone. A quiet cubicle away from the main waiting room helps "
    "{them} stay.",
    "Refer to the liaison psychiatry team on arrival; they know this plan.",
    "{They} may leave before being seen when distressed; agree a time to check "
    "on {them} and tell {them} how long the wait is.",
    "Treat injuries as usual, without comment on repeat attendance.",
)
ADVICE_CONTROL = (
    "Flag the plan to attending units and read out the summary.",
    "Pass the mentor's name to crews; it helps {them} settle.",
    "Link repeat calls to this plan so crews arrive knowing what helps.",
    "Offer the crisis line number alongside help; {they} has agreed this.",
)

STATEMENTS = (
    "Please talk to me like a person and tell me your name.",
    "When I'm like this I can't think straight. Please be patient with me.",
    "I don't want to die, I want the pain to stop. Please help me feel safe.",
    "Loud voices and lots of people make it worse. One person talking is best.",
    "Please don't talk about me as if I'm not there.",
    "My dog is the most important thing in my life; please make sure someone "
    "looks after him.",
    "I would rather go to the crisis cafe than sit in A&E for hours.",
    "Ask me about my kids. They are why I keep going.",
)

POLICE_RANKS = ("PC", "PC", "PC", "DC", "Sgt", "PS")
CLINICIAN_SUFFIXES = ("RMN", "RMN", "RN", "OT", "SW")
APPROVERS = (
    "Dr Parker",
    "Dr Okafor",
    "Dr Singh",
    "Dr MacLeod",
    "Dr Evans",
    "Dr Nowak",
    "Dr Hughes",
    "Dr Mensah",
    "Dr Kelly",
    "Dr Ahmed",
)
HOURS = (
    "Mon-Fri 09:00-17:00",
    "Mon-Fri 08:30-16:30",
    "Every day 08:00-20:00",
    "Mon-Sat 09:00-19:00",
)


def _pronouns(sex: str) -> dict[str, str]:
    if sex == "female":
        return {"they": "she", "They": "She", "them": "her", "their": "her"}
    if sex == "male":
        return {"they": "he", "They": "He", "them": "him", "their": "his"}
    # Keep agreement simple: the templates say "{they} is", which reads oddly for
    # "they", so "this person" is used where the pronoun is unknown.
    return {
        "they": "this person",
        "They": "This person",
        "them": "them",
        "their": "their",
    }


def _drama_mobile(rng: random.Random) -> str:
    return f"+44 7700 900{rng.randrange(1000):03d}"


def _team_phone(town: Town, rng: random.Random) -> str:
    digits = 10 - sum(ch.isdigit() for ch in town.phone_prefix.removeprefix("+44"))
    if town.phone_prefix == "+44 1632 960":
        return f"{town.phone_prefix}{rng.randrange(1000):03d}"
    return f"{town.phone_prefix}{rng.randrange(10**digits):0{digits}d}"


def team_document(town: Town) -> dict[str, Any]:
    """Return the response-plan `team` object of a demo town's team."""
    rng = random.Random(town.code)
    return {
        "code": town.code,
        "name": town.team_name,
        "phone": _team_phone(town, rng),
        "email": f"{town.code.lower()}@demo.invalid",
        "hours": rng.choice(HOURS),
    }


def _near(
    rng: random.Random, lat: float, lon: float, spread: float
) -> tuple[float, float]:
    return (
        round(lat + rng.uniform(-spread, spread), 6),
        round(lon + rng.uniform(-spread, spread) * 1.6, 6),
    )


def _pick_landmark(rng: random.Random, town: Town, kinds: tuple[str, ...]) -> Landmark:
    matches = [mark for mark in town.landmarks if mark.kind in kinds]
    if matches:
        return rng.choice(matches)
    # Every town has a centre; invent a plausible named spot in it.
    kind = kinds[0]
    names = {
        "centre": f"{town.town} bus station",
        "park": f"{town.town} town park",
        "water": f"{town.town} river path",
        "hospital": f"{town.town} hospital grounds",
        "station": f"{town.town} station",
        "bridge": f"{town.town} river footbridge",
        "car_park": f"{town.town} multi-storey car park",
        "cliff": f"{town.town} quarry edge",
    }
    lat, lon = _near(rng, town.lat, town.lon, 0.01)
    return Landmark(names.get(kind, f"{town.town} town centre"), kind, lat, lon)


def _risk(rng: random.Random) -> dict[str, Any]:
    likelihood = rng.randint(1, 5)
    impact = rng.randint(2, 5)
    level = risk_level(likelihood, impact)
    return {"likelihood": likelihood, "impact": impact, "level": level}


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return dt.date.fromordinal(rng.randint(start.toordinal(), end.toordinal()))


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def _fill(text: str, words: dict[str, str]) -> str:
    return text.format_map(words)


def _postcode(town: Town, ref: str) -> str:
    # Derived from the reference, not drawn from `rng`: adding postcodes must not
    # shift every later random choice (and so every existing demo document).
    digest = zlib.crc32(ref.encode())
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    inward = f"{digest % 10}{letters[digest // 10 % 20]}{letters[digest // 200 % 20]}"
    return f"{town.postcode_area} {inward}"


def _heritage(rng: random.Random) -> str:
    roll = rng.randrange(100)
    for name, weight in HERITAGE_WEIGHTS:
        if roll < weight:
            return name
        roll -= weight
    return "english"


def _document(
    index: int, rng: random.Random, today: dt.date, seed: int
) -> dict[str, Any]:
    town = TOWNS[rng.randrange(len(TOWNS))]
    sex = rng.choices(SEXES, SEX_WEIGHTS)[0]
    heritage = _heritage(rng)
    female, male = GIVEN_NAMES[heritage]
    if sex == "female" or (sex in ("other", "unknown") and rng.random() < 0.5):
        given = rng.choice(female)
    else:
        given = rng.choice(male)
    family_heritage = heritage if rng.random() < 0.85 else _heritage(rng)
    family = rng.choice(FAMILY_NAMES[family_heritage])
    words = _pronouns(sex)

    person: dict[str, Any] = {
        "ref": (
            f"{town.code}/{index + 1:06d}"
            if seed == 0
            else f"{town.code}/S{seed}-{index + 1:06d}"
        ),
        "given_name": given,
        "family_name": family,
    }
    # Numbered, not drawn from `rng`: every other field of every demo person
    # stays what it was for the same seed, and no two share a number.
    person["nhs_number"] = synthetic_nhs_number(
        (seed * 1_000_003 + index) % SYNTHETIC_SERIALS
    )
    nicknames = NICKNAMES.get(given, ())
    preferred = given
    if nicknames and rng.random() < 0.55:
        preferred = rng.choice(nicknames)
        person["preferred_name"] = preferred
    aliases: list[str] = []
    if rng.random() < 0.3:
        variants = SPELLING_VARIANTS.get(given)
        if variants:
            aliases.append(f"{rng.choice(variants)} {family}")
    if rng.random() < 0.15:
        other_family = rng.choice(FAMILY_NAMES[_heritage(rng)])
        aliases.append(f"{preferred} {other_family}")
    if rng.random() < 0.08:
        aliases.append(
            rng.choice(
                (
                    "Mags",
                    "Tiny",
                    "Red",
                    "Scouse",
                    "Taff",
                    "Jock",
                    "Sparky",
                    "Kez",
                    "Bubbles",
                    "Smiler",
                )
            )
        )
    person["aliases"] = aliases
    age = rng.randint(18, 78)
    dob = _date_between(
        rng,
        _years_before(today, age + 1) + dt.timedelta(days=1),
        _years_before(today, age),
    )
    person["date_of_birth"] = dob.isoformat()
    person["sex"] = sex
    noun = {"female": "Woman", "male": "Man"}.get(sex, "Person")
    their = words["their"]
    if age < 20:
        age_words = f"{noun} in {their} late teens"
    else:
        age_words = f"{noun} in {their} {age // 10 * 10}s"
    parts = [age_words, rng.choice(HEIGHTS), rng.choice(BUILDS), rng.choice(HAIR)]
    if heritage in ("south_asian", "west_african", "other") and rng.random() < 0.3:
        parts.append("wears a hijab" if sex == "female" else "wears a kufi")
    elif family in ("Singh", "Kaur", "Gill") and rng.random() < 0.5:
        parts.append("wears a turban")
    if rng.random() < 0.5:
        parts.append(rng.choice(MARKS))
    if rng.random() < 0.45:
        parts.append(f"tattoo of {rng.choice(TATTOOS)}")
    parts.append(f"often wears {rng.choice(CLOTHES)}")
    person["description"] = ", ".join(parts) + "."
    home_lat, home_lon = _near(rng, town.lat, town.lon, 0.03)
    person["address"] = {
        "name": "Home",
        "address": f"{rng.randint(1, 180)} {rng.choice(STREETS)}, {town.town}",
        "postcode": _postcode(town, str(person["ref"])),
        "lat": home_lat,
        "lon": home_lon,
    }

    name_words = dict(words, name=preferred, pet=rng.choice(PETS))
    chosen = rng.sample(BEHAVIOURS, rng.randint(1, 4))
    behaviours: list[dict[str, Any]] = []
    crisis_locations: list[dict[str, Any]] = []
    for behaviour in chosen:
        mark = _pick_landmark(rng, town, behaviour.place_kinds)
        lat, lon = _near(rng, mark.lat, mark.lon, 0.0015)
        behaviours.append(
            {
                "description": _fill(
                    behaviour.description, dict(name_words, place=mark.name)
                ),
                "triggers": _fill(rng.choice(behaviour.triggers), name_words),
                "advice": _fill(rng.choice(behaviour.advice), name_words),
            }
        )
        if all(place["name"] != mark.name for place in crisis_locations):
            crisis_locations.append(
                {
                    "name": mark.name,
                    "lat": lat,
                    "lon": lon,
                    "notes": f"{behaviour.location_note}.",
                }
            )

    hospital = next(
        (mark for mark in town.landmarks if mark.kind == "hospital"), town.landmarks[0]
    )
    cafe_lat, cafe_lon = _near(rng, town.lat, town.lon, 0.008)
    places_of_safety: list[dict[str, Any]] = [
        {
            "name": f"{town.town} crisis cafe",
            "address": f"{rng.randint(1, 90)} {rng.choice(STREETS)}, {town.town}",
            "postcode": town.postcode_area,
            "lat": cafe_lat,
            "lon": cafe_lon,
            "notes": "Open every evening 18:00-23:00; walk-in, no referral needed.",
        }
    ]
    if rng.random() < 0.6:
        places_of_safety.append(
            {
                "name": f"{hospital.name} health-based place of safety",
                "lat": hospital.lat,
                "lon": hospital.lon,
                "notes": "Section 136 suite; phone ahead.",
            }
        )

    nominated: list[dict[str, Any]] = []
    for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3))):
        relationship = rng.choice(RELATIONSHIPS)
        heritage_of_contact = heritage if rng.random() < 0.8 else _heritage(rng)
        contact_given = rng.choice(GIVEN_NAMES[heritage_of_contact][rng.randrange(2)])
        contact_family = (
            family
            if relationship in FAMILY_RELATIONSHIPS and rng.random() < 0.8
            else rng.choice(FAMILY_NAMES[heritage_of_contact])
        )
        nominated.append(
            {
                "name": f"{contact_given} {contact_family}",
                "relationship": relationship,
                "phone": _drama_mobile(rng),
                "consent_recorded": rng.random() < 0.9,
            }
        )

    police_family = rng.choice(FAMILY_NAMES[_heritage(rng)])
    clinician_heritage = _heritage(rng)
    clinician = (
        f"{rng.choice(GIVEN_NAMES[clinician_heritage][rng.randrange(2)])} "
        f"{rng.choice(FAMILY_NAMES[clinician_heritage])} "
        f"{rng.choice(CLINICIAN_SUFFIXES)}"
    )
    mentors = [
        {
            "name": f"{rng.choice(POLICE_RANKS)} {police_family}",
            "role": "police",
            "phone": _drama_mobile(rng),
        },
        {"name": clinician, "role": "clinician", "phone": _drama_mobile(rng)},
    ]

    version = rng.choices((1, 2, 3, 4, 5), (40, 25, 18, 10, 7))[0]
    status_roll = rng.random()
    status = (
        "live"
        if status_roll < 0.94
        else "draft"
        if status_roll < 0.985
        else ("retired")
    )
    # About one plan in eight is overdue for review, as in real caseloads.
    review_days = rng.choice((3, 6, 6, 12)) * 30
    if rng.random() < 0.12:
        review_by = today - dt.timedelta(days=rng.randint(1, 60))
        approved_on = review_by - dt.timedelta(days=review_days)
    else:
        approved_on = _date_between(
            rng,
            today - dt.timedelta(days=review_days - 1),
            today - dt.timedelta(days=3),
        )
        review_by = approved_on + dt.timedelta(days=review_days)
    assessed_on = approved_on - dt.timedelta(days=rng.randint(0, 30))
    agreed_on = approved_on - dt.timedelta(days=rng.randint(1, 20))
    diagnosis_name, explanation = rng.choice(DIAGNOSES)
    capacity_all = rng.random() < 0.8
    capacity: dict[str, Any] = {
        "assessed_on": assessed_on.isoformat(),
        "communicate": True,
        "understand": capacity_all or rng.random() < 0.5,
        "retain": capacity_all or rng.random() < 0.5,
        "employ": capacity_all,
    }
    capacity["notes"] = (
        "Capacity is decision-specific and can change with intoxication or distress; "
        "assess at the time."
    )

    first = behaviours[0]["description"]
    summary = (
        f"{preferred} ({age}) has a crisis plan agreed with the {town.town} team. "
        f"{first}. {behaviours[0]['advice']} Call the team in hours."
    )
    plan: dict[str, Any] = {"version": version, "status": status}
    if status != "draft":
        published = dt.datetime.combine(
            approved_on + dt.timedelta(days=1),
            dt.time(rng.randint(8, 17), rng.randrange(60)),
            tzinfo=dt.UTC,
        )
        plan["published_at"] = published.isoformat().replace("+00:00", "Z")
    plan.update(
        {
            "review_by": review_by.isoformat(),
            "approved_by": rng.choice(APPROVERS),
            "approved_on": approved_on.isoformat(),
            "risk": _risk(rng),
            "summary": summary[:2000],
            "diagnosis": {"name": diagnosis_name, "plain_explanation": explanation},
            "capacity": capacity,
            "behaviours": behaviours,
            "crisis_locations": crisis_locations,
            "places_of_safety": places_of_safety,
            "boundaries": [
                {
                    "boundary": _fill(boundary, words),
                    "if_breached": _fill(breach, words),
                }
                for boundary, breach in rng.sample(BOUNDARIES, rng.choice((0, 1, 1, 2)))
            ],
            "nominated_people": nominated,
            "mentors": mentors,
            "advice_for": {
                "police": _fill(rng.choice(ADVICE_POLICE), name_words),
                "ambulance": _fill(rng.choice(ADVICE_AMBULANCE), name_words),
                "emergency_department": _fill(rng.choice(ADVICE_ED), name_words),
                "control_room": _fill(rng.choice(ADVICE_CONTROL), name_words),
            },
            "coproduction": {
                # A published plan was agreed with the person (the publish
                # rules); only some drafts still wait for it.
                "agreed_with_person": rng.random() < 0.92 or status != "draft",
                "agreed_on": agreed_on.isoformat(),
                "channel": "in_person",
                "person_statement": rng.choice(STATEMENTS),
            },
            "sharing_basis": rng.choices(
                ("consent", "vital_interests", "public_task"), (80, 12, 8)
            )[0],
        }
    )
    if not all(capacity[key] for key in ("understand", "retain", "employ")):
        # A "No" goes live only with the lead clinician's s.21 review.
        capacity["acknowledgement"] = {
            "by": plan["approved_by"],
            "on": approved_on.isoformat(),
            "review": "Reviewed under Guide s.21: the plan gives advice only and "
            "asks responders to assess capacity at the time.",
        }
    _add_v2_fields(plan, random.Random(f"{seed}/{index}/response-plan-2"))
    return {
        "format": FORMAT,
        "team": _TEAM_DOCUMENTS[town.code],
        "person": person,
        "plan": plan,
    }


PLEASE_DO = (
    "Use my first name and tell me yours",
    "Give me time to answer before asking again",
    "Tell me what is happening before you do it",
    "Offer me a drink of water",
    "Let me sit down somewhere quieter",
)
PLEASE_DONT = (
    "Stand between me and the door",
    "Talk about me as if I am not there",
    "Use flashing lights if they can be turned off",
    "Raise your voice",
)
COMMUNICATION = (
    "Short sentences, one question at a time.",
    "I lip-read: face me and speak clearly.",
    "Write things down if I stop answering.",
)
WARNING_SIGNS = (
    "Stops answering the phone",
    "Stops eating",
    "Talks about being a burden",
    "Gives away belongings",
    "Not sleeping for several nights",
)
COPING = (
    "Walking by the water",
    "Calling my sister",
    "Music through headphones",
    "Going to the crisis cafe",
)


def _add_v2_fields(plan: dict[str, Any], extra: random.Random) -> None:
    """Add the response-plan/2 fields to some demo plans.

    A generator of their own, so every response-plan/1 field of every demo
    person stays what it was for the same seed.
    """
    if extra.random() < 0.5:
        plan["please_do"] = extra.sample(PLEASE_DO, extra.randint(1, 2))
        plan["please_dont"] = extra.sample(PLEASE_DONT, 1)
    if extra.random() < 0.3:
        plan["communication"] = extra.choice(COMMUNICATION)
    if extra.random() < 0.5:
        plan["early_warning_signs"] = extra.sample(WARNING_SIGNS, extra.randint(1, 3))
    if extra.random() < 0.4:
        plan["coping_strategies"] = extra.sample(COPING, extra.randint(1, 2))
    if extra.random() < 0.15:
        plan["dependants"] = [
            {
                "who": "Dog",
                "kind": "pet",
                "action": "A neighbour has a key and will look after the dog.",
            }
        ]
    if extra.random() < 0.6:
        # DEMO codes are not Organisation Data Service codes of any practice.
        plan["gp_practice"] = {
            "name": "Demo Surgery",
            "ods_code": f"DEMO{extra.randint(1, 999):03d}",
            "phone": f"+44 1632 960{extra.randint(0, 999):03d}",
        }
    if extra.random() < 0.4:
        plan["mental_health_act"] = {
            "status": extra.choice(("none", "informal", "community_treatment_order"))
        }
    if extra.random() < 0.3:
        plan["review"] = {
            "responsible": "Care coordinator",
            "interval_months": extra.choice((6, 12)),
        }


_TEAM_DOCUMENTS: dict[str, dict[str, Any]] = {
    town.code: team_document(town) for town in TOWNS
}


def demo_teams() -> list[dict[str, Any]]:
    """Return the `team` objects of every demo team."""
    return [dict(_TEAM_DOCUMENTS[town.code]) for town in TOWNS]


# Out-of-hours arrangements as teams describe them: most hand over to a crisis
# team whenever they are closed; some cover only the evening, leaving the night
# to the area's 24-hour line.
OUT_OF_HOURS = (None, None, "Every day 17:00-23:00", None)


def demo_contacts(town: Town) -> dict[str, str | None]:
    """Return a demo team's out-of-hours line and hours and the 24-hour line."""
    rng = random.Random(f"{town.code}/out-of-hours")
    return {
        "out_of_hours_phone": _team_phone(town, rng),
        "out_of_hours": rng.choice(OUT_OF_HOURS),
        "crisis_line": f"0800 {rng.randrange(1000):03d} {rng.randrange(10000):04d}",
    }


def apply_demo_contacts(session: Session) -> int:
    """Give the demo teams present their out-of-hours and 24-hour lines."""
    from sqlalchemy import select

    from plans.models import Team

    by_code = {town.code: town for town in TOWNS}
    updated = 0
    for team in session.scalars(select(Team).where(Team.code.in_(by_code))):
        for key, value in demo_contacts(by_code[team.code]).items():
            setattr(team, key, value)
        updated += 1
    session.flush()
    return updated


def generate_documents(
    n: int, *, seed: int = 0, today: dt.date | None = None
) -> Iterator[dict[str, Any]]:
    """Yield `n` synthetic response-plan/2 documents, the same ones for a seed."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = today or clock.today()
    rng = random.Random(seed)
    for index in range(n):
        document = _document(index, rng, day, seed)
        # Each document gets its own team dict so callers may mutate it freely.
        document["team"] = dict(document["team"])
        yield document
