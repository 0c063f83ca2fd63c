"""The counting engine: the layer graph with every shape inferred (graph), the metric table
(metrics), conventions (conventions), per-layer and total results (results) and side-by-side
comparison (compare). Pure Python: no torch, no rich."""
