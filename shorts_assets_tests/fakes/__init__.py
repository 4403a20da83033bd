"""In-process fake platform servers: real sockets, real HTTP, the platforms' rules and failures."""
