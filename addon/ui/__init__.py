"""Server-rendered pages: the settings shell inside the Saleor dashboard, and public pages."""
