"""Cases: from a High Intensity User group's monthly lists to a mentored person.

Agencies upload their monthly lists (`lists`), rows that may be the same person
are proposed for a person to confirm (`matching`, `linking`), the month is ranked
by intensity (`intensity`), and a case carries the allocation, the lead
clinician's permission and the person's consent (`workflow`) that drafting a
plan waits for. See docs/cases.md.
"""
