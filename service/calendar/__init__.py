"""Calendar feeds over HTTP: the iCalendar text (ics.py) and the server (server.py)."""
