"""Declarations and scenarios: the parameter schema, the shape of a submodel, loading and checking
scenario files.
"""
