"""diagnosis layer of triage: from events and rule matches to a Diagnosis
(verdict, culprit, hypotheses, timeline, memory picture, GPU facts)."""
