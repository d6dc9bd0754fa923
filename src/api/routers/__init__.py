"""HTTP routers. Every route and dependency is `async def`: each only parses, awaits a use case (whose
I/O is async: asyncpg/aiosqlite, aiosmtplib) and renders. The blocking work behind them runs in
threads where it happens — Argon2id in the hasher's own threads, notification-log appends in a worker
thread — so nothing here needs FastAPI's threadpool (a plain `def` would pay that hop for nothing)."""
