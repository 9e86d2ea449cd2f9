"""Built-in differentiable ops, one topic per file; each file ends with its plain functions."""
