"""Orchestra: API tests as code, run durably and in parallel against a System Under Test."""

__version__ = "0.1.0"
