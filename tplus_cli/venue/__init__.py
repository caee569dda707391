"""The local T+-compatible venue: engine, ledger, store, handlers, server, embedded transport."""
