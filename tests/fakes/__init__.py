"""Fakes of systems at our boundary that cannot run here; each speaks the real protocol over HTTP."""
