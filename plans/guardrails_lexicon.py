"""The words the guardrails reason over: care actions, refusals, coercion, labels.

A directive is read by its polarity over a verb: negating a care action ("do not
convey", "never assess") withholds care, and so does a refusal of one ("decline to
attend", "refuse his requests for pain relief"); negating anything else ("do not
leave her alone", "never refuse a request for help", "do not use sirens") is good
advice. These tables say which verbs and nouns are care, which refuse it and which
coerce; `FORMS` maps every inflection to its lemma.

Pure data: no IO.
"""

from __future__ import annotations

# --- inflections ----------------------------------------------------------------

_IRREGULAR: dict[str, tuple[str, ...]] = {
    "take": ("took", "taken", "taking", "takes"),
    "find": ("found", "finding", "finds"),
    "bring": ("brought", "bringing", "brings"),
    "send": ("sent", "sending", "sends"),
    "see": ("saw", "seen", "seeing", "sees"),
    "give": ("gave", "given", "giving", "gives"),
    "leave": ("left", "leaving", "leaves"),
    "go": ("went", "gone", "going", "goes"),
    "put": ("putting", "puts"),
    "hold": ("held", "holding", "holds"),
    "ring": ("rang", "rung", "ringing", "rings"),
    "make": ("made", "making", "makes"),
    "keep": ("kept", "keeping", "keeps"),
    "drive": ("drove", "driven", "driving", "drives"),
    "get": ("got", "gotten", "getting", "gets"),
    "let": ("letting", "lets"),
    "pick": ("picked", "picking", "picks"),
    "hang": ("hung", "hanging", "hangs"),
    "come": ("came", "coming", "comes"),
    "stand": ("stood", "standing", "stands"),
    "turn": ("turned", "turning", "turns"),
    "shut": ("shutting", "shuts"),
    "forbid": ("forbade", "forbidden", "forbidding", "forbids"),
    "withhold": ("withheld", "withholding", "withholds"),
    "bar": ("barred", "barring", "bars"),
    "ban": ("banned", "banning", "bans"),
    "stop": ("stopped", "stopping", "stops"),
    "admit": ("admitted", "admitting", "admits"),
    "refer": ("referred", "referring", "refers"),
    "section": ("sectioned", "sectioning", "sections"),
    "prioritise": ("prioritised", "prioritising", "prioritises"),
    "prioritize": ("prioritized", "prioritizing", "prioritizes"),
    "cancel": ("cancelled", "canceled", "cancelling", "canceling", "cancels"),
    "tranquillise": ("tranquillised", "tranquillising", "tranquilized", "tranquilize"),
}


def _regular(base: str) -> set[str]:
    forms = {base}
    if base.endswith("e"):
        forms |= {base + "s", base + "d", base[:-1] + "ing"}
    elif base.endswith(("s", "sh", "ch", "x", "z")):
        forms |= {base + "es", base + "ed", base + "ing"}
    elif base.endswith("y") and base[-2:-1] not in "aeiou":
        forms |= {base[:-1] + "ies", base[:-1] + "ied", base + "ing"}
    else:
        forms |= {base + "s", base + "ed", base + "ing"}
    return forms


def inflections(base: str) -> set[str]:
    """Return a verb's forms: base, -s, past, participle, -ing."""
    return {base, *_IRREGULAR[base]} if base in _IRREGULAR else _regular(base)


# --- care actions -----------------------------------------------------------------

