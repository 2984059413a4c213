"""Players made of code: clients of the public protocol only (server.wire is the one shared module).

The agent runtime (policies, memory, the runner) grows here; it never imports world/ or
server/ internals.
"""
