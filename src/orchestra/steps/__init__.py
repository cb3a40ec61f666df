"""The step toolkit: what every HTTP exchange with a SUT is made of, below the executor and the test data.

templating (sandboxed rendering), request_step (a test's request step: render, send with retry or poll,
check, capture), http_send (the one send: egress-guarded, size-limited, redirects checked hop by hop),
expectations and captures (checks and values read from a response), response (the view they read),
recording (requests and responses as stored), outcome (what a step did), cleanup_call and http_call (the
undo a step declares, rendered to be sent later), variable_sizes (bounds on what a step may keep).
"""
