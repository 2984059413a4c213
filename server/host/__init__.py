"""The world host's side of the server: the World's keeping and the services around it.

The world's input journal, snapshots and offline replay (`journal`, `recorder`,
`snapshots`, `replay`), its clock (`clock`) and lockstep (`lockstep`), the content it
loads (`content`), storage and accounts (`storage`, `accounts`, `datadir`, `backup`),
administration (`admin`, `admin_storage`), agent identity (`identity`,
`identity_storage`, `agent_transfer`), usage accounting (`usage`, `usage_storage`,
`usage_service`) and A2A (`a2a`, `a2a_protocol`, `a2a_storage`); `port` has the small
protocols those services take the server as (not `Server`, which imports them). In
cluster mode (`aegent world`) this part runs in the world host process, with `relay`
driving it from the gateways' inputs; `replica` copies the journal into JetStream and
`snapshot_db` the snapshots into the database. The services take a `SessionHandle`
(server/gateway/session.py): a gateway's session is a `relay.RemoteSession` here, whose
sends become bus outputs (docs/architecture.md, "Processes").
"""
