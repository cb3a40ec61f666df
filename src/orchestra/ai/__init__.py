"""The ai-service: its own process (``orchestra ai``, or inside ``orchestra up``) that plans test data,
explains failed runs, suggests test cases and answers questions. It holds no database connection: it reads
through the API's tool endpoints with the delegation token of whoever asked, and uses an Ollama model when
one is configured."""
