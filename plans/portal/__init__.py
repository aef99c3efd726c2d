"""The network portal: demand, costs, harms, graphs, reports, directory, visits.

Keyed on the existing `Person` and `Team`; nothing here imports Flask. Each
module holds one noun's rules and writes its own audit rows.
"""
