"""Values generated from JSON Schemas: formats, numeric bounds, hints taken from property names."""
