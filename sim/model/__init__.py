"""The model: its Mesa shell and one module per submodel."""
