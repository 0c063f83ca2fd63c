"""The spec language: YAML reading with its limits (yamlio) into values that keep their
positions (construct), the spec schema (schema), argument types (args), ``$param``
substitution (substitute) and block expansion into layer nodes (expand). Nothing here counts
or knows torch."""
