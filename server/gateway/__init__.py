"""The gateway's side of the server: connections and what they speak.

The WebSocket and HTTP listener (`ws`, with `httpbody` for request bodies and
`mudstandards` for the MUD community's subprotocols), telnet (`telnet`, over the
`telnet_protocol` codec and `proxy_protocol`), the sans-I/O `session` of each
connection (login dialogue, rate limits, output), and the per-viewer rendering of
events as text (`render`) and as GMCP (`gmcp`). Issue #14 runs this part in gateway
processes, apart from the world host (server/host/), joined by the bus (server/bus/).
"""
