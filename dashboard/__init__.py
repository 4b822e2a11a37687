"""Plant dashboards: data access, rollups, simulator and figures for the Dash pages."""