# Verbs whose negation withholds care on its own: "do not convey", "never assess".
# The value is the finding's code.
CARE_VERBS: dict[str, str] = {
    "convey": "no_conveyance",
    "transport": "no_conveyance",
    "transfer": "no_conveyance",
    "admit": "no_admission",
    "readmit": "no_admission",
    "register": "no_admission",
    "attend": "no_attendance",
    "respond": "no_attendance",
    "dispatch": "no_attendance",
    "deploy": "no_attendance",
    "visit": "no_attendance",
    "rescue": "no_attendance",
    "escalate": "no_attendance",
    "prioritise": "no_attendance",
    "prioritize": "no_attendance",
    "intervene": "no_attendance",
    "treat": "no_treatment",
    "assess": "no_treatment",
    "reassess": "no_treatment",
    "examine": "no_treatment",
    "triage": "no_treatment",
    "resuscitate": "no_treatment",
    "refer": "no_treatment",
    "suture": "no_treatment",
    "stitch": "no_treatment",
    "bandage": "no_treatment",
    "prescribe": "no_treatment",
    "medicate": "no_treatment",
    "help": "no_treatment",
    "monitor": "no_treatment",
    "review": "no_treatment",
}

# Verbs that are care only with the right object or destination ("send an
# ambulance", "take him to A&E", "give pain relief", "see her", "answer his calls").
LIGHT_VERBS = frozenset(
    {
        "take", "bring", "drive", "carry", "move", "send", "call", "phone", "ring",
        "contact", "summon", "request", "give", "offer", "provide", "administer",
        "get", "see", "answer", "pick", "return", "look", "search", "check",
        "report", "accept", "make", "arrange", "book", "complete", "go",
        "come", "let", "allow", "permit", "waste", "do", "put", "receive", "find",
        "act",
    }
)  # fmt: skip

# Nouns that name care or a response.
CARE_NOUNS = frozenset(
    {
        "care", "treatment", "treatments", "assessment", "assessments", "conveyance",
        "conveying", "admission", "admissions", "attendance", "attendances",
        "transport", "ambulance", "ambulances", "paramedic", "paramedics", "crew",
        "crews", "unit", "units", "response", "responses", "help", "support",
        "medication", "medications", "medicine", "medicines", "meds", "drugs",
        "relief", "analgesia", "analgesic", "analgesics", "painkillers",
        "painkiller", "fluids", "oxygen", "bed", "beds", "referral", "referrals",
        "triage", "examination", "examinations", "observations", "obs", "bloods",
        "aid", "cpr", "resuscitation", "review", "visit", "visits", "callback",
        "dispatch", "deployment", "resources", "handover", "hospital", "a&e",
        "ed", "doctor", "doctors", "psychiatrist", "clinician", "clinicians",
        "nurse", "gp", "999", "action", "injection", "injections", "priority",
        "services", "service", "x-ray", "scan", "first", "anything", "intervention",
        "follow", "checks", "check", "appointment", "appointments", "follow-up",
    }
)  # fmt: skip

# Named medicines: refusing them is withholding; "do not give him penicillin; he
# is allergic" is a clinical caution when a reason stands beside it.
DRUGS = frozenset(
    {
        "morphine", "paracetamol", "ibuprofen", "codeine", "tramadol", "entonox",
        "penthrox", "naloxone", "insulin", "antibiotics", "penicillin", "aspirin",
        "benzodiazepines", "diazepam", "fentanyl", "opiates", "opioids",
        "tablets", "painkillers", "lorazepam", "midazolam", "haloperidol",
        "olanzapine", "promethazine", "zopiclone", "co-codamol", "oramorph",
        "methadone", "buprenorphine", "prn",
    }
)  # fmt: skip
CLINICAL_REASONS = frozenset(
    {
        "allergic", "allergy", "allergies", "ulcer", "reaction", "reactions",
        "interacts", "interaction", "dependence", "dependent", "asthma", "kidney",
        "kidneys", "liver", "pregnant", "contraindicated", "instead",
        "alternative", "because", "due", "condition", "history", "overdose",
        "prescribed", "already", "makes", "made", "sensitive", "intolerant",
        "reacted", "react", "reacts", "heart", "epilepsy", "seizures",
    }
)  # fmt: skip

