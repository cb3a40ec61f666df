"""How the API and the executor talk to the ai-service: its HTTP client, the messages both sides exchange
(the ai-service's request and response models) and the short-lived delegation tokens the ai-service calls
the API back with. The ai-service (ai/) shares only these messages with the rest."""
