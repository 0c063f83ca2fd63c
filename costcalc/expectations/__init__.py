"""Expectations on the counts: the one rule mechanism (rules), published claims (claims),
budgets (budgets), the baseline lock (lock), the project settings (project) and the CI gate
that evaluates them together (gate)."""
