"""The static leaderboard: result records -> pandas -> jinja2 pages -> mkdocs-material."""