# What a service sends or is called: "send an ambulance", "call the crisis team".
SERVICES = frozenset(
    {
        "ambulance", "ambulances", "crew", "crews", "unit", "units", "officer",
        "officers", "police", "paramedic", "paramedics", "anyone", "anybody",
        "someone", "help", "resources", "responder", "responders", "car", "cars",
        "patrol", "patrols", "999", "team", "doctor", "gp", "services", "service",
        "nurse", "psychiatrist", "clinician", "amhp", "hems", "rrv", "resource",
        "emergency", "crisis", "liaison",
    }
)  # fmt: skip

# Places a person is taken to for care, and places of custody.
CARE_PLACES = frozenset(
    {
        "hospital", "a&e", "ed", "emergency", "department", "ward", "casualty",
        "minors", "majors", "safety", "unit", "clinic", "hospitals", "infirmary",
        "utc", "miu", "resus", "cubicle",
    }
)  # fmt: skip
CUSTODY_PLACES = frozenset({"custody", "cell", "cells", "station", "nick", "lockup"})
ADDRESSES = frozenset(
    {"address", "flat", "house", "home", "property", "door", "scene", "room", "her",
     "him", "them", "there", "out", "addresses", "location", "incident", "incidents"}
)  # fmt: skip

CALLS = frozenset(
    {"call", "calls", "phone", "phones", "requests", "request", "alarms", "alarm",
     "texts", "messages", "pendant", "999", "alerts", "number", "line", "contact",
     "contacts"}
)  # fmt: skip

PERSON_OBJECTS = frozenset(
    {"him", "her", "them", "me", "us", "person", "patient", "man", "woman", "you",
     "client", "individual"}
)  # fmt: skip
DETERMINERS = frozenset(
    {"the", "a", "an", "his", "her", "their", "my", "your", "any", "all", "this",
     "these", "that", "those", "every", "each", "further", "more", "routine",
     "some", "our", "its", "of", "one", "other", "immediate", "urgent",
     "emergency", "physical", "medical", "mental", "health", "police", "hospital",
     "pain", "first", "repeat", "999", "phone", "crisis", "ambulance", "liaison",
     "psychiatric", "clinical", "nhs", "out", "up", "on", "in", "back"}
)  # fmt: skip

# Manner, place or number after a care verb: "do not attend with sirens", "do not
# treat her as a nuisance", "do not send more than two officers".
MANNER = frozenset(
    {"with", "by", "using", "as", "like", "differently", "via", "through", "more",
     "without", "alongside", "in", "behind", "unfairly", "badly", "roughly",
     "harshly", "yourself", "alone", "well", "quickly", "slowly", "loudly"}
)  # fmt: skip

# Limits put on care: "no more than one ambulance a week" rations it, and "there
# is no cap on attendances" denies the limit.
LIMITS = frozenset(
    {"cap", "caps", "limit", "limits", "maximum", "max", "ceiling", "quota",
     "restriction", "restrictions", "upper"}
)  # fmt: skip

