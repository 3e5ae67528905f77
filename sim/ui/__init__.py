"""The command line and the classroom app."""
