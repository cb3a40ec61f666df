"""Who is calling: OpenID Connect access tokens, API tokens and the local admin token."""
