"""koenbench: score encoders on KLUE and GLUE, publish a leaderboard, build koenbert."""

__version__ = "0.1.0"
