"""The live web app: FastAPI routes, the /ws/live websocket, and the page from server/public/."""
