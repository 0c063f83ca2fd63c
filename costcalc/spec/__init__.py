"""The spec language: YAML reading with positions and limits (yamlio), the spec schema
(schema), argument types (args), ``$param`` substitution (substitute) and block expansion into
layer nodes (expand). Nothing here counts or knows torch."""