# What a person reports or shows, which a directive may tell responders to
# ignore: "ignore any reported chest pain", "minor injuries to be ignored".
SYMPTOMS = frozenset(
    {"pain", "injury", "injuries", "threat", "threats", "report", "reports",
     "symptom", "symptoms", "overdose", "overdoses", "cuts", "wounds", "wound",
     "disclosure", "disclosures", "complaint", "complaints", "self-harm",
     "bleeding", "seizure", "seizures", "fits", "distress"}
)  # fmt: skip
# What is taken from a person in an assessment: "take a full set of obs".
OBSERVATIONS = frozenset(
    {"obs", "observations", "bloods", "ecg", "history", "temperature", "pulse",
     "blood"}
)  # fmt: skip
# Words before a care noun that say which care, not whether: "PRN lorazepam",
# "a full set of obs", "a welfare check".
CARE_MODIFIERS = frozenset(
    {"prn", "full", "set", "proper", "quick", "basic", "brief", "welfare",
     "formal", "thorough", "new", "second", "another", "regular", "usual", "own"}
)  # fmt: skip
# How a call or a person is put below others: "as non-urgent", "cat 4".
LOW_PRIORITY = frozenset(
    {"non-urgent", "nonurgent", "low", "lowest", "routine", "minor", "hoax",
     "c3", "c4", "c5", "p4", "p5"}
)  # fmt: skip
HIGH_PRIORITY = frozenset(
    {"urgent", "emergency", "high", "priority", "c1", "c2", "p1", "p2", "red"}
)  # fmt: skip
# Verbs that grade a call or a person: "triage as non-urgent".
GRADERS = frozenset(
    {"treat", "triage", "categorise", "categorize", "grade", "class", "classify",
     "code", "log", "record", "prioritise", "prioritize", "mark", "flag", "handle"}
)  # fmt: skip
QUEUE_ENDS = frozenset({"back", "bottom", "end", "slow", "block"})
QUEUES = frozenset({"queue", "stack", "list", "pile", "pending"})
PERIODS = frozenset(
    {"day", "week", "fortnight", "month", "year", "night", "shift", "weekend",
     "days", "weeks", "months"}
)  # fmt: skip

# Words that say how a responder comes or carries, never whether.
MANNER_NOUNS = frozenset(
    {"uniform", "uniformed", "lone", "stretcher", "trolley", "sirens", "siren",
     "blues", "unmarked", "marked", "plain-clothes", "chair", "carry-chair"}
)  # fmt: skip

# --- refusals ---------------------------------------------------------------------

# Verbs that deny what follows: a directive to refuse care withholds it; negating
# them ("never refuse", "do not ignore") is good advice.
DENIAL_VERBS = frozenset(
    {
        "refuse", "decline", "deny", "withhold", "avoid", "refrain", "stop",
        "cease", "ignore", "disregard", "neglect", "cancel", "downgrade", "delay",
        "postpone", "defer", "bar", "ban", "exclude", "forbid", "block", "hang",
        "end", "terminate", "close", "turn", "discharge", "leave", "abandon",
        "dismiss", "restrict", "limit", "stand", "put", "send", "walk", "prevent",
        "waste", "discourage", "dissuade", "deprioritise", "deprioritize",
        "redirect",
    }
)  # fmt: skip

# Verbs a directive may negate as good advice. Listed so the reader of a finding
# can see that "do not leave her alone" was understood, not missed.
HARMLESS_AFTER_NEGATION = frozenset(
    {"leave", "hesitate", "wait", "delay", "rush", "argue", "shout", "restrain",
     "use", "touch", "judge", "assume", "mention", "comment", "block", "dismiss",
     "ignore", "refuse", "decline", "deny", "withhold", "discharge", "approach",
     "raise", "handcuff", "threaten", "blame", "crowd", "remove", "turn", "let",
     "forget"}
)  # fmt: skip

# --- coercion ---------------------------------------------------------------------

COERCIVE_VERBS = frozenset(
    {
        "detain", "section", "restrain", "handcuff", "cuff", "sedate", "tranquillise",
        "tranquilize", "lock", "force", "compel", "seclude", "enforce", "arrest",
        "taser", "tase", "incarcerate", "imprison", "confine", "subdue",
    }
)  # fmt: skip
COERCIVE_NOUNS = frozenset(
    {
        "force", "restraint", "restraints", "handcuffs", "cuffs", "hood", "taser",
        "pava", "baton", "cage", "sedation", "sedative", "sedatives",
        "tranquillisation", "tranquilisation", "tranquillization", "seclusion",
    }
)  # fmt: skip
PLAN_VERBS = frozenset(
    {"follow", "obey", "comply", "adhere", "stick", "enforce", "abide"}
)
# What a plan-as-order rule is about: "comply with these instructions", "this
# guidance is binding", "no deviation from the steps below".
DIRECTIVE_TARGETS = frozenset(
    {"plan", "plans", "rules", "instructions", "instruction", "directions",
     "directives", "guidance", "document", "protocol", "steps", "orders",
     "requirements", "directive"}
)  # fmt: skip
OBLIGATION_WORDS = frozenset(
    {"mandatory", "compulsory", "binding", "obligatory", "non-negotiable", "bound"}
)
DEVIATION_WORDS = frozenset(
    {"deviation", "deviations", "deviate", "depart", "departure", "departures",
     "discretion", "variation", "deviating", "departing"}
)  # fmt: skip
OVERRIDE_WORDS = frozenset(
    {"override", "overrides", "overriding", "overrule", "overrules", "supersede",
     "supersedes", "precedence", "replaces", "replace"}
)  # fmt: skip
JUDGEMENT_WORDS = frozenset(
    {"judgement", "judgment", "discretion", "assessment", "assessments",
     "guidelines", "training", "decision", "decisions"}
)  # fmt: skip

