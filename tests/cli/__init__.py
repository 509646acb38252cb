"""The CLI: `python -m bot` commands, run in-process or as a child process (those are marked
subprocess), and its own modules (bot/cli/)."""
