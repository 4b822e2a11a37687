"""Production orders: facts, lead-time and OTIF calculations as pure functions over DataFrames, its SQL in orders.queries."""
