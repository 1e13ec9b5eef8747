"""Long-running services (layer L3): the orchestrator, the Polymarket monitor and the game
shards. They see only the Bus and small discovery/feed interfaces; the CLI builds the
concrete venue objects and passes them in.
"""