# --- the grammar of a directive ----------------------------------------------------

# A request put to a service in the passive is an instruction, not a wish:
# "crews are asked not to convey" (but "she asked not to be taken" is hers).
REQUEST_PASSIVES = frozenset(
    {"asked", "requested", "advised", "instructed", "told", "reminded",
     "encouraged", "urged", "directed", "expected", "required", "invited"}
)  # fmt: skip
# "Advise against conveying", "we recommend against admission".
ADVISE_AGAINST = frozenset(
    {"advise", "advises", "advised", "advising", "recommend", "recommends",
     "recommended", "recommending", "counsel", "counsels", "counselled", "argue",
     "argues", "decided", "decide", "decides", "caution", "cautioned", "warned",
     "warn", "warns"}
)  # fmt: skip
# "Not suitable for admission", "not eligible for an ambulance".
SUITABILITY = frozenset(
    {"suitable", "eligible", "appropriate", "fit", "indicated", "accepted",
     "candidate", "considered", "entitled"}
)  # fmt: skip
# "Does not merit a response", "his calls do not justify an ambulance".
ENTITLEMENT = frozenset(
    {"merit", "merits", "warrant", "warrants", "justify", "justifies", "deserve",
     "deserves"}
)  # fmt: skip
# Care places a person may be kept away from: "keep him out of A&E".
KEEP_OUT_PLACES = frozenset(
    {
        "hospital",
        "hospitals",
        "a&e",
        "ed",
        "emergency",
        "department",
        "ward",
        "wards",
        "casualty",
        "infirmary",
        "utc",
        "miu",
    }
)
# Subjects that make a plain negation a description: "she does not attend groups".
PERSON_SUBJECTS = frozenset(
    {"he", "she", "i", "they", "it", "person", "patient", "mum", "dad", "mother",
     "father", "sister", "brother", "partner", "family", "who", "which", "that",
     "people", "son", "daughter", "friend"}
)  # fmt: skip
# Subjects that make it a directive: "police do not attend", "we will not respond".
SERVICE_SUBJECTS = frozenset(
    {"we", "staff", "police", "officers", "officer", "crews", "crew", "paramedics",
     "ambulance", "control", "services", "service", "team", "nurses", "doctors",
     "clinicians", "ed", "responders", "units", "you", "security", "reception",
     "ward", "psychiatry", "liaison", "gp", "handlers", "handler", "room", "a&e",
     "hospital", "department", "call", "dispatch", "dispatchers", "trust"}
)  # fmt: skip
PREFERENCE = frozenset(
    {"prefer", "prefers", "preferred", "rather", "wish", "wishes", "want", "wants",
     "like", "likes", "ask", "asks", "asked", "choose", "chooses", "chose", "tend",
     "tends", "tries", "try", "trying", "hope", "hopes", "decided", "decides",
     "would", "often", "usually", "sometimes", "may", "might", "can", "could"}
)  # fmt: skip
HEDGES = frozenset(
    {"usually", "normally", "necessarily", "always", "generally", "typically",
     "often", "mostly", "rarely", "automatically", "just", "only"}
)  # fmt: skip
SKIP_AFTER_NEGATION = frozenset(
    {"be", "been", "ever", "even", "again", "further", "then", "simply", "routinely",
     "physically", "actually", "directly", "bother", "to", "try", "attempt",
     "please", "need", "have", "and", "any", "longer", "also", "yet",
     "under", "circumstances", "at", "all", "initially", "straight", "away",
     "personally", "ahead", "unnecessarily"}
)  # fmt: skip
CONDITIONS = frozenset(
    {"if", "when", "unless", "once", "after", "where", "whenever", "until", "provided"}
)
SUBORDINATORS = frozenset(
    {"if", "when", "unless", "once", "whether", "while", "although", "though",
     "because", "whenever", "until", "in", "as", "since", "before", "after"}
)  # fmt: skip
NOT_NEEDED = frozenset(
    {"needed", "required", "necessary", "indicated", "appropriate", "warranted",
     "justified", "advised", "recommended", "needs", "need", "helpful", "useful"}
)  # fmt: skip
# Adverbs and labels that may open an imperative: "Please just convey", "Then call".
OPENERS = frozenset(
    {"please", "just", "simply", "always", "also", "then", "firmly", "politely",
     "immediately", "instead", "now", "so", "and", "or", "but", "kindly", "calmly",
     "quietly", "clearly", "straight", "away", "therefore", "otherwise", "again",
     "physically", "gently", "promptly", "quickly", "strictly", "routinely"}
)  # fmt: skip

