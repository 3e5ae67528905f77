"""The speed engine: keyed random streams, the walking kernels, walking ahead of the minutes."""
