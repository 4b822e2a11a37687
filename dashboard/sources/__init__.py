"""A plant's own data in: the plant model file, history imports (CSV, Excel, Parquet, SAP MB51)."""