# Every word the normaliser may spell out of digits or spaced letters.
FUNCTION_WORDS = frozenset(
    {"do", "not", "no", "never", "dont", "don", "t", "be", "to", "the", "him",
     "her", "them", "is", "are", "should", "must", "shall", "will", "unless",
     "if", "only", "any", "under", "circumstances", "staff", "police", "crews",
     "ambulance", "hospital", "his", "a&e", "ed", "nhs", "and", "or",
     "with", "for", "on", "in", "at", "can", "need", "needed", "required",
     "ever", "again", "where", "he", "she", "it", "they", "this", "that",
     "officers", "paramedics", "calls", "call", "relief", "pain", "medication",
     "a", "i", "am", "an", "of", "up", "out", "so", "as", "by", "go"}
)  # fmt: skip


def _all_lemmas() -> set[str]:
    return (
        set(CARE_VERBS)
        | set(LIGHT_VERBS)
        | set(DENIAL_VERBS)
        | set(HARMLESS_AFTER_NEGATION)
        | set(COERCIVE_VERBS)
        | set(PLAN_VERBS)
        | {"remove", "place", "hold", "keep", "use", "threaten", "warn", "charge"}
        | {"apply", "fit", "invoke", "lodge", "pin", "escort", "have"}
        | GRADERS
    )


FORMS: dict[str, str] = {
    form: lemma for lemma in sorted(_all_lemmas()) for form in inflections(lemma)
}
VOCABULARY: frozenset[str] = frozenset(
    set(FORMS)
    | CARE_NOUNS
    | DRUGS
    | SERVICES
    | CARE_PLACES
    | CUSTODY_PLACES
    | PERSON_OBJECTS
    | COERCIVE_NOUNS
    | FUNCTION_WORDS
    | SERVICE_SUBJECTS
    | REQUEST_PASSIVES
    | SUITABILITY
    | ENTITLEMENT
    | DIRECTIVE_TARGETS
    | OBLIGATION_WORDS
    | {
        "against",
        "attention",
        "seeker",
        "seeking",
        "frequent",
        "flyer",
        "flier",
        "waster",
        "time",
        "manipulative",
        "nuisance",
        "caller",
        "drunk",
        "pest",
        "arrest",
        "arrested",
        "prosecute",
        "prosecuted",
        "custody",
    }
)
