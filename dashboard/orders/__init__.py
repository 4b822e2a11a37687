"""Production orders: facts, lead-time and OTIF calculations as pure functions over DataFrames, its SQL in dashboard/queries_orders.py (below data, as every query is)."""
