"""The web inbox: server-rendered pages, their fragments, static files, the demo simulator."""
