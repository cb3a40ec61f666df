"""The SUT's OpenAPI description: import (file, URL or text), ``$ref`` resolution, and its operations."""
