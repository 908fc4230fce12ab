"""The catalog over the Model Context Protocol (`mesh catalog mcp`): see server.py and docs/mcp.md."""
