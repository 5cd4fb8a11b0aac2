"""Redis servers for the fault tests, each on a port no earlier test of the run used.

The store's circuit breaker (core/redis_breaker.py) keeps its state per
server address for the life of the process: a test whose server took an
earlier test's port would inherit the breaker that test left open.
"""

from tests.reliability.servers import RedisServer, free_port

used_ports = set()


def fresh_redis_server():
    """Start a Redis server on a port of its own and return it."""
    port = free_port(exclude=used_ports)
    used_ports.add(port)
    server = RedisServer(port)
    server.start()
    return server
