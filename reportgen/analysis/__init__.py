"""The analysis layer: significance tests, anomalies, LMDI decomposition and drivers."""
