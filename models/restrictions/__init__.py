"""Restrictions: from indicators and shortages to water-use restrictions, explained and logged.

The daily district values rules look at (:mod:`.triggers`), the restriction types, rule table
and hysteresis (:mod:`.rules`), texts for citizens (:mod:`.explanations`), the append-only
decision log (:mod:`.decision_log`) and escalation levels per water board and nationally
(:mod:`.escalation`).
"""
