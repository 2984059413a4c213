"""The server shell: sockets, sessions, codecs, storage, scheduler, CLI."""
